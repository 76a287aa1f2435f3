// plan(): from a Spec to the ordered list of steps that make the box. Pure: no system call is
// made here, so `nslab explain`, the lesson driver and the unit tests all read the same list the
// runner executes. A Spec that cannot work is refused here, with the reason and the flag that
// fixes it, before anything touches the kernel.
//
// The order of a box's life (launch.cpp walks it):
//   runner  — before the clone: make the box's cgroup with its limits, and on a terminal open
//             the box's pty
//   clone   — clone3() with the CLONE_NEW* flags; the child waits on the sync pipe
//   child   — right away: die with the runner, mark inherited fds close-on-exec, wait
//   parent  — between the clone and the release: join the child to the cgroup, write id maps,
//             plug the veth into the box's network namespace
//   runner  — after the release, while the box sets itself up: sweep stale cgroups
//   child   — after the release: the setup of each kind of isolation, in order, then a session
//             of its own, then exec (among them a read-only view of the box's own cgroup at
//             /sys/fs/cgroup)
//   runner  — while the box runs, on a terminal: relay the pty (done by run_box)
//   runner  — after the box ends: remove its cgroup (listed for explain; done by RAII)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "result.h"
#include "spec.h"
#include "operations.h"

namespace sandbox {

struct Plan {
  Spec spec;
  Caller caller;
  std::uint64_t clone_flags = 0;
  IdMap uid_map, gid_map;       // what the parent writes (resolved from --map-root etc.)
  bool deny_setgroups = false;  // unprivileged gid_map writes need setgroups=deny first
  // A user's map of its subordinate ids is written by these setuid helpers, not by nslab
  // (empty: nslab writes the map file itself).
  std::string uid_map_helper, gid_map_helper;
  std::string hostname;         // what sethostname() sets, when SetHostname is planned
  std::vector<Step> steps;
  std::vector<std::string> notes;  // things worth knowing that are not errors

  bool has(Action action) const;
};

// A refusal is an Error whose `call` says what cannot work and whose `hint` names the flag (or
// action) that makes it work.
Result<Plan> plan(const Spec& spec, const Caller& caller);

// A short name for a step's action ("pivot_root", "write uid_map"), used in error messages.
std::string_view action_label(Action action);

// The namespaces in the clone flags as the names /proc/PID/ns uses ("uts", "mnt", ...).
std::vector<std::string> namespace_names(std::uint64_t clone_flags);

// `nslab explain`'s text: numbered steps, who runs them, the calls, and why.
std::string describe(const Plan& plan);

}  // namespace sandbox
