#include "cgroup_report.h"

#include <string.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <csignal>

#include "size.h"
#include "common/text.h"

namespace tinysh::cgroup {

namespace {

// The controllers the lessons limit, in the order the report lists them.
constexpr std::array<std::string_view, 3> kMeasured{"pids", "memory", "cpu"};

struct Row {
  Version version;
  std::string label;  // "pids", "memory", "cpu", "other", "-"
  std::string path;
  std::string text;
};

// "/a/b/c" two levels up is "/a".
std::string ancestor(std::string path, int levels_up) {
  for (int i = 0; i < levels_up && path != "/"; ++i) {
    size_t slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  return path;
}

std::string describe(std::string_view controller, const Place& place) {
  if (controller == "pids") return describe_pids(read_pids(place.directory, place.version));
  if (controller == "memory")
    return describe_memory(read_memory(place.directory, place.version, place.mount_point),
                           place.path);
  return describe_cpu(read_cpu(place.directory, place.version));
}

Row row_for(const Place& place, std::string label, std::string_view controller) {
  Row row{place.version, std::move(label), place.path, {}};
  if (!place.visible())
    row.text = "(" + place.why_not_visible + ")";
  else
    row.text = describe(controller, place);
  return row;
}

std::string render(const std::vector<Row>& rows) {
  size_t label_width = 6, path_width = 1;
  for (const Row& r : rows) {
    label_width = std::max(label_width, r.label.size());
    path_width = std::max(path_width, r.path.size());
  }
  std::string out;
  for (const Row& r : rows)
    out += fmt::format("cgroup {}  {:<{}}  {:<{}}  {}\n", r.version == Version::V1 ? "v1" : "v2",
                       r.label, label_width, r.path, path_width, r.text);
  return out;
}

std::string mount_hint(const std::vector<Place>& places) {
  bool v1 = std::any_of(places.begin(), places.end(), [](const Place& p) {
    return p.version == Version::V1 && (p.has("pids") || p.has("memory") || p.has("cpu"));
  });
  if (v1)
    return "mkdir -p /sys/fs/cgroup/pids; mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids "
           "(one mount per controller: pids, memory, cpu)";
  return "mkdir -p /sys/fs/cgroup; mount -t cgroup2 cgroup2 /sys/fs/cgroup";
}

}  // namespace

std::string cpu_share(std::uint64_t quota_us, std::uint64_t period_us) {
  if (period_us == 0) return "?";
  std::string text = fmt::format("{:.2f}", static_cast<double>(quota_us) / period_us);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string describe_pids(const PidsUsage& pids) {
  if (!pids.current && pids.max.kind == Limit::Kind::Absent)
    return "pids (no pids.current or pids.max: the root cgroup has no limits)";
  std::string text = "pids " + (pids.current ? std::to_string(*pids.current) : std::string("?"));
  switch (pids.max.kind) {
    case Limit::Kind::Value:
      return text + " of max " + std::to_string(pids.max.value);
    case Limit::Kind::Unlimited:
      return text + ", no limit";
    case Limit::Kind::Absent:
      return text + ", no pids.max here";
  }
  return text;
}

std::string describe_memory(const MemoryUsage& memory, const std::string& path) {
  if (!memory.current_bytes && memory.limit.kind == Limit::Kind::Absent)
    return "memory (no usage or limit files: the root cgroup has no limits)";
  std::string text =
      "memory " + (memory.current_bytes ? format_size(*memory.current_bytes) : std::string("?"));
  switch (memory.limit.kind) {
    case Limit::Kind::Value:
      text += " of limit " + format_size(memory.limit.value);
      if (memory.limit_levels_up > 0)
        text += " (set on " + ancestor(path, memory.limit_levels_up) + ")";
      break;
    case Limit::Kind::Unlimited:
      text += ", no limit";
      break;
    case Limit::Kind::Absent:
      text += ", no limit file here";
      break;
  }
  if (memory.peak_bytes) text += ", peak " + format_size(*memory.peak_bytes);
  if (memory.oom_kills) text += ", oom kills " + std::to_string(*memory.oom_kills);
  return text;
}

std::string describe_cpu(const CpuUsage& cpu) {
  std::string text;
  switch (cpu.quota_us.kind) {
    case Limit::Kind::Value:
      if (cpu.period_us)
        text = fmt::format("cpu {} CPU ({} us every {} us)",
                           cpu_share(cpu.quota_us.value, *cpu.period_us), cpu.quota_us.value,
                           *cpu.period_us);
      else
        text = fmt::format("cpu quota {} us", cpu.quota_us.value);
      break;
    case Limit::Kind::Unlimited:
      text = "cpu no limit";
      break;
    case Limit::Kind::Absent:
      text = "cpu (no quota file here: the root cgroup has no limits)";
      break;
  }
  if (cpu.throttled && cpu.periods)
    text += fmt::format(", throttled {} of {} periods", *cpu.throttled, *cpu.periods);
  else if (cpu.throttled)
    text += fmt::format(", throttled {} times", *cpu.throttled);
  return text;
}

std::string report(const std::string& proc_cgroup_text, const std::vector<Place>& places) {
  bool any_visible =
      std::any_of(places.begin(), places.end(), [](const Place& p) { return p.visible(); });
  if (!any_visible) {
    std::string out;
    for (const Membership& m : parse_proc_cgroup(proc_cgroup_text))
      out += fmt::format("{}:{}:{}\n", m.hierarchy_id, common::join(m.controllers, ","), m.path);
    out +=
        "cgroup: limits are not visible without a cgroup filesystem mounted here; to mount one: " +
        mount_hint(places) + "\n";
    return out;
  }

  std::vector<Row> rows;
  // v1: one row per measured controller, from the hierarchy that holds it.
  for (std::string_view controller : kMeasured)
    for (const Place& p : places)
      if (p.version == Version::V1 && p.has(controller))
        rows.push_back(row_for(p, std::string(controller), controller));
  // v1 hierarchies with none of them: one row per path, naming them.
  std::vector<std::pair<std::string, std::vector<std::string>>> others;  // path -> names
  for (const Place& p : places) {
    if (p.version != Version::V1) continue;
    if (std::any_of(kMeasured.begin(), kMeasured.end(),
                    [&](std::string_view c) { return p.has(c); }))
      continue;
    auto group =
        std::find_if(others.begin(), others.end(), [&](auto& g) { return g.first == p.path; });
    if (group == others.end()) group = others.insert(others.end(), {p.path, {}});
    group->second.insert(group->second.end(), p.controllers.begin(), p.controllers.end());
  }
  for (auto& [path, names] : others) {
    std::sort(names.begin(), names.end());
    rows.push_back(Row{Version::V1, "other", path, common::join(names, " ")});
  }
  // v2: one row per measured controller that this cgroup has, or one row saying there is none.
  for (const Place& p : places) {
    if (p.version != Version::V2) continue;
    if (!p.visible()) {
      rows.push_back(row_for(p, "-", ""));
      continue;
    }
    auto enabled = read_v2_controllers(p.directory);
    bool any = false;
    for (std::string_view controller : kMeasured) {
      if (std::find(enabled.begin(), enabled.end(), controller) == enabled.end()) continue;
      rows.push_back(row_for(p, std::string(controller), controller));
      any = true;
    }
    if (!any)
      rows.push_back(Row{Version::V2, "-", p.path, "(no pids, memory or cpu controller here)"});
  }
  return render(rows);
}

int AllocatorVerdict::status() const {
  switch (end) {
    case AllocatorEnd::Done:
      return 0;
    case AllocatorEnd::OutOfMemory:
    case AllocatorEnd::Signal:
      return 128 + signal;
    case AllocatorEnd::Failed:
      return exit_code == 0 ? 1 : exit_code;
  }
  return 1;
}

AllocatorVerdict judge_allocator(int wait_status, std::optional<std::uint64_t> oom_kills_before,
                                 std::optional<std::uint64_t> oom_kills_after) {
  AllocatorVerdict v;
  if (WIFEXITED(wait_status)) {
    v.exit_code = WEXITSTATUS(wait_status);
    v.end = v.exit_code == 0 ? AllocatorEnd::Done : AllocatorEnd::Failed;
    return v;
  }
  if (!WIFSIGNALED(wait_status)) return v;  // stopped/continued are not endings
  v.signal = WTERMSIG(wait_status);
  // The OOM killer sends SIGKILL and counts the kill in the victim's memory cgroup.
  bool counter_moved = oom_kills_before && oom_kills_after && *oom_kills_after > *oom_kills_before;
  v.end = v.signal == SIGKILL && counter_moved ? AllocatorEnd::OutOfMemory : AllocatorEnd::Signal;
  return v;
}

std::string signal_name(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  return abbrev ? std::string("SIG") + abbrev : fmt::format("signal {}", signal);
}

std::string describe_allocator_end(const AllocatorVerdict& verdict, std::uint64_t touched_bytes,
                                   const Limit& memory_limit) {
  switch (verdict.end) {
    case AllocatorEnd::Done:
      return fmt::format("hog: touched {}, released it", format_size(touched_bytes));
    case AllocatorEnd::OutOfMemory:
      if (memory_limit.kind == Limit::Kind::Value)
        return fmt::format("hog: killed by the OOM killer: memory limit {} reached ({} touched)",
                           format_size(memory_limit.value), format_size(touched_bytes));
      return fmt::format("hog: killed by the OOM killer: memory limit reached ({} touched)",
                         format_size(touched_bytes));
    case AllocatorEnd::Signal:
      return fmt::format("hog: killed by signal {} ({}) after {} touched", verdict.signal,
                         signal_name(verdict.signal), format_size(touched_bytes));
    case AllocatorEnd::Failed:
      return fmt::format("hog: the allocator failed (exit status {}) after {} touched",
                         verdict.exit_code, format_size(touched_bytes));
  }
  return "hog: ended";
}

}  // namespace tinysh::cgroup
