// What the host's facts mean for a box: for each kernel feature a flag uses, whether it works
// here, works rootless (in a user namespace the box owns, user_namespaces(7)), or won't, and then
// with the fix; the needs of a box's flags; and the pre-check `nslab run` makes before it touches
// the kernel. Pure: facts in (host_probe.cpp and host_probe_cgroups.cpp read them), answers out.
#include <algorithm>

#include <fmt/format.h>

#include "host_probe_internal.h"

namespace sandbox {

namespace probe_detail {

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
    case Need::Bridge:
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

}  // namespace probe_detail

using probe_detail::namespace_kind;

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
  // What the runner's placement would choose on v2, for this caller (cgroup::choose_v2).
  std::optional<cgroup::V2Choice> v2;
  if (c->v2_own) v2 = cgroup::choose_v2(*c->v2_own, facts.who);
  if (c->on_host_only) {
    std::string because = fmt::format(
        "cgroup v2 has {} at its root, but not in this process's cgroup {}", name, c->directory);
    if (v2 == cgroup::V2Choice::AtRoot)
      return works(because + ": as root, boxes go under the root cgroup");
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
  if (c->delegated && v2 == cgroup::V2Choice::Shared)
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
  if (facts.veth_driver == LinkDriver::Absent)
    return wont("the veth driver is neither loaded nor among this kernel's modules",
                "sudo modprobe veth (package: the kernel's modules, e.g. linux-modules-extra)");
  return works();
}

// --bridge is --veth with the host end on a bridge: the bridge driver too.
Answer meet_bridge(const HostFacts& facts) {
  Answer veth = meet_veth(facts);
  if (veth.verdict == Verdict::Wont) return veth;
  if (facts.bridge_driver == LinkDriver::Absent)
    return wont("the bridge driver is neither loaded nor among this kernel's modules",
                "sudo modprobe bridge (package: the kernel's modules)");
  return veth;
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
    case Need::Bridge:
      return meet_bridge(facts);
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
        return wont(
            "a normal user can map only its own uid, one id, unless /etc/subuid and "
            "/etc/subgid give it a range of its own",
            "run it as root (sudo nslab ...), or ask root for a range: sudo usermod "
            "--add-subuids 100000-165535 --add-subgids 100000-165535 YOU");
      return wont(
          "your ranges in /etc/subuid are written by newuidmap and newgidmap, which are "
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
  add(spec.bridge.has_value(), Need::Bridge);
  add(spec.ipc, Need::IpcNamespace);
  add(spec.cgroup, Need::CgroupNamespace);
  add(spec.time, Need::TimeNamespace);
  bool any_namespace = spec.uts || spec.hostname || spec.mount || spec.pid || spec.ipc ||
                       spec.cgroup || spec.time || spec.net || spec.veth;
  add(any_namespace && !spec.user, Need::RootNamespaces);
  auto ranges = [](const IdMap& map) {
    return map.size() > 1 ||
           std::any_of(map.begin(), map.end(), [](const IdRange& r) { return r.count > 1; });
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
    case Need::Bridge:
      return "--bridge";
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

}  // namespace sandbox
