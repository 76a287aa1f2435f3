// The cgroup facts behind `nslab doctor` — cgroups(7). The layout (v1, v2 or both, "hybrid") is
// in the cgroup mounts of /proc/self/mountinfo; /proc/self/cgroup names this process's cgroup in
// each hierarchy. For pids, memory and cpu: where the controller lives, whether /proc/cgroups says
// it was disabled at boot, whether its cgroup filesystem is read-only, whether this process's
// cgroup is delegated to this user (the user owns the directory and the files that move processes
// and enable controllers: Documentation/admin-guide/cgroup-v2.rst, "Delegation"), and on v2 which
// other processes share it (the no-internal-processes rule).
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "builtins/cgroup_fs.h"
#include "cgroup.h"
#include "common/files.h"
#include "common/text.h"
#include "host_probe_internal.h"

namespace sandbox {

namespace probe_detail {

namespace {

namespace cg = tinysh::cgroup;

constexpr std::string_view kLimitControllers[] = {"pids", "memory", "cpu"};
// v1 mount options that name a controller (anything else is a flag or name=...).
constexpr std::string_view kV1Controllers[] = {
    "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

std::optional<uid_t> owner_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_uid;
}

// A path read under the probe's root prefix, as the host names it.
std::string host_path(const std::string& root, const std::string& path) {
  return path.substr(under(root, "").size());
}

// Names in /proc/cgroups whose "enabled" column is 0.
std::vector<std::string> disabled_controllers(std::string_view proc_cgroups) {
  std::vector<std::string> off;
  for (auto line : common::split_nonempty(proc_cgroups, '\n')) {
    if (line.starts_with("#")) continue;
    auto words = common::split_nonempty(line, '\t');
    if (words.size() == 1) words = common::split_nonempty(line, ' ');
    if (words.size() >= 4 && common::trim(words[3]) == "0")
      off.emplace_back(common::trim(words[0]));
  }
  return off;
}

// The layout: which kinds of cgroup filesystem are mounted.
void probe_layout(const std::vector<MountLine>& mount_lines, HostFacts& facts) {
  bool v1_controllers = false;
  for (const MountLine& m : mount_lines) {
    if (m.fstype == "cgroup2" && facts.cgroup2_mount.empty()) facts.cgroup2_mount = m.mount_point;
    if (m.fstype == "cgroup")
      for (auto c : kV1Controllers) v1_controllers = v1_controllers || contains(m.super_options, c);
  }
  bool v2 = !facts.cgroup2_mount.empty();
  facts.cgroup_layout = v1_controllers && v2 ? CgroupLayout::Hybrid
                        : v1_controllers     ? CgroupLayout::V1
                        : v2                 ? CgroupLayout::V2
                                             : CgroupLayout::None;
}

// What each controller is judged against.
struct CgroupTree {
  std::string root;                              // the probe's root prefix
  std::vector<cg::Place> places;                 // this process's cgroups, read under `root`
  const cg::Place* own_v2 = nullptr;             // its v2 cgroup, when it can be seen
  std::vector<std::string> v2_root_controllers;  // what the unified hierarchy has at all
  std::vector<std::string> disabled;             // /proc/cgroups says enabled 0
};

// This process's cgroups. The mount points are host paths; read them under the prefix, show
// them without it (host_path).
std::vector<cg::Place> locate_cgroups(const std::string& root, const std::string& mountinfo,
                                      const std::vector<cg::Membership>& memberships) {
  std::vector<cg::Mount> mounts = cg::parse_cgroup_mounts(mountinfo);
  for (cg::Mount& m : mounts) m.mount_point = under(root, m.mount_point);
  return cg::locate(memberships, mounts);
}

const cg::Place* own_v2_cgroup(std::vector<cg::Place>& places) {
  const cg::Place* own_v2 = nullptr;
  for (cg::Place& p : places) {
    if (p.version != cg::Version::V2 || !p.visible()) continue;
    own_v2 = &p;
    // In the leaf a lesson driver stepped into (<home>/nslab/nslab-runner-PID, cgroup.h's
    // DriverLeaf), boxes go beside the leaf, with what <home> hands down: judge <home>, which
    // holds no process now.
    if (sandbox::cgroup::is_runner_leaf(p.directory))
      p.directory = p.directory.substr(0, p.directory.rfind('/', p.directory.rfind('/') - 1));
  }
  return own_v2;
}

// Where the controller lives: the v1 hierarchy that has it, else this process's v2 cgroup when
// it offers it. A v2 root that has it while this cgroup lacks it is noted (on_host_only).
const cg::Place* find_home(const CgroupTree& tree, const HostFacts& facts, std::string_view name,
                           ControllerFacts& c) {
  const cg::Place* place = nullptr;
  for (const cg::Place& p : tree.places)
    if (p.version == cg::Version::V1 && p.has(name)) place = &p;
  if (place) {
    c.home = ControllerHome::V1;
  } else if (tree.own_v2 && contains(facts.cgroup2_controllers, name)) {
    c.home = ControllerHome::V2;
    place = tree.own_v2;
  } else if (tree.own_v2 && contains(tree.v2_root_controllers, name)) {
    c.on_host_only = true;
    c.directory = host_path(tree.root, tree.own_v2->directory);
  }
  return place;
}

bool mounted_read_only(const std::string& root, const std::vector<MountLine>& mount_lines,
                       const cg::Place& place) {
  bool read_only = false;
  for (const MountLine& m : mount_lines)
    if (under(root, m.mount_point) == place.mount_point)
      read_only = contains(m.mount_options, "ro") || contains(m.super_options, "ro");
  return read_only;
}

// Whether the controller's cgroup (c.directory) is this user's to make cgroups in.
void probe_delegation(const std::string& root, const cg::Place* place, const Caller& who,
                      ControllerFacts& c) {
  std::string dir = under(root, c.directory);
  c.owner = owner_of(dir);
  // Delegation: the directory (to make the box's cgroup in it) and the file that moves a
  // process into a cgroup must be ours; on v2 also the file that enables controllers below.
  std::vector<std::string> files = {dir, dir + "/cgroup.procs"};
  files.push_back(dir + (c.home == ControllerHome::V1 ? "/tasks" : "/cgroup.subtree_control"));
  c.delegated = std::all_of(files.begin(), files.end(),
                            [&](const std::string& f) { return owner_of(f) == who.euid; });
  // v2 outside the root: a cgroup with processes of its own cannot hand the controller down.
  bool v2_root = place && place->directory == place->mount_point;
  if ((c.home == ControllerHome::V2 || c.on_host_only) && !v2_root) {
    namespace box_cg = sandbox::cgroup;
    box_cg::V2Own own{.handed_down = !c.on_host_only,
                      .enabled = box_cg::detail::enabled_in(dir, c.name),
                      .procs = box_cg::detail::procs_of(dir)};
    if (!own.enabled) c.sharing = box_cg::others_in(own, who);
    c.v2_own = std::move(own);
  }
}

ControllerFacts probe_controller(const CgroupTree& tree, const std::vector<MountLine>& mount_lines,
                                 const HostFacts& facts, std::string_view name) {
  ControllerFacts c;
  c.name = std::string(name);
  c.disabled_at_boot = contains(tree.disabled, name);
  const cg::Place* place = find_home(tree, facts, name, c);
  if (place) {
    if (place->visible()) {
      c.directory = host_path(tree.root, place->directory);
    } else {
      c.why_not_visible = place->why_not_visible;
    }
    c.read_only = mounted_read_only(tree.root, mount_lines, *place);
  }
  if (!c.directory.empty()) probe_delegation(tree.root, place, facts.who, c);
  return c;
}

}  // namespace

void probe_cgroups(const std::string& root, const std::string& mountinfo_text,
                   const std::vector<MountLine>& mount_lines, HostFacts& facts,
                   const std::vector<std::string_view>& only) {
  auto proc_cgroup = common::read_file(under(root, "/proc/self/cgroup"));
  if (!proc_cgroup) facts.cgroup_problem = "cannot read /proc/self/cgroup";
  probe_layout(mount_lines, facts);

  CgroupTree tree;
  tree.root = root;
  tree.places = locate_cgroups(
      root, mountinfo_text,
      proc_cgroup ? cg::parse_proc_cgroup(*proc_cgroup) : std::vector<cg::Membership>{});
  tree.own_v2 = own_v2_cgroup(tree.places);
  if (tree.own_v2) facts.cgroup2_controllers = cg::read_v2_controllers(tree.own_v2->directory);
  if (!facts.cgroup2_mount.empty())
    tree.v2_root_controllers = cg::read_v2_controllers(under(root, facts.cgroup2_mount));
  tree.disabled =
      disabled_controllers(common::read_file(under(root, "/proc/cgroups")).value_or(""));

  for (auto name : kLimitControllers) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    facts.controllers.push_back(probe_controller(tree, mount_lines, facts, name));
  }
}

}  // namespace probe_detail

std::string_view layout_name(CgroupLayout layout) {
  switch (layout) {
    case CgroupLayout::None:
      return "none mounted";
    case CgroupLayout::V1:
      return "v1";
    case CgroupLayout::V2:
      return "v2";
    case CgroupLayout::Hybrid:
      return "hybrid (v1 and v2)";
  }
  return "?";
}

}  // namespace sandbox
