// The table of contents of a box's life: plan() asks each kind of isolation, in the order the
// kernel needs, to add its steps. launch.cpp executes exactly this list.
#include "plan.h"

#include <sched.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "isolation.h"
#include "namespaces.h"
#include "sys.h"

namespace sandbox {

namespace {

Error refuse(std::string reason, std::string fix) {
  Error e = plain_error(std::move(reason), std::move(fix));
  e.step = "plan";
  return e;
}

// --overlay needs a lower layer, and overlayfs(5) refuses an upper layer inside the lower one or
// the lower inside the upper (the layers would see each other: EINVAL, or ELOOP).
Status check_overlay(const Spec& spec) {
  if (spec.overlay && !spec.rootfs_dir)
    return refuse("--overlay puts a layer the box writes to over a root directory, and there is "
                  "none",
                  "add --rootfs DIR (for instance a root made by nslab rootfs busybox DIR)");
  if (!spec.overlay_dir) return ok();
  namespace fs = std::filesystem;
  fs::path upper = fs::path(*spec.overlay_dir).lexically_normal();
  fs::path lower = fs::path(*spec.rootfs_dir).lexically_normal();
  auto inside = [](const fs::path& a, const fs::path& b) {
    auto rel = a.lexically_relative(b);
    return !rel.empty() && *rel.begin() != "..";
  };
  if (upper.empty() || upper.string().front() != '/')
    return refuse(fmt::format("--overlay-dir {}: nslab needs an absolute path",
                              spec.overlay_dir_as_given),
                  "give the directory as /path/to/layer");
  if (inside(upper, lower) || inside(lower, upper))
    return refuse(fmt::format("--overlay-dir {} and --rootfs {} overlap: overlayfs takes no "
                              "layer inside another",
                              spec.overlay_dir_as_given, spec.rootfs_name()),
                  "keep the layer in a directory of its own, beside the root: e.g. "
                  "--rootfs ./rootfs --overlay-dir ./layer");
  return ok();
}

// Combinations that cannot work, each with the flag that fixes it.
Status check_combinations(const Spec& spec, const Caller& caller) {
  bool any_namespace = spec.uts || spec.mount || spec.pid || spec.ipc || spec.cgroup || spec.time ||
                       spec.pivot || spec.proc || spec.net;
  if (spec.pivot && !spec.mount)
    return refuse(
        "--pivot needs the box's own mount table, or pivot_root would change the "
        "host's root",
        "add --mount");
  if (spec.proc && !spec.mount)
    return refuse(
        "--proc mounts a fresh /proc, which needs the box's own mount table, or it "
        "would cover the host's /proc",
        "add --mount");
  bool any_map =
      spec.map_root || spec.map_range || !spec.uid_map.empty() || !spec.gid_map.empty();
  if (any_map && !spec.user) return refuse("id maps belong to a user namespace", "add --user");
  if (spec.map_root + spec.map_range + (!spec.uid_map.empty() || !spec.gid_map.empty()) > 1)
    return refuse(
        "--map-root, --map-range and --map-uid/--map-gid each say what the box's ids map to",
        "give one of them");
  if (!caller.privileged && any_namespace && !spec.user)
    return refuse("creating namespaces needs root (CAP_SYS_ADMIN), and nslab runs as uid " +
                      std::to_string(caller.uid),
                  "add --user --map-root: root inside the box is you outside");
  if (spec.user && spec.rootfs() != RootfsKind::Host &&
      (spec.map_root || spec.map_range ? false : spec.uid_map.empty() || spec.gid_map.empty()))
    return refuse(
        "--pivot builds the box's root with files owned by the box's root, which "
        "needs both a uid and a gid map in the user namespace",
        "add --map-root");
  if (spec.command.kind == CommandKind::Program && spec.command.argv.empty())
    return refuse("-- must be followed by a program", "name a program after --, or use -c");
  if (spec.rootfs_dir && (spec.rootfs_dir->empty() || spec.rootfs_dir->front() != '/'))
    return refuse(fmt::format("--rootfs {}: nslab needs an absolute path", spec.rootfs_name()),
                  "give the directory as /path/to/rootfs");
  if (spec.rootfs_dir && std::filesystem::path(*spec.rootfs_dir).lexically_normal() == "/")
    return refuse_host_root_as_rootfs(spec.rootfs_name());
  return check_overlay(spec);
}

std::uint64_t clone_flags_for(const Spec& spec) {
  std::uint64_t flags = 0;
  if (spec.user) flags |= CLONE_NEWUSER;
  if (spec.mount) flags |= CLONE_NEWNS;
  if (spec.uts) flags |= CLONE_NEWUTS;
  if (spec.ipc) flags |= CLONE_NEWIPC;
  if (spec.pid) flags |= CLONE_NEWPID;
  if (spec.net) flags |= CLONE_NEWNET;
  // The cgroup and time namespaces are not clone flags here: the box unshares them itself, after
  // the release (see cgroupns.cpp and timens.cpp for why).
  return flags;
}

// Appends the steps of `from` that do `action`, keeping their order.
void append(Plan& plan, const std::vector<Step>& from, Action action) {
  for (const Step& step : from)
    if (step.action() == action) plan.steps.push_back(step);
}

}  // namespace

bool Plan::has(Action action) const {
  return std::any_of(steps.begin(), steps.end(),
                     [&](const Step& step) { return step.action() == action; });
}

Result<Plan> plan(const Spec& input, const Caller& caller) {
  Spec spec = input;
  // Flags that imply others: a hostname needs its own UTS namespace; a rootfs directory is
  // pivoted into.
  if (spec.hostname) spec.uts = true;
  if (spec.rootfs_dir) spec.pivot = true;
  if (spec.overlay_dir) spec.overlay = true;
  if (spec.veth) spec.net = true;

  SANDBOX_TRY(check_combinations(spec, caller));

  Plan plan;
  plan.spec = spec;
  plan.caller = caller;
  plan.clone_flags = clone_flags_for(spec);

  // Cgroup limits and the network have steps on both sides of the clone; they are planned (or
  // refused) first, then placed where they belong in the box's life.
  auto cgroup_steps = plan_cgroup_limits(spec, caller);
  if (!cgroup_steps) return cgroup_steps.error();
  auto network_steps = plan_box_network(spec, caller);
  if (!network_steps) return network_steps.error();
  auto terminal_steps = plan_terminal(spec, caller);
  if (!terminal_steps) return terminal_steps.error();

  // The box's life, in order. Each call adds the steps of one kind of isolation.
  append(plan, *cgroup_steps, Action::CreateCgroup);       // mkdir, limits
  append(plan, *terminal_steps, Action::OpenTerminal);     // the box's pty, on a terminal
  plan_keeper(spec, plan);                                 // without --pid: the keeper
  SANDBOX_TRY(plan_process(spec, plan));                   // clone, die with runner, fds, wait
  append(plan, *cgroup_steps, Action::JoinCgroup);         // parent: cgroup.procs
  SANDBOX_TRY(plan_user(spec, caller, plan));              // parent: id maps
  SANDBOX_TRY(plan_cgroup_delegation(spec, caller, plan)); // parent: chown to the box's root
  plan_layer_dir(spec, caller, plan);                      // parent: --overlay-dir's layer
  append(plan, *network_steps, Action::PlugVeth);          // parent: the veth pair
  append(plan, *network_steps, Action::JoinBridge);        // parent: or a port of a bridge
  plan.steps.push_back({op::Release{},
                        "let the box go on with its own setup, now that the runner's part is "
                        "done"});
  // While the box sets itself up: rmdir what SIGKILLed runners left (off the box's start).
  append(plan, *cgroup_steps, Action::SweepStaleCgroups);
  if (plan.has(Action::WriteUidMap) || plan.has(Action::WriteGidMap))
    plan.steps.push_back(
        {become_root_step(plan),
         "become root of the new user namespace, so files the box creates belong to its root; "
         "the change of ids made the box undumpable, which hands its /proc files to the host's "
         "root, so give them back"});
  append(plan, *network_steps, Action::EmptyNetwork);         // nothing: lo, down
  append(plan, *network_steps, Action::ConfigureBoxNetwork);  // lo and eth0 up
  SANDBOX_TRY(plan_cgroup_namespace(spec, plan));             // unshare(CLONE_NEWCGROUP)
  SANDBOX_TRY(plan_uts(spec, plan));                          // sethostname
  SANDBOX_TRY(plan_mount(spec, plan));                        // private propagation
  SANDBOX_TRY(plan_rootfs(spec, caller, plan));               // tmpfs or bind, /dev
  append(plan, *terminal_steps, Action::BindConsole);         // the pty as /dev/console
  SANDBOX_TRY(plan_pid(spec, caller, plan));                  // /proc, and its protection
  SANDBOX_TRY(plan_cgroup_view(spec, caller, plan));          // its cgroup, read-only
  SANDBOX_TRY(plan_time(spec, plan));                         // unshare(CLONE_NEWTIME), offsets
  SANDBOX_TRY(plan_pivot(spec, plan));                        // pivot_root, detach the old root
  SANDBOX_TRY(plan_capabilities(spec, caller, plan));         // root without --user: drop some
  append(plan, *terminal_steps, Action::NewSession);          // setsid, the pty as stdio
  plan_no_new_privs(spec, plan);                              // prctl(PR_SET_NO_NEW_PRIVS)
  plan_seccomp(spec, plan);                                   // the filter, last before exec
  SANDBOX_TRY(plan_exec(spec, plan));                         // execve
  append(plan, *terminal_steps, Action::RelayTerminal);       // while the box runs
  plan_sweep(spec, plan);                                     // without --pid: what is left
  append(plan, *cgroup_steps, Action::RemoveCgroup);          // after the box's end
  append(plan, *network_steps, Action::LeaveBridge);          // its port, an empty bridge
  return plan;
}

std::string_view action_label(Action action) {
  switch (action) {
    case Action::SweepStaleCgroups:
      return "sweep stale cgroups";
    case Action::CreateCgroup:
      return "create the box's cgroup";
    case Action::OpenTerminal:
      return "open the box's terminal";
    case Action::StartKeeper:
      return "start the keeper";
    case Action::SweepBox:
      return "end what the box left";
    case Action::BindConsole:
      return "bind /dev/console";
    case Action::NewSession:
      return "new session";
    case Action::RelayTerminal:
      return "relay the terminal";
    case Action::JoinCgroup:
      return "join the box's cgroup";
    case Action::DelegateCgroup:
      return "delegate the box's cgroup";
    case Action::PrepareLayerDir:
      return "prepare the overlay's layer";
    case Action::PlugVeth:
      return "plug the veth";
    case Action::JoinBridge:
      return "join the bridge";
    case Action::LeaveBridge:
      return "leave the bridge";
    case Action::EmptyNetwork:
      return "empty network namespace";
    case Action::ConfigureBoxNetwork:
      return "configure the box's network";
    case Action::RemoveCgroup:
      return "remove the box's cgroup";
    case Action::Clone:
      return "clone the box";
    case Action::DieWithRunner:
      return "die with the runner";
    case Action::CloseInheritedFds:
      return "close inherited fds";
    case Action::WaitForRelease:
      return "wait for the runner";
    case Action::WriteUidMap:
      return "write uid_map";
    case Action::DenySetgroups:
      return "deny setgroups";
    case Action::WriteGidMap:
      return "write gid_map";
    case Action::Release:
      return "release the box";
    case Action::BecomeRootInside:
      return "become root inside";
    case Action::EnterCgroupNamespace:
      return "cgroup namespace";
    case Action::SetHostname:
      return "set the hostname";
    case Action::MakeMountsPrivate:
      return "private mount propagation";
    case Action::MountRootfsTmpfs:
      return "build the embedded rootfs";
    case Action::BindRootfsDir:
      return "bind the rootfs directory";
    case Action::MountDev:
      return "mount /dev";
    case Action::MountProc:
      return "mount /proc";
    case Action::ProtectProc:
      return "protect /proc";
    case Action::MountCgroupView:
      return "mount the box's cgroup view";
    case Action::PivotRoot:
      return "pivot_root";
    case Action::EnterTimeNamespace:
      return "time namespace";
    case Action::SetNoNewPrivs:
      return "no new privileges";
    case Action::InstallSeccomp:
      return "install the seccomp filter";
    case Action::DropCapabilities:
      return "drop capabilities";
    case Action::Exec:
      return "exec";
  }
  return "step";
}

std::vector<std::string> namespace_names(std::uint64_t clone_flags) {
  std::vector<std::string> names;
  for (const auto& kind : namespace_kinds())
    if (clone_flags & kind.clone_flag) names.emplace_back(kind.proc_name);
  return names;
}

std::string describe(const Plan& plan) {
  std::string text;
  int number = 0;
  for (const auto& step : plan.steps) {
    ++number;
    text += fmt::format("{:>2}. [{}] {}\n", number,
                        step.side() == Side::Runner ? "runner" : "box", calls_text(step));
    text += fmt::format("    {}\n", step.why);
  }
  for (const auto& note : plan.notes) text += fmt::format("note: {}\n", note);
  return text;
}

}  // namespace sandbox
