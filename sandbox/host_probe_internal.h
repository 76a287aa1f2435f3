// Internal to the host probe: what host_probe.cpp, host_probe_cgroups.cpp and
// host_probe_readiness.cpp share. Other files use host_probe.h.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "host_probe.h"

namespace sandbox::probe_detail {

// `path` (absolute, as the host names it) under the probe's root prefix.
std::string under(const std::string& root, std::string_view path);
bool contains(const std::vector<std::string>& list, std::string_view word);

// The fields of one /proc/self/mountinfo line the probe uses (proc(5)).
struct MountLine {
  std::string mount_point;
  std::vector<std::string> mount_options;  // per mount: "rw,nosuid,..."
  std::vector<std::string> optional;       // "shared:1", "master:2", ...
  std::string fstype;
  std::vector<std::string> super_options;
};

// The cgroup layout, and the controllers in `only` (pids, memory and cpu when empty), from the
// text of mountinfo and its lines.                                        (host_probe_cgroups.cpp)
void probe_cgroups(const std::string& root, const std::string& mountinfo_text,
                   const std::vector<MountLine>& mount_lines, HostFacts& facts,
                   const std::vector<std::string_view>& only = {});

// The kind of namespace a need makes, as /proc/self/ns names it ("mnt" for --pivot, "net" for
// --veth), or "" when it makes none.                                    (host_probe_readiness.cpp)
std::string_view namespace_kind(Need need);

}  // namespace sandbox::probe_detail
