// The box's read-only view of its own cgroup — cgroups(7) and cgroup_namespaces(7).
//
// A tool finds a process's cgroup in two steps: the path in /proc/self/cgroup, then the cgroup
// filesystem that /proc/self/mountinfo says shows that path (a mount's 4th field is the
// directory of the hierarchy it shows). tinysh's `cgroup` and `hog` do just that. A pivoted box
// has no cgroup filesystem at all (the host's /sys/fs/cgroup went with the old root), so it could
// neither show its limits nor read the OOM killer's count. So a box with its own mount table and
// a cgroup of its own (--pids, --memory, --cpus) or its own view of the tree (--cgroup) gets the
// hierarchies it is in mounted read-only at /sys/fs/cgroup, shaped as systemd mounts them:
//   v2 alone    one cgroup2 mount at /sys/fs/cgroup
//   v1, hybrid  a small tmpfs at /sys/fs/cgroup holding one directory per hierarchy (pids,
//               memory, cpu,cpuacct, unified for v2), each with its mount; the tmpfs is made
//               read-only once they are in
// Each mount shows the box's own cgroup and nothing above it, in one of two ways:
//   --cgroup    a fresh mount of the hierarchy, made inside the box's cgroup namespace: the kernel
//               roots it at the namespace's root, the box's cgroup, which /proc/self/cgroup calls
//               "/"
//   otherwise   a bind mount of the box's own directory from the host (nslab-box-<runner pid>).
//               Its root in mountinfo is then the box's cgroup path, which is exactly what
//               /proc/self/cgroup names, so the two match without mounting at that path
// Read-only, so writing pids.max inside fails with EROFS: the view is for looking. (A root box
// without --user could still mount a writable cgroupfs of its own; with --user the host's cgroup
// files belong to nobody the box can be.)
//
// Without --pivot the host's /sys/fs/cgroup is there, and already shows the box's cgroup at its
// path; only a cgroup namespace breaks that match ("/" would read the host's root cgroup), so
// then the host's cgroup mounts are detached and the view mounted in their place, in the box's
// mount namespace only. In a user namespace the kernel refuses the detach (EINVAL: mounts that
// came from a more privileged mount namespace are locked together), and on a pure v2 host the
// fresh cgroup2 mount would then land on the root of a mount of the same hierarchy, which the
// kernel refuses with EBUSY (seen on Debian's 6.1 and 6.12 with systemd's layout). So on the
// host's root a small tmpfs covers whatever is left there first, and the view goes on top of it. A --rootfs DIR gets the
// view only if it has /sys/fs/cgroup as real directories; without one, `cgroup` inside says how
// to mount it.
#include <sys/mount.h>

#include <algorithm>

#include <fmt/format.h>

#include "cgroup.h"
#include "isolation.h"
#include "sys.h"

namespace sandbox::cgroup {

View plan_view(const Layout& layout, std::string_view name, bool cgroup_namespace) {
  View view;
  if (layout.placements.empty() || (!cgroup_namespace && name.empty())) return view;
  bool v2_alone = std::all_of(layout.placements.begin(), layout.placements.end(),
                              [](const Placement& p) { return p.version == Version::V2; });
  std::vector<std::string> seen;  // one mount per hierarchy, however many controllers it has
  for (const Placement& p : layout.placements) {
    if (std::find(seen.begin(), seen.end(), p.mount_point) != seen.end()) continue;
    seen.push_back(p.mount_point);
    ViewMount mount;
    mount.version = p.version;
    mount.controllers = p.mount_options;
    if (v2_alone)
      mount.target = std::string(kViewDir);
    else if (p.version == Version::V2)
      mount.target = std::string(kViewDir) + "/unified";
    else if (size_t slash = p.mount_point.rfind('/'); slash != std::string::npos)
      mount.target = std::string(kViewDir) + p.mount_point.substr(slash);
    else
      mount.target = fmt::format("{}/{}", kViewDir, controller_name(p.controller));
    if (!cgroup_namespace) mount.bind_from = p.parent_dir + "/" + std::string(name);
    view.mounts.push_back(std::move(mount));
  }
  view.holder_tmpfs = !v2_alone;
  return view;
}

}  // namespace sandbox::cgroup

namespace sandbox {

namespace {

constexpr unsigned long kViewFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
constexpr const char* kHolderOptions = "mode=0755,size=16k";

// The view this plan's box gets: the layout's hierarchies of the controllers it limits (all that
// were found, without limits), its own directories named after its runner.
cgroup::View view_of(const Spec& spec, const Caller& caller, std::string_view name) {
  cgroup::Layout layout = *caller.cgroup_layout;
  if (!spec.limits.empty()) {
    auto limited = spec.limits.controllers();
    std::erase_if(layout.placements, [&](const cgroup::Placement& p) {
      return std::find(limited.begin(), limited.end(), p.controller) == limited.end();
    });
  }
  return cgroup::plan_view(layout, spec.limits.empty() ? std::string_view() : name, spec.cgroup);
}

// Where the box's root is while it sets itself up: the staging root, or the host's.
std::string root_of(const Spec& spec) {
  return spec.rootfs() == RootfsKind::Host ? std::string() : std::string(kNewRoot);
}

constexpr const char* kRunnerPidPlaceholder = "RUNNER_PID";

// The mounts of the view, in order: the holder (or, over the host's, a cover) tmpfs, one mount
// per hierarchy, and the holder made read-only once they are in.
op::MountCgroupView view_step(const Spec& spec, const cgroup::View& view) {
  using Make = PlannedMount::Make;
  std::string root = root_of(spec);
  std::string base = root + std::string(cgroup::kViewDir);
  op::MountCgroupView step;
  switch (spec.rootfs()) {
    case RootfsKind::Embedded:
      step.first_dirs = {{root + "/sys", 0555}, {root + "/sys/fs", 0755}, {base, 0755}};
      break;
    case RootfsKind::Directory:
      // The rootfs is read-only: its own /sys/fs/cgroup, or no view.
      step.rootfs_dirs = {"/sys", "/sys/fs", "/sys/fs/cgroup"};
      break;
    case RootfsKind::Host:
      // Over the host's /sys/fs/cgroup, in the box's mount namespace only. Covered mounts stay
      // listed in mountinfo, where tools would still find them, so they are detached first; in
      // a user namespace the kernel locks them to their parent (EINVAL), and they are only
      // covered, so that no view mount stacks on a host mount of its own hierarchy (EBUSY on
      // pure v2).
      step.detach = base;
      break;
  }
  if (view.holder_tmpfs || spec.rootfs() == RootfsKind::Host)
    step.mounts.push_back(
        {.call = {"nslab-cgroup", base, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, kHolderOptions}});
  for (const cgroup::ViewMount& m : view.mounts) {
    std::string target = root + m.target;
    Make make = view.holder_tmpfs ? Make::Directory : Make::Nothing;
    if (m.bind_from.empty()) {
      // In the box's cgroup namespace: the kernel roots the new mount at the box's cgroup.
      if (m.version == cgroup::Version::V2)
        step.mounts.push_back(
            {.call = {"cgroup2", target, "cgroup2", kViewFlags, ""}, .make = make, .mode = 0555});
      else
        step.mounts.push_back({.call = {"cgroup", target, "cgroup", kViewFlags, m.controllers},
                               .make = make,
                               .mode = 0555});
      continue;
    }
    step.mounts.push_back(
        {.call = {m.bind_from, target, "", MS_BIND, ""}, .make = make, .mode = 0555});
    // A bind keeps the flags of the host's mount; in a user namespace they are locked, so the
    // read-only remount must repeat them (mount_namespaces(7)).
    step.mounts.push_back({.call = {"", target, "", MS_BIND | MS_REMOUNT | kViewFlags, ""},
                           .plus_locked_flags = true});
  }
  if (view.holder_tmpfs)
    step.mounts.push_back({.call = {"", base, "", MS_BIND | MS_REMOUNT | kViewFlags, ""}});
  return step;
}

// The runner's pid in a planned call, now that the box runs.
sys::MountCall with_runner(sys::MountCall call, pid_t runner_pid) {
  if (size_t at = call.source.find(kRunnerPidPlaceholder); at != std::string::npos)
    call.source.replace(at, std::string_view(kRunnerPidPlaceholder).size(),
                        std::to_string(runner_pid));
  return call;
}

}  // namespace

Status plan_cgroup_view(const Spec& spec, const Caller& caller, Plan& plan) {
  bool own_cgroup = !spec.limits.empty();
  if (spec.cgroup && !spec.mount) {
    plan.notes.push_back(
        "--cgroup without --mount: the box sees the host's cgroup mounts, whose paths no longer "
        "match its /proc/self/cgroup (\"/\" there is the host's root cgroup); --mount gives it a "
        "view of its own");
    return ok();
  }
  // Nothing to show, nowhere private to mount it, or the host's mounts already match.
  if (!(own_cgroup || spec.cgroup) || !spec.mount || !(spec.pivot || spec.cgroup)) return ok();
  if (!caller.cgroup_layout) return ok();  // no layout looked up: plan_cgroup_limits refuses
  cgroup::View view = view_of(spec, caller, fmt::format("nslab-box-{}", kRunnerPidPlaceholder));
  if (view.mounts.empty()) return ok();
  std::string why =
      spec.cgroup
          ? "the box's own cgroup, read-only, where tinysh's cgroup and hog look: a cgroup "
            "filesystem mounted in the box's cgroup namespace has the box's cgroup as its root, "
            "the \"/\" of /proc/self/cgroup"
          : "the box's own cgroup, read-only, where tinysh's cgroup and hog look: a bind of its "
            "directory, whose root in mountinfo is the path /proc/self/cgroup names; nothing "
            "above it shows";
  if (spec.rootfs() == RootfsKind::Directory) why += " (only if the rootfs has /sys/fs/cgroup)";
  plan.steps.push_back({view_step(spec, view), why});
  return ok();
}

Status mount_cgroup_view(const BoxSetup& box, const op::MountCgroupView& step) {
  for (const auto& [dir, mode] : step.first_dirs) SANDBOX_TRY(sys::make_dir(dir, mode));
  for (const auto& dir : step.rootfs_dirs) {
    auto real = real_directory(box.plan, dir);
    if (!real) return real.error();
    if (!*real) return ok();
  }
  if (!step.detach.empty()) {
    Status detached = sys::umount2(step.detach.c_str(), MNT_DETACH);
    if (!detached && detached.error().err != EINVAL) return detached.error();
  }
  for (const PlannedMount& m : step.mounts) {
    sys::MountCall call = with_runner(m.call, box.runner_pid);
    if (m.make == PlannedMount::Make::Directory) SANDBOX_TRY(sys::make_dir(call.target, m.mode));
    if (m.plus_locked_flags) {
      auto locked = sys::mount_flags_of(call.target);
      if (!locked) return locked.error();
      call.flags |= *locked;
    }
    SANDBOX_TRY(sys::mount(call));
  }
  return ok();
}

}  // namespace sandbox
