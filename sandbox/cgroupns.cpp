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
#include <sched.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

Status plan_cgroup_namespace(const Spec& spec, Plan& plan) {
  if (!spec.cgroup) return ok();
  plan.steps.push_back({Action::EnterCgroupNamespace, Side::Box, "unshare(CLONE_NEWCGROUP)",
                        "the box's current cgroup becomes the root of its view of the cgroup "
                        "tree: /proc/self/cgroup shows \"0::/\""});
  return ok();
}

Status enter_cgroup_namespace() {
  return sys::unshare(CLONE_NEWCGROUP);
}

}  // namespace sandbox
