// Time namespace — time_namespaces(7).
//
// A time namespace gives the box its own offsets for CLOCK_MONOTONIC and CLOCK_BOOTTIME (and
// their variants); CLOCK_REALTIME is never namespaced. /proc/uptime reads CLOCK_BOOTTIME, so a
// boottime offset makes `uptime` in the box visibly differ from the host's.
//
// The ordering rules, as the kernels showed them:
//  - unshare(CLONE_NEWTIME) does not move the caller; it sets the time namespace its children
//    will get (/proc/self/ns/time_for_children).
//  - /proc/PID/timens_offsets can be written only while no process has entered that namespace.
//    After clone3(CLONE_NEWTIME) the child is already inside, and writing its offsets fails with
//    EACCES. After unshare(CLONE_NEWTIME) in the box itself, writing /proc/self/timens_offsets
//    works.
//  - Whether execve() then moves the caller in depends on the kernel: Linux 6.12 and later did
//    (the exec'd program saw /proc/uptime 1000 days ahead), Debian 12's 6.1 did not (PID 1 stayed
//    in the host's time namespace, with only time_for_children new). setns(2) on the
//    time_for_children link moves the caller on every kernel that has time namespaces (5.6+), as
//    long as it has a single thread, so the box enters it itself, right after the offsets.
// The box does all this itself, while the host's /proc is still visible (before pivot_root, as
// the embedded rootfs may have no /proc). That also works in a user namespace (the new time
// namespace belongs to the box's user namespace, where the box has CAP_SYS_TIME and
// CAP_SYS_ADMIN), which an unshare in the runner, before the clone, would not for a non-root user.
#include <fcntl.h>
#include <sched.h>

#include <fmt/format.h>

#include "isolation.h"
#include "namespaces.h"
#include "sys.h"


namespace sandbox {

namespace {

constexpr std::int64_t kDefaultOffsetSeconds = 1000LL * 24 * 3600;  // 1000 days

std::int64_t offset_of(const Spec& spec) {
  return spec.time_offset_seconds ? spec.time_offset_seconds : kDefaultOffsetSeconds;
}

std::string offsets_text(std::int64_t seconds) {
  return fmt::format("monotonic {} 0\nboottime {} 0\n", seconds, seconds);
}

}  // namespace

Status plan_time(const Spec& spec, Plan& plan) {
  if (!spec.time) return ok();
  std::int64_t seconds = offset_of(spec);
  if (seconds < 0) {
    Error e = plain_error("--time: a negative offset could make the box's clocks negative",
                          "use a positive offset");
    e.step = "plan";
    return e;
  }
  plan.steps.push_back(
      {op::EnterTimeNamespace{.offset_seconds = seconds},
       fmt::format("give the box clocks {} days ahead of the host's; the offsets must be written "
                   "before any process enters the namespace, then the box enters it itself "
                   "(execve() does not on every kernel)",
                   seconds / 86400)});
  return ok();
}

Status enter_time_namespace(const op::EnterTimeNamespace& step) {
  SANDBOX_TRY(sys::unshare(CLONE_NEWTIME));
  SANDBOX_TRY(sys::write_file("/proc/self/timens_offsets", offsets_text(step.offset_seconds)));
  // Enter it now: the offsets are frozen from here on, and the box's clocks are its own whether
  // or not this kernel's execve() would have moved it.
  auto ns = sys::open(kTimeForChildren, O_RDONLY | O_CLOEXEC);
  if (!ns) return ns.error();
  return sys::setns(ns->get(), CLONE_NEWTIME);
}

}  // namespace sandbox
