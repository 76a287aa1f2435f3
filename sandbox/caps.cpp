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

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "builtins/caps_status.h"
#include "common/text.h"
#include "isolation.h"
#include "sys.h"

namespace sandbox {

namespace {

constexpr int kWithoutBoot[] = {CAP_SYS_BOOT};
constexpr int kWithoutNet[] = {CAP_NET_ADMIN, CAP_NET_RAW};

constexpr int kHostWide[] = {
    CAP_SYS_ADMIN,
    CAP_SYS_MODULE,
    CAP_SYS_RAWIO,
    CAP_MKNOD,
    CAP_DAC_READ_SEARCH,
    CAP_SYS_PTRACE,
    CAP_SYS_TIME,
    CAP_SYSLOG,
    CAP_BPF,
    CAP_PERFMON,
    CAP_SYS_PACCT,
    CAP_MAC_ADMIN,
    CAP_MAC_OVERRIDE,
    CAP_AUDIT_CONTROL,
    CAP_LINUX_IMMUTABLE,
    CAP_WAKE_ALARM,
    CAP_BLOCK_SUSPEND,
    CAP_SYS_TTY_CONFIG,
    CAP_CHECKPOINT_RESTORE,
};

}  // namespace

std::vector<int> host_wide_capabilities(const Spec& spec) {
  std::vector<int> caps;
  for (int cap : kHostWide) caps.push_back(cap);
  if (!spec.pid)
    for (int cap : kWithoutBoot) caps.push_back(cap);
  if (!spec.net)
    for (int cap : kWithoutNet) caps.push_back(cap);
  return caps;
}

std::string capability_names(const std::vector<int>& caps) {
  std::string text;
  for (int cap : caps) {
    std::string name = tinysh::capability_name(cap);
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    text += (text.empty() ? "" : "|") + name;
  }
  return text;
}

Result<std::vector<int>> parse_capabilities(std::string_view list) {
  std::vector<int> caps;
  auto add = [&](int cap) {
    if (std::find(caps.begin(), caps.end(), cap) == caps.end()) caps.push_back(cap);
  };
  for (auto word : common::split(list, ',')) {
    std::string name(common::trim(word));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "all") {
      for (int cap = 0; cap < tinysh::kNamedCapabilities; ++cap) add(cap);
      continue;
    }
    if (!name.starts_with("cap_")) name = "cap_" + name;
    int found = -1;
    for (int cap = 0; cap < tinysh::kNamedCapabilities; ++cap)
      if (tinysh::capability_name(cap) == name) found = cap;
    if (found < 0) {
      // A slip of a letter or two, or a missing underscore: the name it most likely meant.
      std::vector<std::string> names;
      for (int cap = 0; cap < tinysh::kNamedCapabilities; ++cap)
        names.emplace_back(tinysh::capability_name(cap).substr(4));
      std::string guess = common::closest(name.substr(4), names);
      return plain_error(fmt::format("--cap-drop: no capability is called '{}'{}", common::trim(word),
                                     guess.empty() ? "" : fmt::format(" (did you mean {}?)", guess)),
                         "give names as capabilities(7) spells them, with or without CAP_ "
                         "(net_raw, sys_admin, chown), separated by commas, or all");
    }
    add(found);
  }
  if (caps.empty())
    return plain_error("--cap-drop: no capability named", "e.g. --cap-drop net_raw,sys_admin");
  return caps;
}

Status plan_capabilities(const Spec& spec, const Caller& caller, Plan& plan) {
  // With --user the box's capabilities are its own user namespace's; with no namespace at all
  // (lesson 0) it is not a box yet, and nslab changes nothing of the caller's. --cap-drop takes
  // what it names away in every case.
  std::vector<int> caps;
  bool host_wide = caller.privileged && !spec.user && plan.clone_flags != 0;
  if (host_wide) caps = host_wide_capabilities(spec);
  for (int cap : spec.cap_drop)
    if (std::find(caps.begin(), caps.end(), cap) == caps.end()) caps.push_back(cap);
  if (caps.empty()) return ok();
  if (!host_wide) {
    plan.steps.push_back(
        {op::DropCapabilities{.caps = caps},
         "--cap-drop: out of the bounding set, so no program the box runs can gain them again "
         "(not even a setuid one), and out of the box's own sets"});
    return ok();
  }
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

void plan_no_new_privs(const Spec& spec, Plan& plan) {
  if (!spec.no_new_privs && !spec.seccomp) return;
  plan.steps.push_back(
      {op::SetNoNewPrivs{},
       std::string("no program the box runs gains privileges by execve(): setuid bits and file "
                   "capabilities are ignored from here on, for good") +
           (spec.seccomp ? "; a seccomp filter needs it (or CAP_SYS_ADMIN)" : "")});
}

Status set_no_new_privs(const op::SetNoNewPrivs&) {
  return sys::set_no_new_privs();
}

Status drop_capabilities(const op::DropCapabilities& step) {
  for (int cap : step.caps) SANDBOX_TRY(sys::drop_bounding_capability(cap));
  return sys::drop_capabilities(step.caps);
}

}  // namespace sandbox
