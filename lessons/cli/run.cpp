#include "run.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "cgroup.h"
#include "host_probe.h"
#include "launch.h"
#include "plan.h"
#include "supervise.h"

namespace nslab::cli {

CLI::App* setup_run(CLI::App& app, RunOptions& options) {
  CLI::App* run = app.add_subcommand(
      "run", "start a box with the chosen isolation and run tinysh (or -c / -- PROGRAM) in it");
  add_box_flags(*run, options.box);
  run->footer(
      "Examples:\n"
      "  nslab run                                   no isolation at all: the baseline\n"
      "  nslab run --uts --hostname tinyhost         own hostname\n"
      "  nslab run --uts --mount --pivot             + own mount table and root\n"
      "  nslab run --uts --mount --pivot --pid --proc\n"
      "  nslab run --user --map-root --mount --pivot --pid --proc   as a normal user\n"
      "  nslab run --pid --mount --proc --pids 10 -c 'spawn 50'   as root\n"
      "  nslab run --veth -c 'tcp listen 8080'                  as root\n"
      "  nslab run --all -c 'hostname; ps'");
  return run;
}

int run_run(const RunOptions& options) {
  auto spec = to_spec(options.box, find_tinysh());
  if (!spec) {
    fmt::print(stderr, "nslab: {}\n", spec.error().message());
    return 2;
  }
  // What the flags need of this host, from the same facts as `nslab doctor`: a box this host
  // cannot give is refused here, with the reason and the fix, not halfway through its setup.
  auto needs = sandbox::box_needs(*spec);
  sandbox::Caller caller = sandbox::current_caller(
      std::find(needs.begin(), needs.end(), sandbox::Need::IdRanges) != needs.end());
  auto facts = sandbox::probe_host("/", caller, needs);
  if (auto met = sandbox::precheck(facts, needs); !met) {
    fmt::print(stderr, "nslab: {}\n", met.error().message());
    return 2;
  }
  // The host's cgroups matter to a box with limits, or with a view of its cgroup (--cgroup).
  if (!spec->limits.empty() || spec->cgroup)
    if (auto found = sandbox::cgroup::find_cgroups(spec->limits, caller); !found) {
      fmt::print(stderr, "nslab: {}\n", found.error().message());
      return 2;
    }
  auto plan = sandbox::plan(*spec, caller);
  if (!plan) {
    fmt::print(stderr, "nslab: {}\n", plan.error().message());
    return 2;
  }
  // Every start sweeps the cgroups that runners killed with SIGKILL left behind (only root may
  // remove them): a step of the plan when the box has limits, here otherwise; both once the box
  // is on its way, so its start does not wait for the sweep.
  bool sweep_here = !plan->has(sandbox::Action::SweepStaleCgroups) && caller.privileged;
  auto exit = sandbox::run_box(*plan, [sweep_here](const sandbox::Box& box) {
    if (sweep_here)
      for (const auto& note : sandbox::cgroup::sweep_notes(sandbox::cgroup::sweep_stale_everywhere()))
        fmt::print(stderr, "nslab: note: {}\n", note);
    for (const auto& note : box.notes()) fmt::print(stderr, "nslab: note: {}\n", note);
    if (box.link())
      fmt::print(stderr, "nslab: veth {}: {}\n", box.link()->host_link, box.link()->summary());
  });
  if (!exit) {
    fmt::print(stderr, "nslab: {}\n", exit.error().message());
    return sandbox::launch_failure_status(exit.error());
  }
  // The kernel's own count, read from the box's cgroup before it was removed.
  if (!exit->oom_report.empty()) fmt::print(stderr, "nslab: {}\n", exit->oom_report);
  if (exit->signal) {
    const char* name = sigabbrev_np(exit->signal);
    fmt::print(stderr, "nslab: the box's {} was killed by SIG{}\n",
               plan->clone_flags & CLONE_NEWPID ? "PID 1" : "first process",
               name ? name : std::to_string(exit->signal).c_str());
    // reboot(2) called in a PID namespace other than the host's ends that namespace, not the
    // machine: the kernel kills its PID 1, which dies of SIGHUP for a restart, SIGINT for a halt
    // or power-off (reboot(2), pid_namespaces(7)).
    if ((plan->clone_flags & CLONE_NEWPID) && (exit->signal == SIGHUP || exit->signal == SIGINT))
      fmt::print(stderr,
                 "nslab: that is also how a box ends when reboot(2) is called in it: the kernel "
                 "ends its PID namespace, not the machine\n");
  }
  return exit->status();
}

}  // namespace nslab::cli
