// Capabilities — capabilities(7).
//
// Root's power is split into about forty capabilities, and each is checked against a user
// namespace: CAP_SYS_ADMIN "in the user namespace that owns the mount namespace" lets a process
// mount there, and so on. A box made with --user has its capabilities in its own user namespace
// only, so they reach nothing of the host's. A box that root makes *without* --user holds them in
// the host's initial user namespace: for the kernel, its root is the host's root, and some
// capabilities act on the whole machine whatever the box's namespaces are:
//   CAP_SYS_ADMIN         mount(2) and much more. A fresh cgroup v1 hierarchy has a
//                         release_agent, a program the kernel runs as the host's root when a
//                         cgroup empties (CVE-2022-0492: the kernel checks only for this very
//                         capability in the initial user namespace); a fresh sysfs or proc
//                         writes the host's kernel settings; and without --uts, sethostname(2)
//                         renames the host
//   CAP_SYS_MODULE        load kernel modules: any code, in the kernel
//   CAP_SYS_RAWIO         raw I/O ports and memory (iopl, /dev/mem)
//   CAP_MKNOD             make device nodes: the host's disks, opened directly
//   CAP_DAC_READ_SEARCH   open_by_handle_at(2): any file of a mounted filesystem by its handle,
//                         outside the box's root (the "shocker" escape of 2014)
//   CAP_SYS_PTRACE        trace and change the host's processes
//   CAP_SYS_TIME          set the host's clock
//   CAP_SYSLOG, CAP_BPF, CAP_PERFMON, CAP_SYS_PACCT, CAP_MAC_ADMIN, CAP_MAC_OVERRIDE,
//   CAP_AUDIT_CONTROL, CAP_LINUX_IMMUTABLE, CAP_WAKE_ALARM, CAP_BLOCK_SUSPEND,
//   CAP_SYS_TTY_CONFIG, CAP_CHECKPOINT_RESTORE: the kernel's log, BPF programs, perf, process
//                         accounting, the security modules, audit, immutable files, wake-ups,
//                         suspend, consoles, checkpointing: the machine's, not the box's
//   CAP_SYS_BOOT          reboot(2): in a PID namespace of its own it only ends the box (the
//                         kernel turns it into a kill of the box's PID 1); without one, the host
//   CAP_NET_ADMIN,        without --net the box is in the host's network namespace: its links,
//   CAP_NET_RAW           routes and firewall, and raw sockets that read its traffic
// So such a box drops them from its bounding set (the limit on what any program it runs can
// ever gain again, prctl(PR_CAPBSET_DROP)) and from its own sets (capset(2)) just before exec,
// after nslab has done its own mounts, pivot and hostname. Root's program starts with what is
// left (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_KILL, CAP_SETUID...: about what Docker's default set
// is), and a `mount` or `hostname` typed in the box is refused. The lessons that have the
// student mount or rename give the box a user namespace instead (--user --map-root): there,
// every capability is the box's own and the kernel keeps them away from the host.
//
// Root's uid 0 stays, and with it every file the host's root owns that the box can see: without
// --mount, that is the host's whole tree. Lesson 4 shows it.
#include <linux/capability.h>
#include <sys/prctl.h>

#include <span>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

namespace {

struct Dropped {
  int cap;
  const char* name;
};

constexpr Dropped kWithoutBoot[] = {{CAP_SYS_BOOT, "CAP_SYS_BOOT"}};
constexpr Dropped kWithoutNet[] = {{CAP_NET_ADMIN, "CAP_NET_ADMIN"}, {CAP_NET_RAW, "CAP_NET_RAW"}};

constexpr Dropped kHostWide[] = {
    {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
    {CAP_SYS_MODULE, "CAP_SYS_MODULE"},
    {CAP_SYS_RAWIO, "CAP_SYS_RAWIO"},
    {CAP_MKNOD, "CAP_MKNOD"},
    {CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH"},
    {CAP_SYS_PTRACE, "CAP_SYS_PTRACE"},
    {CAP_SYS_TIME, "CAP_SYS_TIME"},
    {CAP_SYSLOG, "CAP_SYSLOG"},
    {CAP_BPF, "CAP_BPF"},
    {CAP_PERFMON, "CAP_PERFMON"},
    {CAP_SYS_PACCT, "CAP_SYS_PACCT"},
    {CAP_MAC_ADMIN, "CAP_MAC_ADMIN"},
    {CAP_MAC_OVERRIDE, "CAP_MAC_OVERRIDE"},
    {CAP_AUDIT_CONTROL, "CAP_AUDIT_CONTROL"},
    {CAP_LINUX_IMMUTABLE, "CAP_LINUX_IMMUTABLE"},
    {CAP_WAKE_ALARM, "CAP_WAKE_ALARM"},
    {CAP_BLOCK_SUSPEND, "CAP_BLOCK_SUSPEND"},
    {CAP_SYS_TTY_CONFIG, "CAP_SYS_TTY_CONFIG"},
    {CAP_CHECKPOINT_RESTORE, "CAP_CHECKPOINT_RESTORE"},
};

}  // namespace

std::vector<int> host_wide_capabilities(const Spec& spec) {
  std::vector<int> caps;
  for (const Dropped& d : kHostWide) caps.push_back(d.cap);
  if (!spec.pid)
    for (const Dropped& d : kWithoutBoot) caps.push_back(d.cap);
  if (!spec.net)
    for (const Dropped& d : kWithoutNet) caps.push_back(d.cap);
  return caps;
}

std::string capability_names(const std::vector<int>& caps) {
  std::string text;
  for (int cap : caps) {
    std::string name = fmt::format("capability {}", cap);
    for (std::span<const Dropped> table : {std::span<const Dropped>(kHostWide),
                                           std::span<const Dropped>(kWithoutBoot),
                                           std::span<const Dropped>(kWithoutNet)})
      for (const Dropped& d : table)
        if (d.cap == cap) name = d.name;
    text += (text.empty() ? "" : "|") + name;
  }
  return text;
}

Status plan_capabilities(const Spec& spec, const Caller& caller, Plan& plan) {
  // With --user the box's capabilities are its own user namespace's; with no namespace at all
  // (lesson 0) it is not a box yet, and nslab changes nothing of the caller's.
  if (!caller.privileged || spec.user || plan.clone_flags == 0) return ok();
  auto caps = host_wide_capabilities(spec);
  plan.steps.push_back(
      {op::DropCapabilities{.caps = caps},
       "without --user the box's root is the host's root to the kernel: take away the "
       "capabilities that act on the whole machine (mounts, modules, raw devices and I/O, file "
       "handles, tracing, the clock"
       + std::string(spec.pid ? "" : ", reboot") + std::string(spec.net ? "" : ", the host's network")
       + "), after nslab's own mounts and hostname"});
  plan.notes.push_back(
      "without --user, root in the box is still uid 0 to the kernel: every file of the host's "
      "root that the box can see is its to read and write" +
      std::string(spec.mount ? "" : " (without --mount, that is the whole host)") +
      ". It has no CAP_SYS_ADMIN, so `mount` and `hostname` typed inside are refused; "
      "--user --map-root gives a root that may do both and is root only inside");
  return ok();
}

Status drop_capabilities(const op::DropCapabilities& step) {
  for (int cap : step.caps) SANDBOX_TRY(sys::drop_bounding_capability(cap));
  return sys::drop_capabilities(step.caps);
}

}  // namespace sandbox
