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

// Sources: the ERRORS sections of pivot_root(2), mount(2), clone(2), unshare(2),
// user_namespaces(7) and time_namespaces(7), and what each errno meant when we met it.
constexpr Hint kHints[] = {
    {"clone", EPERM,
     "creating namespaces needs root (CAP_SYS_ADMIN); as a normal user add --user --map-root"},
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
     "namespace; a map is write-once"},
    {"uid_map", EINVAL,
     "the map is malformed: ranges overlap, a count is 0, a range overflows, or there are more "
     "than 340 lines"},
    {"gid_map", EPERM,
     "write 'deny' to /proc/PID/setgroups first (unprivileged), and map only your own gid"},
    {"gid_map", EINVAL,
     "the map is malformed: ranges overlap, a count is 0, a range overflows, or there are more "
     "than 340 lines"},
    {"setgroups", EPERM, "setgroups can only be set before gid_map is written"},
    {"timens_offsets", EACCES,
     "a time namespace's offsets freeze once a process has entered it: write them after "
     "unshare(CLONE_NEWTIME), before exec"},
    {"timens_offsets", EPERM,
     "setting time offsets needs CAP_SYS_TIME in the box's user namespace"},
    {"setns", EPERM, "joining a namespace needs CAP_SYS_ADMIN in its user namespace"},
    {"execve", ENOENT,
     "no such program inside the box: it is looked up in the box's own root and PATH"},
    {"execve", EACCES, "the program is not executable, or sits on a noexec mount"},
    {"prctl", EINVAL, "this kernel does not know that prctl option"},
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
