#include "sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/mount_flags.h"
#include "hints.h"
#include "namespaces.h"
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace sandbox::sys {

namespace {

struct Fault {
  std::string call;
  int err;
  int count;
};
std::vector<Fault>& faults() {
  static std::vector<Fault> list;
  return list;
}

// Returns the injected errno for `call`, or 0 to go on to the kernel.
int injected(std::string_view call) {
  for (auto& fault : faults()) {
    if (fault.call == call && fault.count > 0) {
      --fault.count;
      return fault.err;
    }
  }
  return 0;
}

// Runs a system call, retrying while it is interrupted; returns its result with errno intact.
template <typename F>
long retry(F&& call) {
  long r;
  do r = call();
  while (r < 0 && errno == EINTR);
  return r;
}

int& record_fd() {
  static int fd = -1;
  return fd;
}

// With a record open (record_calls()), the text of a call that succeeded, as one line.
void record(const std::string& text) {
  if (record_fd() < 0) return;
  std::string line = text + "\n";
  int saved = errno;
  [[maybe_unused]] ssize_t n = ::write(record_fd(), line.data(), line.size());
  errno = saved;
}

// Runs `call` unless a fault is injected for `text`'s name; builds the Error on failure.
template <typename F>
Status checked(const std::string& text, F&& call) {
  if (int err = injected(call_name(text))) return make_error(text, err);
  if (retry(call) < 0) return make_error(text, errno);
  record(text);
  return ok();
}

std::string quoted(const char* s) {
  return s ? fmt::format("\"{}\"", s) : "NULL";
}

}  // namespace

void record_calls(int fd) {
  record_fd() = fd;
}

void inject_fault(std::string_view call, int err, int count) {
  faults().push_back({std::string(call), err, count});
}
void clear_faults() {
  faults().clear();
}


std::string clone_flags_text(std::uint64_t flags) {
  std::string text;
  for (const NamespaceKind& kind : namespace_kinds()) {
    if (flags & kind.clone_flag) {
      if (!text.empty()) text += '|';
      text += kind.flag_name;
    }
  }
  return text.empty() ? "0" : text;
}

std::string mount_text(const MountCall& call) {
  auto quoted_or_null = [](const std::string& s) {
    return s.empty() ? std::string("NULL") : fmt::format("\"{}\"", s);
  };
  return fmt::format("mount({}, {}, {}, {}{})", quoted_or_null(call.source),
                     quoted_or_null(call.target), quoted_or_null(call.fstype),
                     common::mount_flags_text(call.flags),
                     call.data.empty() ? std::string() : fmt::format(", \"{}\"", call.data));
}

std::string clone_text(std::uint64_t flags) {
  return fmt::format("clone3({{flags={}, exit_signal=SIGCHLD}})", clone_flags_text(flags));
}

std::string unshare_text(int flags) {
  return fmt::format("unshare({})", clone_flags_text(static_cast<unsigned>(flags)));
}

std::string sethostname_text(std::string_view name) {
  return fmt::format("sethostname(\"{}\")", name);
}

std::string pivot_root_text(const char* new_root, const char* put_old) {
  return fmt::format("pivot_root({}, {})", quoted(new_root), quoted(put_old));
}

std::string umount2_text(const char* target, int flags) {
  return fmt::format("umount2({}, {})", quoted(target),
                     flags & MNT_DETACH ? "MNT_DETACH" : std::to_string(flags));
}

std::string chdir_text(const char* path) {
  return fmt::format("chdir({})", quoted(path));
}

Result<pid_t> clone_process(std::uint64_t flags) {
  std::string text = clone_text(flags);
  if (int err = injected("clone")) return make_error(text, err);
  // clone3 without a stack behaves like fork(): the child continues here on a copy of our stack.
  // glibc has no wrapper for clone3, hence the raw syscall.
  clone_args args{};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  long pid = retry([&] { return ::syscall(SYS_clone3, &args, sizeof args); });
  // Kernels before 5.3 have no clone3, nor does valgrind emulate it. clone(2) takes the same
  // namespace flags, with the exit signal in the low byte: every CLONE_NEW* flag but
  // CLONE_NEWTIME (0x80, which nslab enters with unshare, timens.cpp) fits beside it.
  if (pid < 0 && errno == ENOSYS && flags <= 0xffffffffu && (flags & CSIGNAL) == 0) {
    text = fmt::format("clone({}|SIGCHLD, NULL)", clone_flags_text(flags));
    pid = retry([&] { return ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0); });
  }
  if (pid < 0) return make_error(text, errno);
  if (pid > 0) record(text);
  return static_cast<pid_t>(pid);
}

Status unshare(int flags) {
  return checked(unshare_text(flags), [&] { return ::unshare(flags); });
}

Status setns(int fd, int nstype) {
  return checked(fmt::format("setns({}, {})", fd, clone_flags_text(static_cast<unsigned>(nstype))),
                 [&] { return ::setns(fd, nstype); });
}

Status sethostname(std::string_view name) {
  return checked(sethostname_text(name), [&] { return ::sethostname(name.data(), name.size()); });
}

Status mount(const char* source, const char* target, const char* fstype, unsigned long flags,
             const char* data) {
  auto text_of = [](const char* s) { return s ? std::string(s) : std::string(); };
  std::string text =
      mount_text({text_of(source), text_of(target), text_of(fstype), flags, text_of(data)});
  return checked(text, [&] { return ::mount(source, target, fstype, flags, data); });
}

Status mount(const MountCall& call) {
  auto or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  return checked(mount_text(call), [&] {
    return ::mount(or_null(call.source), call.target.c_str(), or_null(call.fstype), call.flags,
                   or_null(call.data));
  });
}

Status umount2(const char* target, int flags) {
  return checked(umount2_text(target, flags), [&] { return ::umount2(target, flags); });
}

Status pivot_root(const char* new_root, const char* put_old) {
  return checked(pivot_root_text(new_root, put_old),
                 [&] { return ::syscall(SYS_pivot_root, new_root, put_old); });
}

Status chdir(const char* path) {
  return checked(chdir_text(path), [&] { return ::chdir(path); });
}

Status set_parent_death_signal(int signal) {
  return checked(fmt::format("prctl(PR_SET_PDEATHSIG, {})", sigabbrev_np(signal)),
                 [&] { return ::prctl(PR_SET_PDEATHSIG, signal); });
}

Status set_dumpable() {
  return checked("prctl(PR_SET_DUMPABLE, 1)", [&] { return ::prctl(PR_SET_DUMPABLE, 1); });
}

Status cloexec_from(unsigned first) {
  return checked(fmt::format("close_range({}, ~0U, CLOSE_RANGE_CLOEXEC)", first),
                 [&] { return ::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC); });
}

Result<pid_t> fork_process() {
  if (int err = injected("fork")) return make_error("fork()", err);
  pid_t pid = ::fork();
  if (pid < 0) return make_error("fork()", errno);
  return pid;
}

Result<ProgramRun> run_program(const std::vector<std::string>& argv) {
  std::string shown = fmt::format("{}", fmt::join(argv, " "));
  if (int err = injected("run_program")) return make_error("fork() for " + shown, err);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) < 0) return make_error("pipe2() for " + shown, errno);
  Fd read_end(out[0]), write_end(out[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char* no_env[] = {nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return make_error("fork() for " + shown, errno);
  if (pid == 0) {
    // Only what exec needs, between fork and exec.
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, 0);
    ::dup2(write_end.get(), 1);
    ::dup2(write_end.get(), 2);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::execve(args[0], args.data(), no_env);
    ::_exit(127);
  }
  write_end = Fd();
  ProgramRun run;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (run.output.size() < 64 * 1024) run.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error("waitpid() for " + shown, errno);
  }
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (run.status == 127 && run.output.empty()) run.output = "could not be started (execve)";
  return run;
}

Status fchdir(int dir_fd) {
  return checked(fmt::format("fchdir({})", dir_fd), [&] { return ::fchdir(dir_fd); });
}

Status chroot(const char* path) {
  return checked(fmt::format("chroot({})", quoted(path)), [&] { return ::chroot(path); });
}

Status set_uid(uid_t uid) {
  return checked(fmt::format("setresuid({0}, {0}, {0})", uid),
                 [&] { return ::setresuid(uid, uid, uid); });
}

Status set_gid(gid_t gid) {
  return checked(fmt::format("setresgid({0}, {0}, {0})", gid),
                 [&] { return ::setresgid(gid, gid, gid); });
}

Status drop_supplementary_groups() {
  return checked("setgroups(0, NULL)", [&] { return ::setgroups(0, nullptr); });
}

Result<Fd> open(const std::string& path, int flags, unsigned mode) {
  std::string text = fmt::format("open(\"{}\")", path);
  if (int err = injected("open")) return make_error(text, err);
  long fd = retry([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  if (fd < 0) return make_error(text, errno);
  return Fd(static_cast<int>(fd));
}

namespace {

// unlockpt(3): a new pty's slave stays locked until its master says so.
Status unlock_pty(int master) {
  int unlock = 0;
  return checked("ioctl(master, TIOCSPTLCK, 0)",
                 [&] { return ::ioctl(master, TIOCSPTLCK, &unlock); });
}

}  // namespace

Result<Fd> open_pty_master() {
  std::string text = "posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC)";
  if (int err = injected("posix_openpt")) return make_error(text, err);
  // O_NOCTTY: the pty must not become nslab's own controlling terminal.
  long fd = retry([&] { return ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC); });
  if (fd < 0) return make_error(text, errno);
  Fd master(static_cast<int>(fd));
  SANDBOX_TRY(unlock_pty(master.get()));
  return master;
}

Result<Fd> open_pty_master_at(int ptmx) {
  struct stat st {};
  struct statfs fs {};
  if (::fstat(ptmx, &st) < 0) return make_error("fstat(ptmx)", errno);
  if (::fstatfs(ptmx, &fs) < 0) return make_error("fstatfs(ptmx)", errno);
  // Only a devpts instance's own ptmx node: opening anything else the box put there (a FIFO, a
  // device of the host) is not what we want.
  if (fs.f_type != DEVPTS_SUPER_MAGIC || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
      minor(st.st_rdev) != 2)
    return plain_error("the box's /dev/pts/ptmx is not a devpts ptmx node");
  std::string text = fmt::format("open(\"/proc/self/fd/{}\", O_RDWR|O_NOCTTY|O_CLOEXEC)", ptmx);
  if (int err = injected("open")) return make_error(text, err);
  long fd = retry([&] {
    return ::open(fmt::format("/proc/self/fd/{}", ptmx).c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  });
  if (fd < 0) return make_error(text, errno);
  Fd master(static_cast<int>(fd));
  SANDBOX_TRY(unlock_pty(master.get()));
  return master;
}

Result<Fd> open_path_in_root(int root, const std::string& path) {
  std::string text = fmt::format(
      "openat2({}, \"{}\", O_PATH, RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS)",
      root, path);
  if (int err = injected("openat2")) return make_error(text, err);
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = retry([&] { return ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how); });
  if (fd < 0) return make_error(text, errno);
  return Fd(static_cast<int>(fd));
}

Result<Fd> open_pty_slave(int master) {
  std::string text = "ioctl(master, TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC)";
  if (int err = injected("TIOCGPTPEER")) return make_error(text, err);
  long fd = retry([&] { return ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC); });
  if (fd < 0) return make_error(text, errno);
  return Fd(static_cast<int>(fd));
}

Result<unsigned> pty_number(int master) {
  unsigned number = 0;
  if (retry([&] { return ::ioctl(master, TIOCGPTN, &number); }) < 0)
    return make_error("ioctl(master, TIOCGPTN)", errno);
  return number;
}

Status setsid() {
  return checked("setsid()", [] { return ::setsid(); });
}

Status set_controlling_terminal(int fd) {
  return checked(fmt::format("ioctl({}, TIOCSCTTY, 0)", fd),
                 [&] { return ::ioctl(fd, TIOCSCTTY, 0); });
}

Status dup2(int from, int to) {
  return checked(fmt::format("dup2({}, {})", from, to), [&] { return ::dup2(from, to); });
}

Status fchown(int fd, uid_t uid, gid_t gid) {
  return checked(
      fmt::format("fchown({}, {}, {})", fd, static_cast<int>(uid), static_cast<int>(gid)),
      [&] { return ::fchown(fd, uid, gid); });
}

Status chown(const std::string& path, uid_t uid, gid_t gid) {
  return checked(
      fmt::format("chown(\"{}\", {}, {})", path, static_cast<int>(uid), static_cast<int>(gid)),
      [&] { return ::chown(path.c_str(), uid, gid); });
}

Status get_terminal_modes(int fd, struct termios& modes) {
  return checked(fmt::format("tcgetattr({})", fd), [&] { return ::tcgetattr(fd, &modes); });
}

Status set_terminal_modes(int fd, const struct termios& modes) {
  return checked(fmt::format("tcsetattr({}, TCSANOW)", fd),
                 [&] { return ::tcsetattr(fd, TCSANOW, &modes); });
}

Status get_window_size(int fd, struct winsize& size) {
  return checked(fmt::format("ioctl({}, TIOCGWINSZ)", fd),
                 [&] { return ::ioctl(fd, TIOCGWINSZ, &size); });
}

Status set_window_size(int fd, const struct winsize& size) {
  return checked(fmt::format("ioctl({}, TIOCSWINSZ)", fd),
                 [&] { return ::ioctl(fd, TIOCSWINSZ, &size); });
}

namespace {

Status write_all(int fd, std::string_view text, const std::string& what) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(what, errno);
    text.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

}  // namespace

Status write_file(const std::string& path, std::string_view text) {
  std::string what = "write " + path;
  if (int err = injected(call_name(what))) return make_error(what, err);
  long fd = retry([&] { return ::open(path.c_str(), O_WRONLY | O_CLOEXEC); });
  if (fd < 0) return make_error(what, errno);
  Fd owner(static_cast<int>(fd));
  // Map files and setgroups take the whole text in one write(2): the kernel rejects a second.
  return write_all(owner.get(), text, what);
}

Status create_file(const std::string& path, unsigned mode, std::string_view text) {
  std::string what = "create " + path;
  long fd = retry([&] {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  });
  if (fd < 0) return make_error(what, errno);
  Fd owner(static_cast<int>(fd));
  // The umask must not narrow the modes the rootfs asks for (/tmp 1777, files 0644).
  if (::fchmod(owner.get(), mode) < 0) return make_error("fchmod " + path, errno);
  return write_all(owner.get(), text, what);
}

namespace {

// Every byte of `from` (read from its start) into `to`, with sendfile(2): no trip through user
// memory.
Status copy_bytes(int from, int to, const std::string& what) {
  struct stat st {};
  if (::fstat(from, &st) < 0) return make_error("fstat " + what, errno);
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = ::sendfile(to, from, &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("sendfile " + what, errno);
    if (n == 0) break;  // the file shrank under us: copy what there is
  }
  return ok();
}

}  // namespace

Status copy_file(int from, const std::string& path, unsigned mode) {
  if (int err = injected("copy_file")) return make_error("create " + path, err);
  long fd = retry([&] {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  });
  if (fd < 0) return make_error("create " + path, errno);
  Fd owner(static_cast<int>(fd));
  SANDBOX_TRY(copy_bytes(from, owner.get(), path));
  if (::fchmod(owner.get(), mode) < 0) return make_error("fchmod " + path, errno);
  return ok();
}

namespace {
constexpr const char* kSeals = "F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE";
std::string memfd_text(const char* name) {
  return fmt::format("memfd_create(\"{}\", MFD_CLOEXEC|MFD_ALLOW_SEALING)", name);
}
}  // namespace

std::vector<std::string> sealed_copy_texts(const char* name, std::string_view what) {
  return {memfd_text(name), fmt::format("sendfile(memfd:{}, {})", name, what),
          fmt::format("fchmod(memfd:{}, 0555)", name),
          fmt::format("fcntl(memfd:{}, F_ADD_SEALS, {})", name, kSeals)};
}

Result<Fd> sealed_copy(int from, const char* name) {
  std::string text = memfd_text(name);
  if (int err = injected("memfd_create")) return make_error(text, err);
  int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return make_error(text, errno);
  Fd owner(fd);
  SANDBOX_TRY(copy_bytes(from, owner.get(), fmt::format("into memfd:{}", name)));
  if (::fchmod(owner.get(), 0555) < 0) return make_error(fmt::format("fchmod(memfd:{}, 0555)", name), errno);
  // No more writes, no change of size, and no way to lift the seals: a process that gets hold
  // of this file (through /proc/PID/exe) can read it and nothing else.
  if (::fcntl(owner.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    return make_error(fmt::format("fcntl(memfd:{}, F_ADD_SEALS, {})", name, kSeals), errno);
  return owner;
}

Status set_no_new_privs() {
  return checked("prctl(PR_SET_NO_NEW_PRIVS, 1)",
                 [] { return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); });
}

Status install_seccomp_filter(const std::vector<sock_filter>& program) {
  sock_fprog fprog{static_cast<unsigned short>(program.size()),
                   const_cast<sock_filter*>(program.data())};
  return checked(fmt::format("seccomp(SECCOMP_SET_MODE_FILTER, 0, {} instructions)", program.size()),
                 [&] { return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog); });
}

Status drop_bounding_capability(int cap) {
  return checked(fmt::format("prctl(PR_CAPBSET_DROP, {})", cap),
                 [&] { return ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); });
}

Status drop_capabilities(const std::vector<int>& caps) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  SANDBOX_TRY(checked("capget()", [&] { return ::syscall(SYS_capget, &header, data); }));
  for (int cap : caps) {
    auto bit = 1u << (cap % 32);
    auto& word = data[cap / 32];
    word.effective &= ~bit;
    word.permitted &= ~bit;
    word.inheritable &= ~bit;
  }
  SANDBOX_TRY(checked("capset()", [&] { return ::syscall(SYS_capset, &header, data); }));
  return checked("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)",
                 [&] { return ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); });
}

Result<std::string> read_link(const std::string& path) {
  std::string buf(4096, '\0');
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0) return make_error(fmt::format("readlink(\"{}\")", path), errno);
  buf.resize(static_cast<size_t>(n));
  return buf;
}

Status make_dir(const std::string& path, unsigned mode) {
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
    return make_error(fmt::format("mkdir(\"{}\", {:04o})", path, mode), errno);
  if (::chmod(path.c_str(), mode) < 0)
    return make_error(fmt::format("chmod(\"{}\", {:04o})", path, mode), errno);
  return ok();
}

Status make_symlink(const std::string& target, const std::string& link) {
  return checked(fmt::format("symlink(\"{}\", \"{}\")", target, link),
                 [&] { return ::symlink(target.c_str(), link.c_str()); });
}

Result<std::string> read_file(const std::string& path) {
  auto fd = open(path, O_RDONLY);
  if (!fd) return fd.error();
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("read " + path, errno);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

Status mkdir(const std::string& path, unsigned mode) {
  return checked(fmt::format("mkdir(\"{}\", {:04o})", path, mode),
                 [&] { return ::mkdir(path.c_str(), mode); });
}

Status rmdir(const std::string& path) {
  return checked(fmt::format("rmdir(\"{}\")", path), [&] { return ::rmdir(path.c_str()); });
}

Status kill(pid_t pid, int signal) {
  return checked(fmt::format("kill({}, SIG{})", pid, sigabbrev_np(signal)),
                 [&] { return ::kill(pid, signal); });
}

Status access(const std::string& path, int mode) {
  std::string how = mode == F_OK   ? "F_OK"
                    : mode == W_OK ? "W_OK"
                    : mode == R_OK ? "R_OK"
                                   : std::to_string(mode);
  return checked(fmt::format("faccessat(\"{}\", {}, AT_EACCESS)", path, how),
                 [&] { return ::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS); });
}

Result<std::vector<std::string>> subdirectories(const std::string& path) {
  std::string text = fmt::format("opendir(\"{}\")", path);
  if (int err = injected("opendir")) return make_error(text, err);
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return make_error(text, errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != ".." && entry->d_type == DT_DIR) names.push_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err) return make_error(fmt::format("readdir(\"{}\")", path), err);
  std::sort(names.begin(), names.end());
  return names;
}

Result<unsigned long> mount_flags_of(const std::string& path) {
  struct statvfs st {};
  if (retry([&] { return ::statvfs(path.c_str(), &st); }) < 0)
    return make_error(fmt::format("statvfs(\"{}\")", path), errno);
  static constexpr std::pair<unsigned long, unsigned long> kFlags[] = {
      {ST_RDONLY, MS_RDONLY},    {ST_NOSUID, MS_NOSUID},   {ST_NODEV, MS_NODEV},
      {ST_NOEXEC, MS_NOEXEC},    {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME},
      {ST_RELATIME, MS_RELATIME}};
  unsigned long flags = 0;
  for (auto [st_bit, ms_bit] : kFlags)
    if (st.f_flag & st_bit) flags |= ms_bit;
  return flags;
}

}  // namespace sandbox::sys
