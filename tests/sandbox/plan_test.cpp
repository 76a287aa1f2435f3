// plan(): which steps each flag adds, in which order, and which combinations are refused (with
// the flag that fixes them). Pure: no root, no system call.
#include <doctest/doctest.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <sys/mount.h>

#include <algorithm>
#include <string>

#include "plan.h"
#include "isolation.h"

using namespace sandbox;

namespace {

Caller root_caller() {
  Caller c;
  c.uid = 0;
  c.gid = 0;
  c.privileged = true;
  return c;
}

Caller user_caller(uid_t uid = 1000, gid_t gid = 1000) {
  Caller c;
  c.uid = c.invoking_uid = uid;
  c.gid = c.invoking_gid = gid;
  c.privileged = false;
  c.invoking_name = "alice";
  return c;
}

Spec spec_with_tinysh() {
  Spec s;
  s.tinysh_path = "/opt/nslab/bin/tinysh";
  return s;
}

std::vector<Action> actions(const Plan& plan) {
  std::vector<Action> list;
  for (const auto& step : plan.steps) list.push_back(step.action());
  return list;
}

const Step& step_of(const Plan& plan, Action action);

size_t index_of(const Plan& plan, Action action) {
  auto list = actions(plan);
  auto it = std::find(list.begin(), list.end(), action);
  REQUIRE_MESSAGE(it != list.end(), "step " << action_label(action) << " is missing");
  return static_cast<size_t>(it - list.begin());
}

const Step& step_of(const Plan& plan, Action action) {
  return plan.steps[index_of(plan, action)];
}

Plan must_plan(const Spec& spec, const Caller& caller = root_caller()) {
  auto result = plan(spec, caller);
  REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.error().message()));
  return *result;
}

Error must_refuse(const Spec& spec, const Caller& caller = root_caller()) {
  auto result = plan(spec, caller);
  REQUIRE_FALSE_MESSAGE(result.ok(), "the plan was accepted");
  return result.error();
}

}  // namespace

TEST_CASE(
    "a box with no flags is a plain child process: clone with no namespace flags, a session, "
    "exec") {
  Plan p = must_plan(spec_with_tinysh());
  CHECK(p.clone_flags == 0);
  // Without --pid, a keeper before the clone and a sweep after the box end what it leaves.
  CHECK(actions(p) == std::vector<Action>{Action::StartKeeper, Action::Clone,
                                          Action::DieWithRunner, Action::CloseInheritedFds,
                                          Action::WaitForRelease, Action::Release,
                                          Action::NewSession, Action::Exec, Action::SweepBox});
  CHECK(step_of(p, Action::Exec).calls().find("/opt/nslab/bin/tinysh") != std::string::npos);
}

TEST_CASE("without a terminal the box only starts a session of its own, just before exec") {
  Plan p = must_plan(spec_with_tinysh());
  CHECK_FALSE(p.has(Action::OpenTerminal));
  CHECK_FALSE(p.has(Action::RelayTerminal));
  size_t session = index_of(p, Action::NewSession);
  CHECK(session + 1 == index_of(p, Action::Exec));
  CHECK(p.steps[session].calls() == "setsid()");
  CHECK(p.steps[session].side() == Side::Box);
  CHECK(p.steps[session].why.find("TIOCSTI") != std::string::npos);
}

TEST_CASE("on a terminal the runner opens the box's pty before the clone and relays it after") {
  Caller caller = root_caller();
  caller.stdio_terminals = {true, true, false};  // stderr into a file
  Plan p = must_plan(spec_with_tinysh(), caller);
  size_t open = index_of(p, Action::OpenTerminal);
  CHECK(p.steps[open].side() == Side::Runner);
  CHECK(open < index_of(p, Action::Clone));
  CHECK(p.steps[open].calls().starts_with("posix_openpt("));
  size_t session = index_of(p, Action::NewSession);
  CHECK(session + 1 == index_of(p, Action::Exec));
  const std::string& calls = p.steps[session].calls();
  CHECK(calls.find("setsid(); ") == 0);
  CHECK(calls.find("TIOCSCTTY") != std::string::npos);
  // The slave replaces the streams that are terminals in nslab; the file stays.
  CHECK(calls.find("dup2(slave, 0)") != std::string::npos);
  CHECK(calls.find("dup2(slave, 1)") != std::string::npos);
  CHECK(calls.find("dup2(slave, 2)") == std::string::npos);
  CHECK(index_of(p, Action::RelayTerminal) == index_of(p, Action::Exec) + 1);
  CHECK(p.steps[index_of(p, Action::RelayTerminal)].side() == Side::Runner);
  // On the host's root the slave keeps its name: nothing to bind.
  CHECK_FALSE(p.has(Action::BindConsole));
}

TEST_CASE("on a terminal a box with a root of its own binds its pty on /dev/console") {
  Caller caller = root_caller();
  caller.stdio_terminals = {true, true, true};
  Spec s = spec_with_tinysh();
  s.mount = s.pivot = true;
  Plan p = must_plan(s, caller);
  size_t bind = index_of(p, Action::BindConsole);
  CHECK(bind == index_of(p, Action::MountDev) + 1);
  CHECK(bind < index_of(p, Action::PivotRoot));
  CHECK(p.steps[bind].calls().find("/tmp/root/dev/console") != std::string::npos);
  size_t session = index_of(p, Action::NewSession);
  CHECK(session > index_of(p, Action::PivotRoot));
  CHECK(p.steps[session].calls().find("open(\"/dev/console\"") != std::string::npos);
  CHECK(p.steps[session].calls().find("dup2(console, 2)") != std::string::npos);
}

TEST_CASE("on a terminal the pty goes to root inside when that is another user outside") {
  Caller caller = root_caller();
  caller.stdio_terminals = {true, true, true};
  Spec s = spec_with_tinysh();
  s.user = s.mount = s.pivot = true;
  s.uid_map = {{0, 100000, 65536}};
  s.gid_map = {{0, 200000, 65536}};
  Plan mapped = must_plan(s, caller);
  CHECK(mapped.steps[index_of(mapped, Action::OpenTerminal)].calls().ends_with(
      "; fchown(slave, 100000, 200000)"));
  // An explicit 0:0:1 as root: root inside is root outside, who owns the pty already.
  s.uid_map = s.gid_map = {{0, 0, 1}};
  Plan own = must_plan(s, caller);
  CHECK(own.steps[index_of(own, Action::OpenTerminal)].calls().find("fchown") == std::string::npos);
  s.uid_map.clear();
  s.gid_map.clear();
  s.map_root = true;
  // Under sudo, root inside is the invoking user.
  caller.invoking_uid = caller.invoking_gid = 1000;
  Plan sudo = must_plan(s, caller);
  CHECK(sudo.steps[index_of(sudo, Action::OpenTerminal)].calls().ends_with(
      "; fchown(slave, 1000, 1000)"));
}

TEST_CASE("--hostname implies --uts and adds one sethostname step") {
  Spec s = spec_with_tinysh();
  s.hostname = "tinyhost";
  Plan p = must_plan(s);
  CHECK(p.clone_flags == CLONE_NEWUTS);
  CHECK(p.hostname == "tinyhost");
  CHECK(p.steps[index_of(p, Action::SetHostname)].calls() == "sethostname(\"tinyhost\")");
}

TEST_CASE("--uts without --hostname clones the namespace and only notes the copied name") {
  Spec s = spec_with_tinysh();
  s.uts = true;
  Plan p = must_plan(s);
  CHECK(p.clone_flags == CLONE_NEWUTS);
  CHECK_FALSE(p.has(Action::SetHostname));
  CHECK_FALSE(p.notes.empty());
}

TEST_CASE("each namespace flag sets exactly its own clone flag") {
  struct Case {
    bool Spec::*flag;
    std::uint64_t clone_flag;
  };
  for (auto [flag, clone_flag] : {Case{&Spec::uts, CLONE_NEWUTS}, Case{&Spec::mount, CLONE_NEWNS},
                                  Case{&Spec::pid, CLONE_NEWPID}, Case{&Spec::ipc, CLONE_NEWIPC}}) {
    Spec s = spec_with_tinysh();
    s.*flag = true;
    CHECK(must_plan(s).clone_flags == clone_flag);
  }
}

TEST_CASE("--cgroup and --time are unshared by the box after the release, not cloned") {
  Spec s = spec_with_tinysh();
  s.cgroup = true;
  s.time = true;
  Plan p = must_plan(s);
  CHECK(p.clone_flags == 0);
  CHECK(index_of(p, Action::Release) < index_of(p, Action::EnterCgroupNamespace));
  CHECK(index_of(p, Action::EnterTimeNamespace) < index_of(p, Action::Exec));
  CHECK(p.steps[index_of(p, Action::EnterTimeNamespace)].calls().find("timens_offsets") !=
        std::string::npos);
}

TEST_CASE("--mount makes propagation private before any other mount step") {
  Spec s = spec_with_tinysh();
  s.mount = s.pivot = s.pid = s.proc = true;
  Plan p = must_plan(s);
  size_t priv = index_of(p, Action::MakeMountsPrivate);
  for (Action mount_step : {Action::MountRootfsTmpfs, Action::MountDev, Action::MountProc,
                            Action::ProtectProc, Action::PivotRoot})
    CHECK(priv < index_of(p, mount_step));
}

TEST_CASE("/proc is mounted before pivot_root detaches the old root") {
  Spec s = spec_with_tinysh();
  s.mount = s.pivot = s.pid = s.proc = s.user = s.map_root = s.time = true;
  Plan p = must_plan(s, user_caller());
  // The time offsets are written through the host's /proc/self, which pivot_root takes away.
  CHECK(index_of(p, Action::EnterTimeNamespace) < index_of(p, Action::PivotRoot));
  CHECK(index_of(p, Action::MountProc) < index_of(p, Action::PivotRoot));
  CHECK(index_of(p, Action::MountDev) < index_of(p, Action::PivotRoot));
}

TEST_CASE("--pivot uses the embedded rootfs and execs /bin/tinysh from it") {
  Spec s = spec_with_tinysh();
  s.mount = s.pivot = true;
  Plan p = must_plan(s);
  CHECK(p.has(Action::MountRootfsTmpfs));
  CHECK_FALSE(p.has(Action::BindRootfsDir));
  CHECK(step_of(p, Action::Exec).calls().starts_with("execve(\"/bin/tinysh\""));
}

TEST_CASE("--rootfs implies --pivot and binds the directory instead of the embedded rootfs") {
  Spec s = spec_with_tinysh();
  s.mount = true;
  s.rootfs_dir = "/srv/busybox";
  Plan p = must_plan(s);
  CHECK(p.spec.pivot);
  CHECK(p.has(Action::BindRootfsDir));
  CHECK_FALSE(p.has(Action::MountRootfsTmpfs));
  CHECK(p.has(Action::PivotRoot));
  const auto* exec = step_of(p, Action::Exec).as<op::Exec>();
  REQUIRE(exec);
  CHECK(exec->from == op::Exec::From::SealedCopy);
  CHECK_FALSE(exec->host_environment);
  CHECK(step_of(p, Action::Exec).calls().starts_with("memfd_create(\"tinysh\""));
  // Negative control: the embedded root runs its own /bin/tinysh, no copy.
  s.rootfs_dir.reset();
  s.pivot = true;
  Plan embedded_plan = must_plan(s);
  const auto* embedded = step_of(embedded_plan, Action::Exec).as<op::Exec>();
  REQUIRE(embedded);
  CHECK(embedded->from == op::Exec::From::File);
  CHECK(embedded->file == "/bin/tinysh");
}

TEST_CASE("a root box without a user namespace protects /proc, a user-namespace box does not") {
  Spec s = spec_with_tinysh();
  s.mount = s.pid = s.proc = true;
  CHECK(must_plan(s).has(Action::ProtectProc));
  s.user = s.map_root = true;
  CHECK_FALSE(must_plan(s).has(Action::ProtectProc));
}

TEST_CASE("--map-root as root itself maps to nobody, under sudo to the user, an explicit 0:0 warns") {
  Spec s = spec_with_tinysh();
  s.user = s.map_root = true;
  Plan p = must_plan(s);
  CHECK(p.uid_map == IdMap{{0, 65534, 1}});
  CHECK(p.gid_map == IdMap{{0, 65534, 1}});
  auto note_has = [](const Plan& plan, std::string_view text) {
    return std::any_of(plan.notes.begin(), plan.notes.end(),
                       [&](const std::string& n) { return n.find(text) != std::string::npos; });
  };
  CHECK(note_has(p, "nobody (65534)"));
  Caller sudo = root_caller();
  sudo.invoking_uid = 1000;
  sudo.invoking_gid = 1001;
  Plan under_sudo = must_plan(s, sudo);
  CHECK(under_sudo.uid_map == IdMap{{0, 1000, 1}});
  CHECK(under_sudo.gid_map == IdMap{{0, 1001, 1}});
  CHECK_FALSE(note_has(under_sudo, "nobody"));
  Spec explicit_root = spec_with_tinysh();
  explicit_root.user = true;
  explicit_root.uid_map = explicit_root.gid_map = {{0, 0, 1}};
  CHECK(note_has(must_plan(explicit_root), "core_pattern"));
  CHECK_FALSE(p.has(Action::DenySetgroups));
  CHECK(index_of(p, Action::WriteGidMap) < index_of(p, Action::Release));
  CHECK(index_of(p, Action::Release) < index_of(p, Action::BecomeRootInside));
}

TEST_CASE("--map-root as a normal user writes uid_map, then setgroups=deny, then gid_map") {
  Spec s = spec_with_tinysh();
  s.user = s.map_root = true;
  Plan p = must_plan(s, user_caller(1001, 1002));
  CHECK(p.uid_map == IdMap{{0, 1001, 1}});
  CHECK(p.gid_map == IdMap{{0, 1002, 1}});
  CHECK(p.deny_setgroups);
  size_t uid = index_of(p, Action::WriteUidMap), deny = index_of(p, Action::DenySetgroups),
         gid = index_of(p, Action::WriteGidMap), release = index_of(p, Action::Release);
  CHECK(uid < deny);
  CHECK(deny < gid);
  CHECK(gid < release);
  for (Action a : {Action::WriteUidMap, Action::DenySetgroups, Action::WriteGidMap})
    CHECK(p.steps[index_of(p, a)].side() == Side::Runner);
}

TEST_CASE("--map-root under sudo maps root inside to the invoking user, not to root") {
  Spec s = spec_with_tinysh();
  s.user = s.map_root = true;
  Caller sudo = root_caller();
  sudo.invoking_uid = 1000;
  sudo.invoking_gid = 1000;
  Plan p = must_plan(s, sudo);
  CHECK(p.uid_map == IdMap{{0, 1000, 1}});
  CHECK(p.gid_map == IdMap{{0, 1000, 1}});
  CHECK_FALSE(p.deny_setgroups);  // the writer is root
}

TEST_CASE("--user without maps writes no map and says the box runs as nobody") {
  Spec s = spec_with_tinysh();
  s.user = true;
  Plan p = must_plan(s, user_caller());
  CHECK_FALSE(p.has(Action::WriteUidMap));
  CHECK_FALSE(p.has(Action::BecomeRootInside));
  REQUIRE_FALSE(p.notes.empty());
  CHECK(p.notes.front().find("65534") != std::string::npos);
}

TEST_CASE("refused: --pivot without --mount, fixed by --mount") {
  Spec s = spec_with_tinysh();
  s.pivot = true;
  Error e = must_refuse(s);
  CHECK(e.call.find("--pivot") != std::string::npos);
  CHECK(e.hint == "add --mount");
  s.mount = true;
  CHECK(plan(s, root_caller()).ok());  // the named fix works
}

TEST_CASE("refused: --proc without --mount, fixed by --mount") {
  Spec s = spec_with_tinysh();
  s.proc = s.pid = true;
  CHECK(must_refuse(s).hint == "add --mount");
  s.mount = true;
  CHECK(plan(s, root_caller()).ok());
}

TEST_CASE("refused: --rootfs without --mount, fixed by --mount") {
  Spec s = spec_with_tinysh();
  s.rootfs_dir = "/srv/rootfs";
  CHECK(must_refuse(s).hint == "add --mount");
}

TEST_CASE("refused: id maps without --user, fixed by --user") {
  Spec s = spec_with_tinysh();
  s.map_root = true;
  CHECK(must_refuse(s).hint == "add --user");
  s.map_root = false;
  s.uid_map = {{0, 0, 1}};
  CHECK(must_refuse(s).hint == "add --user");
}

TEST_CASE("refused: --map-root together with --map-uid") {
  Spec s = spec_with_tinysh();
  s.user = s.map_root = true;
  s.uid_map = {{0, 0, 1}};
  CHECK(must_refuse(s).call.find("--map-root") != std::string::npos);
}

TEST_CASE(
    "refused: a normal user asking for namespaces without --user, fixed by --user "
    "--map-root") {
  Spec s = spec_with_tinysh();
  s.uts = true;
  Error e = must_refuse(s, user_caller());
  CHECK(e.call.find("needs root") != std::string::npos);
  CHECK(e.hint.find("--user --map-root") != std::string::npos);
  s.user = s.map_root = true;
  CHECK(plan(s, user_caller()).ok());
}

TEST_CASE("a normal user with no flags at all may run the baseline box") {
  CHECK(plan(spec_with_tinysh(), user_caller()).ok());
}

TEST_CASE("refused: a normal user mapping ids other than its own") {
  Spec s = spec_with_tinysh();
  s.user = true;
  s.uid_map = {{0, 0, 1}};
  s.gid_map = {{0, 1000, 1}};
  Error e = must_refuse(s, user_caller(1000, 1000));
  CHECK(e.call.find("only its own uid (1000)") != std::string::npos);
  s.uid_map = {{0, 1000, 2}};  // its own uid, but a range of 2
  CHECK(must_refuse(s, user_caller(1000, 1000)).call.find("own uid") != std::string::npos);
  s.uid_map = {{0, 1000, 1}};
  s.gid_map = {{0, 0, 1}};
  CHECK(must_refuse(s, user_caller(1000, 1000)).call.find("own gid") != std::string::npos);
  s.gid_map = {{0, 1000, 1}};
  CHECK(plan(s, user_caller(1000, 1000)).ok());
  // Root may map any range.
  s.uid_map = {{0, 100000, 65536}};
  s.gid_map = {{0, 100000, 65536}};
  CHECK(plan(s, root_caller()).ok());
}

TEST_CASE("--map-range: root maps 100000, a user its /etc/subuid range through newuidmap") {
  Spec s = spec_with_tinysh();
  s.user = s.map_range = true;
  Plan root = must_plan(s);
  CHECK(root.uid_map == IdMap{{0, 100000, 65536}});
  CHECK(root.gid_map == IdMap{{0, 100000, 65536}});
  CHECK(root.uid_map_helper.empty());  // root writes the file itself
  CHECK(step_of(root, Action::WriteUidMap).calls().find("write(\"/proc/BOX/uid_map\"") == 0);

  Caller alice = user_caller(1000, 1000);
  alice.subuid = SubordinateIds{231072, 65536};
  alice.subgid = SubordinateIds{231072, 65536};
  alice.newuidmap = "/usr/bin/newuidmap";
  alice.newgidmap = "/usr/bin/newgidmap";
  Plan user = must_plan(s, alice);
  CHECK(user.uid_map == IdMap{{0, 231072, 65536}});
  CHECK(user.uid_map_helper == "/usr/bin/newuidmap");
  CHECK(user.gid_map_helper == "/usr/bin/newgidmap");
  CHECK_FALSE(user.deny_setgroups);  // newgidmap is a privileged writer: setgroups stays allowed
  CHECK(step_of(user, Action::WriteUidMap).calls() == "/usr/bin/newuidmap BOX 0 231072 65536");
  auto list = actions(user);
  CHECK(std::find(list.begin(), list.end(), Action::DenySetgroups) == list.end());
  // An explicit map inside the range goes through the helper too; one outside it is refused.
  Spec explicit_map = spec_with_tinysh();
  explicit_map.user = true;
  explicit_map.uid_map = {{0, 231072, 1000}};
  explicit_map.gid_map = {{0, 1000, 1}};
  Plan mixed = must_plan(explicit_map, alice);
  CHECK(mixed.uid_map_helper == "/usr/bin/newuidmap");
  CHECK(mixed.gid_map_helper.empty());  // its own gid: written by nslab, after setgroups=deny
  CHECK(mixed.deny_setgroups);
  explicit_map.uid_map = {{0, 100000, 1000}};
  Error outside = must_refuse(explicit_map, alice);
  CHECK(outside.call.find("231072:65536") != std::string::npos);
  CHECK(outside.hint.find("--map-range") != std::string::npos);

  // Without the helpers: the package to install. Without a range: how to get one.
  Caller no_helper = alice;
  no_helper.newuidmap.clear();
  Error e = must_refuse(s, no_helper);
  CHECK(e.call.find("newuidmap is not installed") != std::string::npos);
  CHECK(e.hint.find("uidmap") != std::string::npos);
  Caller no_range = alice;
  no_range.subuid.reset();
  e = must_refuse(s, no_range);
  CHECK(e.call.find("no range of subordinate uids in /etc/subuid") != std::string::npos);
  CHECK(e.hint.find("usermod --add-subuids") != std::string::npos);
  // One way to say the maps at a time.
  s.map_root = true;
  CHECK(must_refuse(s).call.find("--map-range") != std::string::npos);
}

TEST_CASE("refused: --user --pivot without maps, fixed by --map-root") {
  Spec s = spec_with_tinysh();
  s.user = s.mount = s.pivot = true;
  CHECK(must_refuse(s).hint == "add --map-root");
}

TEST_CASE("refused: --user --proc without --pid, fixed by --pid") {
  Spec s = spec_with_tinysh();
  s.user = s.map_root = s.mount = s.proc = true;
  CHECK(must_refuse(s).hint == "add --pid");
  s.pid = true;
  CHECK(plan(s, root_caller()).ok());
}

TEST_CASE("--proc without --pid is allowed for root but explained") {
  Spec s = spec_with_tinysh();
  s.mount = s.proc = true;
  Plan p = must_plan(s);
  CHECK(p.has(Action::MountProc));
  bool explained = std::any_of(p.notes.begin(), p.notes.end(), [](const std::string& n) {
    return n.find("--proc without --pid") != std::string::npos;
  });
  CHECK(explained);
}

TEST_CASE("refused: a bad hostname, a relative rootfs, a program-less --") {
  Spec s = spec_with_tinysh();
  s.hostname = "bad name";
  CHECK_FALSE(plan(s, root_caller()).ok());
  s.hostname = std::string(65, 'a');
  CHECK_FALSE(plan(s, root_caller()).ok());
  s.hostname.reset();
  s.mount = true;
  s.rootfs_dir = "relative/dir";
  CHECK(must_refuse(s).call.find("absolute path") != std::string::npos);
  s.rootfs_dir.reset();
  s.command.kind = CommandKind::Program;
  CHECK_FALSE(plan(s, root_caller()).ok());
}

TEST_CASE("a program after -- is exec'd through PATH inside the box") {
  Spec s = spec_with_tinysh();
  s.command.kind = CommandKind::Program;
  s.command.argv = {"true", "--flag"};
  Plan p = must_plan(s);
  const auto* exec = step_of(p, Action::Exec).as<op::Exec>();
  REQUIRE(exec);
  CHECK(exec->from == op::Exec::From::Path);
  CHECK(exec->file == "true");
  CHECK(exec->argv == std::vector<std::string>{"true", "--flag"});
  CHECK(step_of(p, Action::Exec).calls().ends_with("execvp(\"true\", [\"true\", \"--flag\"])"));
}

TEST_CASE("explain's text numbers every step and gives each its calls and a reason") {
  Spec s = spec_with_tinysh();
  s.mount = s.pivot = s.pid = s.proc = s.uts = true;
  s.hostname = "tinyhost";
  Plan p = must_plan(s);
  std::string text = describe(p);
  for (size_t i = 1; i <= p.steps.size(); ++i)
    CHECK(text.find(std::to_string(i) + ". [") != std::string::npos);
  CHECK(text.find("pivot_root(\".\", \".\")") != std::string::npos);
  for (const auto& step : p.steps) {
    CHECK_FALSE(step.calls().empty());
    CHECK_FALSE(step.why.empty());
  }
}

TEST_CASE("namespace_names follows /proc/PID/ns naming") {
  CHECK(namespace_names(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) ==
        std::vector<std::string>{"user", "mnt", "pid"});
  CHECK(namespace_names(0).empty());
}

namespace {

// A hybrid host as this project's build machine has: pids and memory on v1, nothing on v2.
cgroup::Layout fake_v1_layout() {
  cgroup::Layout layout;
  for (auto [controller, name] : {std::pair{cgroup::Controller::Pids, "pids"},
                                  std::pair{cgroup::Controller::Memory, "memory"}}) {
    cgroup::Placement p;
    p.controller = controller;
    p.version = cgroup::Version::V1;
    p.hierarchy = std::string("cgroup v1 ") + name + " at /sys/fs/cgroup/" + name;
    p.own_dir = p.parent_dir = p.mount_point = std::string("/sys/fs/cgroup/") + name;
    p.mount_options = name;
    layout.placements.push_back(p);
  }
  return layout;
}

}  // namespace

TEST_CASE("limits and a veth put their steps around the clone and the release, in order") {
  Spec spec = spec_with_tinysh();
  spec.pid = true;
  spec.limits.pids_max = 10;
  spec.limits.memory_bytes = 32u << 20;
  spec.veth = true;
  Caller caller = root_caller();
  caller.cgroup_layout = fake_v1_layout();
  auto p = plan(spec, caller);
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  CHECK(p->clone_flags == (CLONE_NEWPID | CLONE_NEWNET));  // --veth implies --net
  CHECK(actions(*p) == std::vector<Action>{
                           Action::CreateCgroup, Action::Clone, Action::DieWithRunner,
                           Action::CloseInheritedFds, Action::WaitForRelease, Action::JoinCgroup,
                           Action::PlugVeth, Action::Release, Action::SweepStaleCgroups,
                           Action::ConfigureBoxNetwork, Action::DropCapabilities, Action::NewSession,
                           Action::Exec,
                           Action::RemoveCgroup});
  const Step& create = p->steps[0];
  CHECK(create.side() == Side::Runner);
  CHECK(create.calls().find("/sys/fs/cgroup/pids/nslab-box-RUNNER_PID/pids.max \"10\"") !=
        std::string::npos);
  CHECK(create.why.find("cgroup v1 memory") != std::string::npos);
}

TEST_CASE("--net alone adds only the empty network namespace, no flag adds no cgroup step") {
  Spec spec = spec_with_tinysh();
  spec.net = true;
  auto p = plan(spec, root_caller());
  REQUIRE(p.ok());
  CHECK(p->clone_flags == CLONE_NEWNET);
  CHECK(p->has(Action::EmptyNetwork));
  CHECK_FALSE(p->has(Action::PlugVeth));
  CHECK_FALSE(p->has(Action::CreateCgroup));
}

TEST_CASE("refused: --veth and limits for a normal user, and limits without a known layout") {
  Spec veth = spec_with_tinysh();
  veth.user = veth.map_root = veth.veth = true;
  auto refused = plan(veth, user_caller());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("CAP_NET_ADMIN") != std::string::npos);

  Spec pids = spec_with_tinysh();
  pids.limits.pids_max = 10;
  Caller user = user_caller();
  user.cgroup_layout = fake_v1_layout();
  user.cgroup_refusal =
      plain_error("--pids: cannot make a cgroup in /sys/fs/cgroup/pids", "cgroup limits need root");
  refused = plan(pids, user);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("cgroup limits need root") != std::string::npos);

  // Control: the same spec for root with the layout is planned.
  Caller root = root_caller();
  root.cgroup_layout = fake_v1_layout();
  CHECK(plan(pids, root).ok());
  // Without a layout plan() does not guess one.
  CHECK_FALSE(plan(pids, root_caller()).ok());
}

// --- The box's view of its own cgroup ------------------------------------------------------------

TEST_CASE(
    "a pivoted box with limits gets its cgroup read-only at /sys/fs/cgroup, before pivot_root") {
  Spec spec = spec_with_tinysh();
  spec.mount = spec.pivot = spec.pid = spec.proc = true;
  spec.limits.pids_max = 20;
  spec.limits.memory_bytes = 32u << 20;
  Caller caller = root_caller();
  caller.cgroup_layout = fake_v1_layout();
  Plan p = must_plan(spec, caller);
  size_t view = index_of(p, Action::MountCgroupView);
  CHECK(index_of(p, Action::MountRootfsTmpfs) < view);
  CHECK(view < index_of(p, Action::PivotRoot));
  const Step& step = p.steps[view];
  CHECK(step.side() == Side::Box);
  // No cgroup namespace: binds of the box's own directories, made read-only.
  CHECK(step.calls().find("mount(\"/sys/fs/cgroup/pids/nslab-box-RUNNER_PID\", "
                        "\"/tmp/root/sys/fs/cgroup/pids\", NULL, MS_BIND)") != std::string::npos);
  CHECK(step.calls().find("/tmp/root/sys/fs/cgroup/memory") != std::string::npos);
  CHECK(step.calls().find("MS_RDONLY") != std::string::npos);
  CHECK(step.why.find("bind") != std::string::npos);
}

TEST_CASE("with --cgroup the view is fresh cgroupfs mounts in the box's cgroup namespace") {
  Spec spec = spec_with_tinysh();
  spec.mount = spec.pivot = spec.cgroup = true;
  spec.limits.pids_max = 20;
  Caller caller = root_caller();
  caller.cgroup_layout = fake_v1_layout();
  caller.cgroup_layout->placements.pop_back();  // pids only, as find_cgroups() looks them up
  Plan p = must_plan(spec, caller);
  CHECK(index_of(p, Action::EnterCgroupNamespace) < index_of(p, Action::MountCgroupView));
  const Step& step = p.steps[index_of(p, Action::MountCgroupView)];
  CHECK(step.calls().find("mount(\"cgroup\", \"/tmp/root/sys/fs/cgroup/pids\", \"cgroup\", "
                        "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, \"pids\")") != std::string::npos);
  CHECK(step.calls().find(", NULL, MS_BIND)") == std::string::npos);
  CHECK(step.why.find("cgroup namespace") != std::string::npos);

  // --cgroup alone: the runner's own cgroups, every hierarchy found.
  Spec alone = spec_with_tinysh();
  alone.mount = alone.pivot = alone.cgroup = true;
  Caller found = root_caller();
  found.cgroup_layout = fake_v1_layout();
  Plan q = must_plan(alone, found);
  const Step& both = q.steps[index_of(q, Action::MountCgroupView)];
  CHECK(both.calls().find("/tmp/root/sys/fs/cgroup/memory") != std::string::npos);
  CHECK_FALSE(q.has(Action::CreateCgroup));
}

TEST_CASE("no cgroup view without limits or --cgroup, without --mount, or on the host's own root") {
  Caller caller = root_caller();
  caller.cgroup_layout = fake_v1_layout();
  Spec plain = spec_with_tinysh();
  plain.mount = plain.pivot = plain.pid = plain.proc = true;
  CHECK_FALSE(must_plan(plain, caller).has(Action::MountCgroupView));
  // Limits without --pivot: the host's /sys/fs/cgroup is there and shows the box's cgroup.
  Spec host_root = spec_with_tinysh();
  host_root.mount = true;
  host_root.limits.pids_max = 10;
  host_root.limits.memory_bytes = 32u << 20;
  CHECK_FALSE(must_plan(host_root, caller).has(Action::MountCgroupView));
  // ...unless a cgroup namespace breaks the match: then the view replaces the host's mounts.
  host_root.cgroup = true;
  Plan replaced = must_plan(host_root, caller);
  REQUIRE(replaced.has(Action::MountCgroupView));
  CHECK(replaced.steps[index_of(replaced, Action::MountCgroupView)].calls().find(
            "umount2(\"/sys/fs/cgroup\", MNT_DETACH)") != std::string::npos);
  // --cgroup without --mount: nowhere private to mount it, and a note says what that means.
  Spec no_mount = spec_with_tinysh();
  no_mount.cgroup = true;
  Plan noted = must_plan(no_mount, caller);
  CHECK_FALSE(noted.has(Action::MountCgroupView));
  CHECK(std::ranges::any_of(noted.notes, [](const std::string& note) {
    return note.find("--mount") != std::string::npos;
  }));
}

TEST_CASE("a root box without --user drops the host-wide capabilities, a --user box and no namespace keep them") {
  Spec spec = spec_with_tinysh();
  spec.uts = spec.pid = true;
  auto root = plan(spec, root_caller());
  REQUIRE(root.ok());
  REQUIRE(root->has(Action::DropCapabilities));
  auto at = std::find_if(root->steps.begin(), root->steps.end(),
                         [](const Step& s) { return s.action() == Action::DropCapabilities; });
  const Step& drop = *at;
  // After every mount and the pivot, before exec.
  CHECK(std::none_of(at, root->steps.end(),
                     [](const Step& s) { return s.action() == Action::PivotRoot || s.action() == Action::MountProc; }));
  CHECK(drop.calls().find("CAP_SYS_MODULE") != std::string::npos);
  CHECK(drop.calls().find("CAP_SYS_BOOT") == std::string::npos);  // its own PID namespace
  spec.pid = false;
  auto no_pid = plan(spec, root_caller());
  REQUIRE(no_pid.ok());
  for (const Step& s : no_pid->steps)
    if (s.action() == Action::DropCapabilities) CHECK(s.calls().find("CAP_SYS_BOOT") != std::string::npos);
  spec.user = spec.map_root = true;
  auto user = plan(spec, root_caller());
  REQUIRE(user.ok());
  CHECK_FALSE(user->has(Action::DropCapabilities));
  auto none = plan(spec_with_tinysh(), root_caller());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has(Action::DropCapabilities));
}

TEST_CASE("without --pid a keeper starts before the clone and the sweep runs before the cgroup goes") {
  Caller caller = root_caller();
  caller.cgroup_layout = fake_v1_layout();
  Spec spec = spec_with_tinysh();
  spec.uts = true;
  spec.limits.pids_max = 10;
  Plan p = must_plan(spec, caller);
  CHECK(index_of(p, Action::StartKeeper) < index_of(p, Action::Clone));
  CHECK(index_of(p, Action::Exec) < index_of(p, Action::SweepBox));
  CHECK(index_of(p, Action::SweepBox) < index_of(p, Action::RemoveCgroup));
  // The note names the hole that remains and the flag that closes it.
  CHECK(std::ranges::any_of(p.notes, [](const std::string& note) {
    return note.find("setsid()") != std::string::npos && note.find("cgroup") != std::string::npos;
  }));
  // With --pid the namespace's end does it: no keeper, no sweep, no note.
  spec.mount = spec.pid = true;
  Plan with_pid = must_plan(spec, caller);
  CHECK_FALSE(with_pid.has(Action::StartKeeper));
  CHECK_FALSE(with_pid.has(Action::SweepBox));
  CHECK_FALSE(std::ranges::any_of(with_pid.notes, [](const std::string& note) {
    return note.find("setsid()") != std::string::npos;
  }));
}

TEST_CASE("--overlay needs --rootfs, and --overlay-dir may not overlap it") {
  Spec s = spec_with_tinysh();
  s.mount = true;
  s.overlay = true;
  CHECK(must_refuse(s).message().find("add --rootfs DIR") != std::string::npos);
  s.rootfs_dir = "/srv/root";
  s.overlay_dir = "/srv/root/layer";
  s.overlay_dir_as_given = "/srv/root/layer";
  CHECK(must_refuse(s).message().find("overlap") != std::string::npos);
  s.overlay_dir = "/srv";
  CHECK(must_refuse(s).message().find("overlap") != std::string::npos);
  // Control: beside it, the plan is made (even a name that only begins like it).
  s.overlay_dir = "/srv/root-layer";
  CHECK(plan(s, root_caller()).ok());
}

TEST_CASE("--overlay mounts a writable overlay over a tmpfs layer, without it the root is read-only") {
  Spec s = spec_with_tinysh();
  s.mount = true;
  s.rootfs_dir = "/srv/root";
  Plan read_only = must_plan(s);
  const auto* ro = step_of(read_only, Action::BindRootfsDir).as<op::BindRootfsDir>();
  REQUIRE(ro);
  CHECK((ro->overlay.flags & MS_RDONLY) != 0);
  CHECK_FALSE(ro->layer);
  s.overlay = true;
  Plan p = must_plan(s);
  const auto* rw = step_of(p, Action::BindRootfsDir).as<op::BindRootfsDir>();
  REQUIRE(rw);
  CHECK((rw->overlay.flags & MS_RDONLY) == 0);
  REQUIRE(rw->layer);
  CHECK(rw->layer->fstype == "tmpfs");
  CHECK(rw->overlay.data ==
        "lowerdir=/tmp/lower,upperdir=/tmp/layer/upper,workdir=/tmp/layer/work");
  CHECK_FALSE(p.has(Action::PrepareLayerDir));  // nothing on the host
  CHECK(step_of(p, Action::BindRootfsDir).calls().find("mount(\"nslab-layer\", \"/tmp/layer\"") !=
        std::string::npos);
}

TEST_CASE("--overlay-dir prepares the kept layer on the host, for the box's root outside") {
  Spec s = spec_with_tinysh();
  s.mount = true;
  s.rootfs_dir = "/srv/root";
  s.overlay_dir = "/srv/layer";
  Plan p = must_plan(s);
  const auto* prepare = step_of(p, Action::PrepareLayerDir).as<op::PrepareLayerDir>();
  REQUIRE(prepare);
  CHECK(prepare->subdirs == std::vector<std::string>{"/srv/layer/upper", "/srv/layer/work"});
  CHECK_FALSE(prepare->owner);  // root's box without --user is root
  const auto* bind = step_of(p, Action::BindRootfsDir).as<op::BindRootfsDir>();
  REQUIRE(bind);
  REQUIRE(bind->layer);
  CHECK(bind->layer->source == "/proc/self/fd/LAYER_FD");
  CHECK(bind->layer_dir == "/srv/layer");
  // Before the box is released, so the layer is there when it mounts it.
  auto at = [&](Action a) {
    for (std::size_t i = 0; i < p.steps.size(); ++i)
      if (p.steps[i].action() == a) return i;
    return p.steps.size();
  };
  CHECK(at(Action::PrepareLayerDir) < at(Action::Release));
  // Root's --user --map-root maps the box's root to nobody, who writes the layer.
  s.user = s.map_root = true;
  Plan mapped = must_plan(s);
  const auto* owned = step_of(mapped, Action::PrepareLayerDir).as<op::PrepareLayerDir>();
  REQUIRE(owned);
  REQUIRE(owned->owner);
  CHECK(owned->owner->first == 65534u);
}

TEST_CASE("--cap-drop takes names with or without CAP_, in any case, and all") {
  auto caps = parse_capabilities("net_raw, CAP_SYS_ADMIN,chown,net_raw");
  REQUIRE(caps.ok());
  CHECK(*caps == std::vector<int>{13, 21, 0});
  auto all = parse_capabilities("all");
  REQUIRE(all.ok());
  CHECK(all->size() == 41u);
  auto bogus = parse_capabilities("net_raw,sys_admn");
  REQUIRE_FALSE(bogus.ok());
  CHECK(bogus.error().message().find("'sys_admn' (did you mean sys_admin?)") != std::string::npos);
  auto slip = parse_capabilities("CAP_NETRAW");
  REQUIRE_FALSE(slip.ok());
  CHECK(slip.error().message().find("(did you mean net_raw?)") != std::string::npos);
  // Control: a word far from every name gets no guess.
  auto far = parse_capabilities("frobnicate");
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message().find("did you mean") == std::string::npos);
  CHECK_FALSE(parse_capabilities(",").ok());
}

TEST_CASE("--cap-drop in a user-namespace box, and --seccomp after no_new_privs, last before exec") {
  Spec s = spec_with_tinysh();
  s.user = s.map_root = s.mount = true;
  Plan plain = must_plan(s);
  CHECK_FALSE(plain.has(Action::DropCapabilities));  // control: a --user box keeps its own
  CHECK_FALSE(plain.has(Action::InstallSeccomp));
  s.cap_drop = {13};
  s.seccomp = true;
  Plan p = must_plan(s);
  const auto* drop = step_of(p, Action::DropCapabilities).as<op::DropCapabilities>();
  REQUIRE(drop);
  CHECK(drop->caps == std::vector<int>{13});
  CHECK(step_of(p, Action::DropCapabilities).calls().find("CAP_NET_RAW") != std::string::npos);
  auto at = [&](Action a) {
    for (std::size_t i = 0; i < p.steps.size(); ++i)
      if (p.steps[i].action() == a) return i;
    return p.steps.size();
  };
  CHECK(at(Action::NewSession) < at(Action::SetNoNewPrivs));
  CHECK(at(Action::SetNoNewPrivs) < at(Action::InstallSeccomp));
  CHECK(at(Action::InstallSeccomp) + 1 == at(Action::Exec));
  std::string calls = step_of(p, Action::InstallSeccomp).calls();
  CHECK(calls.find("EPERM for mount umount2") != std::string::npos);
  CHECK(calls.find("unshare setns") != std::string::npos);
}

TEST_CASE("the seccomp program checks the architecture first, then one comparison per call") {
  auto filter = nslab_filter();
  auto program = seccomp_program(filter.denied);
  REQUIRE(program.size() > 6);
  CHECK(program[0].code == (BPF_LD | BPF_W | BPF_ABS));
  CHECK(program[0].k == offsetof(seccomp_data, arch));
  CHECK(program[2].k == SECCOMP_RET_KILL_PROCESS);
  CHECK(program.back().k == SECCOMP_RET_ALLOW);
  std::size_t eperm = 0;
  for (const auto& insn : program)
    if (insn.code == (BPF_RET | BPF_K) && insn.k == (SECCOMP_RET_ERRNO | EPERM)) ++eperm;
  // One for each denied call, and on x86-64 one for its x32 numbers.
#if defined(__x86_64__)
  CHECK(eperm == filter.denied.size() + 1);
#else
  CHECK(eperm == filter.denied.size());
#endif
}
