// Cgroup namespace — cgroup_namespaces(7).
//
// A cgroup namespace changes the view of the cgroup tree: the cgroup a process is in when the
// namespace is made becomes "/" in /proc/self/cgroup (and in a cgroupfs mounted inside). It sets
// no limits; limits are cgroups themselves (a later part of nslab).
//
// Why unshare() in the box instead of a clone flag: the namespace's root is fixed at the moment
// it is created. The runner will move the box into its own cgroup between the clone and the
// release (for --pids, --memory, --cpus); only a namespace made after that move has the box's
// cgroup as its root. So the box unshares it itself, right after the release.
//
// Seen from inside, the namespace's root is a cgroup like any other: a box that mounts a cgroupfs
// may make children there and move its processes, if the files let it. With --user those files
// belong to the host's root, whom the box's root is not, so root hands them over (delegation).
#include <sched.h>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

Status plan_cgroup_namespace(const Spec& spec, Plan& plan) {
  if (!spec.cgroup) return ok();
  plan.steps.push_back({op::EnterCgroupNamespace{},
                        "the box's current cgroup becomes the root of its view of the cgroup "
                        "tree: /proc/self/cgroup shows \"0::/\""});
  return ok();
}

Status plan_cgroup_delegation(const Spec& spec, const Caller& caller, Plan& plan) {
  if (!spec.cgroup || !spec.user || !caller.privileged || !plan.has(Action::CreateCgroup))
    return ok();
  auto uid = outside_id(plan.uid_map, 0);
  auto gid = outside_id(plan.gid_map, 0);
  if (!uid || !gid) return ok();  // no root inside: nobody to hand it to
  plan.steps.push_back(
      {op::DelegateCgroup{.uid = *uid, .gid = *gid},
       "the box's root may make cgroups below its own and move its processes into them, as "
       "systemd's Delegate=yes lets a service; its limit files stay the host's root's, so it "
       "divides what it was given and never enlarges it"});
  return ok();
}

Status enter_cgroup_namespace() {
  return sys::unshare(CLONE_NEWCGROUP);
}

}  // namespace sandbox
