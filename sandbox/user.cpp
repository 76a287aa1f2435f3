// User namespace and id maps — user_namespaces(7).
//
// A user namespace gives the box its own uid and gid numbers and a full set of capabilities over
// the namespaces it owns, while the kernel keeps checking the real ids outside. Until a map is
// written, every id inside reads as the overflow id 65534 ("nobody"). The maps are written once,
// from outside, by the runner, while the box waits on the sync pipe:
//   1. /proc/PID/uid_map  — "inside outside count" lines;
//   2. /proc/PID/setgroups = "deny" — required before gid_map when the writer lacks CAP_SETGID in
//      the parent namespace (an unprivileged user); otherwise a user could drop a supplementary
//      group that denies it access (CVE-2014-8989). Root skips it so setgroups() keeps working;
//   3. /proc/PID/gid_map.
// An unprivileged writer may map exactly one id: its own. Root may map any ranges.
#include <grp.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <tuple>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

namespace {

bool maps_only_self(const IdMap& map, std::uint32_t self) {
  return map.size() == 1 && map[0].outside == self && map[0].count == 1;
}

bool maps_inside_root(const IdMap& map) {
  for (const auto& r : map)
    if (r.inside == 0) return true;
  return false;
}

}  // namespace

// A box whose root is the host's uid 0, even in a user namespace of its own, is the host's root
// wherever the kernel checks a uid rather than a capability. /proc/sys is the sharp case: its
// files are checked by mode against uid 0 only (proc_sys_permission), so a box that mounts a proc
// of its own (any box with --pid may) writes kernel.core_pattern, and the next crash on the host
// runs the box's program as root. Seen: `unshare -U --map-root-user --mount-proc` run by root
// writes /proc/sys/kernel/* without a word. So when root itself (not a user through sudo) asks
// for --map-root, the box's root becomes nobody, which owns nothing on the host.
constexpr std::uint32_t kNobody = 65534;

std::pair<IdMap, IdMap> id_maps_for(const Spec& spec, const Caller& caller) {
  if (!spec.user) return {};
  // Root inside is the person at the keyboard outside (under sudo: SUDO_UID/SUDO_GID). Except
  // when that person is root: see kRootMapsToNobody.
  if (spec.map_root && caller.invoking_uid == 0)
    return {{{0, kNobody, 1}}, {{0, kNobody, 1}}};
  if (spec.map_root) return {{{0, caller.invoking_uid, 1}}, {{0, caller.invoking_gid, 1}}};
  return {spec.uid_map, spec.gid_map};
}

std::optional<std::uint32_t> outside_id(const IdMap& map, std::uint32_t inside) {
  for (const auto& r : map)
    if (inside >= r.inside && inside - r.inside < r.count) return r.outside + (inside - r.inside);
  return std::nullopt;
}

Status plan_user(const Spec& spec, const Caller& caller, Plan& plan) {
  if (!spec.user) return ok();
  std::tie(plan.uid_map, plan.gid_map) = id_maps_for(spec, caller);
  if (!plan.uid_map.empty()) SANDBOX_TRY(validate_id_map(plan.uid_map, "--map-uid"));
  if (!plan.gid_map.empty()) SANDBOX_TRY(validate_id_map(plan.gid_map, "--map-gid"));
  if (!caller.privileged) {
    if (!plan.uid_map.empty() && !maps_only_self(plan.uid_map, caller.uid)) {
      Error e = plain_error(
          fmt::format("an unprivileged user can map only its own uid ({}), one id", caller.uid),
          "use --map-root or --map-uid N:" + std::to_string(caller.uid) +
              ":1; for ranges use newuidmap(1) or run as root");
      e.step = "plan";
      return e;
    }
    if (!plan.gid_map.empty() && !maps_only_self(plan.gid_map, caller.gid)) {
      Error e = plain_error(
          fmt::format("an unprivileged user can map only its own gid ({}), one id", caller.gid),
          "use --map-root or --map-gid N:" + std::to_string(caller.gid) +
              ":1; for ranges use newgidmap(1) or run as root");
      e.step = "plan";
      return e;
    }
  }
  // Unprivileged writers must give up setgroups() before they may write gid_map.
  plan.deny_setgroups = !caller.privileged && !plan.gid_map.empty();

  if (plan.uid_map.empty() && plan.gid_map.empty()) {
    plan.notes.push_back(
        "--user without --map-root or --map-uid: no id is mapped, so the box runs as the "
        "overflow user 65534 (nobody) and owns nothing");
    return ok();
  }
  if (spec.map_root && caller.invoking_uid == 0)
    plan.notes.push_back(
        "--map-root run by root itself maps the box's root to nobody (65534), not to the host's "
        "root: a root of uid 0 could write the host's kernel settings through a /proc of its own "
        "(/proc/sys/kernel/core_pattern runs a program as root). Through sudo, it maps to you");
  else if (auto outside = outside_id(plan.uid_map, 0); outside && *outside == 0)
    plan.notes.push_back(
        "the box's root is the host's uid 0: it can write the host's kernel settings through a "
        "/proc of its own (/proc/sys/kernel/core_pattern runs a program as the host's root) and "
        "every root-owned file it can see. Map it elsewhere (--map-uid 0:100000:65536) unless you "
        "mean exactly that");
  if (!plan.uid_map.empty())
    plan.steps.push_back(
        {Action::WriteUidMap, Side::Runner,
         fmt::format("write(\"/proc/BOX/uid_map\", \"{}\")",
                     format_id_map(plan.uid_map).substr(0, format_id_map(plan.uid_map).size() - 1)),
         "say which uids outside the box's ids stand for; written once, from outside"});
  if (plan.deny_setgroups)
    plan.steps.push_back(
        {Action::DenySetgroups, Side::Runner, "write(\"/proc/BOX/setgroups\", \"deny\")",
         "an unprivileged user must give up setgroups() before writing gid_map, or it could drop a "
         "group that denies it access"});
  if (!plan.gid_map.empty())
    plan.steps.push_back(
        {Action::WriteGidMap, Side::Runner,
         fmt::format("write(\"/proc/BOX/gid_map\", \"{}\")",
                     format_id_map(plan.gid_map).substr(0, format_id_map(plan.gid_map).size() - 1)),
         "the same for group ids"});
  return ok();
}

namespace {

// One write of the whole map, as the kernel requires. When it is refused as malformed, the hint
// gets this map's own size, which tells whether a size limit is the reason.
Status write_map(pid_t pid, std::string_view file, const IdMap& map) {
  std::string text = format_id_map(map);
  Status written = sys::write_file(fmt::format("/proc/{}/{}", pid, file), text);
  if (!written && written.error().err == EINVAL)
    written.error().hint += fmt::format(" (this map: {} lines, {} bytes)", map.size(), text.size());
  return written;
}

}  // namespace

Status write_uid_map(pid_t pid, const IdMap& map) {
  return write_map(pid, "uid_map", map);
}

Status deny_setgroups(pid_t pid) {
  return sys::write_file(fmt::format("/proc/{}/setgroups", pid), "deny");
}

Status write_gid_map(pid_t pid, const IdMap& map) {
  return write_map(pid, "gid_map", map);
}

Status become_root_inside(const BoxSetup& box) {
  const Plan& plan = box.plan;
  // The box's first process still has the runner's kernel ids. Under sudo those are root's (0),
  // which the map may not cover: switch to the box's root, whose kernel id is the mapped one.
  if (maps_inside_root(plan.gid_map)) {
    if (::setresgid(0, 0, 0) < 0) return make_error("setresgid(0, 0, 0)", errno);
    // Supplementary groups of the runner would show as 65534 inside; drop them when allowed.
    if (!plan.deny_setgroups && ::setgroups(0, nullptr) < 0)
      return make_error("setgroups(0, NULL)", errno);
  }
  if (maps_inside_root(plan.uid_map) && ::setresuid(0, 0, 0) < 0)
    return make_error("setresuid(0, 0, 0)", errno);
  // Changing ids also clears the "dumpable" flag (prctl(2)), and while it is clear proc(5) makes
  // every /proc/PID file of the box owned by the host's root. When the map does not cover the
  // host's root (--map-uid 0:100000:65536), the box's root then cannot open its own
  // /proc/self/timens_offsets (EACCES, seen with --time) or /proc/self/uid_map for writing.
  // The box is an ordinary process of its mapped user: let it own its /proc files again.
  SANDBOX_TRY(sys::set_dumpable());
  // The change of ids cleared the parent-death signal too: arm it again, then make sure the
  // runner did not die in between.
  SANDBOX_TRY(sys::set_parent_death_signal(SIGKILL));
  if (!runner_alive(box)) return plain_error("the runner exited during the box's setup");
  return ok();
}

}  // namespace sandbox
