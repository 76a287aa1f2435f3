// The small interface every kind of isolation has: plan it (append its steps to a Plan, or
// refuse), apply it (in the runner between clone and release, or in the box before exec), and
// describe it (the text of its steps). Each group below lives in its own file; plan.cpp and
// launch.cpp call them in the order of a box's life.
//
// Internal to libsandbox: the command line and the tests use plan.h and launch.h.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "fd.h"
#include "plan.h"
#include "result.h"
#include "terminal.h"

namespace sandbox {

// What the box's first process holds while it sets itself up (between clone and exec).
struct BoxSetup {
  const Plan& plan;
  pid_t runner_pid = 0;
  int release_fd = -1;  // read end of the sync pipe; the runner holds the write end until exec
  int network_fd = -1;  // --veth: read end of the pipe that brings the box its subnet
  Fd tinysh;            // the host's tinysh, open for reading: the box copies it, never runs it
  Fd rootfs_dir;        // O_PATH fd on --rootfs DIR (likewise)
  sigset_t original_mask{};  // the runner's signal mask before it blocked signals for itself
  // On a terminal: the slave of the box's pty, and its name in the host's devpts ("/dev/pts/7").
  Fd terminal;
  std::string terminal_path;
  bool console_bound = false;  // the slave is bound on the box's /dev/console
};

// The staging area in the box's mount namespace: a tmpfs over /tmp that exists only there.
inline constexpr const char* kStagingDir = "/tmp";
inline constexpr const char* kNewRoot = "/tmp/root";

// process.cpp — the box's first process: clone, die with the runner, fds, release, exec.
Status plan_process(const Spec& spec, Plan& plan);
Status plan_exec(const Spec& spec, Plan& plan);
Status die_with_runner(const BoxSetup& box, const op::DieWithRunner& step);
Status close_inherited_fds(const op::CloseInheritedFds& step);
Status wait_for_release(const BoxSetup& box);
bool runner_alive(const BoxSetup& box);
// Only returns on failure.
Error exec_command(const BoxSetup& box, const op::Exec& exec);
// The exec itself, shared with `nslab enter`: `sealed_tinysh` is the sealed copy a SealedCopy
// runs, and `root` names the box's root in the hint of a failed lookup ("" = the host's). The
// signal mask is the caller's to restore first. Only returns on failure.
Error exec_program(const op::Exec& exec, int sealed_tinysh, std::string_view root);
// The argv of a box's command: tinysh, tinysh -c TEXT, or the program's.
std::vector<std::string> box_argv(const Command& command);
// The interpreter named by a "#!" line at the start of `head` (a file's first bytes), as the
// kernel reads it: the word after "#!" and any blanks. "" when there is no such line.
std::string shebang_interpreter(std::string_view head);
// The Error for a failed execvp() of `program` (run with `env`, after the box's pivot_root).
// ENOENT is told apart by looking at the file: missing, a script whose #! interpreter is
// missing, or a binary whose loader is; `root` names the box's root for the hint ("" = host's).
Error program_exec_error(const std::string& program, int err, const std::vector<std::string>& env,
                         std::string_view root);
// The environment a box's program starts with: the runner's, or with a root of the box's own
// (where the host's PATH and HOME mean nothing) a PATH, HOME and TERM of its own. Also what
// `nslab enter` gives the shell it starts in a box.
std::vector<std::string> box_environment(bool own_root);

// user.cpp — user namespace and id maps (user_namespaces(7)).
Status plan_user(const Spec& spec, const Caller& caller, Plan& plan);
// The uid and gid maps the runner writes for `spec` (empty without --user).
std::pair<IdMap, IdMap> id_maps_for(const Spec& spec, const Caller& caller);
// The id outside that `inside` stands for through `map`, if it is mapped.
std::optional<std::uint32_t> outside_id(const IdMap& map, std::uint32_t inside);
// Who root inside is outside, when that is another host user than nslab's and nslab may give it
// a file (root, CAP_CHOWN): under sudo with --map-root (SUDO_UID), root's --map-root (nobody), or
// --map-uid 0:100000:65536. A file the box's root must open by name or write into (its
// terminal, an overlay's upper layer) goes to it. The gid is -1 when gid 0 inside maps to none.
// A user's range map (newuidmap) leaves such files the user's: nslab cannot give them away.
std::optional<std::pair<uid_t, gid_t>> root_inside_owner(const IdMap& uids, const IdMap& gids,
                                                         const Caller& caller);

// overlay.cpp — --overlay: a layer the box writes to, over its --rootfs directory (overlayfs(5)).
void plan_layer_dir(const Spec& spec, const Caller& caller, Plan& plan);
Status prepare_layer_dir(const Plan& plan, const op::PrepareLayerDir& step);
// --overlay-dir, opened again in the box's mount namespace (before /tmp is covered), as the
// rootfs directory is; no fd for a layer in memory.
Result<Fd> open_layer_dir(const BoxSetup& box, const op::BindRootfsDir& step);
// Mounts the layer's filesystem at /tmp/layer and makes its upper and work directories.
Status mount_layer(const op::BindRootfsDir& step, const Fd& layer_dir);
Status write_uid_map(pid_t pid, const op::WriteUidMap& step);
Status deny_setgroups(pid_t pid);
Status write_gid_map(pid_t pid, const op::WriteGidMap& step);
// What writes a map, as text: the write of /proc/BOX/<file>, or the helper with its arguments.
std::string id_map_call(const IdMap& map, std::string_view file, const std::string& helper);
// The BecomeRootInside step for `plan`'s maps.
op::BecomeRootInside become_root_step(const Plan& plan);
Status become_root_inside(const BoxSetup& box, const op::BecomeRootInside& step);

// cgroupns.cpp — cgroup namespace (cgroup_namespaces(7)).
Status plan_cgroup_namespace(const Spec& spec, Plan& plan);
// keeper.cpp — without --pid: the keeper before the clone, the sweep after the box (keeper.h).
void plan_keeper(const Spec& spec, Plan& plan);
void plan_sweep(const Spec& spec, Plan& plan);
// --user --cgroup with limits, run by root: the box's root gets its cgroup as a delegated one
// (BoxCgroup::delegate). A rootless runner's cgroups are the user's already.
Status plan_cgroup_delegation(const Spec& spec, const Caller& caller, Plan& plan);
Status enter_cgroup_namespace();

// cgroup_view.cpp — the box's own cgroup, read-only at /sys/fs/cgroup, for a box with its own
// mount table and limits or --cgroup. Uses the layout cgroup::find_cgroups() put in the Caller.
Status plan_cgroup_view(const Spec& spec, const Caller& caller, Plan& plan);
Status mount_cgroup_view(const BoxSetup& box, const op::MountCgroupView& step);

// cgroup.cpp — cgroup limits (cgroups(7)): the runner's steps before the clone (sweep, create),
// between clone and release (join), and after the box's end (remove). Needs the layout that
// cgroup::find_cgroups() put in the Caller. No steps without limits.
Result<std::vector<Step>> plan_cgroup_limits(const Spec& spec, const Caller& caller);

// net.cpp — network namespace and veth (network_namespaces(7), veth(4)): --net's box step,
// --veth's runner step (between clone and release) and box step. No steps without --net.
Result<std::vector<Step>> plan_box_network(const Spec& spec, const Caller& caller);
// The box's side of --veth: read its subnet from the runner, then lo, eth0's address, eth0 up.
Status configure_network(const BoxSetup& box);

// uts.cpp — hostname (uts_namespaces(7)).
Status plan_uts(const Spec& spec, Plan& plan);
Status set_hostname(const op::SetHostname& step);

// mount.cpp — mount namespace, propagation, pivot_root (mount_namespaces(7), pivot_root(2)).
Status plan_mount(const Spec& spec, Plan& plan);
Status plan_pivot(const Spec& spec, Plan& plan);
Status make_mounts_private(const op::MakeMountsPrivate& step);
Status pivot_into(const op::PivotRoot& step);

// rootfs.cpp — the embedded rootfs, --rootfs DIR, and the minimal /dev.
Status plan_rootfs(const Spec& spec, const Caller& caller, Plan& plan);
Status build_embedded_rootfs(BoxSetup& box, const op::MountRootfsTmpfs& step);
Status bind_rootfs_dir(BoxSetup& box, const op::BindRootfsDir& step);
Status mount_dev(const BoxSetup& box, const op::MountDev& step);
// Whether `inside` ("/dev") of the --rootfs directory, now at the staging root, is a real
// directory: false when absent, an error naming the user's directory when it is a symlink (never
// followed out of the rootfs) or something else.
Result<bool> real_directory(const Plan& plan, std::string_view inside);
// `--rootfs /`, or a path to the host's root by another name: refused, with why and the fix.
Error refuse_host_root_as_rootfs(const std::string& given);
// The runner's check on the opened --rootfs directory: not the host's root by any name (a
// symlink to /, /proc/1/root, a bind mount of /), which the plan cannot see in the path.
Status check_not_host_root(const Plan& plan, int rootfs_fd);
// An error about the --rootfs directory, made to name it as the user gave it ("--rootfs ./r: "
// before the call) with a hint for what ENOENT, ENOTDIR or EACCES mean there. `side` says who
// failed to open it: the runner (its own uid) or the box (its root's uid outside).
Error about_rootfs(const Plan& plan, Error e, Side side);
// The mount points of /proc/self/mountinfo text strictly below `dir` (pure, for tests too).
std::vector<std::string> mounts_below(std::string_view mountinfo, const std::string& dir);
// The text of /etc/passwd and /etc/group in the embedded rootfs (pure, for tests too).
std::string rootfs_passwd(const Caller& caller);
std::string rootfs_group(const Caller& caller);

// proc.cpp — PID namespace and /proc (pid_namespaces(7), proc(5)).
Status plan_pid(const Spec& spec, const Caller& caller, Plan& plan);
Status mount_proc(const BoxSetup& box, const op::MountProc& step);
Status protect_proc(const op::ProtectProc& step);

// caps.cpp — capabilities (capabilities(7)): what a root box without --user may not keep.
Status plan_capabilities(const Spec& spec, const Caller& caller, Plan& plan);
Status drop_capabilities(const op::DropCapabilities& step);
// The capabilities such a box drops (pure; CAP_SYS_BOOT too without a PID namespace), and their
// names joined with "|".
std::vector<int> host_wide_capabilities(const Spec& spec);
std::string capability_names(const std::vector<int>& caps);
// --no-new-privs (and --seccomp): prctl(PR_SET_NO_NEW_PRIVS) just before exec.
void plan_no_new_privs(const Spec& spec, Plan& plan);
Status set_no_new_privs(const op::SetNoNewPrivs& step);

// seccomp.cpp — --seccomp: a filter of the system calls no box needs (seccomp(2)).
void plan_seccomp(const Spec& spec, Plan& plan);
// The one filter nslab installs: its list of denied calls.
op::InstallSeccomp nslab_filter();
Status install_seccomp(const op::InstallSeccomp& step);
// The BPF program for `denied`, and the calls' names ("mount umount2 ...").
std::vector<sock_filter> seccomp_program(const std::vector<int>& denied);
std::string syscall_names(const std::vector<int>& nrs);
// terminal.cpp — the box's own session, and its own pty on a terminal (setsid(2), pty(7)):
// the runner's step before the clone (open the pty) and while the box runs (relay it), the
// box's steps in /dev (bind /dev/console) and just before exec (setsid, TIOCSCTTY).
Result<std::vector<Step>> plan_terminal(const Spec& spec, const Caller& caller);
Result<Pty> open_box_terminal(const op::OpenTerminal& step);
Status bind_console(BoxSetup& box, const op::BindConsole& step);
Status take_box_session(BoxSetup& box, const op::NewSession& step);

// timens.cpp — time namespace (time_namespaces(7)).
Status plan_time(const Spec& spec, Plan& plan);
Status enter_time_namespace(const op::EnterTimeNamespace& step);
// Where a process finds the time namespace its children will get.
inline constexpr const char* kTimeForChildren = "/proc/self/ns/time_for_children";

}  // namespace sandbox
