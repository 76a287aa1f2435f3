// What `nslab explain` says about a box's cgroup, and the plan's cgroup steps made from it —
// cgroups(7). The text is made from the same values the calls use: the mkdirs and writes of
// creation_writes() that BoxCgroup::create() runs, the cgroup.procs of each box directory that
// join() writes, and cgroup.kill (v2) or kill(2) for each pid (v1) and rmdir that remove() does.
// Four phases, in the order of a box's life: the sweep, creation, the join, removal.
#include <algorithm>

#include <fmt/format.h>

#include "cgroup.h"
#include "common/text.h"
#include "size.h"

namespace sandbox::cgroup {

std::vector<std::string> sweep_calls(const Layout& layout) {
  std::vector<std::string> parents = detail::sweep_parents(layout);
  for (std::string& parent : parents) parent += "/nslab-box-PID";
  // sweep_stale_everywhere(): every controller's parents, not only this box's.
  return {fmt::format("rmdir {} and the same under every other controller's nslab parent (only "
                      "those whose runner PID is gone and whose cgroup.procs is empty)",
                      common::join(parents, ", "))};
}

std::vector<std::string> creation_calls(const Layout& layout, const Limits& limits,
                                        std::string_view name) {
  std::vector<std::string> calls;
  for (const Write& w : creation_writes(layout, limits, name)) {
    if (w.kind == Write::Kind::MakeDir)
      calls.push_back(fmt::format("mkdir {}", w.path));
    else
      calls.push_back(
          fmt::format("write {} \"{}\"{}", w.path, w.text, w.if_present ? " (if present)" : ""));
  }
  return calls;
}

std::vector<std::string> join_calls(const Layout& layout, std::string_view name) {
  std::vector<std::string> joins;
  for (const BoxDir& dir : box_dirs(layout, name))
    joins.push_back(fmt::format("write {}/cgroup.procs \"CHILD_PID\"", dir.path));
  return joins;
}

std::vector<std::string> remove_calls(const Layout& layout, std::string_view name) {
  std::vector<std::string> removes;
  for (const BoxDir& dir : box_dirs(layout, name)) {
    if (dir.version == Version::V2)
      removes.push_back(fmt::format("write {}/cgroup.kill \"1\"", dir.path));
    else
      removes.push_back(
          fmt::format("kill(PID, SIGKILL) for each PID in {}/cgroup.procs", dir.path));
    removes.push_back(fmt::format("rmdir {}", dir.path));
  }
  // A runner that moved into a leaf goes home again (BoxCgroup::go_home).
  for (const Placement& p : layout.placements)
    if (p.move_runner) {
      removes.push_back(
          fmt::format("write {0}/cgroup.subtree_control \"-CONTROLLERS\" (and in {1}); write "
                      "{1}/cgroup.procs \"RUNNER_PID\"; rmdir {0}/{2} {0}",
                      p.parent_dir, p.own_dir, runner_leaf_name(name)));
      break;
    }
  return removes;
}

namespace {

StepText sweep_step(const Layout& layout) {
  return {Phase::Sweep, Side::Runner, common::join(sweep_calls(layout), "; "),
          "a runner killed with SIGKILL could not remove its box's cgroup; the next "
          "start does"};
}

// What each limit does, naming the controller and its hierarchy.
std::vector<std::string> limit_reasons(const Layout& layout, const Limits& limits) {
  std::vector<std::string> why;
  for (const Placement& p : layout.placements) {
    std::string where = fmt::format("{} on {}", controller_name(p.controller), p.hierarchy);
    switch (p.controller) {
      case Controller::Pids:
        why.push_back(fmt::format("{}: at most {} tasks, a fork beyond fails with EAGAIN", where,
                                  *limits.pids_max));
        break;
      case Controller::Memory:
        why.push_back(fmt::format(
            "{}: {} of memory and no swap; beyond it the OOM killer ends a process of the box",
            where, tinysh::format_size(*limits.memory_bytes)));
        break;
      case Controller::Cpu:
        why.push_back(fmt::format(
            "{}: {} = {} µs of CPU time every {} µs; beyond it the box waits (is throttled)", where,
            format_cpus(*limits.cpu), limits.cpu->quota_us, limits.cpu->period_us));
        break;
    }
  }
  return why;
}

// Why the v2 parent is where it is: nslab/ holds no processes, and (the first placement that
// needed either) a root runner's nslab/ under the root cgroup or a runner moving into a leaf.
std::vector<std::string> v2_parent_reasons(const Layout& layout, std::string_view name) {
  std::vector<std::string> why;
  bool v2 = std::any_of(layout.placements.begin(), layout.placements.end(),
                        [](const Placement& p) { return p.version == Version::V2; });
  if (v2)
    why.push_back(
        "on v2 the box's parent nslab/ holds no processes, so it may hand controllers to its "
        "children (the no-internal-processes rule)");
  for (const Placement& p : layout.placements) {
    if (p.at_v2_root) {
      why.push_back(fmt::format(
          "the runner's cgroup {} holds processes and cannot hand controllers down, so nslab/ "
          "goes under the root cgroup, which that rule exempts (only root may do this)",
          p.own_dir));
      break;
    }
    if (p.move_runner) {
      why.push_back(fmt::format(
          "the runner is alone in its cgroup {}: it first moves itself into nslab/{}, so {} "
          "holds no process and may hand controllers down",
          p.own_dir, runner_leaf_name(name), p.own_dir));
      break;
    }
  }
  return why;
}

StepText create_step(const Layout& layout, const Limits& limits, std::string_view name) {
  std::vector<std::string> why = limit_reasons(layout, limits);
  for (std::string& reason : v2_parent_reasons(layout, name)) why.push_back(std::move(reason));
  return {Phase::Create, Side::Runner, common::join(creation_calls(layout, limits, name), "; "),
          common::join(why, "; ")};
}

StepText join_step(const Layout& layout, std::string_view name) {
  return {Phase::Join, Side::Runner, common::join(join_calls(layout, name), "; "),
          "the box's first process is counted before it runs anything, and everything "
          "it starts inherits the cgroup; the runner itself stays outside the limits"};
}

StepText remove_step(const Layout& layout, std::string_view name) {
  return {Phase::Remove, Side::Runner, common::join(remove_calls(layout, name), "; "),
          "nothing of the box outlives it: its last processes, then its cgroup; the "
          "OOM count is read first (memory.events or memory.oom_control oom_kill)"};
}

}  // namespace

std::vector<StepText> describe_steps(const Layout& layout, const Limits& limits,
                                     std::string_view name) {
  return {sweep_step(layout), create_step(layout, limits, name), join_step(layout, name),
          remove_step(layout, name)};
}

}  // namespace sandbox::cgroup

namespace sandbox {

Result<std::vector<Step>> plan_cgroup_limits(const Spec& spec, const Caller& caller) {
  std::vector<Step> steps;
  const cgroup::Limits& limits = spec.limits;
  if (limits.empty()) return steps;
  if (!caller.cgroup_layout) {
    Error e = plain_error("the host's cgroup layout was not looked up before planning",
                          "call cgroup::find_cgroups() for the spec's limits first");
    e.step = "plan";
    return e;
  }
  for (cgroup::Controller c : limits.controllers())
    if (!caller.cgroup_layout->find(c)) {
      Error e = plain_error(fmt::format("no cgroup hierarchy found for the {} controller",
                                        cgroup::controller_name(c)),
                            "see `nslab doctor` for this host's cgroup layout");
      e.step = "plan";
      return e;
    }
  if (caller.cgroup_refusal) {
    Error e = *caller.cgroup_refusal;
    e.step = "plan";
    return e;
  }
  const cgroup::Layout& layout = *caller.cgroup_layout;
  for (const cgroup::StepText& text : cgroup::describe_steps(layout, limits, cgroup::kBoxNamePattern)) {
    switch (text.phase) {
      case cgroup::Phase::Sweep:
        steps.push_back({op::SweepStaleCgroups{.layout = layout}, text.why});
        break;
      case cgroup::Phase::Create:
        steps.push_back({op::CreateCgroup{.layout = layout, .limits = limits}, text.why});
        break;
      case cgroup::Phase::Join:
        steps.push_back({op::JoinCgroup{.layout = layout}, text.why});
        break;
      case cgroup::Phase::Remove:
        steps.push_back({op::RemoveCgroup{.layout = layout}, text.why});
        break;
    }
  }
  return steps;
}

}  // namespace sandbox
