// The steps of a box's life as a closed set of operations, each with its operands: what plan()
// decided, what the executor (launch.cpp and the file of each concern) does, and what `nslab
// explain` renders, all from the same values. A new kind of step is a new struct here and an
// alternative of Operation; every std::visit over an Operation then fails to compile until it
// handles the new one, so no dispatch can forget it.
//
// A few steps have no operands (the keeper, the sweep of a box's session, the terminal relay):
// they always make the same calls, and operations.cpp renders those. Where a value is known only
// when the box runs (the runner's pid in a cgroup's name, the free /30 of a veth), the text holds
// a placeholder in capitals.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "spec.h"
#include "sys.h"

namespace sandbox {

// Who runs a step: the runner process, or the box's first process before it execs.
enum class Side { Runner, Box };

// The kinds of step, in the order of a box's life; the index of each in Operation.
enum class Action {
  SweepStaleCgroups,    // runner: rmdir cgroups of runners that were SIGKILLed
  CreateCgroup,         // runner: mkdir the box's cgroup(s), write the limits
  OpenTerminal,         // runner, on a terminal: the box's pty, with nslab's modes and size
  StartKeeper,          // runner, without --pid: fork the keeper (keeper.h)
  Clone,                // clone3 with the namespace flags
  DieWithRunner,        // prctl(PR_SET_PDEATHSIG) + getppid() check
  CloseInheritedFds,    // close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)
  WaitForRelease,       // read() on the sync pipe
  JoinCgroup,           // parent: the child's pid into cgroup.procs
  WriteUidMap,          // parent: /proc/PID/uid_map
  DenySetgroups,        // parent: /proc/PID/setgroups
  WriteGidMap,          // parent: /proc/PID/gid_map
  DelegateCgroup,       // parent, --user --cgroup as root: the box's cgroup to the box's root
  PrepareLayerDir,      // parent, --overlay-dir: DIR/upper and DIR/work, for the box's root
  PlugVeth,             // parent: the veth pair, the host end's address, up
  JoinBridge,           // parent, --bridge: the bridge if missing, the veth pair, a port of it
  Release,              // parent: write() on the sync pipe
  BecomeRootInside,     // setresgid/setresuid(0) once the maps exist
  EmptyNetwork,         // --net: nothing to do, the clone made the namespace
  ConfigureBoxNetwork,  // --veth: lo up, eth0's address, eth0 up
  EnterCgroupNamespace,
  SetHostname,
  MakeMountsPrivate,
  MountRootfsTmpfs,  // the embedded rootfs: tmpfs + tinysh binds + /etc + /tmp
  BindRootfsDir,     // --rootfs DIR
  MountDev,
  BindConsole,  // on a terminal, with a root of its own: the pty's slave on /dev/console
  MountProc,
  ProtectProc,      // read-only /proc/sys & co, masked /proc/kcore & co
  MountCgroupView,  // the box's own cgroup, read-only at /sys/fs/cgroup
  PivotRoot,
  EnterTimeNamespace,
  DropCapabilities,  // a root box without --user: the host-wide capabilities go
  NewSession,  // setsid(); on a terminal, the pty becomes the controlling terminal and stdio
  SetNoNewPrivs,   // --no-new-privs: prctl(PR_SET_NO_NEW_PRIVS)
  InstallSeccomp,  // --seccomp: a filter of the system calls no box needs
  Exec,
  RelayTerminal,  // runner, on a terminal, while the box runs: raw mode, bytes both ways
  SweepBox,       // runner, without --pid, after the box's first process ended: its session
  RemoveCgroup,   // runner, after the box ended: kill what is left, rmdir
  LeaveBridge,    // runner, --bridge, after the box ended: its port, and an empty bridge
};

// One mount of a step, with what must exist at its target first and when it is made at all.
struct PlannedMount {
  sys::MountCall call{};
  enum class Make { Nothing, Directory, File } make = Make::Nothing;  // at the target, first
  unsigned mode = 0;  // of what is made
  // Kernels differ in what /proc holds: some mounts are made only over what is there.
  enum class Only { Always, IfPresent, IfFile, IfDirectory } only = Only::Always;
  // A bind's read-only remount in a user namespace must repeat the flags the kernel locked on
  // the bind (mount_namespaces(7)): the executor adds those of the target's mount.
  bool plus_locked_flags = false;
};

namespace op {

// Each kind of step says which Action it is and who runs it.
// The cgroup steps carry the layout (where each controller's box cgroup goes: cgroup::Layout) and,
// to create, the limits; the box's name in them is nslab-box-RUNNER_PID.
struct SweepStaleCgroups {
  static constexpr Action action = Action::SweepStaleCgroups;
  static constexpr Side side = Side::Runner;
  cgroup::Layout layout{};  // the box's own parents, named first; every controller's is swept
};
struct CreateCgroup {
  static constexpr Action action = Action::CreateCgroup;
  static constexpr Side side = Side::Runner;
  cgroup::Layout layout{};
  cgroup::Limits limits{};
};
struct OpenTerminal {
  static constexpr Action action = Action::OpenTerminal;
  static constexpr Side side = Side::Runner;
  // The slave's owner outside, when root inside is another user there (root_inside_owner()).
  std::optional<std::pair<std::uint32_t, std::uint32_t>> owner{};
};
struct StartKeeper {
  static constexpr Action action = Action::StartKeeper;
  static constexpr Side side = Side::Runner;
};
struct Clone {
  static constexpr Action action = Action::Clone;
  static constexpr Side side = Side::Runner;
  std::uint64_t flags = 0;  // CLONE_NEW*
};
struct DieWithRunner {
  static constexpr Action action = Action::DieWithRunner;
  static constexpr Side side = Side::Box;
  bool own_pid_namespace = false;  // getppid() reads 0 there: the sync pipe's EOF tells instead
};
struct CloseInheritedFds {
  static constexpr Action action = Action::CloseInheritedFds;
  static constexpr Side side = Side::Box;
  unsigned first_fd = 3;
};
struct WaitForRelease {
  static constexpr Action action = Action::WaitForRelease;
  static constexpr Side side = Side::Box;
};
struct JoinCgroup {
  static constexpr Action action = Action::JoinCgroup;
  static constexpr Side side = Side::Runner;
  cgroup::Layout layout{};
};
// The map and, for a user's subordinate ids, the setuid helper that writes it ("" = nslab).
struct WriteUidMap {
  static constexpr Action action = Action::WriteUidMap;
  static constexpr Side side = Side::Runner;
  IdMap map{};
  std::string helper{};
};
struct DenySetgroups {
  static constexpr Action action = Action::DenySetgroups;
  static constexpr Side side = Side::Runner;
};
struct WriteGidMap {
  static constexpr Action action = Action::WriteGidMap;
  static constexpr Side side = Side::Runner;
  IdMap map{};
  std::string helper{};
};
struct DelegateCgroup {
  static constexpr Action action = Action::DelegateCgroup;
  static constexpr Side side = Side::Runner;
  std::uint32_t uid = 0, gid = 0;  // the box's root, outside
};
// The veth steps: the /30 is the first free one when the box starts (net.h, choose_subnet), so
// only a running box's explain knows it; until then the text says nslab-N and 10.213.x.y.
// --overlay-dir: the directories of the kept layer, made on the host before the box mounts them,
// and given to the box's root outside when that is another user (root's --user --map-root).
struct PrepareLayerDir {
  static constexpr Action action = Action::PrepareLayerDir;
  static constexpr Side side = Side::Runner;
  std::string dir{};                // absolute
  std::vector<std::string> subdirs{};  // upper, work
  std::optional<std::pair<std::uint32_t, std::uint32_t>> owner{};
};
struct PlugVeth {
  static constexpr Action action = Action::PlugVeth;
  static constexpr Side side = Side::Runner;
  std::optional<unsigned> subnet{};  // BoxSubnet::index
};
// --bridge: the box's veth becomes a port of the bridge (bridge.h); its address is the first
// free one of the bridge's /24 when the box starts.
struct JoinBridge {
  static constexpr Action action = Action::JoinBridge;
  static constexpr Side side = Side::Runner;
  std::string bridge{};  // nslab-br-NAME
};
struct Release {
  static constexpr Action action = Action::Release;
  static constexpr Side side = Side::Runner;
};
// What the maps allow: the box's root group and user (when mapped), and dropping the runner's
// supplementary groups (unless setgroups is denied).
struct BecomeRootInside {
  static constexpr Action action = Action::BecomeRootInside;
  static constexpr Side side = Side::Box;
  bool root_group = false;
  bool drop_groups = false;
  bool root_user = false;
};
struct EmptyNetwork {
  static constexpr Action action = Action::EmptyNetwork;
  static constexpr Side side = Side::Box;
};
struct ConfigureBoxNetwork {
  static constexpr Action action = Action::ConfigureBoxNetwork;
  static constexpr Side side = Side::Box;
  std::optional<unsigned> subnet{};  // BoxSubnet::index
  unsigned prefix_len = 30;          // a /30 of its own; 24 on a bridge
};
struct EnterCgroupNamespace {
  static constexpr Action action = Action::EnterCgroupNamespace;
  static constexpr Side side = Side::Box;
};
struct SetHostname {
  static constexpr Action action = Action::SetHostname;
  static constexpr Side side = Side::Box;
  std::string name{};
};
struct MakeMountsPrivate {
  static constexpr Action action = Action::MakeMountsPrivate;
  static constexpr Side side = Side::Box;
  sys::MountCall mount{};
};
struct MountRootfsTmpfs {
  static constexpr Action action = Action::MountRootfsTmpfs;
  static constexpr Side side = Side::Box;
  sys::MountCall staging{}, root{};
  std::vector<std::pair<std::string, unsigned>> dirs;  // made in the root, with their modes
  std::vector<std::string> files{};                      // written in the root
  std::string tinysh{}, shell_link{};                     // the copy of tinysh, and /bin/sh
};
struct BindRootfsDir {
  static constexpr Action action = Action::BindRootfsDir;
  static constexpr Side side = Side::Box;
  std::string dir{};  // as the user gave it; reopened in the box's mount namespace
  sys::MountCall staging{}, lower{}, overlay{}, tmp{};  // lower's source: that fd, /proc/self/fd/FD
  // --overlay: the filesystem of the layer the box writes to, at /tmp/layer (a tmpfs, or a bind
  // of --overlay-dir reopened like `dir`), and its upper and work directories, made if missing.
  std::optional<sys::MountCall> layer{};
  std::string layer_dir{};  // --overlay-dir as the user gave it; "" = the layer is in memory
  std::vector<std::string> layer_dirs{};
};
struct MountDev {
  static constexpr Action action = Action::MountDev;
  static constexpr Side side = Side::Box;
  bool only_if_rootfs_has_dev = false;  // --rootfs: its /dev, if it is a real directory
  std::vector<PlannedMount> mounts{};
  std::vector<std::pair<std::string, std::string>> links;  // target, link
};
struct BindConsole {
  static constexpr Action action = Action::BindConsole;
  static constexpr Side side = Side::Box;
  PlannedMount mount{};  // source: the slave reopened by name, /proc/self/fd/FD
};
struct MountProc {
  static constexpr Action action = Action::MountProc;
  static constexpr Side side = Side::Box;
  bool rootfs_must_have_proc = false;
  sys::MountCall mount{};
};
struct ProtectProc {
  static constexpr Action action = Action::ProtectProc;
  static constexpr Side side = Side::Box;
  std::vector<PlannedMount> mounts{};
};
struct MountCgroupView {
  static constexpr Action action = Action::MountCgroupView;
  static constexpr Side side = Side::Box;
  std::vector<std::pair<std::string, unsigned>> first_dirs{};  // the embedded root's /sys/fs/cgroup
  std::vector<std::string> rootfs_dirs{};  // --rootfs: the view only if each is a real directory
  std::string detach{};  // over the host's /sys/fs/cgroup: what is detached first ("" = nothing)
  // Sources under the runner's cgroup hold the placeholder RUNNER_PID until the box runs.
  std::vector<PlannedMount> mounts{};
};
struct PivotRoot {
  static constexpr Action action = Action::PivotRoot;
  static constexpr Side side = Side::Box;
  std::string new_root{};
};
struct EnterTimeNamespace {
  static constexpr Action action = Action::EnterTimeNamespace;
  static constexpr Side side = Side::Box;
  std::int64_t offset_seconds = 0;
};
struct DropCapabilities {
  static constexpr Action action = Action::DropCapabilities;
  static constexpr Side side = Side::Box;
  std::vector<int> caps{};
};
// setsid(); on a terminal, the box's pty becomes the session's controlling terminal and each of
// nslab's standard streams that is a terminal. With a root of its own the box reopens it as
// /dev/console (BindConsole); a --rootfs without /dev keeps the slave itself.
struct NewSession {
  static constexpr Action action = Action::NewSession;
  static constexpr Side side = Side::Box;
  enum class Terminal { None, Slave, Console, ConsoleOrSlave } terminal = Terminal::None;
  std::array<bool, 3> replace{};  // stdin, stdout, stderr
};
// The box's program in place of the setup code: a program looked up on the box's PATH, the
// embedded root's /bin/tinysh, or a sealed copy in memory of the tinysh nslab opened (the box's
// /proc/1/exe is then no file of the host's).
struct SetNoNewPrivs {
  static constexpr Action action = Action::SetNoNewPrivs;
  static constexpr Side side = Side::Box;
};
// The filter: system calls of another architecture kill the process, and each of `denied`
// (numbers of this one) fails with EPERM; everything else is allowed.
struct InstallSeccomp {
  static constexpr Action action = Action::InstallSeccomp;
  static constexpr Side side = Side::Box;
  std::vector<int> denied{};
};
struct Exec {
  static constexpr Action action = Action::Exec;
  static constexpr Side side = Side::Box;
  enum class From { Path, File, SealedCopy } from = From::Path;
  std::string file{};  // Path: the name looked up; File: its path; SealedCopy: what is copied
  std::vector<std::string> argv{};
  bool host_environment = false;  // nslab's own; else the box's PATH, HOME and TERM
};
struct RelayTerminal {
  static constexpr Action action = Action::RelayTerminal;
  static constexpr Side side = Side::Runner;
};
struct SweepBox {
  static constexpr Action action = Action::SweepBox;
  static constexpr Side side = Side::Runner;
};
struct RemoveCgroup {
  static constexpr Action action = Action::RemoveCgroup;
  static constexpr Side side = Side::Runner;
  cgroup::Layout layout{};
};
struct LeaveBridge {
  static constexpr Action action = Action::LeaveBridge;
  static constexpr Side side = Side::Runner;
  std::string bridge{};  // nslab-br-NAME
};

}  // namespace op

using Operation =
    std::variant<op::SweepStaleCgroups, op::CreateCgroup, op::OpenTerminal, op::StartKeeper,
                 op::Clone, op::DieWithRunner, op::CloseInheritedFds, op::WaitForRelease,
                 op::JoinCgroup, op::WriteUidMap, op::DenySetgroups, op::WriteGidMap,
                 op::DelegateCgroup, op::PrepareLayerDir, op::PlugVeth, op::JoinBridge, op::Release, op::BecomeRootInside,
                 op::EmptyNetwork, op::ConfigureBoxNetwork, op::EnterCgroupNamespace,
                 op::SetHostname, op::MakeMountsPrivate, op::MountRootfsTmpfs, op::BindRootfsDir,
                 op::MountDev, op::BindConsole, op::MountProc, op::ProtectProc,
                 op::MountCgroupView, op::PivotRoot, op::EnterTimeNamespace,
                 op::DropCapabilities, op::NewSession, op::SetNoNewPrivs,
                 op::InstallSeccomp, op::Exec, op::RelayTerminal, op::SweepBox,
                 op::RemoveCgroup, op::LeaveBridge>;

namespace detail {
template <std::size_t... I>
constexpr bool actions_match_alternatives(std::index_sequence<I...>) {
  return ((std::variant_alternative_t<I, Operation>::action == static_cast<Action>(I)) && ...);
}
}  // namespace detail
// Action names the alternatives of Operation, in the same order: Step::action() is the index.
static_assert(std::variant_size_v<Operation> == static_cast<std::size_t>(Action::LeaveBridge) + 1);
static_assert(
    detail::actions_match_alternatives(std::make_index_sequence<std::variant_size_v<Operation>>{}));

struct Step {
  Operation op;
  std::string why{};  // one sentence

  Action action() const { return static_cast<Action>(op.index()); }
  Side side() const {
    return std::visit([](const auto& o) { return std::decay_t<decltype(o)>::side; }, op);
  }
  template <typename Op>
  const Op* as() const {
    return std::get_if<Op>(&op);
  }
  // The calls as explain shows them (calls_text()).
  std::string calls() const;
};

// One call of a step: its text as the sys layer spells it, and a note explain adds after it.
// `conditional`: made only when the kernel or the rootfs has what it acts on. `exact_prefix`:
// how many chars of `text` a made call begins with, when the rest (flags the kernel locked) is
// known only at run time; 0 = all of `text`.
struct PlannedCall {
  std::string text{};
  bool conditional = false;
  std::string note{};
  std::size_t exact_prefix = 0;
};

// The calls of a step, rendered from its operands with the sys layer's texts, in order.
std::vector<PlannedCall> planned_calls(const Step& step);
// The same, joined with "; ".
std::string calls_text(const Step& step);

}  // namespace sandbox
