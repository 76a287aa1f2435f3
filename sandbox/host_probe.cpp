// The facts behind `nslab doctor`, read from files under a root prefix (host_probe.h says which):
// the namespaces in /proc/self/ns and their switches in /proc/sys (namespaces(7),
// user_namespaces(7)), CapEff in /proc/self/status (capabilities(7)), the mount at / and its
// propagation in mountinfo (mount_namespaces(7)), the veth driver, and subordinate ids
// (subuid(5)). The cgroup facts are in host_probe_cgroups.cpp; what the facts mean for a box is
// in host_probe_readiness.cpp.
#include "host_probe.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "common/files.h"
#include "common/text.h"
#include "host_probe_internal.h"

namespace sandbox {

namespace probe_detail {

// `path` (absolute, as the host names it) under the probe's root prefix.
std::string under(const std::string& root, std::string_view path) {
  std::string prefix = root;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix + std::string(path);
}

bool contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

}  // namespace probe_detail

// Shared with host_probe_cgroups.cpp and host_probe_readiness.cpp (host_probe_internal.h).
using probe_detail::contains;
using probe_detail::MountLine;
using probe_detail::namespace_kind;
using probe_detail::probe_cgroups;
using probe_detail::under;

namespace {

// The kinds of namespace, as /proc/self/ns and /proc/sys/user/max_*_namespaces name them.
constexpr std::string_view kNamespaceKinds[] = {"uts",  "mnt",    "pid", "ipc",
                                                "user", "cgroup", "net", "time"};

std::optional<long> read_long(const std::string& path) {
  auto text = common::read_file(path);
  if (!text) return std::nullopt;
  std::string_view t = common::trim(*text);
  long value = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return value;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// mountinfo escapes blanks and backslashes in paths as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<MountLine> parse_mountinfo(std::string_view text) {
  std::vector<MountLine> lines;
  for (std::string_view line : common::split_nonempty(text, '\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    auto fields = common::split_nonempty(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
    if (dash == fields.end() || dash - fields.begin() < 6 || fields.end() - dash < 4) continue;
    MountLine m;
    m.mount_point = unescape(fields[4]);
    for (auto option : common::split_nonempty(fields[5], ',')) m.mount_options.emplace_back(option);
    for (auto it = fields.begin() + 6; it != dash; ++it) m.optional.emplace_back(*it);
    m.fstype = std::string(dash[1]);
    for (auto option : common::split_nonempty(dash[3], ',')) m.super_options.emplace_back(option);
    lines.push_back(std::move(m));
  }
  return lines;
}

// The capability bits of CapEff (capability.h: CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21).
constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;

std::optional<unsigned long long> effective_caps(std::string_view status) {
  for (auto line : common::split_nonempty(status, '\n')) {
    if (!line.starts_with("CapEff:")) continue;
    std::string_view hex = common::trim(line.substr(7));
    unsigned long long caps = 0;
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), caps, 16);
    if (ec != std::errc()) return std::nullopt;
    return caps;
  }
  return std::nullopt;
}

// The namespaces of `kinds` (all when empty), and the switches for user namespaces (which
// stop only a caller without privilege: with `switches` false they are not read).
void probe_user_namespaces(const std::string& root, HostFacts& facts,
                           const std::vector<std::string_view>& kinds = {},
                           bool switches = true) {
  for (auto kind : kNamespaceKinds) {
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
    if (exists(under(root, fmt::format("/proc/self/ns/{}", kind))))
      facts.namespaces.emplace_back(kind);
    if (auto max = read_long(under(root, fmt::format("/proc/sys/user/max_{}_namespaces", kind))))
      facts.max_namespaces[std::string(kind)] = *max;
  }
  if (!switches) return;
  facts.unprivileged_userns_clone =
      read_long(under(root, "/proc/sys/kernel/unprivileged_userns_clone"));
  facts.apparmor_restrict_unprivileged_userns =
      read_long(under(root, "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"));
}

void probe_root_mount(const std::vector<MountLine>& mounts, HostFacts& facts) {
  // Mounts stack: the last line for "/" is the one this process sees.
  for (const MountLine& m : mounts) {
    if (m.mount_point != "/") continue;
    facts.root_mount_found = true;
    facts.root_fstype = m.fstype;
    facts.root_shared = false;
    facts.root_peer_group.clear();
    for (const std::string& field : m.optional)
      if (field.starts_with("shared:")) {
        facts.root_shared = true;
        facts.root_peer_group = field.substr(7);
      }
  }
}

// `module` is the driver's module name: "veth", "bridge".
LinkDriver probe_link_driver(const std::string& root, const std::string& release,
                             const std::string& module) {
  if (exists(under(root, "/sys/module/" + module))) return LinkDriver::Present;
  if (release.empty()) return LinkDriver::Unknown;
  std::string modules = under(root, "/lib/modules/" + release);
  auto builtin = common::read_file(modules + "/modules.builtin");
  auto dep = common::read_file(modules + "/modules.dep");
  if (!builtin && !dep) return LinkDriver::Unknown;
  for (const auto* text : {&builtin, &dep})
    if (*text && (*text)->find("/" + module + ".ko") != std::string::npos)
      return LinkDriver::Present;
  return LinkDriver::Absent;
}

void probe_caps(const std::string& root, HostFacts& facts) {
  // Without /proc/self/status, assume what euid 0 normally holds: every capability.
  auto caps = effective_caps(common::read_file(under(root, "/proc/self/status")).value_or(""));
  auto has_cap = [&](int bit) { return caps ? ((*caps >> bit) & 1) != 0 : facts.who.euid == 0; };
  facts.cap_sys_admin = has_cap(kCapSysAdmin);
  facts.cap_net_admin = has_cap(kCapNetAdmin);
}

// Ranges of subordinate ids for the real user, and the setuid helpers that write them.
void probe_id_ranges(const std::string& root, HostFacts& facts) {
  std::string name = host_user_name(facts.who.uid).value_or("");
  auto has = [&](const char* file, uid_t id) {
    return find_subordinate_ids(common::read_file(under(root, file)).value_or(""), name, id)
        .has_value();
  };
  // Both files are keyed by the user (subgid(5) too), by name or by uid.
  facts.subordinate_ids = has("/etc/subuid", facts.who.uid) && has("/etc/subgid", facts.who.uid);
  // Installed setuid (the run itself also wants them owned by root: find_map_helper()).
  auto setuid_root = [&](const char* helper) {
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/usr/local/bin/"}) {
      struct stat st {};
      if (::stat(under(root, std::string(dir) + helper).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          (st.st_mode & S_ISUID))
        return true;
    }
    return false;
  };
  facts.map_helpers = setuid_root("newuidmap") && setuid_root("newgidmap");
}

// The kernel's release, as uname(2) gives it, from the file under `root`.
std::string kernel_release(const std::string& root) {
  return std::string(
      common::trim(common::read_file(under(root, "/proc/sys/kernel/osrelease")).value_or("")));
}

}  // namespace

std::optional<bool> effective_capability(const std::string& root, int cap) {
  auto caps = effective_caps(common::read_file(under(root, "/proc/self/status")).value_or(""));
  if (!caps) return std::nullopt;
  return ((*caps >> cap) & 1) != 0;
}

bool HostFacts::has_namespace(std::string_view kind) const {
  return contains(namespaces, kind);
}

const ControllerFacts* HostFacts::controller(std::string_view name) const {
  for (const ControllerFacts& c : controllers)
    if (c.name == name) return &c;
  return nullptr;
}

HostFacts probe_host(const std::string& root, const Caller& who) {
  HostFacts facts;
  facts.who = who;
  facts.kernel_release = kernel_release(root);
  probe_caps(root, facts);
  probe_user_namespaces(root, facts);
  auto mountinfo = common::read_file(under(root, "/proc/self/mountinfo")).value_or("");
  auto mount_lines = parse_mountinfo(mountinfo);
  probe_root_mount(mount_lines, facts);
  probe_cgroups(root, mountinfo, mount_lines, facts);
  facts.veth_driver = probe_link_driver(root, facts.kernel_release, "veth");
  facts.bridge_driver = probe_link_driver(root, facts.kernel_release, "bridge");
  probe_id_ranges(root, facts);
  return facts;
}

HostFacts probe_host(const std::string& root, const Caller& who, const std::vector<Need>& needs) {
  HostFacts facts;
  facts.who = who;
  facts.kernel_release = kernel_release(root);
  if (needs.empty()) return facts;
  auto needed = [&](std::initializer_list<Need> any) {
    return std::any_of(needs.begin(), needs.end(),
                       [&](Need n) { return std::find(any.begin(), any.end(), n) != any.end(); });
  };
  probe_caps(root, facts);
  // Every namespace is made in a user namespace when not root: its switches matter too.
  std::vector<std::string_view> kinds;
  for (Need need : needs)
    if (auto kind = namespace_kind(need); !kind.empty()) kinds.push_back(kind);
  if (!facts.privileged() && !kinds.empty()) kinds.push_back("user");
  if (!kinds.empty()) probe_user_namespaces(root, facts, kinds, !facts.privileged());
  bool limits = needed({Need::PidsLimit, Need::MemoryLimit, Need::CpuLimit});
  // The initramfs is a ramfs or tmpfs: any other / is not it, and needs no mountinfo.
  struct statfs root_fs {};
  bool maybe_initramfs = ::statfs(under(root, "/").c_str(), &root_fs) != 0 ||
                         root_fs.f_type == RAMFS_MAGIC || root_fs.f_type == TMPFS_MAGIC;
  if (limits || (needed({Need::PivotRoot}) && maybe_initramfs)) {
    auto mountinfo = common::read_file(under(root, "/proc/self/mountinfo")).value_or("");
    auto mount_lines = parse_mountinfo(mountinfo);
    probe_root_mount(mount_lines, facts);
    std::vector<std::string_view> controllers;
    if (needed({Need::PidsLimit})) controllers.push_back("pids");
    if (needed({Need::MemoryLimit})) controllers.push_back("memory");
    if (needed({Need::CpuLimit})) controllers.push_back("cpu");
    if (limits) probe_cgroups(root, mountinfo, mount_lines, facts, controllers);
  }
  if (needed({Need::Veth})) facts.veth_driver = probe_link_driver(root, facts.kernel_release, "veth");
  if (needed({Need::Bridge}))
    facts.bridge_driver = probe_link_driver(root, facts.kernel_release, "bridge");
  if (needed({Need::IdRanges})) probe_id_ranges(root, facts);
  return facts;
}

}  // namespace sandbox
