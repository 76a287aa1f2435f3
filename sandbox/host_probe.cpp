#include "host_probe.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

#include "builtins/cgroup_fs.h"
#include "cgroup.h"
#include "common/files.h"
#include "common/text.h"

namespace sandbox {

namespace {

namespace cg = tinysh::cgroup;

// The kinds of namespace, as /proc/self/ns and /proc/sys/user/max_*_namespaces name them.
constexpr std::string_view kNamespaceKinds[] = {"uts",  "mnt",    "pid", "ipc",
                                                "user", "cgroup", "net", "time"};
constexpr std::string_view kLimitControllers[] = {"pids", "memory", "cpu"};
// v1 mount options that name a controller (anything else is a flag or name=...).
constexpr std::string_view kV1Controllers[] = {
    "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc"};

// `path` (absolute, as the host names it) under the probe's root prefix.
std::string under(const std::string& root, std::string_view path) {
  std::string prefix = root;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return prefix + std::string(path);
}

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

std::optional<uid_t> owner_of(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_uid;
}

bool contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
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

// The fields of one /proc/self/mountinfo line the probe uses (proc(5)).
struct MountLine {
  std::string mount_point;
  std::vector<std::string> mount_options;  // per mount: "rw,nosuid,..."
  std::vector<std::string> optional;       // "shared:1", "master:2", ...
  std::string fstype;
  std::vector<std::string> super_options;
};

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

// The namespaces of `kinds` (all when empty), and the switches for user namespaces.
void probe_user_namespaces(const std::string& root, HostFacts& facts,
                           const std::vector<std::string_view>& kinds = {}) {
  for (auto kind : kNamespaceKinds) {
    if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;
    if (exists(under(root, fmt::format("/proc/self/ns/{}", kind))))
      facts.namespaces.emplace_back(kind);
    if (auto max = read_long(under(root, fmt::format("/proc/sys/user/max_{}_namespaces", kind))))
      facts.max_namespaces[std::string(kind)] = *max;
  }
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

// Names in /proc/cgroups whose "enabled" column is 0.
std::vector<std::string> disabled_controllers(std::string_view proc_cgroups) {
  std::vector<std::string> off;
  for (auto line : common::split_nonempty(proc_cgroups, '\n')) {
    if (line.starts_with("#")) continue;
    auto words = common::split_nonempty(line, '\t');
    if (words.size() == 1) words = common::split_nonempty(line, ' ');
    if (words.size() >= 4 && common::trim(words[3]) == "0") off.emplace_back(common::trim(words[0]));
  }
  return off;
}

// The cgroup layout, and the controllers in `only` (pids, memory and cpu when empty).
void probe_cgroups(const std::string& root, const std::string& mountinfo_text,
                   const std::vector<MountLine>& mount_lines, HostFacts& facts,
                   const std::vector<std::string_view>& only = {}) {
  auto proc_cgroup = common::read_file(under(root, "/proc/self/cgroup"));
  std::optional<std::string> mountinfo = mountinfo_text;
  if (!proc_cgroup) facts.cgroup_problem = "cannot read /proc/self/cgroup";

  // The layout: which kinds of cgroup filesystem are mounted.
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

  // The mount points are host paths; read them under the prefix, show them without it.
  std::vector<cg::Mount> mounts =
      mountinfo ? cg::parse_cgroup_mounts(*mountinfo) : std::vector<cg::Mount>{};
  for (cg::Mount& m : mounts) m.mount_point = under(root, m.mount_point);
  std::vector<cg::Place> places = cg::locate(
      proc_cgroup ? cg::parse_proc_cgroup(*proc_cgroup) : std::vector<cg::Membership>{}, mounts);
  std::string prefix = under(root, "");
  auto host_path = [&](const std::string& path) { return path.substr(prefix.size()); };

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
  if (own_v2) facts.cgroup2_controllers = cg::read_v2_controllers(own_v2->directory);
  std::vector<std::string> v2_root_controllers;
  if (v2) v2_root_controllers = cg::read_v2_controllers(under(root, facts.cgroup2_mount));

  auto off = disabled_controllers(common::read_file(under(root, "/proc/cgroups")).value_or(""));
  uid_t me = facts.who.euid;

  for (auto name : kLimitControllers) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    ControllerFacts c;
    c.name = std::string(name);
    c.disabled_at_boot = contains(off, name);
    const cg::Place* place = nullptr;
    for (const cg::Place& p : places)
      if (p.version == cg::Version::V1 && p.has(name)) place = &p;
    if (place) {
      c.home = ControllerHome::V1;
    } else if (own_v2 && contains(facts.cgroup2_controllers, name)) {
      c.home = ControllerHome::V2;
      place = own_v2;
    } else if (own_v2 && contains(v2_root_controllers, name)) {
      c.on_host_only = true;
      c.directory = host_path(own_v2->directory);
    }
    if (place) {
      if (place->visible()) {
        c.directory = host_path(place->directory);
      } else {
        c.why_not_visible = place->why_not_visible;
      }
      for (const MountLine& m : mount_lines)
        if (under(root, m.mount_point) == place->mount_point)
          c.read_only = contains(m.mount_options, "ro") || contains(m.super_options, "ro");
    }
    if (!c.directory.empty()) {
      std::string dir = under(root, c.directory);
      c.owner = owner_of(dir);
      // Delegation: the directory (to make the box's cgroup in it) and the file that moves a
      // process into a cgroup must be ours; on v2 also the file that enables controllers below.
      std::vector<std::string> files = {dir, dir + "/cgroup.procs"};
      files.push_back(dir + (c.home == ControllerHome::V1 ? "/tasks" : "/cgroup.subtree_control"));
      c.delegated = std::all_of(files.begin(), files.end(),
                                [&](const std::string& f) { return owner_of(f) == me; });
      // v2 outside the root: a cgroup with processes of its own cannot hand the controller down.
      bool v2_root = place && place->directory == place->mount_point;
      if (c.home == ControllerHome::V2 && !v2_root) {
        auto subtree = common::read_file(dir + "/cgroup.subtree_control").value_or("");
        auto enabled = common::split_nonempty(common::trim(subtree), ' ');
        if (std::find(enabled.begin(), enabled.end(), name) == enabled.end())
          for (auto pid : common::split_nonempty(common::read_file(dir + "/cgroup.procs").value_or(""), '\n')) {
            pid_t value = 0;
            pid = common::trim(pid);
            auto [end, ec] = std::from_chars(pid.data(), pid.data() + pid.size(), value);
            if (ec == std::errc() && value != facts.who.pid) c.sharing.push_back(value);
          }
      }
    }
    facts.controllers.push_back(std::move(c));
  }
}

VethDriver probe_veth(const std::string& root, const std::string& release) {
  if (exists(under(root, "/sys/module/veth"))) return VethDriver::Present;
  if (release.empty()) return VethDriver::Unknown;
  std::string modules = under(root, "/lib/modules/" + release);
  auto builtin = common::read_file(modules + "/modules.builtin");
  auto dep = common::read_file(modules + "/modules.dep");
  if (!builtin && !dep) return VethDriver::Unknown;
  for (const auto* text : {&builtin, &dep})
    if (*text && (*text)->find("/veth.ko") != std::string::npos) return VethDriver::Present;
  return VethDriver::Absent;
}

}  // namespace

Identity current_identity() {
  Identity who;
  who.uid = ::getuid();
  who.euid = ::geteuid();
  who.pid = ::getpid();
  if (const char* sudo = std::getenv("SUDO_UID")) {
    std::string_view s = sudo;
    uid_t uid = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), uid);
    if (ec == std::errc() && end == s.data() + s.size()) who.sudo_uid = uid;
  }
  struct utsname u;
  if (::uname(&u) == 0) who.kernel_release = u.release;
  return who;
}

bool HostFacts::has_namespace(std::string_view kind) const {
  return contains(namespaces, kind);
}

const ControllerFacts* HostFacts::controller(std::string_view name) const {
  for (const ControllerFacts& c : controllers)
    if (c.name == name) return &c;
  return nullptr;
}

namespace {

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
    return find_subordinate_ids(common::read_file(under(root, file)).value_or(""), name, id).has_value();
  };
  // Both files are keyed by the user (subgid(5) too), by name or by uid.
  facts.subordinate_ids = has("/etc/subuid", facts.who.uid) && has("/etc/subgid", facts.who.uid);
  // Installed setuid (the run itself also wants them owned by root: find_map_helper()).
  auto setuid_root = [&](const char* helper) {
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/usr/local/bin/"}) {
      struct stat st {};
      if (::stat(under(root, std::string(dir) + helper).c_str(), &st) == 0 &&
          S_ISREG(st.st_mode) && (st.st_mode & S_ISUID))
        return true;
    }
    return false;
  };
  facts.map_helpers = setuid_root("newuidmap") && setuid_root("newgidmap");
}

}  // namespace

HostFacts probe_host(const std::string& root, const Identity& who) {
  HostFacts facts;
  facts.who = who;
  probe_caps(root, facts);
  probe_user_namespaces(root, facts);
  auto mountinfo = common::read_file(under(root, "/proc/self/mountinfo")).value_or("");
  auto mount_lines = parse_mountinfo(mountinfo);
  probe_root_mount(mount_lines, facts);
  probe_cgroups(root, mountinfo, mount_lines, facts);
  facts.veth_driver = probe_veth(root, who.kernel_release);
  probe_id_ranges(root, facts);
  return facts;
}

// --- Readiness -----------------------------------------------------------------------------------

namespace {

constexpr std::string_view kRunAsRoot = "or run nslab as root (sudo nslab ...)";

Answer works(std::string because = {}) {
  return {Verdict::Works, std::move(because), {}};
}
Answer rootless(std::string because) {
  return {Verdict::WorksRootless, std::move(because), {}};
}
Answer wont(std::string because, std::string fix) {
  return {Verdict::Wont, std::move(because), std::move(fix)};
}

std::string_view namespace_kind(Need need) {
  switch (need) {
    case Need::UtsNamespace:
      return "uts";
    case Need::MountNamespace:
    case Need::PivotRoot:
      return "mnt";
    case Need::PidNamespace:
      return "pid";
    case Need::IpcNamespace:
      return "ipc";
    case Need::UserNamespace:
      return "user";
    case Need::CgroupNamespace:
      return "cgroup";
    case Need::TimeNamespace:
      return "time";
    case Need::NetNamespace:
    case Need::Veth:
      return "net";
    case Need::PidsLimit:
    case Need::MemoryLimit:
    case Need::CpuLimit:
    case Need::RootNamespaces:
    case Need::IdRanges:
      return "";
  }
  return "";
}

// Does the kernel have this kind of namespace, and has nobody switched it off?
std::optional<Answer> namespace_missing(const HostFacts& facts, std::string_view kind) {
  if (!facts.has_namespace(kind)) {
    if (kind == "time")
      return wont("this kernel has no time namespaces (they came in Linux 5.6)",
                  "a kernel of 5.6 or later, or leave out --time");
    return wont(fmt::format("this kernel has no {0} namespaces (no /proc/self/ns/{0})", kind),
                "a kernel built with namespace support (CONFIG_NAMESPACES and its options)");
  }
  auto max = facts.max_namespaces.find(std::string(kind));
  if (max != facts.max_namespaces.end() && max->second == 0)
    return wont(fmt::format("user.max_{}_namespaces is 0: nobody may create one", kind),
                fmt::format("sudo sysctl -w user.max_{}_namespaces=10000", kind));
  return std::nullopt;
}

// Can a normal user create a user namespace in which it holds capabilities?
std::optional<Answer> unprivileged_userns_blocked(const HostFacts& facts) {
  if (auto missing = namespace_missing(facts, "user")) return missing;
  if (facts.unprivileged_userns_clone == 0)
    return wont("kernel.unprivileged_userns_clone is 0: only root may create user namespaces",
                fmt::format("sudo sysctl -w kernel.unprivileged_userns_clone=1, {}", kRunAsRoot));
  if (facts.apparmor_restrict_unprivileged_userns == 1)
    return wont(
        "AppArmor restricts unprivileged user namespaces "
        "(kernel.apparmor_restrict_unprivileged_userns is 1): the box's root gets no "
        "capabilities, so writing its id maps and mounting fail",
        fmt::format("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, {}",
                    kRunAsRoot));
  return std::nullopt;
}

std::string who_text(const HostFacts& facts) {
  return facts.who.euid == 0 ? "root without CAP_SYS_ADMIN" : fmt::format("uid {}", facts.who.euid);
}

Answer meet_namespace(const HostFacts& facts, std::string_view kind) {
  if (auto missing = namespace_missing(facts, kind)) return *missing;
  if (facts.privileged()) return works();
  // Not root: every namespace is made inside a user namespace the box owns (--user --map-root).
  if (auto blocked = unprivileged_userns_blocked(facts)) {
    blocked->because = fmt::format("not root ({}), and {}", who_text(facts), blocked->because);
    return *blocked;
  }
  return rootless(fmt::format("not root ({}): the box runs in a user namespace, --user --map-root",
                              who_text(facts)));
}

Answer meet_user_namespace(const HostFacts& facts) {
  if (auto missing = namespace_missing(facts, "user")) return *missing;
  if (facts.privileged()) return works();
  if (auto blocked = unprivileged_userns_blocked(facts)) return *blocked;
  return works("unprivileged user namespaces are allowed");
}

Answer meet_controller(const HostFacts& facts, std::string_view name) {
  const ControllerFacts* c = facts.controller(name);
  if (!c) return wont(fmt::format("the {} controller was not probed", name), "");
  if (c->disabled_at_boot)
    return wont(fmt::format("the {} controller is disabled on the kernel command line "
                            "(/proc/cgroups says enabled 0)",
                            name),
                fmt::format("add cgroup_enable={0} (Raspberry Pi OS: also cgroup_{0}=1) to the "
                            "kernel command line and reboot",
                            name));
  if (c->on_host_only) {
    std::string because = fmt::format(
        "cgroup v2 has {} at its root, but not in this process's cgroup {}", name, c->directory);
    // As root, nslab puts the box's cgroup under the root cgroup instead (cgroup_v2.cpp).
    if (facts.privileged()) return works(because + ": as root, boxes go under the root cgroup");
    return wont(because, fmt::format("have systemd delegate it: a drop-in for user@.service with "
                                     "Delegate=pids memory cpu, then systemd-run --user --scope -p "
                                     "Delegate=yes nslab ...; {}",
                                     kRunAsRoot));
  }
  if (c->home == ControllerHome::Missing)
    return wont(fmt::format("no {0} controller: no v1 hierarchy has it and cgroup v2 does not "
                            "offer it",
                            name),
                fmt::format("mount it (v1: mount -t cgroup -o {0} cgroup /sys/fs/cgroup/{0}), "
                            "or boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2",
                            name));
  std::string version = c->home == ControllerHome::V1 ? "v1" : "v2";
  if (c->directory.empty())
    return wont(
        fmt::format("the {} cgroup of this process is not visible: {}", name, c->why_not_visible),
        "mount the cgroup filesystems (systemd does it at boot)");
  if (c->read_only)
    return wont(
        fmt::format("the {} cgroup filesystem is mounted read-only (in a container?)", name),
        "run nslab on the host, or in a container with a writable cgroup filesystem");
  if (facts.who.euid == 0) return works();
  if (c->delegated && !c->sharing.empty())
    return wont(fmt::format("the {} cgroup ({}) is delegated to uid {}, but holds other processes "
                            "too, so cgroup v2 will not hand {} down from it (the "
                            "no-internal-processes rule)",
                            name, version, facts.who.euid, name),
                "start nslab in a cgroup of its own: systemd-run --user --scope -p Delegate=yes "
                "nslab ...");
  if (c->delegated)
    return rootless(fmt::format("{} ({}) is delegated to uid {}: {}", name, version, facts.who.euid,
                                c->directory));
  std::string owner = c->owner ? fmt::format("uid {}", *c->owner) : std::string("someone else");
  // The path is in the facts section; the reason stays short, as a row may list three.
  std::string because = fmt::format("the {} cgroup ({}) is {}'s, not delegated to uid {}", name,
                                    version, owner, facts.who.euid);
  if (c->home == ControllerHome::V1)
    return wont(because, fmt::format("run as root (sudo nslab ...): cgroup v1 is not delegated "
                                     "to users"));
  return wont(because, fmt::format("start nslab in a delegated cgroup: systemd-run --user --scope "
                                   "-p Delegate=yes nslab ...; {}",
                                   kRunAsRoot));
}

Answer meet_veth(const HostFacts& facts) {
  if (auto missing = namespace_missing(facts, "net")) return *missing;
  if (facts.who.euid != 0 || !facts.cap_net_admin)
    return wont(fmt::format("{}: the host end of a veth pair is made in the host's network "
                            "namespace, which needs CAP_NET_ADMIN there",
                            facts.who.euid != 0 ? "not root" : "root without CAP_NET_ADMIN"),
                "run the veth part as root (sudo nslab ...); the empty network namespace works "
                "without it");
  if (facts.veth_driver == VethDriver::Absent)
    return wont("the veth driver is neither loaded nor among this kernel's modules",
                "sudo modprobe veth (package: the kernel's modules, e.g. linux-modules-extra)");
  return works();
}

Answer meet_pivot_root(const HostFacts& facts) {
  if (facts.root_fstype == "rootfs")
    return wont("/ is the initramfs (rootfs), which pivot_root(2) cannot move away from",
                "boot from a real root filesystem (or switch_root to one) before using --pivot");
  return meet_namespace(facts, "mnt");
}

// Worse verdicts win; the reasons of the worst kind are kept, each once.
void combine(Answer& into, const Answer& next) {
  auto append = [](std::string& list, const std::string& item) {
    if (item.empty() || list.find(item) != std::string::npos) return;
    if (!list.empty()) list += "; ";
    list += item;
  };
  if (next.verdict > into.verdict) into = Answer{next.verdict, {}, {}};
  if (next.verdict != into.verdict) return;
  append(into.because, next.because);
  append(into.fix, next.fix);
}



}  // namespace

Answer meet(const HostFacts& facts, Need need) {
  switch (need) {
    case Need::PivotRoot:
      return meet_pivot_root(facts);
    case Need::UserNamespace:
      return meet_user_namespace(facts);
    case Need::PidsLimit:
      return meet_controller(facts, "pids");
    case Need::MemoryLimit:
      return meet_controller(facts, "memory");
    case Need::CpuLimit:
      return meet_controller(facts, "cpu");
    case Need::Veth:
      return meet_veth(facts);
    case Need::RootNamespaces:
      if (facts.privileged()) return works();
      return wont(fmt::format("namespaces made without --user need root (CAP_SYS_ADMIN), and "
                              "nslab runs as uid {}",
                              facts.who.euid),
                  "run it as root (sudo nslab ...); a box of your own adds --user --map-root");
    case Need::IdRanges:
      if (facts.privileged()) return works();
      if (facts.subordinate_ids && facts.map_helpers)
        return rootless("newuidmap and newgidmap write your ranges of /etc/subuid and /etc/subgid");
      if (!facts.subordinate_ids)
        return wont("a normal user can map only its own uid, one id, unless /etc/subuid and "
                    "/etc/subgid give it a range of its own",
                    "run it as root (sudo nslab ...), or ask root for a range: sudo usermod "
                    "--add-subuids 100000-165535 --add-subgids 100000-165535 YOU");
      return wont("your ranges in /etc/subuid are written by newuidmap and newgidmap, which are "
                  "not installed",
                  "install them (Debian, Ubuntu: apt install uidmap; Fedora: dnf install "
                  "shadow-utils), or run it as root (sudo nslab ...)");
    case Need::UtsNamespace:
    case Need::MountNamespace:
    case Need::PidNamespace:
    case Need::IpcNamespace:
    case Need::CgroupNamespace:
    case Need::TimeNamespace:
    case Need::NetNamespace:
      return meet_namespace(facts, namespace_kind(need));
  }
  return works();
}

HostFacts probe_host(const std::string& root, const Identity& who, const std::vector<Need>& needs) {
  HostFacts facts;
  facts.who = who;
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
  if (!kinds.empty()) probe_user_namespaces(root, facts, kinds);
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
  if (needed({Need::Veth})) facts.veth_driver = probe_veth(root, who.kernel_release);
  if (needed({Need::IdRanges})) probe_id_ranges(root, facts);
  return facts;
}

std::vector<Need> box_needs(const Spec& spec) {
  std::vector<Need> needs;
  auto add = [&](bool on, Need need) {
    if (on) needs.push_back(need);
  };
  add(spec.uts || spec.hostname.has_value(), Need::UtsNamespace);
  add(spec.mount, Need::MountNamespace);
  add(spec.pivot || spec.rootfs_dir.has_value(), Need::PivotRoot);
  add(spec.pid, Need::PidNamespace);
  add(spec.user, Need::UserNamespace);
  add(spec.limits.pids_max.has_value(), Need::PidsLimit);
  add(spec.limits.memory_bytes.has_value(), Need::MemoryLimit);
  add(spec.limits.cpu.has_value(), Need::CpuLimit);
  add(spec.net || spec.veth, Need::NetNamespace);
  add(spec.veth, Need::Veth);
  add(spec.ipc, Need::IpcNamespace);
  add(spec.cgroup, Need::CgroupNamespace);
  add(spec.time, Need::TimeNamespace);
  bool any_namespace = spec.uts || spec.hostname || spec.mount || spec.pid || spec.ipc ||
                       spec.cgroup || spec.time || spec.net || spec.veth;
  add(any_namespace && !spec.user, Need::RootNamespaces);
  auto ranges = [](const IdMap& map) {
    return map.size() > 1 || std::any_of(map.begin(), map.end(),
                                         [](const IdRange& r) { return r.count > 1; });
  };
  add(spec.user && (spec.map_range || ranges(spec.uid_map) || ranges(spec.gid_map)),
      Need::IdRanges);
  return needs;
}

std::string_view need_flag(Need need) {
  switch (need) {
    case Need::UtsNamespace:
      return "--uts";
    case Need::MountNamespace:
      return "--mount";
    case Need::PivotRoot:
      return "--pivot";
    case Need::PidNamespace:
      return "--pid";
    case Need::IpcNamespace:
      return "--ipc";
    case Need::UserNamespace:
      return "--user";
    case Need::CgroupNamespace:
      return "--cgroup";
    case Need::TimeNamespace:
      return "--time";
    case Need::PidsLimit:
      return "--pids";
    case Need::MemoryLimit:
      return "--memory";
    case Need::CpuLimit:
      return "--cpus";
    case Need::NetNamespace:
      return "--net";
    case Need::Veth:
      return "--veth";
    case Need::RootNamespaces:
      return "namespaces without --user";
    case Need::IdRanges:
      return "--map-uid/--map-gid ranges";
  }
  return "?";
}

Status precheck(const HostFacts& facts, const std::vector<Need>& needs) {
  for (Need need : needs) {
    Answer answer = meet(facts, need);
    if (answer.verdict != Verdict::Wont) continue;
    Error e =
        plain_error(fmt::format("{} cannot work on this host: {}", need_flag(need), answer.because),
                    answer.fix);
    e.step = "pre-check";
    return e;
  }
  return ok();
}

Answer meet_all(const HostFacts& facts, const std::vector<Need>& needs) {
  Answer answer = works();
  for (Need need : needs) combine(answer, meet(facts, need));
  // A plain "works" needs no reason, even if a step on the way had a remark.
  if (answer.verdict == Verdict::Works) answer.because.clear();
  return answer;
}

std::string_view verdict_label(Verdict verdict) {
  switch (verdict) {
    case Verdict::Works:
      return "works";
    case Verdict::WorksRootless:
      return "works rootless (via a user namespace)";
    case Verdict::Wont:
      return "won't";
  }
  return "?";
}

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
