// Cgroup v1: one hierarchy per controller — Documentation/admin-guide/cgroup-v1/.
//
// Each controller (or group of co-mounted controllers, like "cpu,cpuacct") is its own tree,
// mounted at /sys/fs/cgroup/<name>. A box that asks for three limits therefore gets three
// directories named alike, one in each tree, and its first process is written into all three.
//
//   pids     pids.max                      the most tasks (processes + threads) at once; a fork
//                                          beyond it fails with EAGAIN (cgroup-v1/pids.rst)
//   memory   memory.limit_in_bytes         RAM; past it the OOM killer picks a task in the cgroup
//            memory.memsw.limit_in_bytes   RAM + swap, only with swap accounting; set to the same
//                                          value it means "no swap for the box". It must never be
//                                          below memory.limit_in_bytes, so it is written second.
//   cpu      cpu.cfs_period_us, cpu.cfs_quota_us
//                                          CFS bandwidth: QUOTA µs of CPU time per PERIOD µs
//                                          (scheduler/sched-bwc.rst); a child's quota cannot
//                                          exceed its parent's
//
// v1 has no "kill the cgroup" file: removal signals every pid in cgroup.procs until none is
// left, then rmdir — which can fail with EBUSY for a moment while the last task is torn down.
#include <signal.h>

#include <fmt/format.h>

#include "cgroup.h"
#include "sys.h"

namespace sandbox::cgroup::detail {

void v1_writes(const BoxDir& dir, const Limits& limits, std::vector<Write>& out) {
  auto file = [&](const char* name, std::string text, bool if_present = false) {
    out.push_back(
        {Write::Kind::WriteFile, dir.path + "/" + name, std::move(text), false, if_present, false});
  };
  out.push_back({Write::Kind::MakeDir, dir.path, {}, false, false, true});
  for (Controller controller : dir.controllers) {
    switch (controller) {
      case Controller::Pids:
        file("pids.max", std::to_string(*limits.pids_max));
        break;
      case Controller::Memory:
        file("memory.limit_in_bytes", std::to_string(*limits.memory_bytes));
        file("memory.memsw.limit_in_bytes", std::to_string(*limits.memory_bytes), true);
        break;
      case Controller::Cpu:
        file("cpu.cfs_period_us", std::to_string(limits.cpu->period_us));
        file("cpu.cfs_quota_us", std::to_string(limits.cpu->quota_us));
        break;
    }
  }
}

Status v1_kill_all(const std::string& dir) {
  // A task may fork while we read the list, so repeat until the list is empty. SIGKILL cannot be
  // caught, and the box has no way to leave its cgroup without CAP_SYS_ADMIN over the host's.
  bool empty = poll_until(
      [&] {
        auto pids = procs_of(dir);
        for (pid_t pid : pids) (void)sys::kill(pid, SIGKILL);
        return pids.empty();
      },
      5000);
  if (!empty)
    return plain_error(fmt::format("kill the processes of {}: some are still there after 5 s", dir),
                       "a task stuck in the kernel (state D) ends only when its I/O does");
  return ok();
}

}  // namespace sandbox::cgroup::detail
