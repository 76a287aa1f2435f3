// Entering a running box: a second process in every namespace of the box's first process, as
// `nsenter -a -t PID` does — setns(2), namespaces(7), and pid_namespaces(7) for why the fork.
//
// The order, in enter_box():
//   1. open everything while still on the host: /proc/BOX/ns/* (those that differ from ours),
//      /proc/BOX/root, the box's cgroup.procs files, and tinysh. After setns(mnt), the host's
//      paths are gone; an fd opened before keeps pointing where it pointed.
//   2. check the box is still the process `nslab ps` saw (same start time): pids are reused.
//   3. setns() into each namespace, user first: joining the others needs CAP_SYS_ADMIN in the
//      user namespace that owns them, which a process has once it is inside that user namespace
//      (and root has already). The table in namespaces.cpp is in that order.
//   4. fork(): setns(CLONE_NEWPID) does not move the caller, only the children it makes next —
//      the new shell gets a new PID inside the box, and the box's `ps` shows it.
//   5. in the child: join the box's own cgroups (its limits count the new shell too), take the
//      box's root (fchdir + chroot "."), become the box's root user when there is a user
//      namespace, restore the signal mask, start a session of its own (on a terminal with a pty
//      of its own, opened on the host before step 3: see enter_box), mark inherited fds
//      close-on-exec, exec.
//   6. in nslab: relay the shell's pty and wait, as `nslab run` does (supervise.cpp); the
//      shell's exit status is nslab's.
//
// What setns(CLONE_NEWNS) does to the root: the kernel sets the caller's root and working
// directory to the root of the mount namespace's tree. For a box that called pivot_root, that is
// already the box's new root: `nsenter -m -t BOX` (which joins the mount namespace and does not
// chroot) could not find the host's /bin/ls, and ran the box's /bin/tinysh, whose `ls /` showed
// NSLAB-ROOTFS (Linux 6.x). The fchdir+chroot stays: it names the box's root explicitly (the root
// of the box's first process, /proc/BOX/root) instead of relying on where the namespace's tree
// starts, and it is also right for a box whose root is not its mount namespace's.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"
#include "spec.h"
#include "supervise.h"

namespace sandbox {

struct EnterRequest {
  pid_t box_pid = 0;
  pid_t runner_pid = 0;               // its cgroups are compared with the box's
  std::uint64_t box_start_ticks = 0;  // as `nslab ps` read it; a different value: the box ended
  Command command;                    // tinysh, tinysh -c, or a program looked up in the box
  std::string tinysh_path;            // the host's tinysh, opened before entering
};

// Enters the box, runs the command there and waits for it. The exit is the command's.
Result<BoxExit> enter_box(const EnterRequest& request);

// --- Pure parts ------------------------------------------------------------------------------

struct NamespaceToJoin {
  std::string name;          // "user", "mnt", ...
  std::uint64_t clone_flag;  // CLONE_NEWUSER, ...
};
// The namespaces (names as in /proc/PID/ns, to link text) where the box's differ from ours, in
// the order setns() must join them. A namespace that is the same is skipped: joining one's own
// user namespace is even an error (EINVAL).
std::vector<NamespaceToJoin> namespaces_to_join(const std::map<std::string, std::string>& box,
                                                const std::map<std::string, std::string>& own);

// The cgroup directories of the box's own cgroups: the hierarchies where the box's line in
// /proc/BOX/cgroup differs from its runner's (the runner made nslab-box-<pid> for its limits),
// as directories under the cgroup mounts of `mountinfo` (the caller's /proc/self/mountinfo).
// A hierarchy this mount namespace does not show, or a path with "..", is skipped.
std::vector<std::string> box_cgroup_dirs(std::string_view box_cgroup,
                                         std::string_view runner_cgroup,
                                         std::string_view mountinfo);

}  // namespace sandbox
