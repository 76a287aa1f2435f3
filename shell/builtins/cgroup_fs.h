// Where this process's cgroups are, and what their limit files say.
//
// A cgroup is a directory in a cgroup filesystem; the kernel counts and limits the processes
// listed in it (cgroups(7)). Two layouts exist:
//   v1: one hierarchy (one mount) per controller or group of controllers, e.g.
//       /sys/fs/cgroup/memory; /proc/self/cgroup lines look like "4:memory:/box".
//   v2: one unified hierarchy (a cgroup2 mount) for every controller; the line is "0::/box", and
//       the controllers a cgroup has are listed in its cgroup.controllers file.
// A host may mix them ("hybrid": v1 controllers, and a cgroup2 mount holding none or few).
//
// The path in /proc/self/cgroup is relative to the root of the reader's cgroup namespace, and a
// mount may show only a subtree of its hierarchy (the "root" field of /proc/self/mountinfo). So
// the directory of a cgroup on disk is: mount point + (path minus the mount's root). A ".." in
// either means the cgroup lies outside what this namespace can name; such paths are refused.
//
// Parsing is pure (text in, values out); the readers take a directory so tests can point them at
// a fake cgroupfs made of plain files in a temporary directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tinysh::cgroup {

enum class Version { V1, V2 };

// One line of /proc/self/cgroup: "4:memory:/nslab-box-1", "2:cpu,cpuacct:/", "0::/user.slice".
struct Membership {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // {"cpu", "cpuacct"}, {"name=systemd"}; empty for v2
  std::string path;                      // relative to the cgroup namespace's root
  Version version() const {
    return hierarchy_id == 0 && controllers.empty() ? Version::V2 : Version::V1;
  }
};

// Malformed lines are skipped.
std::vector<Membership> parse_proc_cgroup(std::string_view text);

// A cgroup or cgroup2 line of /proc/self/mountinfo.
struct Mount {
  Version version = Version::V2;
  std::string root;                  // which directory of the hierarchy the mount shows
  std::string mount_point;           // where it is in this process's root
  std::vector<std::string> options;  // super options: "rw", "memory", "name=systemd", ...
};

std::vector<Mount> parse_cgroup_mounts(std::string_view mountinfo);

// A membership matched with the mount that shows it.
struct Place {
  Version version = Version::V2;
  std::vector<std::string> controllers;  // v1: the hierarchy's controllers; v2: empty
  std::string path;                      // as /proc/self/cgroup says
  std::string directory;                 // on disk; empty when not visible here
  std::string mount_point;               // of the mount used (the top of the walk up to parents)
  std::string why_not_visible;           // set when directory is empty
  bool visible() const { return !directory.empty(); }
  bool has(std::string_view controller) const;
};

std::vector<Place> locate(const std::vector<Membership>& memberships,
                          const std::vector<Mount>& mounts);

// True when a path has a ".." (or ".") component, or does not start with '/'.
bool unsafe_path(std::string_view path);

// --- Reading limit files from a cgroup directory ------------------------------------------------

// The value of a limit file: no such file, no limit ("max", v1's "-1" or huge number), or bytes /
// a count.
struct Limit {
  enum class Kind { Absent, Unlimited, Value };
  Kind kind = Kind::Absent;
  std::uint64_t value = 0;
  static Limit absent() { return {}; }
  static Limit unlimited() { return {Kind::Unlimited, 0}; }
  static Limit of(std::uint64_t v) { return {Kind::Value, v}; }
  bool operator==(const Limit&) const = default;
};

// v1 writes "no limit" into memory.limit_in_bytes as the largest page-aligned signed 64-bit value
// (9223372036854771712 with 4 KiB pages); anything this large means no limit.
constexpr std::uint64_t kV1NoLimitFloor = std::uint64_t{1} << 62;

struct PidsUsage {
  std::optional<std::uint64_t> current;  // pids.current
  Limit max;                             // pids.max
};

struct MemoryUsage {
  std::optional<std::uint64_t> current_bytes;  // v2 memory.current, v1 memory.usage_in_bytes
  std::optional<std::uint64_t> peak_bytes;     // v2 memory.peak, v1 memory.max_usage_in_bytes
  std::optional<std::uint64_t> oom_kills;      // v2 memory.events, v1 memory.oom_control
  Limit limit;                                 // the nearest limit: this cgroup's, or an ancestor's
  int limit_levels_up = 0;                     // 0: set on this cgroup; 1: on its parent; ...
};

struct CpuUsage {
  Limit quota_us;  // v2 cpu.max first field, v1 cpu.cfs_quota_us
  std::optional<std::uint64_t> period_us;
  std::optional<std::uint64_t> periods;    // cpu.stat nr_periods
  std::optional<std::uint64_t> throttled;  // cpu.stat nr_throttled
};

PidsUsage read_pids(const std::string& directory, Version version);
// `top` is the mount point: the walk to ancestors' limits stops there.
MemoryUsage read_memory(const std::string& directory, Version version, const std::string& top);
CpuUsage read_cpu(const std::string& directory, Version version);
std::optional<std::uint64_t> read_oom_kills(const std::string& directory, Version version);
// v2: the controllers listed in cgroup.controllers ({} when the file is missing or empty).
std::vector<std::string> read_v2_controllers(const std::string& directory);

// "key value" lines (cpu.stat, memory.events, memory.oom_control): the value of `key`.
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);

// Where the process's cgroups are, from the live /proc/self/cgroup and /proc/self/mountinfo.
struct LiveCgroups {
  std::string proc_cgroup_text;
  std::string error;  // reading /proc/self/cgroup failed
  std::vector<Place> places;
};
LiveCgroups locate_live();

// The place that holds `controller` (v1 hierarchy with it, or v2 listing it); nullptr if none.
const Place* find_controller(const std::vector<Place>& places, std::string_view controller);

// A path as /proc/self/mountinfo writes it, with its octal escapes ("\040" for a blank) undone.
std::string unescape_mountinfo(std::string_view text);

}  // namespace tinysh::cgroup
