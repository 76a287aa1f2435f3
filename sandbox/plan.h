// plan(): from a Spec to the ordered list of steps that make the box. Pure: no system call is
// made here, so `nslab explain`, the lesson driver and the unit tests all read the same list the
// runner executes. A Spec that cannot work is refused here, with the reason and the flag that
// fixes it, before anything touches the kernel.
//
// The order of a box's life (launch.cpp walks it):
//   runner  — before the clone (nothing yet; cgroup creation will go here)
//   clone   — clone3() with the CLONE_NEW* flags; the child waits on the sync pipe
//   child   — right away: die with the runner, mark inherited fds close-on-exec, wait
//   parent  — between the clone and the release: write id maps (later: join a cgroup, move a
//             veth into the box)
//   child   — after the release: the setup of each kind of isolation, in order, then exec
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "result.h"
#include "spec.h"

namespace sandbox {

// Who runs a step: the runner process, or the box's first process before it execs.
enum class Side { Runner, Box };

enum class Action {
  Clone,              // clone3 with the namespace flags
  DieWithRunner,      // prctl(PR_SET_PDEATHSIG) + getppid() check
  CloseInheritedFds,  // close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)
  WaitForRelease,     // read() on the sync pipe
  WriteUidMap,        // parent: /proc/PID/uid_map
  DenySetgroups,      // parent: /proc/PID/setgroups
  WriteGidMap,        // parent: /proc/PID/gid_map
  Release,            // parent: write() on the sync pipe
  BecomeRootInside,   // setresgid/setresuid(0) once the maps exist
  EnterCgroupNamespace,
  SetHostname,
  MakeMountsPrivate,
  MountRootfsTmpfs,  // the embedded rootfs: tmpfs + tinysh binds + /etc + /tmp
  BindRootfsDir,     // --rootfs DIR
  MountDev,
  MountProc,
  ProtectProc,  // read-only /proc/sys & co, masked /proc/kcore & co
  PivotRoot,
  EnterTimeNamespace,
  Exec,
};

struct Step {
  Action action;
  Side side;
  std::string calls;  // the system call(s), as text
  std::string why;    // one sentence
};

struct Plan {
  Spec spec;
  Caller caller;
  std::uint64_t clone_flags = 0;
  IdMap uid_map, gid_map;       // what the parent writes (resolved from --map-root etc.)
  bool deny_setgroups = false;  // unprivileged gid_map writes need setgroups=deny first
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
