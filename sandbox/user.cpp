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
// An unprivileged writer may map exactly one id: its own. Root may map any ranges. A user's
// subordinate ids (/etc/subuid) are mapped by the setuid helpers newuidmap(1) and newgidmap(1),
// which nslab runs in place of writing those two files.
#include <grp.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

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

// The arguments newuidmap(1) and newgidmap(1) take after the PID: "inside outside count" for
// each range.
std::vector<std::string> helper_arguments(const IdMap& map) {
  std::vector<std::string> args;
  for (const auto& r : map) {
    args.push_back(std::to_string(r.inside));
    args.push_back(std::to_string(r.outside));
    args.push_back(std::to_string(r.count));
  }
  return args;
}

}  // namespace

std::string id_map_call(const IdMap& map, std::string_view file, const std::string& helper) {
  if (!helper.empty())
    return fmt::format("{} BOX {}", helper, fmt::join(helper_arguments(map), " "));
  std::string text = format_id_map(map);
  text.pop_back();
  return fmt::format("write(\"/proc/BOX/{}\", \"{}\")", file, text);
}

namespace {

// A user's map: its own id alone, written by nslab; or its subordinate ids, written by the
// helper when it is installed; anything else is refused, with what would make it work.
Status plan_unprivileged_map(const IdMap& map, std::uint32_t self,
                             const std::optional<SubordinateIds>& sub, const std::string& helper,
                             std::string_view kind, std::string& use_helper) {
  if (map.empty() || maps_only_self(map, self)) return ok();
  std::string subfile = fmt::format("/etc/sub{}", kind);
  std::string helper_name = fmt::format("new{}map", kind);
  Error e = plain_error("", "");
  e.step = "plan";
  if (!helper_may_write(map, self, sub)) {
    e.call = fmt::format("a normal user can map only its own {0} ({1}), one id, or through {2}(1) "
                         "its range in {3} ({4})",
                         kind, self, helper_name, subfile,
                         sub ? fmt::format("{}:{}", sub->start, sub->count) : "none here");
    e.hint = sub ? "--map-range maps root inside to the start of your range; or use --map-root, "
                   "or run as root"
                 : fmt::format("use --map-root, or run as root (ranges of your own need a line "
                               "in {})", subfile);
    return e;
  }
  if (helper.empty()) {
    e.call = fmt::format("{} is not installed, and only it may write a map of your range in {}",
                         helper_name, subfile);
    e.hint = "install it (Debian, Ubuntu: apt install uidmap; Fedora: dnf install shadow-utils), "
             "or use --map-root";
    return e;
  }
  use_helper = helper;
  return ok();
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
// --map-range: 65536 ids (a uid_t of 16 bits, what most distribution files assume), from
// useradd's first subordinate id when root writes the map.
constexpr std::uint32_t kFirstSubordinateId = 100000;
constexpr std::uint32_t kRangeSize = 65536;

std::pair<IdMap, IdMap> id_maps_for(const Spec& spec, const Caller& caller) {
  if (!spec.user) return {};
  // Root inside is the person at the keyboard outside (under sudo: SUDO_UID/SUDO_GID). Except
  // when that person is root: see kRootMapsToNobody.
  if (spec.map_root && caller.invoking_uid == 0)
    return {{{0, kNobody, 1}}, {{0, kNobody, 1}}};
  if (spec.map_root) return {{{0, caller.invoking_uid, 1}}, {{0, caller.invoking_gid, 1}}};
  if (spec.map_range) {
    // Root may use any ids: the range the first user of a Debian or Ubuntu machine gets. A user
    // uses its own first range (plan_user() says what to do when it has none).
    if (caller.privileged) return {{{0, kFirstSubordinateId, kRangeSize}}, {{0, kFirstSubordinateId, kRangeSize}}};
    IdMap uids, gids;
    if (caller.subuid) uids.push_back({0, caller.subuid->start, std::min(caller.subuid->count, kRangeSize)});
    if (caller.subgid) gids.push_back({0, caller.subgid->start, std::min(caller.subgid->count, kRangeSize)});
    return {uids, gids};
  }
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
  if (spec.map_range && !caller.privileged && (!caller.subuid || !caller.subgid)) {
    Error e = plain_error(
        fmt::format("--map-range: {} has no range of subordinate {} in {}", caller.invoking_name,
                    caller.subuid ? "gids" : "uids", caller.subuid ? "/etc/subgid" : "/etc/subuid"),
        fmt::format("ask root for one: sudo usermod --add-subuids 100000-165535 --add-subgids "
                    "100000-165535 {} (any free 65536 ids); or run as root",
                    caller.invoking_name));
    e.step = "plan";
    return e;
  }
  if (!caller.privileged) {
    SANDBOX_TRY(plan_unprivileged_map(plan.uid_map, caller.uid, caller.subuid, caller.newuidmap,
                                      "uid", plan.uid_map_helper));
    SANDBOX_TRY(plan_unprivileged_map(plan.gid_map, caller.gid, caller.subgid, caller.newgidmap,
                                      "gid", plan.gid_map_helper));
  }
  // Unprivileged writers must give up setgroups() before they may write gid_map. newgidmap is
  // a privileged writer: the box keeps setgroups(), which su and apt-get call.
  plan.deny_setgroups =
      !caller.privileged && !plan.gid_map.empty() && plan.gid_map_helper.empty();

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
        {op::WriteUidMap{.map = plan.uid_map, .helper = plan.uid_map_helper},
         plan.uid_map_helper.empty()
             ? "say which uids outside the box's ids stand for; written once, from outside"
             : "the setuid helper writes the map, after checking /etc/subuid: only root may "
               "name ids that are not the writer's own"});
  if (plan.deny_setgroups)
    plan.steps.push_back(
        {op::DenySetgroups{},
         "an unprivileged user must give up setgroups() before writing gid_map, or it could drop a "
         "group that denies it access"});
  if (!plan.gid_map.empty())
    plan.steps.push_back(
        {op::WriteGidMap{.map = plan.gid_map, .helper = plan.gid_map_helper},
         "the same for group ids"});
  return ok();
}

namespace {

// newuidmap PID ranges...: the setuid helper checks the ranges against /etc/subuid and writes
// the map; what it prints when it refuses is the error.
Status run_helper(const std::string& helper, pid_t pid, const IdMap& map) {
  std::vector<std::string> argv = {helper, std::to_string(pid)};
  for (auto& a : helper_arguments(map)) argv.push_back(std::move(a));
  auto ran = sys::run_program(argv);
  if (!ran) return ran.error();
  if (ran->status == 0) return ok();
  std::string said = ran->output;
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  Error e = plain_error(
      fmt::format("{} {} (exit status {}): {}", helper, fmt::join(argv.begin() + 1, argv.end(), " "),
                  ran->status, said.empty() ? "it printed nothing" : said),
      "the helper checks the ranges against /etc/subuid and /etc/subgid (subuid(5)): the user "
      "must own the ranges named");
  return e;
}

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

Status write_uid_map(pid_t pid, const op::WriteUidMap& step) {
  if (!step.helper.empty()) return run_helper(step.helper, pid, step.map);
  return write_map(pid, "uid_map", step.map);
}

Status deny_setgroups(pid_t pid) {
  return sys::write_file(fmt::format("/proc/{}/setgroups", pid), "deny");
}

Status write_gid_map(pid_t pid, const op::WriteGidMap& step) {
  if (!step.helper.empty()) return run_helper(step.helper, pid, step.map);
  return write_map(pid, "gid_map", step.map);
}

op::BecomeRootInside become_root_step(const Plan& plan) {
  op::BecomeRootInside step;
  // The box's first process still has the runner's kernel ids. Under sudo those are root's (0),
  // which the map may not cover: switch to the box's root, whose kernel id is the mapped one.
  step.root_group = maps_inside_root(plan.gid_map);
  // Supplementary groups of the runner would show as 65534 inside; drop them when allowed.
  step.drop_groups = step.root_group && !plan.deny_setgroups;
  step.root_user = maps_inside_root(plan.uid_map);
  return step;
}

Status become_root_inside(const BoxSetup& box, const op::BecomeRootInside& step) {
  if (step.root_group) SANDBOX_TRY(sys::set_gid(0));
  if (step.drop_groups) SANDBOX_TRY(sys::drop_supplementary_groups());
  if (step.root_user) SANDBOX_TRY(sys::set_uid(0));
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

std::optional<std::pair<uid_t, gid_t>> root_inside_owner(const IdMap& uids, const IdMap& gids,
                                                         const Caller& caller) {
  auto uid = outside_id(uids, 0);
  if (!uid || *uid == caller.uid) return std::nullopt;
  if (!caller.privileged) return std::nullopt;  // only root may give a file away (CAP_CHOWN)
  auto gid = outside_id(gids, 0);
  return std::pair{static_cast<uid_t>(*uid),
                   gid ? static_cast<gid_t>(*gid) : static_cast<gid_t>(-1)};
}

}  // namespace sandbox
