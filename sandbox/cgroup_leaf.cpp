// A lesson driver's own leaf — cgroup v2's no-internal-processes rule
// (Documentation/admin-guide/cgroup-v2.rst): a cgroup other than the root that holds processes
// cannot enable controllers for its children. A runner started by `nslab lesson` or `nslab check`
// shares its driver's cgroup, which therefore could never hand controllers down to the box; so a
// driver alone in a delegated v2 cgroup moves itself into a leaf, <own>/nslab/nslab-runner-<pid>,
// and back again at the end. cgroup.h says when nothing is done.
#include <unistd.h>

#include "builtins/cgroup_fs.h"
#include "cgroup.h"
#include "sys.h"

namespace sandbox::cgroup {

namespace fs = tinysh::cgroup;

bool is_runner_leaf(const std::string& dir) {
  return runner_of(detail::file_name(dir)) && detail::file_name(dir).starts_with("nslab-runner-") &&
         detail::file_name(detail::parent_of(dir)) == kV2ParentName;
}

std::optional<DriverLeaf> DriverLeaf::enter() {
  if (::geteuid() == 0) return std::nullopt;  // root's boxes go under the root cgroup
  auto cgroups = sys::read_file("/proc/self/cgroup");
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  if (!cgroups || !mountinfo) return std::nullopt;
  auto places = fs::locate(fs::parse_proc_cgroup(*cgroups), fs::parse_cgroup_mounts(*mountinfo));
  const fs::Place* unified = nullptr;
  for (const fs::Place& p : places)
    if (p.version == fs::Version::V2 && p.visible()) unified = &p;
  if (!unified || unified->directory == unified->mount_point) return std::nullopt;
  const std::string& own = unified->directory;
  if (is_runner_leaf(own)) return std::nullopt;  // already in one
  if (detail::procs_of(own) != std::vector<pid_t>{::getpid()}) return std::nullopt;
  bool offers_one = false;
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu})
    offers_one = offers_one || detail::contains(fs::read_v2_controllers(own), controller_name(c));
  if (!offers_one || !sys::access(own + "/cgroup.procs", W_OK) ||
      !sys::access(own + "/cgroup.subtree_control", W_OK) || !sys::access(own, W_OK))
    return std::nullopt;

  DriverLeaf leaf;
  leaf.home_ = own;
  leaf.parent_ = own + "/" + std::string(kV2ParentName);
  leaf.leaf_ = leaf.parent_ + "/" + runner_leaf_name(box_name(::getpid()));
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu})
    if (detail::enabled_in(own, controller_name(c)))
      leaf.home_enabled_before_.emplace_back(controller_name(c));
  bool created = false;
  if (!detail::make_dir(leaf.parent_, true, created)) return std::nullopt;
  leaf.made_parent_ = created;
  bool leaf_created = false;
  if (!detail::make_dir(leaf.leaf_, false, leaf_created) ||
      !sys::write_file(leaf.leaf_ + "/cgroup.procs", std::to_string(::getpid()))) {
    if (leaf_created) (void)sys::rmdir(leaf.leaf_);
    if (created) (void)sys::rmdir(leaf.parent_);
    return std::nullopt;
  }
  return leaf;
}

DriverLeaf::DriverLeaf(DriverLeaf&& other) noexcept
    : home_(std::move(other.home_)),
      parent_(std::move(other.parent_)),
      leaf_(std::move(other.leaf_)),
      home_enabled_before_(std::move(other.home_enabled_before_)),
      made_parent_(other.made_parent_) {
  other.leaf_.clear();
}

DriverLeaf::~DriverLeaf() {
  if (leaf_.empty()) return;
  // The way in, backwards, as BoxCgroup::go_home() does for a runner's own leaf.
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu}) {
    std::string name(controller_name(c));
    if (detail::enabled_in(parent_, name))
      (void)sys::write_file(parent_ + "/cgroup.subtree_control", "-" + name);
    if (detail::enabled_in(home_, name) && !detail::contains(home_enabled_before_, name))
      (void)sys::write_file(home_ + "/cgroup.subtree_control", "-" + name);
  }
  if (sys::write_file(home_ + "/cgroup.procs", std::to_string(::getpid()))) {
    (void)sys::rmdir(leaf_);
    if (made_parent_) (void)sys::rmdir(parent_);
  }
}

}  // namespace sandbox::cgroup
