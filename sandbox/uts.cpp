// UTS namespace — uts_namespaces(7).
//
// The UTS namespace holds two strings: the hostname and the NIS domain name (uname(2) reports
// them). A box with its own UTS namespace starts with a copy of the host's names; sethostname(2)
// then changes only the box's copy. Without --uts, `hostname NAME` inside the box would rename
// the host.
#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

Status plan_uts(const Spec& spec, Plan& plan) {
  if (!spec.uts) return ok();
  if (!spec.hostname) {
    plan.notes.push_back(
        "--uts without --hostname: the box starts with a copy of the host's name; `hostname "
        "NAME` inside changes only the box's");
    return ok();
  }
  SANDBOX_TRY(validate_hostname(*spec.hostname));
  plan.hostname = *spec.hostname;
  plan.steps.push_back({op::SetHostname{.name = plan.hostname},
                        "name the box; the host's name is untouched because the UTS namespace "
                        "is the box's own"});
  return ok();
}

Status set_hostname(const op::SetHostname& step) {
  return sys::sethostname(step.name);
}

}  // namespace sandbox
