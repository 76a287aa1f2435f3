// What this host can do, and which lessons will run on it: the facts behind `nslab doctor`.
//
// Everything a box needs from the kernel can be read from files before any box is made:
//   - which namespaces this kernel has: one link per kind in /proc/self/ns (namespaces(7));
//   - whether they are switched off: /proc/sys/user/max_<kind>_namespaces, 0 = none allowed;
//   - whether a normal user may make a user namespace: Debian's and older Ubuntu's
//     kernel.unprivileged_userns_clone (0 = only root), and Ubuntu 23.10+'s AppArmor switch
//     kernel.apparmor_restrict_unprivileged_userns (1 = such a namespace gets no capabilities,
//     so writing its id maps or mounting in it fails);
//   - the capabilities this process holds: CapEff in /proc/self/status (capabilities(7));
//   - where the cgroup controllers are (v1, v2 or both, "hybrid"): /proc/self/cgroup and the
//     cgroup mounts in /proc/self/mountinfo (cgroups(7)), and whether this user owns its own
//     cgroup directory (cgroup v2 "delegation", Documentation/admin-guide/cgroup-v2.rst);
//   - whether / is a shared mount: the "shared:N" optional field of mountinfo
//     (mount_namespaces(7), "Shared subtrees");
//   - whether the veth and bridge drivers are there: /sys/module/NAME, or the kernel's module
//     lists.
//
// probe_host() reads those files under a root directory prefix, so tests point it at fake
// /proc, /sys and cgroupfs trees made of plain files; what is not a file (the caller's ids) comes
// in as a Caller. readiness() is pure: facts in, one row per lesson out.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup.h"
#include "result.h"
#include "spec.h"

namespace sandbox {


// Whether the process whose /proc/self/status is under `root` ("/" for this one) has capability
// `cap` (CAP_NET_ADMIN, ...) in its effective set, from its CapEff line; nothing when that file
// is unreadable. The doctor's facts and the runner's own checks both read capabilities here.
std::optional<bool> effective_capability(const std::string& root, int cap);

enum class CgroupLayout {
  None,    // no cgroup filesystem mounted at all
  V1,      // one hierarchy per controller (or group of controllers), no cgroup2
  V2,      // the unified hierarchy only
  Hybrid,  // v1 controller hierarchies and a cgroup2 mount side by side
};

// Where a controller lives for this process.
enum class ControllerHome { Missing, V1, V2 };

// A kind of link the kernel makes through a driver (veth, bridge): loaded, or among the modules.
enum class LinkDriver { Unknown, Present, Absent };

struct ControllerFacts {
  std::string name;  // "pids", "memory", "cpu"
  ControllerHome home = ControllerHome::Missing;
  bool disabled_at_boot = false;  // /proc/cgroups says enabled 0 (cgroup_disable= on the cmdline)
  bool on_host_only = false;      // v2: the hierarchy's root has it, this process's cgroup not
  std::string directory;          // this process's cgroup for it, as a host path; "" if unseen
  std::string why_not_visible;    // when directory is empty
  bool read_only = false;         // its cgroup filesystem is mounted read-only
  std::optional<uid_t> owner;     // owner of the directory
  bool delegated = false;         // the directory and the files that move processes are ours
  // v2: other processes in this process's cgroup, which lacks the controller in its
  // cgroup.subtree_control: it cannot hand the controller down (the no-internal-processes rule)
  std::vector<pid_t> sharing;
  // v2 below the hierarchy's root: the runner's cgroup as the no-internal-processes rule sees
  // it. The judgement asks cgroup::choose_v2() with it, as the runner's placement does.
  std::optional<cgroup::V2Own> v2_own;
};

struct HostFacts {
  Caller who;                  // who asks: the part of the facts no file under the root holds
  std::string kernel_release;  // /proc/sys/kernel/osrelease, as uname -r
  bool cap_sys_admin = false;           // may create namespaces and mount without a user namespace
  bool cap_net_admin = false;           // may create links in the host's network namespace
  std::vector<std::string> namespaces;  // kinds present in /proc/self/ns
  std::map<std::string, long> max_namespaces;     // /proc/sys/user/max_<kind>_namespaces
  std::optional<long> unprivileged_userns_clone;  // absent on most kernels
  std::optional<long> apparmor_restrict_unprivileged_userns;  // Ubuntu 23.10 and later

  CgroupLayout cgroup_layout = CgroupLayout::None;
  std::string cgroup2_mount;                     // where the unified hierarchy is, if anywhere
  std::vector<std::string> cgroup2_controllers;  // what this process's v2 cgroup offers
  std::string cgroup_problem;                    // /proc/self/cgroup could not be read
  std::vector<ControllerFacts> controllers;      // pids, memory, cpu, in that order

  bool root_mount_found = false;
  bool root_shared = false;     // / propagates mounts to a peer group
  std::string root_peer_group;  // N of shared:N
  std::string root_fstype;      // "rootfs" means the initramfs: pivot_root cannot leave it

  LinkDriver veth_driver = LinkDriver::Unknown;
  LinkDriver bridge_driver = LinkDriver::Unknown;

  // A user's maps of more than its own id (subuid(5)): ranges of subordinate ids for the real
  // user in /etc/subuid and /etc/subgid, and newuidmap(1) and newgidmap(1) installed setuid root.
  bool subordinate_ids = false;
  bool map_helpers = false;

  // Root in the sense that matters here: euid 0 with CAP_SYS_ADMIN. Root in a container without
  // CAP_SYS_ADMIN is treated as a normal user who needs a user namespace.
  bool privileged() const { return who.euid == 0 && cap_sys_admin; }
  bool has_namespace(std::string_view kind) const;
  const ControllerFacts* controller(std::string_view name) const;
};

// Reads the facts from the files under `root` ("/" for this host).
HostFacts probe_host(const std::string& root, const Caller& who);

// --- Which lessons will work ---------------------------------------------------------------------

enum class Verdict { Works, WorksRootless, Wont };

// What one kernel feature a box uses needs on this host.
enum class Need {
  UtsNamespace,
  MountNamespace,
  PivotRoot,
  PidNamespace,
  IpcNamespace,
  UserNamespace,
  CgroupNamespace,
  TimeNamespace,
  PidsLimit,
  MemoryLimit,
  CpuLimit,
  NetNamespace,
  Veth,
  Bridge,  // --bridge: a veth, and the bridge driver
  // Who makes the box, rather than a kernel feature: namespaces without a user namespace of the
  // box's own are made with the caller's CAP_SYS_ADMIN, and id maps of more than one id are
  // written by root (or newuidmap(1)): plan() refuses both for a normal user.
  RootNamespaces,
  IdRanges,
};

struct Answer {
  Verdict verdict = Verdict::Works;
  std::string because;  // empty for a plain Works
  std::string fix;      // only for Wont
};

Answer meet(const HostFacts& facts, Need need);

// Only the facts that `needs` depend on (the rest stay empty): what `nslab run` reads before
// every box, so it costs a few small files, not the whole probe.
HostFacts probe_host(const std::string& root, const Caller& who, const std::vector<Need>& needs);

// --- Before a box starts: what its flags need of this host ------------------------------------

// The needs of a box with these flags, in the order of the lessons. Pure.
std::vector<Need> box_needs(const Spec& spec);
// The flag a need comes from: "--pids", "--veth", "--pivot".
std::string_view need_flag(Need need);
// The first need the host does not meet, as an error whose call says the flag and why, and whose
// hint is the fix; ok when every need is met (rootless counts as met: plan() says what a user
// must add). Pure.
Status precheck(const HostFacts& facts, const std::vector<Need>& needs);

// Every need at once: the worst answer, with the reasons of that kind each once (a plain
// "works" carries none). Pure; the doctor and `nslab lessons` judge a lesson's needs with it.
Answer meet_all(const HostFacts& facts, const std::vector<Need>& needs);

std::string_view verdict_label(Verdict verdict);
std::string_view layout_name(CgroupLayout layout);

}  // namespace sandbox
