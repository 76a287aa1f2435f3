// The sweep of stale cgroups — cgroups(7). A cgroup directory outlives the processes in it: only
// rmdir removes it, and the kernel refuses that (EBUSY) while a process is still inside. A runner
// killed with SIGKILL cannot remove its box's cgroup, so every start looks next to its own cgroup
// for nslab-box-<pid> and nslab-runner-<pid> whose runner is gone (/proc/<pid>/stat is missing or
// says zombie), removes the empty ones deepest first and reports the busy ones. It never kills,
// and never touches a name nslab does not make.
#include <unistd.h>

#include <fmt/format.h>

#include "cgroup.h"
#include "common/text.h"
#include "sys.h"

namespace sandbox::cgroup {

namespace {

// Every pid in `dir` and the cgroups under it (a root box may have made its own sub-cgroups).
std::vector<pid_t> procs_in_tree(const std::string& dir) {
  std::vector<pid_t> pids = detail::procs_of(dir);
  for (const std::string& child : detail::child_dirs(dir)) {
    auto more = procs_in_tree(child);
    pids.insert(pids.end(), more.begin(), more.end());
  }
  return pids;
}

}  // namespace

namespace detail {

// Where boxes of SIGKILLed runners may be: each parent_dir of the layout, and on v2 also nslab's
// parent under the root cgroup, where a root runner whose own cgroup held processes put its box
// (while this runner's may not), when it is there and this process may remove things in it.
std::vector<std::string> sweep_parents(const Layout& layout) {
  std::vector<std::string> parents;
  for (const Placement& p : layout.placements)
    if (!contains(parents, p.parent_dir)) parents.push_back(p.parent_dir);
  for (const Placement& p : layout.placements) {
    if (p.version != Version::V2 || p.mount_point.empty()) continue;
    std::string at_root = p.mount_point + "/" + std::string(kV2ParentName);
    if (!contains(parents, at_root) && sys::access(at_root, W_OK)) parents.push_back(at_root);
  }
  return parents;
}

}  // namespace detail

Leftover judge_leftover(std::string_view name, const std::vector<pid_t>& procs,
                       const std::function<bool(pid_t)>& runner_alive) {
  auto runner = runner_of(name);
  if (!runner) return Leftover::NotOurs;
  if (runner_alive(*runner)) return Leftover::RunnerAlive;
  return procs.empty() ? Leftover::Remove : Leftover::LeaveBusy;
}

bool live_runner(pid_t pid) {
  if (pid == ::getpid()) return false;
  auto text = sys::read_file(fmt::format("/proc/{}/stat", pid));
  std::string stat = text ? *text : std::string();
  // "PID (COMM) STATE ...": COMM may hold blanks and parentheses, so look after the last ')'.
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  return stat[paren + 2] != 'Z' && stat[paren + 2] != 'X';
}

SweepReport sweep_stale(const Layout& layout, const std::function<bool(pid_t)>& runner_alive) {
  SweepReport report;
  for (const std::string& parent : detail::sweep_parents(layout)) {
    Version version = Version::V1;
    for (const Placement& p : layout.placements)
      if (parent.starts_with(p.mount_point.empty() ? p.parent_dir : p.mount_point))
        version = p.version;
    for (const std::string& dir : detail::child_dirs(parent)) {
      // Other cgroups (a systemd slice may hold hundreds below it) are judged by name alone,
      // and boxes of live runners by their runner: only a stale box's tree is read.
      auto runner = runner_of(detail::file_name(dir));
      if (!runner || runner_alive(*runner)) continue;
      std::vector<pid_t> procs = procs_in_tree(dir);
      switch (judge_leftover(detail::file_name(dir), procs, runner_alive)) {
        case Leftover::NotOurs:
        case Leftover::RunnerAlive:
          break;
        case Leftover::Remove: {
          // Empty, but maybe with cgroups the box made inside: removed deepest first.
          Status status = detail::remove_tree(dir, version);
          if (status)
            report.removed.push_back(dir);
          else
            report.errors.push_back(status.error().message());
          break;
        }
        case Leftover::LeaveBusy: {
          std::vector<std::string> list;
          for (pid_t pid : procs) list.push_back(std::to_string(pid));
          report.busy.push_back(fmt::format(
              "{} still holds pids {}, but its runner is gone: left alone (kill them, then rmdir "
              "it)",
              dir, common::join(list, " ")));
          break;
        }
      }
    }
  }
  return report;
}

SweepReport sweep_stale_everywhere(bool still_mine) {
  Layout everywhere = layout_of_each(this_process());
  if (!still_mine) return sweep_stale(everywhere);
  pid_t self = ::getpid();
  return sweep_stale(everywhere, [self](pid_t pid) { return pid == self || live_runner(pid); });
}

std::vector<std::string> sweep_notes(const SweepReport& report) {
  std::vector<std::string> notes;
  for (const std::string& busy : report.busy) notes.push_back("stale cgroup " + busy);
  for (const std::string& error : report.errors)
    notes.push_back("could not remove a stale cgroup: " + error);
  return notes;
}

}  // namespace sandbox::cgroup
