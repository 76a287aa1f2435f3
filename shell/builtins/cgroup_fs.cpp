#include "cgroup_fs.h"
#include "common/text.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace tinysh::cgroup {

namespace {

using common::split;
using common::trim;

std::optional<std::uint64_t> to_number(std::string_view text) {
  text = trim(text);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// mountinfo escapes blanks, newlines and backslashes in paths as octal: "\040" is a space.
std::string unescape_octal(std::string_view text) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && octal(text[i + 1]) && octal(text[i + 2]) &&
        octal(text[i + 3])) {
      out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                               (text[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += text[i];
  }
  return out;
}

// Whole file, or nullopt when it cannot be read. Cgroup files are small and read in one go.
std::optional<std::string> read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

std::optional<std::uint64_t> read_number(const std::string& directory, const char* file) {
  auto text = read_small_file(directory + "/" + file);
  if (!text) return std::nullopt;
  return to_number(*text);
}

// "max" (v2) or a number; v1 files say "-1" or a huge number for no limit.
Limit read_limit(const std::string& directory, const char* file) {
  auto text = read_small_file(directory + "/" + file);
  if (!text) return Limit::absent();
  std::string_view value = trim(*text);
  if (value == "max" || value == "-1") return Limit::unlimited();
  auto number = to_number(value);
  if (!number) return Limit::absent();
  if (*number >= kV1NoLimitFloor) return Limit::unlimited();
  return Limit::of(*number);
}

// "/a/b" + relative path under a mount whose root is `root`; nullopt when `path` is not under it.
std::optional<std::string> relative_to(std::string_view path, std::string_view root) {
  if (root == "/") return std::string(path == "/" ? "" : path);
  if (path == root) return std::string();
  if (path.size() > root.size() && path.substr(0, root.size()) == root && path[root.size()] == '/')
    return std::string(path.substr(root.size()));
  return std::nullopt;
}

std::string parent_directory(const std::string& directory) {
  size_t slash = directory.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return directory.substr(0, slash);
}

}  // namespace

std::vector<Membership> parse_proc_cgroup(std::string_view text) {
  std::vector<Membership> memberships;
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    // "ID:CONTROLLERS:PATH"; the path itself may contain ':'.
    size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    auto id = to_number(line.substr(0, first));
    std::string_view path = line.substr(second + 1);
    if (!id || path.empty()) continue;
    Membership m;
    m.hierarchy_id = static_cast<int>(*id);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    if (!controllers.empty())
      for (std::string_view c : split(controllers, ',')) m.controllers.emplace_back(c);
    m.path = std::string(path);
    memberships.push_back(std::move(m));
  }
  return memberships;
}

std::vector<Mount> parse_cgroup_mounts(std::string_view mountinfo) {
  std::vector<Mount> mounts;
  for (std::string_view line : split(mountinfo, '\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    // The kernel writes a blank inside a path as \040, so " - " is only ever the separator: a
    // line without " - cgroup" is some other filesystem, and is not split into words at all (a
    // desktop has a few hundred mounts, snaps and containers, and a handful of cgroup ones).
    if (line.find(" - cgroup") == std::string_view::npos) continue;
    auto fields = common::words(line);
    auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
    if (fields.size() < 6 || dash == fields.end() || dash - fields.begin() < 6 ||
        fields.end() - dash < 4)
      continue;
    std::string_view fstype = dash[1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    Mount m;
    m.version = fstype == "cgroup2" ? Version::V2 : Version::V1;
    m.root = unescape_octal(fields[3]);
    m.mount_point = unescape_octal(fields[4]);
    for (std::string_view option : split(dash[3], ',')) m.options.emplace_back(option);
    mounts.push_back(std::move(m));
  }
  return mounts;
}

bool unsafe_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return true;
  for (std::string_view part : split(path.substr(1), '/'))
    if (part == ".." || part == ".") return true;
  return false;
}

bool Place::has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::vector<Place> locate(const std::vector<Membership>& memberships,
                          const std::vector<Mount>& mounts) {
  std::vector<Place> places;
  for (const Membership& m : memberships) {
    Place place;
    place.version = m.version();
    place.controllers = m.controllers;
    place.path = m.path;
    if (unsafe_path(m.path)) {
      place.why_not_visible = "path leaves this cgroup namespace (\"..\"): refused";
      places.push_back(std::move(place));
      continue;
    }
    // The mounts of this hierarchy: cgroup2 for v2; for v1, a cgroup mount whose options hold
    // every controller of the hierarchy.
    std::vector<const Mount*> candidates;
    for (const Mount& mount : mounts) {
      if (mount.version != place.version) continue;
      bool all = std::all_of(m.controllers.begin(), m.controllers.end(), [&](const std::string& c) {
        return std::find(mount.options.begin(), mount.options.end(), c) != mount.options.end();
      });
      if (all) candidates.push_back(&mount);
    }
    if (candidates.empty()) place.why_not_visible = "not mounted here";
    for (const Mount* mount : candidates) {
      if (unsafe_path(mount->root)) {
        place.why_not_visible =
            "the mount at " + mount->mount_point + " shows a cgroup outside this cgroup namespace";
        continue;
      }
      auto relative = relative_to(m.path, mount->root);
      if (!relative) {
        place.why_not_visible = "the mount at " + mount->mount_point + " shows only " + mount->root;
        continue;
      }
      place.directory = mount->mount_point + *relative;
      place.mount_point = mount->mount_point;
      place.why_not_visible.clear();
      break;
    }
    places.push_back(std::move(place));
  }
  return places;
}

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
  for (std::string_view line : split(text, '\n')) {
    auto words = common::words(line);
    if (words.size() == 2 && words[0] == key) return to_number(words[1]);
  }
  return std::nullopt;
}

PidsUsage read_pids(const std::string& directory, Version) {
  // The same two files in v1 and v2. Neither exists in the root cgroup.
  return PidsUsage{read_number(directory, "pids.current"), read_limit(directory, "pids.max")};
}

std::optional<std::uint64_t> read_oom_kills(const std::string& directory, Version version) {
  // v2: memory.events "oom_kill N"; v1: memory.oom_control "oom_kill N" (kernel 4.13 and later).
  auto text = read_small_file(directory +
                              (version == Version::V2 ? "/memory.events" : "/memory.oom_control"));
  if (!text) return std::nullopt;
  return keyed_value(*text, "oom_kill");
}

MemoryUsage read_memory(const std::string& directory, Version version, const std::string& top) {
  bool v2 = version == Version::V2;
  const char* limit_file = v2 ? "memory.max" : "memory.limit_in_bytes";
  MemoryUsage usage;
  usage.current_bytes = read_number(directory, v2 ? "memory.current" : "memory.usage_in_bytes");
  usage.peak_bytes = read_number(directory, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
  usage.oom_kills = read_oom_kills(directory, version);
  // The memory a cgroup may use is bounded by every ancestor too: report the nearest limit, as
  // far up as this mount lets us see.
  std::string dir = directory;
  for (int levels_up = 0;; ++levels_up) {
    Limit limit = read_limit(dir, limit_file);
    if (limit.kind == Limit::Kind::Value) {
      usage.limit = limit;
      usage.limit_levels_up = levels_up;
      break;
    }
    if (usage.limit.kind == Limit::Kind::Absent) usage.limit = limit;
    if (dir.size() <= top.size()) break;
    dir = parent_directory(dir);
  }
  return usage;
}

CpuUsage read_cpu(const std::string& directory, Version version) {
  CpuUsage usage;
  if (version == Version::V2) {
    // cpu.max: "QUOTA PERIOD", QUOTA "max" for none.
    if (auto text = read_small_file(directory + "/cpu.max")) {
      auto words = common::words(trim(*text));
      if (words.size() == 2) {
        if (words[0] == "max")
          usage.quota_us = Limit::unlimited();
        else if (auto quota = to_number(words[0]))
          usage.quota_us = Limit::of(*quota);
        usage.period_us = to_number(words[1]);
      }
    }
  } else {
    usage.quota_us = read_limit(directory, "cpu.cfs_quota_us");
    usage.period_us = read_number(directory, "cpu.cfs_period_us");
  }
  if (auto stat = read_small_file(directory + "/cpu.stat")) {
    usage.periods = keyed_value(*stat, "nr_periods");
    usage.throttled = keyed_value(*stat, "nr_throttled");
  }
  return usage;
}

std::vector<std::string> read_v2_controllers(const std::string& directory) {
  std::vector<std::string> controllers;
  if (auto text = read_small_file(directory + "/cgroup.controllers"))
    for (std::string_view word : common::words(trim(*text))) controllers.emplace_back(word);
  return controllers;
}

LiveCgroups locate_live() {
  LiveCgroups live;
  auto cgroups = read_small_file("/proc/self/cgroup");
  if (!cgroups) {
    live.error = "cannot read /proc/self/cgroup: " + std::string(std::strerror(errno)) +
                 " — is /proc mounted? (mount -t proc proc /proc)";
    return live;
  }
  live.proc_cgroup_text = *cgroups;
  auto mountinfo = read_small_file("/proc/self/mountinfo");
  live.places = locate(parse_proc_cgroup(*cgroups),
                       mountinfo ? parse_cgroup_mounts(*mountinfo) : std::vector<Mount>{});
  return live;
}

const Place* find_controller(const std::vector<Place>& places, std::string_view controller) {
  for (const Place& p : places)
    if (p.version == Version::V1 && p.has(controller)) return &p;
  for (const Place& p : places) {
    if (p.version != Version::V2 || !p.visible()) continue;
    auto enabled = read_v2_controllers(p.directory);
    if (std::find(enabled.begin(), enabled.end(), controller) != enabled.end()) return &p;
  }
  return nullptr;
}

std::string unescape_mountinfo(std::string_view text) {
  return unescape_octal(text);
}

}  // namespace tinysh::cgroup
