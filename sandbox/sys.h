// The raw system-call layer: every call that changes namespaces, mounts or id maps goes through
// here. Each wrapper retries on EINTR, captures errno into an Error that spells the call out with
// its arguments, and picks the hint for it from hints.cpp. Nothing else in sandbox/ calls these
// system calls directly, so the whole kernel surface of a box is listed in this one file.
//
// Tests can make a named call fail on purpose with inject_fault(); a box's child process is a
// copy of the runner, so a fault set before launch() fires inside the box's setup too.
#pragma once

#include <linux/filter.h>

#include <sys/ioctl.h>
#include <sys/types.h>
#include <termios.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "result.h"

namespace sandbox::sys {

// clone3() with fork semantics (no new stack): returns 0 in the child, the child's pid (as seen
// from the caller's PID namespace) in the parent. `flags` are CLONE_NEW* bits.
Result<pid_t> clone_process(std::uint64_t flags);

// One mount(2) call: what plan() decides, what the executor passes to the kernel, and what
// `nslab explain` shows, all from these values. An empty string stands for NULL.
struct MountCall {
  std::string source;
  std::string target;
  std::string fstype;
  unsigned long flags = 0;
  std::string data;
};
// mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC): the text of the call, as errors,
// explain and the call record spell it.
std::string mount_text(const MountCall& call);
std::string clone_text(std::uint64_t flags);
std::string unshare_text(int flags);
std::string sethostname_text(std::string_view name);
std::string pivot_root_text(const char* new_root, const char* put_old);
std::string umount2_text(const char* target, int flags);
std::string chdir_text(const char* path);

Status unshare(int flags);
Status setns(int fd, int nstype);
Status sethostname(std::string_view name);
Status mount(const char* source, const char* target, const char* fstype, unsigned long flags,
             const char* data = nullptr);
Status mount(const MountCall& call);
Status umount2(const char* target, int flags);
Status pivot_root(const char* new_root, const char* put_old);
Status chdir(const char* path);
Status set_parent_death_signal(int signal);
// Makes the process dumpable again (prctl(PR_SET_DUMPABLE, 1)), which a change of ids clears.
Status set_dumpable();
// prctl(PR_CAPBSET_DROP, cap): no program this process runs can gain `cap` again.
Status drop_bounding_capability(int cap);
// capset(2): `caps` out of the effective, permitted and inheritable sets (capget(2) first), and
// the ambient set cleared.
Status drop_capabilities(const std::vector<int>& caps);
// prctl(PR_SET_NO_NEW_PRIVS, 1): execve() no longer grants setuid or file capabilities.
Status set_no_new_privs();
// seccomp(SECCOMP_SET_MODE_FILTER, 0, program): the BPF program decides each system call from now
// on, for this thread's process and all it starts (needs no_new_privs or CAP_SYS_ADMIN).
Status install_seccomp_filter(const std::vector<sock_filter>& program);
// Marks every fd from `first` up close-on-exec (close_range(first, ~0U, CLOSE_RANGE_CLOEXEC)).
Status cloexec_from(unsigned first);

// For `nslab enter`: a second process joining a running box.
Result<pid_t> fork_process();

// Runs a program (argv[0] a full path; the environment emptied, fds above 2 closed) and waits
// for it: its exit status (128+N for signal N) and what it wrote to stdout and stderr.
struct ProgramRun {
  int status = 0;
  std::string output;
};
Result<ProgramRun> run_program(const std::vector<std::string>& argv);
Status fchdir(int dir_fd);
Status chroot(const char* path);
// setresuid(uid, uid, uid) / setresgid(gid, gid, gid): all three ids at once.
Status set_uid(uid_t uid);
Status set_gid(gid_t gid);
// setgroups(0, NULL): drop the supplementary groups.
Status drop_supplementary_groups();

// Terminals and sessions (pty(7), ioctl_tty(2), setsid(2)): the box's own pseudo-terminal.
// A new pty from the host's /dev/ptmx (posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC)), unlocked.
Result<Fd> open_pty_master();
// A new pty from the devpts instance whose ptmx node is open (O_PATH) at `ptmx`, reopened
// through /proc/self/fd; unlocked. Refused unless it is a devpts filesystem's ptmx node.
Result<Fd> open_pty_master_at(int ptmx);
// openat2(root, path, O_PATH, RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS): a path
// inside a box's root, looked up as the box sees it, never following a link the box made.
Result<Fd> open_path_in_root(int root, const std::string& path);
// The slave of the pty whose master is `master`, opened through the master (TIOCGPTPEER: no
// path lookup), O_RDWR|O_NOCTTY|O_CLOEXEC; and its number in its devpts instance (TIOCGPTN).
Result<Fd> open_pty_slave(int master);
Result<unsigned> pty_number(int master);
Status setsid();
// ioctl(fd, TIOCSCTTY, 0): the terminal open at `fd` becomes the caller's controlling terminal.
Status set_controlling_terminal(int fd);
Status dup2(int from, int to);
Status fchown(int fd, uid_t uid, gid_t gid);
Status chown(const std::string& path, uid_t uid, gid_t gid);
// tcgetattr(3) / tcsetattr(3) with TCSANOW, and the window size (TIOCGWINSZ / TIOCSWINSZ).
Status get_terminal_modes(int fd, struct termios& modes);
Status set_terminal_modes(int fd, const struct termios& modes);
Status get_window_size(int fd, struct winsize& size);
Status set_window_size(int fd, const struct winsize& size);

// Files: the call text is "write PATH" etc., and the hint key is the file's name, so a failed
// write of /proc/42/gid_map gets the gid_map advice.
Status write_file(const std::string& path, std::string_view text);
Status create_file(const std::string& path, unsigned mode, std::string_view text = {});
Status make_dir(const std::string& path, unsigned mode);
// A copy of the file open at `from` as a new file `path` (O_EXCL) with `mode`.
Status copy_file(int from, const std::string& path, unsigned mode);
// A copy of the file open at `from` in memory (memfd_create(2)), sealed against every change
// (F_SEAL_WRITE|F_SEAL_GROW|F_SEAL_SHRINK|F_SEAL_SEAL, fcntl(2)), for execveat(): a program run
// from it has a /proc/PID/exe that nobody can write, unlike the host's file it came from.
Result<Fd> sealed_copy(int from, const char* name);
// Its calls as text, in order, for a copy of `what` (explain renders the exec step with them).
std::vector<std::string> sealed_copy_texts(const char* name, std::string_view what);
Status make_symlink(const std::string& target, const std::string& link);
Result<Fd> open(const std::string& path, int flags, unsigned mode = 0);
Result<std::string> read_file(const std::string& path);
// readlink(2), whole.
Result<std::string> read_link(const std::string& path);

// Directories and processes, as the cgroup code uses them: mkdir(2) that fails on EEXIST too (a
// cgroup directory is made by exactly one runner), rmdir(2), kill(2), access(2) with the
// effective ids (faccessat AT_EACCESS), and the subdirectories of a directory, sorted.
Status mkdir(const std::string& path, unsigned mode);
Status rmdir(const std::string& path);
Status kill(pid_t pid, int signal);
Status access(const std::string& path, int mode);
Result<std::vector<std::string>> subdirectories(const std::string& path);
// The per-mount flags (MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC and atime flags) of the mount that
// holds `path`, from statvfs(3). In a user namespace a bind remount must keep these: the kernel
// locks them (mount_namespaces(7), "restrictions").
Result<unsigned long> mount_flags_of(const std::string& path);

// "CLONE_NEWUTS|CLONE_NEWPID" for namespace flags.
std::string clone_flags_text(std::uint64_t flags);

// Test hook: from now on every call made through this layer that succeeds is also written, as its
// text and a newline, to `fd` (-1: no more). A box's setup is a copy of the runner, so its calls
// are recorded too, up to its exec: the tests hold what `nslab explain` says against this record.
void record_calls(int fd);

// Test hook: the next `count` calls named `call` ("mount", "pivot_root", "gid_map", ...) fail
// with `err` without reaching the kernel.
void inject_fault(std::string_view call, int err, int count = 1);
void clear_faults();

}  // namespace sandbox::sys
