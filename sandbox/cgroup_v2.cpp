// Cgroup v2: one unified hierarchy — Documentation/admin-guide/cgroup-v2.rst.
//
// Every controller lives in the same tree, so the box gets one directory. Two rules shape where:
//   - Top-down: a cgroup has a controller only when its parent lists it in
//     cgroup.subtree_control ("+pids +memory +cpu" enables them for the children).
//   - No internal processes: a cgroup other than the root that has processes of its own cannot
//     enable controllers for its children; the write fails with EBUSY.
// The runner's own cgroup has processes (the runner, usually its shell too). So nslab makes
// <own>/nslab, keeps it free of processes, enables the controllers there, and puts each box
// under it: <own>/nslab/nslab-box-<pid>. The controllers must reach <own>/nslab first, through
// <own>'s subtree_control — which takes them only in the root cgroup or in a cgroup without
// processes. When <own> lacks one and holds processes (cgroup.cpp, place_v2):
//   root        nslab's parent goes under the root cgroup instead, which the rule exempts:
//               <v2 root>/nslab/nslab-box-<pid>
//   not root    a runner alone in its cgroup (systemd-run --user --scope -p Delegate=yes made it
//               one) first moves itself into <own>/nslab/nslab-runner-<pid>, a leaf, leaving
//               <own> empty; a cgroup shared with other processes is refused before the clone
//
//   pids     pids.max          the most tasks at once; a fork beyond it fails with EAGAIN
//   memory   memory.max        past it the OOM killer picks a task in the cgroup
//            memory.swap.max   0: no swap for the box (absent without swap accounting)
//   cpu      cpu.max           "QUOTA PERIOD": QUOTA µs of CPU time per PERIOD µs
//
// Removal writes 1 to cgroup.kill (Linux 5.14): the kernel SIGKILLs the whole subtree, including
// processes forked while it works. Older kernels get v1's loop over cgroup.procs.
#include <unistd.h>

#include <fmt/format.h>

#include "cgroup.h"
#include "sys.h"

namespace sandbox::cgroup::detail {

void v2_writes(const Layout& layout, const BoxDir& dir, const Limits& limits,
               std::vector<Write>& out) {
  auto write = [&](std::string path, std::string text, bool if_present = false) {
    out.push_back(
        {Write::Kind::WriteFile, std::move(path), std::move(text), false, if_present, false});
  };
  const Placement* first = layout.find(dir.controllers.front());
  const std::string& parent = first->parent_dir;
  // The runner's cgroup, or the root cgroup when the runner's holds processes (cgroup.cpp).
  std::string above = parent.substr(0, parent.rfind('/'));
  std::string box = dir.path.substr(dir.path.rfind('/') + 1);
  // A runner alone in its cgroup leaves it for a leaf of nslab/, so its own cgroup holds no
  // process and may hand controllers down. It stays there until it exits.
  if (first->move_runner) {
    std::string leaf = parent + "/" + runner_leaf_name(box);
    out.push_back({Write::Kind::MakeDir, parent, {}, true, false, false});
    out.push_back({Write::Kind::MakeDir, leaf, {}, true, false, false, true});
    write(leaf + "/cgroup.procs", box.substr(box.rfind('-') + 1));
  }
  // Hand the controllers from the cgroup above down to nslab's parent...
  for (Controller controller : dir.controllers)
    if (layout.find(controller)->enable_above)
      write(above + "/cgroup.subtree_control", fmt::format("+{}", controller_name(controller)));
  if (!first->move_runner) out.push_back({Write::Kind::MakeDir, parent, {}, true, false, false});
  // ...and from nslab's parent, which has no processes, down to the boxes.
  for (Controller controller : dir.controllers)
    write(parent + "/cgroup.subtree_control", fmt::format("+{}", controller_name(controller)));
  out.push_back({Write::Kind::MakeDir, dir.path, {}, false, false, true});
  for (Controller controller : dir.controllers) {
    switch (controller) {
      case Controller::Pids:
        write(dir.path + "/pids.max", std::to_string(*limits.pids_max));
        break;
      case Controller::Memory:
        write(dir.path + "/memory.max", std::to_string(*limits.memory_bytes));
        write(dir.path + "/memory.swap.max", "0", true);
        break;
      case Controller::Cpu:
        write(dir.path + "/cpu.max",
              fmt::format("{} {}", limits.cpu->quota_us, limits.cpu->period_us));
        break;
    }
  }
}

Status v2_kill_all(const std::string& dir) {
  std::string kill_file = dir + "/cgroup.kill";
  if (!sys::access(kill_file, F_OK)) return v1_kill_all(dir);
  if (!procs_of(dir).empty()) SANDBOX_TRY(sys::write_file(kill_file, "1"));
  // cgroup.kill returns once every task is signalled; they leave cgroup.procs as they exit.
  if (!poll_until([&] { return procs_of(dir).empty(); }, 5000))
    return plain_error(fmt::format("kill the processes of {}: some are still there after 5 s", dir),
                       "a task stuck in the kernel (state D) ends only when its I/O does");
  return ok();
}

}  // namespace sandbox::cgroup::detail
