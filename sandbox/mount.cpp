// Mount namespace, propagation and pivot_root — mount_namespaces(7), pivot_root(2).
//
// A new mount namespace starts as a copy of the host's mount table. Copies stay linked to the
// originals when the host marks its mounts "shared" (systemd does, for /): a mount made in the
// box would then appear on the host too. So the very first thing the box does in its mount
// namespace is make every mount private, recursively. (A mount namespace made together with a
// new user namespace gets its shared mounts turned into slaves by the kernel, but a root box has
// no such help.)
//
// Switching the root: pivot_root(new_root, put_old) moves the current root to put_old and makes
// new_root the root. With put_old = new_root = "." (run from inside the new root), the old root
// ends up stacked on top of the new one, and umount2(".", MNT_DETACH) drops it: no /.old or
// /oldroot directory is ever left behind, and nothing of the host stays reachable by path. Unlike
// chroot(2), which changes only the path lookup root of one process and can be escaped with
// `cd ..` from a directory fd kept outside, the old root is gone from the namespace.
#include <sched.h>
#include <sys/mount.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

Status plan_mount(const Spec& spec, Plan& plan) {
  if (!spec.mount) return ok();
  plan.steps.push_back(
      {op::MakeMountsPrivate{.mount = {"", "/", "", MS_REC | MS_PRIVATE, ""}},
       "stop mount events from spreading between the box and the host, before any mount: "
       "nothing the box mounts can appear on the host"});
  if (!spec.pivot)
    plan.notes.push_back(
        "--mount without --pivot: the box has its own mount table, but it is a copy of the "
        "host's and / is still the host's root");
  return ok();
}

Status plan_pivot(const Spec& spec, Plan& plan) {
  if (!spec.pivot) return ok();
  plan.steps.push_back(
      {op::PivotRoot{.new_root = kNewRoot},
       "swap the root: the new root becomes /, the host's root is stacked on it and then "
       "detached, so no path leads back to the host"});
  return ok();
}

Status make_mounts_private(const op::MakeMountsPrivate& step) {
  return sys::mount(step.mount);
}

Status pivot_into(const op::PivotRoot& step) {
  SANDBOX_TRY(sys::chdir(step.new_root.c_str()));
  SANDBOX_TRY(sys::pivot_root(".", "."));
  // The old root now sits on top of the new one at "/": detach it and everything under it. Lazy
  // (MNT_DETACH), because the box's own fds may still point into it until exec.
  SANDBOX_TRY(sys::umount2(".", MNT_DETACH));
  return sys::chdir("/");
}

}  // namespace sandbox
