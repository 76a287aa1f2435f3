// The values of a box's cgroup limits and where each controller's cgroup goes: plain types,
// apart from cgroup.h so that a Spec (spec.h) and a Caller can hold them. cgroup.h has the code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sandbox::cgroup {

enum class Version { V1, V2 };
enum class Controller { Pids, Memory, Cpu };

// A CPU quota in CFS bandwidth terms: `quota_us` of CPU time in every `period_us` of wall time,
// summed over all the box's threads. 0.5 CPU = 50000 of 100000.
struct CpuQuota {
  std::uint64_t quota_us = 0;
  std::uint64_t period_us = 100000;
  bool operator==(const CpuQuota&) const = default;
};

struct Limits {
  std::optional<std::uint64_t> pids_max;      // --pids: tasks (processes and threads)
  std::optional<std::uint64_t> memory_bytes;  // --memory: swap is held to the same limit
  std::optional<CpuQuota> cpu;                // --cpus
  bool empty() const { return !pids_max && !memory_bytes && !cpu; }
  // The controllers these limits need, in the order pids, memory, cpu.
  std::vector<Controller> controllers() const;
};

// --- Where each controller's box cgroup goes -----------------------------------------------------

struct Placement {
  Controller controller = Controller::Pids;
  Version version = Version::V2;
  // "cgroup v2 at /sys/fs/cgroup", "cgroup v1 pids at /sys/fs/cgroup/pids"
  std::string hierarchy;
  std::string mount_point;    // where the host mounts that hierarchy: "/sys/fs/cgroup/pids"
  std::string mount_options;  // v1: its controllers, as mount -o takes them ("cpu,cpuacct"); v2: ""
  std::string own_dir;        // the runner's cgroup in that hierarchy, on disk
  std::string parent_dir;     // where nslab-box-<pid> is made: own_dir (v1), own_dir/nslab (v2)
  bool own_is_root = false;   // v2: own_dir is the mount's root (exempt from the EBUSY rule)
  // v2: own_dir holds processes (or lacks the controller) and the runner is root: parent_dir is
  // <v2 root>/nslab, under the root cgroup, which the no-internal-processes rule exempts.
  bool at_v2_root = false;
  // v2: the runner is the only process in own_dir (a delegated cgroup of its own): it moves
  // itself into parent_dir/nslab-runner-<pid> first, so own_dir may hand controllers down.
  bool move_runner = false;
  // v2: the cgroup above parent_dir (own_dir, or the v2 root) lacks the controller in its
  // cgroup.subtree_control yet.
  bool enable_above = false;
};

struct Layout {
  std::vector<Placement> placements;  // one per controller asked for
  const Placement* find(Controller controller) const;
};

}  // namespace sandbox::cgroup
