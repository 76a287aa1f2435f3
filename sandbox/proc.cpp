// PID namespace and /proc — pid_namespaces(7), proc(5).
//
// In a new PID namespace the box's first process is PID 1: it sees itself as 1, its parent as 0,
// and must reap orphans like init. But ps reads /proc, and the host's /proc still lists every
// host process: a PID namespace shows only once a proc filesystem is mounted for it (--proc).
//
// Ordering: /proc is mounted before the old root is detached. In a user namespace the kernel
// allows a new proc mount only while a full, unobscured proc is visible in the mount namespace
// (it must not reveal more than the mounter can already see); once the host's /proc is gone
// with the old root, the mount fails with EPERM.
//
// A root box without a user namespace is real root over the host's kernel: writing
// /proc/sys/vm/swappiness there changes the host. So, as production runtimes do, /proc/sys and a
// few other host-wide files are bound read-only, and the most revealing ones (/proc/kcore,
// /proc/keys, ...) are masked with /dev/null; the box has no CAP_SYS_ADMIN left (caps.cpp) to
// undo that or mount another proc. In a user namespace the kernel refuses those writes as long
// as the box's root is not the host's uid 0 (/proc/sys checks the uid, not a capability): which
// is why --map-root run by root itself maps to nobody (user.cpp). There binds would not help:
// root in its own user namespace may unmount them, or mount a proc of its own.
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

namespace {

constexpr const char* kReadOnly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
constexpr const char* kMaskedFiles[] = {"kcore",       "keys",          "timer_list",
                                        "sched_debug", "latency_stats", "timer_stats"};
constexpr const char* kMaskedDirs[] = {"acpi", "scsi"};

std::string proc_dir(const Spec& spec) {
  return spec.rootfs() == RootfsKind::Host ? "/proc" : std::string(kNewRoot) + "/proc";
}

// lstat() without following: absent paths are skipped (kernels differ in what /proc has).
enum class Kind { Missing, File, Directory };
Kind kind_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) return Kind::Missing;
  return S_ISDIR(st.st_mode) ? Kind::Directory : Kind::File;
}

// The binds that make host-wide files of the box's /proc at `proc` read-only, and the mounts that
// mask the revealing ones; each only over what this kernel's /proc has.
std::vector<PlannedMount> protect_proc_mounts(const std::string& proc) {
  using Only = PlannedMount::Only;
  std::vector<PlannedMount> mounts;
  for (const char* name : kReadOnly) {
    std::string path = proc + "/" + name;
    mounts.push_back({.call = {path, path, "", MS_BIND | MS_REC, ""}, .only = Only::IfPresent});
    mounts.push_back({.call = {"", path, "",
                               MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                               ""},
                      .only = Only::IfPresent});
  }
  for (const char* name : kMaskedFiles) {
    std::string path = proc + "/" + name;
    mounts.push_back({.call = {"/dev/null", path, "", MS_BIND, ""}, .only = Only::IfFile});
  }
  for (const char* name : kMaskedDirs) {
    std::string path = proc + "/" + name;
    mounts.push_back({.call = {"nslab-mask", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                               "size=0"},
                      .only = Only::IfDirectory});
  }
  return mounts;
}

}  // namespace

Status plan_pid(const Spec& spec, const Caller& caller, Plan& plan) {
  if (spec.pid && !spec.proc)
    plan.notes.push_back(
        "--pid without --proc: the box's first process is PID 1, but ps reads the host's /proc "
        "and still lists every host process; add --proc");
  if (!spec.proc) return ok();
  if (!spec.pid && spec.user) {
    Error e = plain_error(
        "--proc with --user but without --pid: a user namespace may mount /proc only for a PID "
        "namespace it owns",
        "add --pid");
    e.step = "plan";
    return e;
  }
  if (!spec.pid)
    plan.notes.push_back(
        "--proc without --pid: the fresh /proc still shows every process of the host's PID "
        "namespace");
  std::string target = proc_dir(spec);
  plan.steps.push_back(
      {op::MountProc{.rootfs_must_have_proc = spec.rootfs() == RootfsKind::Directory,
                     .mount = {"proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""}},
       spec.pid ? "a proc filesystem for the box's PID namespace: ps inside sees only the box; "
                  "mounted before the old root goes, as a user namespace requires"
                : "a fresh proc filesystem (of the host's PID namespace)"});
  if (!spec.user && caller.privileged)
    plan.steps.push_back({op::ProtectProc{.mounts = protect_proc_mounts(target)},
                          "this box's root is the host's root: make host-wide /proc files "
                          "read-only and mask the revealing ones, as production runtimes do"});
  return ok();
}

Status mount_proc(const BoxSetup& box, const op::MountProc& step) {
  if (step.rootfs_must_have_proc) {
    struct stat st {};
    if (::lstat(step.mount.target.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
      return plain_error(fmt::format("--rootfs {}: it has no /proc directory (or it is a symlink)",
                                     box.plan.spec.rootfs_name()),
                         "create an empty directory proc/ in it");
  }
  return sys::mount(step.mount);
}

Status protect_proc(const op::ProtectProc& step) {
  for (const PlannedMount& m : step.mounts) {
    Kind kind = kind_of(m.call.target);
    bool wanted = m.only == PlannedMount::Only::Always ||
                  (m.only == PlannedMount::Only::IfPresent && kind != Kind::Missing) ||
                  (m.only == PlannedMount::Only::IfFile && kind == Kind::File) ||
                  (m.only == PlannedMount::Only::IfDirectory && kind == Kind::Directory);
    if (wanted) SANDBOX_TRY(sys::mount(m.call));
  }
  return ok();
}

}  // namespace sandbox
