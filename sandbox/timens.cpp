// Time namespace — time_namespaces(7).
//
// A time namespace gives the box its own offsets for CLOCK_MONOTONIC and CLOCK_BOOTTIME (and
// their variants); CLOCK_REALTIME is never namespaced. /proc/uptime reads CLOCK_BOOTTIME, so a
// boottime offset makes `uptime` in the box visibly differ from the host's.
//
// The ordering rule, as this kernel showed it (Linux 6.x, checked with a small C program):
//  - unshare(CLONE_NEWTIME) does not move the caller; it sets the time namespace its children
//    will get (/proc/self/ns/time_for_children). execve() also moves the caller into it.
//  - /proc/PID/timens_offsets can be written only while no process has entered that namespace.
//    After clone3(CLONE_NEWTIME) the child is already inside, and writing its offsets fails with
//    EACCES. After unshare(CLONE_NEWTIME) in the box itself, writing /proc/self/timens_offsets
//    works, and the execve() that follows enters the namespace with the offsets in place: the
//    exec'd program saw /proc/uptime 86400 s ahead of the host's.
// So the box unshares it itself, while the host's /proc is still visible (before pivot_root, as
// the embedded rootfs may have no /proc), and exec enters it. That also works in a user namespace
// (the new time namespace belongs to the box's user namespace, where the box has CAP_SYS_TIME),
// which an unshare in the runner, before the clone, would not for a non-root user.
#include <sched.h>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

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
      {Action::EnterTimeNamespace, Side::Box,
       fmt::format("unshare(CLONE_NEWTIME); write(\"/proc/self/timens_offsets\", \"monotonic {0} "
                   "0\\nboottime {0} 0\")",
                   seconds),
       fmt::format("give the box clocks {} days ahead of the host's; the offsets must be written "
                   "before any process enters the namespace, and execve() enters it",
                   seconds / 86400)});
  return ok();
}

Status enter_time_namespace(const BoxSetup& box) {
  SANDBOX_TRY(sys::unshare(CLONE_NEWTIME));
  return sys::write_file("/proc/self/timens_offsets", offsets_text(offset_of(box.plan.spec)));
}

}  // namespace sandbox
