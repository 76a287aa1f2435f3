// The values of --pids, --memory and --cpus, as the kernel's cgroup files take them — cgroups(7):
// pids.max counts tasks, processes and threads alike (cgroup-v1/pids.rst); a memory limit is bytes
// (memory.max, memory.limit_in_bytes); a CPU limit is CFS bandwidth, a quota of µs of CPU time in
// every period of wall time (scheduler/sched-bwc.rst). Pure: text in, a value out, or a refusal
// that says the flag's rule. The bounds are in cgroup.h, each with the reason for it.
#include <charconv>

#include <fmt/format.h>

#include "cgroup.h"
#include "size.h"

namespace sandbox::cgroup {

std::vector<Controller> Limits::controllers() const {
  std::vector<Controller> list;
  if (pids_max) list.push_back(Controller::Pids);
  if (memory_bytes) list.push_back(Controller::Memory);
  if (cpu) list.push_back(Controller::Cpu);
  return list;
}

namespace {

// A size as it was asked for, without rounding: the largest binary unit that divides it, else
// bytes ("4095 KiB", "3 MiB", "4194303 bytes"). format_size() would show 4095 KiB as "4.0 MiB",
// which hides why it is below 4 MiB.
std::string exact_size(std::uint64_t bytes) {
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (auto [unit, name] : kUnits)
    if (bytes >= unit && bytes % unit == 0) return fmt::format("{} {}", bytes / unit, name);
  return fmt::format("{} byte{}", bytes, bytes == 1 ? "" : "s");
}

}  // namespace

Result<std::uint64_t> parse_pids_limit(std::string_view text) {
  constexpr const char* rule =
      "--pids takes a whole number of tasks from 1 to 4194304 (leave --pids out for no limit)";
  auto refuse = [&](std::string_view why) {
    return plain_error(fmt::format("--pids \"{}\": {}", text, why), rule);
  };
  if (text == "max" || text == "-1") return refuse("no limit is said by leaving --pids out");
  if (!detail::all_digits(text)) return refuse("not a whole number");
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value > kMaxPids) return refuse("above 4194304, the kernel's most pids");
  if (value == 0) return refuse("0 would not even allow the box's first process");
  return value;
}

Result<std::uint64_t> parse_memory_limit(std::string_view text) {
  constexpr const char* rule =
      "--memory takes a size from 4M to below 4 EiB: a number with K, M, G or T (32M, 1.5G, "
      "512MiB), or bytes";
  tinysh::ParsedSize size = tinysh::parse_size(text);
  if (!size) return plain_error(fmt::format("--memory \"{}\": {}", text, size.error), rule);
  if (size.bytes < kMinMemoryBytes)
    return plain_error(
        fmt::format("--memory \"{}\": {} is below the 4 MiB minimum, the smallest limit nslab "
                    "sets (a typo for M or G?)",
                    text, exact_size(size.bytes)),
        rule);
  if (size.bytes >= kMaxMemoryBytes)
    return plain_error(fmt::format("--memory \"{}\": that large a limit is read as no limit", text),
                       rule);
  return size.bytes;
}

Result<CpuQuota> parse_cpus(std::string_view text, unsigned online_cpus) {
  std::string rule = fmt::format(
      "--cpus takes a number of CPUs from 0.01 to {} (this machine's), such as 0.5 or 1.25",
      online_cpus);
  auto refuse = [&](std::string_view why) {
    return plain_error(fmt::format("--cpus \"{}\": {}", text, why), rule);
  };
  // Fixed point, no floating point: whole part and up to 5 decimals, in µs of a 100000 µs period.
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (text.empty() || (whole.empty() && fraction.empty()) ||
      (!whole.empty() && !detail::all_digits(whole)) ||
      (dot != std::string_view::npos && !detail::all_digits(fraction)))
    return refuse("not a decimal number");
  if (fraction.size() > 5) return refuse("more than 5 decimals: a quota is whole microseconds");
  if (whole.size() > 6) return refuse("more CPUs than this machine has");
  std::uint64_t units = 0;  // in 1e-5 CPU = 1 µs of the 100 ms period
  for (char c : whole) units = units * 10 + static_cast<std::uint64_t>(c - '0');
  for (size_t i = 0; i < 5; ++i)
    units = units * 10 + (i < fraction.size() ? static_cast<std::uint64_t>(fraction[i] - '0') : 0);
  if (units == 0) return refuse("0 CPUs would stop the box entirely");
  if (units < kMinCpuQuotaUs)
    return refuse("below 0.01 CPU, the kernel's smallest quota (1 ms per 100 ms)");
  if (units > std::uint64_t{online_cpus} * kCpuPeriodUs)
    return refuse(
        fmt::format("more than this machine's {} CPUs would be no limit at all", online_cpus));
  return CpuQuota{units, kCpuPeriodUs};
}

std::string format_cpus(const CpuQuota& quota) {
  // Trim trailing zeros of QUOTA/PERIOD shown with up to 5 decimals.
  std::uint64_t scaled = quota.quota_us * 100000 / quota.period_us;
  std::string text = fmt::format("{}.{:05}", scaled / 100000, scaled % 100000);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + (text == "1" || scaled < 100000 ? " CPU" : " CPUs");
}

}  // namespace sandbox::cgroup
