#include "caps_status.h"

#include <linux/capability.h>

#include <array>
#include <bit>
#include <charconv>

#include <fmt/format.h>

#include "common/text.h"

namespace tinysh {

namespace {

// Bit N of a capability set is capability N; the names are capabilities(7)'s, in lower case
// as libcap's tools print them.
constexpr std::array<std::string_view, kNamedCapabilities> kCapabilityNames{
    "cap_chown",               // 0
    "cap_dac_override",        // 1
    "cap_dac_read_search",     // 2
    "cap_fowner",              // 3
    "cap_fsetid",              // 4
    "cap_kill",                // 5
    "cap_setgid",              // 6
    "cap_setuid",              // 7
    "cap_setpcap",             // 8
    "cap_linux_immutable",     // 9
    "cap_net_bind_service",    // 10
    "cap_net_broadcast",       // 11
    "cap_net_admin",           // 12
    "cap_net_raw",             // 13
    "cap_ipc_lock",            // 14
    "cap_ipc_owner",           // 15
    "cap_sys_module",          // 16
    "cap_sys_rawio",           // 17
    "cap_sys_chroot",          // 18
    "cap_sys_ptrace",          // 19
    "cap_sys_pacct",           // 20
    "cap_sys_admin",           // 21
    "cap_sys_boot",            // 22
    "cap_sys_nice",            // 23
    "cap_sys_resource",        // 24
    "cap_sys_time",            // 25
    "cap_sys_tty_config",      // 26
    "cap_mknod",               // 27
    "cap_lease",               // 28
    "cap_audit_write",         // 29
    "cap_audit_control",       // 30
    "cap_setfcap",             // 31
    "cap_mac_override",        // 32
    "cap_mac_admin",           // 33
    "cap_syslog",              // 34
    "cap_wake_alarm",          // 35
    "cap_block_suspend",       // 36
    "cap_audit_read",          // 37
    "cap_perfmon",             // 38
    "cap_bpf",                 // 39
    "cap_checkpoint_restore",  // 40
};

// The table against the kernel's own numbers, at the start, the middle and the end.
static_assert(kCapabilityNames[CAP_CHOWN] == "cap_chown");
static_assert(kCapabilityNames[CAP_NET_RAW] == "cap_net_raw");
static_assert(kCapabilityNames[CAP_SYS_ADMIN] == "cap_sys_admin");
static_assert(kCapabilityNames[CAP_SETFCAP] == "cap_setfcap");
static_assert(kCapabilityNames[CAP_CHECKPOINT_RESTORE] == "cap_checkpoint_restore");

constexpr uint64_t kAllNamed = (uint64_t{1} << kNamedCapabilities) - 1;

// Labels and continuation lines line up under the widest label.
constexpr size_t kLabelWidth = 10;  // "NoNewPrivs"

// The value of the "KEY:\tvalue" line, without blanks; nullopt when there is no such line.
std::optional<std::string_view> status_value(std::string_view text, std::string_view key) {
  for (std::string_view line : common::split(text, '\n')) {
    if (line.size() <= key.size() || !line.starts_with(key) || line[key.size()] != ':') continue;
    return common::trim(line.substr(key.size() + 1));
  }
  return std::nullopt;
}

template <typename T>
std::optional<T> number(std::optional<std::string_view> text, int base = 10) {
  if (!text || text->empty()) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value, base);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

std::string names_of(uint64_t mask) {
  std::string names;
  for (int bit = 0; bit < 64; ++bit) {
    if (!(mask & (uint64_t{1} << bit))) continue;
    if (!names.empty()) names += ' ';
    names += capability_name(bit);
  }
  return names;
}

std::string label(std::string_view name) {
  return fmt::format("{:<{}} ", name, kLabelWidth);
}

std::string capability_line(std::string_view name, std::optional<uint64_t> mask, size_t width) {
  if (!mask) return label(name) + fmt::format("unknown: no {} line in the status file\n", name);
  std::string text =
      label(name) + fmt::format("{:#018x} = {}", *mask, describe_capabilities(*mask));
  return common::wrap_line(text, width, std::string(kLabelWidth + 1, ' '));
}

std::string no_new_privs_line(std::optional<int> flag) {
  if (!flag) return label("NoNewPrivs") + "unknown: no NoNewPrivs line (Linux before 4.10)\n";
  switch (*flag) {
    case 0:
      return label("NoNewPrivs") +
             "0 off: setuid files and file capabilities still raise privileges\n";
    case 1:
      return label("NoNewPrivs") + "1 on: execve ignores setuid bits and file capabilities\n";
  }
  return label("NoNewPrivs") + fmt::format("{} (a value tinysh does not know)\n", *flag);
}

std::string seccomp_line(std::optional<int> mode, std::optional<int> filters) {
  if (!mode)
    return label("Seccomp") + "unknown: no Seccomp line (a kernel without CONFIG_SECCOMP)\n";
  switch (*mode) {
    case 0:
      return label("Seccomp") + "0 disabled: no system call is filtered\n";
    case 1:
      return label("Seccomp") + "1 strict: only read, write, _exit and sigreturn are allowed\n";
    case 2: {
      std::string count;
      if (filters) count = fmt::format(" ({} filter{})", *filters, *filters == 1 ? "" : "s");
      return label("Seccomp") + "2 filter: BPF programs decide each system call" + count + "\n";
    }
  }
  return label("Seccomp") + fmt::format("{} (a mode tinysh does not know)\n", *mode);
}

}  // namespace

ProcessPowers parse_process_powers(std::string_view status_text) {
  ProcessPowers powers;
  // 16 hex digits each; from_chars takes them without a "0x".
  powers.effective = number<uint64_t>(status_value(status_text, "CapEff"), 16);
  powers.permitted = number<uint64_t>(status_value(status_text, "CapPrm"), 16);
  powers.bounding = number<uint64_t>(status_value(status_text, "CapBnd"), 16);
  powers.no_new_privs = number<int>(status_value(status_text, "NoNewPrivs"));
  powers.seccomp_mode = number<int>(status_value(status_text, "Seccomp"));
  powers.seccomp_filters = number<int>(status_value(status_text, "Seccomp_filters"));
  return powers;
}

std::string capability_name(int bit) {
  if (bit >= 0 && bit < kNamedCapabilities) return std::string(kCapabilityNames[bit]);
  return fmt::format("cap_{}", bit);
}

std::string describe_capabilities(uint64_t mask) {
  if (mask == 0) return "none";
  if (mask == kAllNamed) return fmt::format("all {}", kNamedCapabilities);
  const int held = std::popcount(mask);
  const uint64_t missing = kAllNamed & ~mask;
  const uint64_t unnamed = mask & ~kAllNamed;  // bits of a kernel newer than this table
  if (std::popcount(missing) >= std::popcount(mask & kAllNamed))
    return fmt::format("{}: {}", held, names_of(mask));
  std::string text = missing ? fmt::format("{}: all but {}", held, names_of(missing))
                             : fmt::format("{}: all {}", held, kNamedCapabilities);
  if (unnamed) text += " + " + names_of(unnamed);
  return text;
}

std::string format_process_powers(const ProcessPowers& powers, size_t width) {
  return capability_line("CapEff", powers.effective, width) +
         capability_line("CapPrm", powers.permitted, width) +
         capability_line("CapBnd", powers.bounding, width) +
         no_new_privs_line(powers.no_new_privs) +
         seccomp_line(powers.seccomp_mode, powers.seccomp_filters);
}

}  // namespace tinysh
