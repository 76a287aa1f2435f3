// Where each controller's box cgroup goes — cgroups(7). /proc/self/cgroup names this process's
// cgroup in every hierarchy; /proc/self/mountinfo says where each hierarchy is mounted (a cgroup2
// mount, or a cgroup mount whose options name its v1 controllers). A controller is on v2 when the
// unified hierarchy's root lists it in cgroup.controllers, else on the v1 hierarchy that has it.
// On v2 the no-internal-processes rule then decides the box's parent (place_v2; cgroup_v2.cpp
// tells the rule). Pure given the files it reads, so a fake tree stands in for /sys/fs/cgroup;
// find_cgroups() is what plan() is given of the host.
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "builtins/cgroup_fs.h"
#include "cgroup.h"
#include "common/text.h"
#include "sys.h"

namespace sandbox::cgroup {

namespace fs = tinysh::cgroup;

namespace {

constexpr const char* kNeedRoot =
    "cgroup limits need root, or a cgroup delegated to you (systemd-run --user --scope -p "
    "Delegate=yes ...)";

// Where nslab's v2 parent goes for p.controller. Normally <own>/nslab, with the controller
// enabled in own's subtree_control if it is not yet. That write fails with EBUSY while own holds
// processes (the no-internal-processes rule), and own always holds the runner unless it is the
// root; so when own holds processes and lacks the controller (or was not even handed it):
//   root        the parent goes under the root cgroup, which the rule exempts: <v2 root>/nslab
//   not root    the runner alone in its cgroup (a delegated scope made for it) moves itself into
//               a leaf of nslab/ first; a cgroup shared with other processes is refused, with
//               the way to get one of its own
Status place_v2(Placement& p, const std::string& v2_root, const Caller& runner) {
  std::string_view name = controller_name(p.controller);
  p.parent_dir = p.own_dir + "/" + std::string(kV2ParentName);
  if (p.own_is_root) {
    p.enable_above = !detail::enabled_in(p.own_dir, name);
    return ok();
  }
  // A runner started by `nslab lesson` or `nslab check` in the leaf its driver moved into
  // (DriverLeaf): the box goes beside that leaf, in nslab/, which holds no process itself.
  if (is_runner_leaf(p.own_dir)) {
    p.parent_dir = detail::parent_of(p.own_dir);
    std::string above = detail::parent_of(p.parent_dir);
    if (!detail::contains(fs::read_v2_controllers(above), name))
      return plain_error(
          fmt::format("the {} controller is on cgroup v2, but not handed down to {}", name, above),
          fmt::format("a parent cgroup must enable it in its cgroup.subtree_control; {}",
                      kNeedRoot));
    p.enable_above = !detail::enabled_in(above, name);
    return ok();
  }
  V2Own own{.handed_down = detail::contains(fs::read_v2_controllers(p.own_dir), name),
             .enabled = detail::enabled_in(p.own_dir, name),
             .procs = detail::procs_of(p.own_dir)};
  switch (choose_v2(own, runner)) {
    case V2Choice::Below:
      p.enable_above = !own.enabled;
      return ok();
    case V2Choice::AtRoot:
      p.at_v2_root = true;
      p.parent_dir = v2_root + "/" + std::string(kV2ParentName);
      p.enable_above = !detail::enabled_in(v2_root, name);
      return ok();
    case V2Choice::MoveRunner:
      p.move_runner = true;
      p.enable_above = true;
      return ok();
    case V2Choice::NotHandedDown:
      return plain_error(
          fmt::format("the {} controller is on cgroup v2, but not handed down to this "
                      "process's cgroup {} (it is missing from its cgroup.controllers)",
                      name, p.own_dir),
          fmt::format("a parent cgroup must enable it in its cgroup.subtree_control; {}",
                      kNeedRoot));
    case V2Choice::Shared:
      break;
  }
  std::vector<std::string> others;
  for (pid_t pid : others_in(own, runner)) others.push_back(std::to_string(pid));
  return plain_error(
      fmt::format("--{}: the runner's cgroup {} holds other processes (pids {}), and cgroup v2 "
                  "hands the {} controller down only from a cgroup without processes of its own "
                  "(the no-internal-processes rule)",
                  p.controller == Controller::Cpu ? "cpus" : name, p.own_dir,
                  common::join(others, " "), name),
      "start nslab in a cgroup of its own: systemd-run --user --scope -p Delegate=yes nslab run "
      "...; or run it as root (boxes then go under the root cgroup)");
}

}  // namespace

V2Choice choose_v2(const V2Own& own, const Caller& runner) {
  // Handed down, and either handed on already or own is empty, so it may be.
  if (own.handed_down && (own.enabled || own.procs.empty())) return V2Choice::Below;
  if (runner.privileged) return V2Choice::AtRoot;
  if (!own.handed_down) return V2Choice::NotHandedDown;
  if (own.procs == std::vector<pid_t>{runner.pid}) return V2Choice::MoveRunner;
  return V2Choice::Shared;
}

std::vector<pid_t> others_in(const V2Own& own, const Caller& runner) {
  std::vector<pid_t> others;
  for (pid_t pid : own.procs)
    if (pid != runner.pid) others.push_back(pid);
  return others;
}

const Placement* Layout::find(Controller controller) const {
  for (const Placement& p : placements)
    if (p.controller == controller) return &p;
  return nullptr;
}

namespace {

// /proc/self/cgroup and mountinfo, parsed, and the controllers of the v2 root.
struct Hierarchies {
  std::vector<fs::Mount> mounts;
  std::vector<fs::Place> places;
  std::string v2_root;
  std::vector<std::string> v2_controllers;

  // This process's cgroup on the unified hierarchy, if it has one.
  const fs::Place* unified() const {
    const fs::Place* found = nullptr;
    for (const fs::Place& p : places)
      if (p.version == fs::Version::V2) found = &p;
    return found;
  }
};

Hierarchies read_hierarchies(std::string_view proc_self_cgroup, std::string_view mountinfo) {
  Hierarchies h;
  h.mounts = fs::parse_cgroup_mounts(mountinfo);
  h.places = fs::locate(fs::parse_proc_cgroup(proc_self_cgroup), h.mounts);
  // The controllers the unified hierarchy has at all: its root's cgroup.controllers.
  for (const fs::Mount& m : h.mounts) {
    if (m.version != fs::Version::V2) continue;
    h.v2_root = m.mount_point;
    h.v2_controllers = fs::read_v2_controllers(m.mount_point);
    break;
  }
  return h;
}

// Where the box's cgroup for `controller` goes, or why it cannot.
Result<Placement> place(Controller controller, const Hierarchies& h, const Caller& runner) {
  std::string_view name = controller_name(controller);
  Placement p;
  p.controller = controller;
  if (detail::contains(h.v2_controllers, name)) {
    const fs::Place* unified = h.unified();
    if (!unified || !unified->visible())
      return plain_error(
          fmt::format("the {} controller is on cgroup v2, but this process's v2 cgroup \"{}\" "
                      "cannot be used: {}",
                      name, unified ? unified->path : "?",
                      unified ? unified->why_not_visible : "not in /proc/self/cgroup"),
          "nslab makes a box's cgroup only under the runner's own cgroup");
    p.version = Version::V2;
    p.own_dir = unified->directory;
    p.parent_dir = p.own_dir + "/" + std::string(kV2ParentName);
    p.hierarchy = fmt::format("cgroup v2 at {}", h.v2_root);
    p.mount_point = unified->mount_point;
    p.own_is_root = unified->directory == unified->mount_point;
    SANDBOX_TRY(place_v2(p, unified->mount_point, runner));
    return p;
  }
  const fs::Place* v1 = nullptr;
  for (const fs::Place& candidate : h.places)
    if (candidate.version == fs::Version::V1 && candidate.has(name)) v1 = &candidate;
  bool v1_mounted = std::any_of(h.mounts.begin(), h.mounts.end(), [&](const fs::Mount& m) {
    return m.version == fs::Version::V1 && detail::contains(m.options, name);
  });
  if (!v1 || !v1_mounted)
    return plain_error(
        fmt::format("no {} controller here: it is not on cgroup v2 ({}) and no cgroup v1 "
                    "hierarchy has it",
                    name,
                    h.v2_root.empty() ? std::string("no cgroup2 mount")
                                      : fmt::format("{}/cgroup.controllers: \"{}\"", h.v2_root,
                                                    common::join(h.v2_controllers, " "))),
        "the kernel may lack it (CONFIG_CGROUP_PIDS, CONFIG_MEMCG, CONFIG_CFS_BANDWIDTH), or "
        "it is not mounted; `nslab doctor` shows the layout");
  if (!v1->visible())
    return plain_error(fmt::format("the {} cgroup \"{}\" (cgroup v1) cannot be used: {}", name,
                                   v1->path, v1->why_not_visible),
                       "nslab makes a box's cgroup only under the runner's own cgroup");
  p.version = Version::V1;
  p.own_dir = v1->directory;
  p.parent_dir = v1->directory;
  p.hierarchy =
      fmt::format("cgroup v1 {} at {}", common::join(v1->controllers, ","), v1->mount_point);
  p.mount_point = v1->mount_point;
  p.mount_options = common::join(v1->controllers, ",");
  return p;
}

}  // namespace

Result<Layout> decide_layout(std::string_view proc_self_cgroup, std::string_view mountinfo,
                             const std::vector<Controller>& wanted, const Caller& runner) {
  Hierarchies h = read_hierarchies(proc_self_cgroup, mountinfo);
  Layout layout;
  for (Controller controller : wanted) {
    auto placed = place(controller, h, runner);
    if (!placed) return placed.error();
    layout.placements.push_back(std::move(*placed));
  }
  return layout;
}

Result<Layout> detect_layout(const std::vector<Controller>& wanted, const Caller& runner) {
  auto cgroups = sys::read_file("/proc/self/cgroup");
  if (!cgroups) return cgroups.error();
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  if (!mountinfo) return mountinfo.error();
  return decide_layout(*cgroups, *mountinfo, wanted, runner);
}

Status check_access(const Layout& layout) {
  for (const Placement& p : layout.placements) {
    // The box's directory is made in parent_dir, which on v2 nslab may have to make in own_dir.
    std::string where = sys::access(p.parent_dir, F_OK) ? p.parent_dir : p.own_dir;
    if (Status writable = sys::access(where, W_OK); !writable)
      return plain_error(
          fmt::format("--{}: cannot make a cgroup in {}: {}",
                      p.controller == Controller::Cpu ? "cpus" : controller_name(p.controller),
                      where, std::strerror(writable.error().err)),
          kNeedRoot);
  }
  return ok();
}

Layout layout_of_each(const Caller& runner) {
  auto cgroups = sys::read_file("/proc/self/cgroup");
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  Layout found;
  if (!cgroups || !mountinfo) return found;
  Hierarchies h = read_hierarchies(*cgroups, *mountinfo);
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu})
    if (auto one = place(c, h, runner)) found.placements.push_back(std::move(*one));
  return found;
}

Status find_cgroups(const Limits& limits, Caller& caller) {
  if (limits.empty()) {
    // No cgroup of the box's own: where the runner's cgroups are, for the view a --cgroup box
    // mounts.
    caller.cgroup_layout = layout_of_each(caller);
    return ok();
  }
  auto layout = detect_layout(limits.controllers(), caller);
  if (!layout) return layout.error();
  Status access = check_access(*layout);
  if (!access) caller.cgroup_refusal = access.error();
  caller.cgroup_layout = std::move(*layout);
  return ok();
}

}  // namespace sandbox::cgroup
