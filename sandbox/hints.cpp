#include "hints.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "result.h"

namespace sandbox {

namespace {

struct Hint {
  std::string_view call;
  int err;
  std::string_view text;
};

constexpr std::string_view kCgroupNeedsRoot =
    "cgroup limits need root, or a cgroup delegated to you (systemd-run --user --scope -p "
    "Delegate=yes ...); see nslab doctor";

// Sources: the ERRORS sections of pivot_root(2), mount(2), clone(2), unshare(2),
// user_namespaces(7) and time_namespaces(7), rtnetlink(7), setsid(2), ioctl_tty(2) and pty(7);
// for cgroups, cgroups(7), cgroup-v2.rst ("no internal process constraint", "delegation"),
// cgroup-v1/memory.rst and scheduler/sched-bwc.rst; and what each errno meant when we met it.
// Cgroup files and netlink messages are keyed by their name: "pids.max" for
// `write /sys/fs/cgroup/.../pids.max`, "RTM_NEWLINK" for `RTM_NEWLINK(...)`; ioctls by their
// request: "TIOCSCTTY" for `ioctl(0, TIOCSCTTY, 0)`.
constexpr Hint kHints[] = {
    {"clone", EPERM,
     "creating namespaces needs root (CAP_SYS_ADMIN); as a normal user add --user --map-root; "
     "nslab doctor says whether user namespaces are allowed here"},
    {"clone", EINVAL,
     "this kernel does not know one of the namespace flags (check `nslab doctor`)"},
    {"clone", ENOSPC,
     "too many namespaces of one kind: see /proc/sys/user/max_*_namespaces (0 disables them)"},
    {"clone", EUSERS, "user namespaces are nested too deeply (the limit is 32 levels)"},
    {"clone", ENOMEM, "out of memory, or a PID namespace whose PID 1 has already exited"},
    {"unshare", EPERM,
     "creating this namespace needs CAP_SYS_ADMIN in the box's user namespace: run as root or "
     "add --user --map-root"},
    {"unshare", EINVAL, "this kernel does not support this kind of namespace"},
    {"pivot_root", EINVAL,
     "new_root must be a mount point, not on a shared mount, with put_old under it, and the "
     "current root must not be the initramfs rootfs"},
    {"pivot_root", EBUSY,
     "new_root or put_old is on the current root's mount: bind-mount the new root onto itself "
     "first"},
    {"pivot_root", EPERM, "pivot_root needs CAP_SYS_ADMIN in the mount namespace's owner"},
    {"mount", EPERM,
     "mounting needs CAP_SYS_ADMIN in the user namespace that owns the mount namespace; in a user "
     "namespace, flags such as nosuid/nodev/ro of the source mount are locked and must be kept"},
    {"mount", EINVAL,
     "a bad flag combination, a source that is not a mount when remounting, or a propagation "
     "change on something that is not a mount point"},
    {"mount", ENOENT, "the mount point or the source does not exist"},
    {"mount", ENODEV, "this kernel has no such filesystem type"},
    {"mount", EACCES,
     "a component of the path is not searchable, or the source is on a noexec or "
     "nodev mount that is locked"},
    {"mount", EBUSY, "something is already mounted there in a way that cannot be stacked"},
    {"umount2", EINVAL, "the target is not a mount point"},
    {"umount2", EBUSY, "the mount is in use: use MNT_DETACH to detach it lazily"},
    {"sethostname", EPERM,
     "changing the hostname needs CAP_SYS_ADMIN over the UTS namespace: add --uts (and run as "
     "root or with --user --map-root)"},
    {"sethostname", EINVAL, "a hostname is at most 64 bytes"},
    {"uid_map", EPERM,
     "an unprivileged user can map only its own uid, once, and only from the parent user "
     "namespace; a map is write-once. Ubuntu 23.10+: "
     "kernel.apparmor_restrict_unprivileged_userns=1 "
     "causes this; see nslab doctor"},
    {"uid_map", EINVAL,
     "the kernel refused the map: ranges overlap, a count is 0, a range passes id 4294967294, "
     "or the text is too big for one write (more than 340 lines, 5 before Linux 4.15, or a page "
     "or more: 4096 bytes with 4 KiB pages)"},
    {"gid_map", EPERM,
     "write 'deny' to /proc/PID/setgroups first (unprivileged), and map only your own gid"},
    {"gid_map", EINVAL,
     "the kernel refused the map: ranges overlap, a count is 0, a range passes id 4294967294, "
     "or the text is too big for one write (more than 340 lines, 5 before Linux 4.15, or a page "
     "or more: 4096 bytes with 4 KiB pages)"},
    {"setgroups", EPERM, "setgroups can only be set before gid_map is written"},
    {"timens_offsets", EACCES,
     "a time namespace's offsets freeze once a process has entered it (write them after "
     "unshare(CLONE_NEWTIME), before exec), and an undumpable process cannot open its own "
     "/proc files (prctl(PR_SET_DUMPABLE, 1) after changing ids)"},
    {"timens_offsets", EPERM,
     "setting time offsets needs CAP_SYS_TIME in the box's user namespace"},
    {"setns", EPERM, "joining a namespace needs CAP_SYS_ADMIN in its user namespace"},
    {"setns", EUSERS, "only a process with a single thread may enter a time namespace"},
    {"execve", ENOENT,
     "no such program inside the box: it is looked up in the box's own root and PATH"},
    {"execve", EACCES, "the program is not executable, or sits on a noexec mount"},
    {"prctl", EINVAL, "this kernel does not know that prctl option"},
    // The box's terminal and session (pty(7), ioctl_tty(2), setsid(2)).
    {"posix_openpt", ENOENT,
     "no /dev/ptmx here: pseudo-terminals need devpts mounted on /dev/pts "
     "(mount -t devpts devpts /dev/pts)"},
    {"posix_openpt", ENOSPC,
     "every pseudo-terminal is taken: compare /proc/sys/kernel/pty/nr with "
     "/proc/sys/kernel/pty/max"},
    {"TIOCGPTPEER", ENOTTY, "opening a pty's slave through its master needs Linux 4.13 or later"},
    {"setsid", EPERM,
     "the process already leads a process group; only a process that does not can start a "
     "session"},
    {"TIOCSCTTY", EPERM,
     "a controlling terminal is taken by a session leader that has none yet, from a terminal "
     "that belongs to no other session and is open for reading"},
    // Cgroups: making the box's directory, handing controllers down, joining, the limit files.
    // A cgroup's directory ("cgroup mkdir": cgroup.cpp keys its own mkdir so); any other mkdir
    // is a directory of the box's root or of a layer.
    {"cgroup mkdir", EACCES, kCgroupNeedsRoot},
    {"cgroup mkdir", EPERM, kCgroupNeedsRoot},
    {"cgroup mkdir", EROFS,
     "the cgroup filesystem is mounted read-only here (inside a container?): limits need a "
     "writable, delegated cgroup"},
    {"cgroup mkdir", EEXIST,
     "a cgroup with this box's name is still there: an earlier runner with the same pid left "
     "processes in it; kill them, then rmdir it"},
    {"cgroup mkdir", ENOENT, "the parent cgroup is gone"},
    {"mkdir", EACCES, "this user may not write in the parent directory"},
    {"mkdir", EROFS, "the directory is on a filesystem mounted read-only"},
    {"mkdir", ENOENT, "a directory above it does not exist"},
    {"cgroup.subtree_control", EBUSY,
     "the no-internal-processes rule (cgroups(7)): a cgroup that has processes of its own "
     "cannot hand controllers to child cgroups; start nslab in a cgroup whose "
     "cgroup.subtree_control already enables them, or in one that holds no other process"},
    {"cgroup.subtree_control", ENOENT,
     "the parent does not hand this controller down: it is missing from cgroup.controllers "
     "here; enable it in the parent's cgroup.subtree_control"},
    {"cgroup.subtree_control", EACCES, kCgroupNeedsRoot},
    {"cgroup.subtree_control", EPERM, kCgroupNeedsRoot},
    {"cgroup.procs", EACCES,
     "moving a process needs write access to cgroup.procs here and in the common ancestor of "
     "both cgroups (delegation rules of cgroup v2)"},
    {"cgroup.procs", EPERM, kCgroupNeedsRoot},
    {"cgroup.procs", ESRCH, "the process is already gone"},
    {"cgroup.procs", EBUSY,
     "on cgroup v2 processes may only join a cgroup that does not enable controllers for "
     "children"},
    {"pids.max", ENOENT,
     "no pids.max: the pids controller is not enabled for this cgroup (on v2: missing from the "
     "parent's cgroup.subtree_control)"},
    {"memory.max", ENOENT, "no memory.max: the memory controller is not enabled here"},
    {"cpu.max", ENOENT, "no cpu.max: the cpu controller is not enabled here"},
    {"cpu.max", EINVAL, "the quota must be at least 1000 µs, and the period 1000 µs to 1 s"},
    {"cpu.cfs_quota_us", EINVAL,
     "a v1 child's quota cannot exceed its parent's cpu.cfs_quota_us, and is at least 1000 µs"},
    {"cpu.cfs_period_us", EINVAL, "the period is 1000 µs to 1 s"},
    {"memory.limit_in_bytes", EBUSY,
     "the cgroup already uses more memory than the new limit and could not reclaim it"},
    {"memory.memsw.limit_in_bytes", EINVAL,
     "memory+swap may not be below memory.limit_in_bytes: the memory limit is written first"},
    {"rmdir", EBUSY, "the cgroup still has processes or child cgroups"},
    {"cgroup.kill", ENOENT, "no cgroup.kill before Linux 5.14: nslab signals each process"},
    // rtnetlink messages of the box's network.
    {"RTM_NEWLINK", EPERM,
     "creating or changing a link needs CAP_NET_ADMIN in the user namespace that owns the "
     "network namespace: run as root, or use --net for an empty network namespace"},
    {"RTM_NEWLINK", EEXIST, "a link of that name already exists in this network namespace"},
    {"RTM_NEWLINK", EOPNOTSUPP,
     "this kernel has no driver for that kind of link: veth (CONFIG_VETH, module veth) or bridge "
     "(CONFIG_BRIDGE, module bridge)"},
    {"RTM_NEWLINK", ESRCH, "the box's first process is gone: its network namespace went with it"},
    {"RTM_NEWADDR", EPERM, "adding an address needs CAP_NET_ADMIN in this network namespace"},
    {"RTM_NEWADDR", EEXIST, "the link already has this address"},
    {"RTM_DELLINK", ENODEV,
     "the link is already gone (the kernel removes a veth with its namespace)"},
    {"RTM_GETLINK", ENODEV, "no link of that name in this network namespace"},
    {"if_nametoindex", ENODEV, "no link of that name in this network namespace"},
};

}  // namespace

std::string_view hint_for(std::string_view call, int err) {
  for (const auto& hint : kHints)
    if (hint.call == call && hint.err == err) return hint.text;
  return {};
}

std::string_view call_name(std::string_view text) {
  // "write /proc/42/gid_map" names the kernel file: its last path component is the key.
  if (text.starts_with("write ")) {
    auto slash = text.rfind('/');
    auto end = text.find_first_of(" (", slash == std::string_view::npos ? 6 : slash);
    auto start = slash == std::string_view::npos ? 6 : slash + 1;
    return text.substr(start, end == std::string_view::npos ? end : end - start);
  }
  // "ioctl(fd, TIOCSCTTY, 0)" is keyed by its request: ioctl alone says nothing.
  if (text.starts_with("ioctl(")) {
    auto start = text.find(", ");
    if (start != std::string_view::npos) {
      start += 2;
      auto end = text.find_first_of(",)", start);
      return text.substr(start, end == std::string_view::npos ? end : end - start);
    }
  }
  return text.substr(0, text.find('('));
}

Error make_error(std::string call, int err) {
  Error e;
  e.hint = std::string(hint_for(call_name(call), err));
  e.call = std::move(call);
  e.err = err;
  return e;
}

Error plain_error(std::string what, std::string hint) {
  Error e;
  e.call = std::move(what);
  e.hint = std::move(hint);
  return e;
}

std::string Error::message() const {
  std::string text;
  if (!step.empty()) text += step + ": ";
  text += call;
  if (err) text += fmt::format(": {}", std::strerror(err));
  if (!hint.empty()) text += fmt::format(" — {}", hint);
  return text;
}

}  // namespace sandbox
