// The box's root filesystem: the embedded rootfs, a --rootfs directory, and a minimal /dev.
//
// Everything is assembled inside the box's own mount namespace, under a tmpfs mounted over /tmp
// there (the host's /tmp is not touched: the mount exists only in the box's namespace, and
// propagation is already private). tmpfs lives in memory, so nothing is written to the host's
// disk, and it disappears with the namespace when the box's last process exits.
//
// The embedded rootfs is a second tmpfs at /tmp/root holding:
//   /bin/tinysh           a copy of the host's tinysh, and /bin/sh a link to it. Not a bind of
//                         the host's file, though a bind costs microseconds where a copy of the
//                         ~1 MB binary costs a fraction of a millisecond: the box made that bind
//                         in its own mount namespace, so its root could remount it read-write
//                         (even in a user namespace: nothing is locked in a mount one makes
//                         oneself) and write into the host's tinysh, which the next box, maybe
//                         a root one, would run. A copy in the box's tmpfs is the box's to spoil.
//   /etc                  passwd, group (root, nobody, the invoking user), hostname, motd
//   /NSLAB-ROOTFS         a marker, so `ls /` is unmistakable
//   /tmp, /root, /proc    directories; /proc is mounted only with --proc
//   /dev                  see mount_dev()
//
// A --rootfs directory becomes the box's root through an overlay of it with no upper layer
// (overlayfs(5) takes that only with two lower layers: the directory, and an empty one). Such an
// overlay has nothing it could write to, so the kernel refuses even root's `mount -o
// remount,rw` (EROFS: "write-protected"), which a read-only bind would have granted a root box
// without --user, and granted any box the mount it made itself. Overlay layers do not cross
// mount points, so mounts under the directory on the host (a chroot's /proc, an rbind of /sys)
// never reach the box: it sees the directories beneath them. The directory comes in through a
// bind at /tmp/lower on the staging tmpfs, so mountinfo names no host path. (A recursive one: in
// a user namespace the kernel refuses to bind a directory without the mounts locked on it, since
// that would uncover what they hide, EINVAL.) Its
// /tmp gets a tmpfs of 64 MiB, and /dev/shm one of 16 MiB: without a size, a tmpfs may grow to
// half the host's memory, and its pages are charged to the box's memory cgroup where no process
// owns them, so the OOM killer would take the box's PID 1 for them.
//
// Device nodes: mknod(2) is refused in a user namespace, and a node on a tmpfs mounted there
// would not work anyway (such tmpfs is implicitly nodev). So /dev holds empty files with the
// host's /dev/null, /dev/zero, ... bind-mounted over them, as bubblewrap and runc do.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "builtins/cgroup_fs.h"
#include "isolation.h"
#include "rootfs_assets.h"
#include "sys.h"

namespace sandbox {

namespace {

std::string fd_path(int fd) {
  return fmt::format("/proc/self/fd/{}", fd);
}

// Opens `path` as an O_PATH fd in the box's own mount namespace. (An fd opened by the runner
// before the clone points into the host's mount namespace, and the kernel refuses to bind-mount
// from another namespace's mount: EINVAL.) Done before the staging tmpfs covers /tmp.
Status reopen_here(Fd& fd, const std::string& path, int flags) {
  auto opened = sys::open(path, O_PATH | flags);
  if (!opened) return opened.error();
  fd = std::move(*opened);
  return ok();
}

// The staging tmpfs over /tmp, in the box's mount namespace only, and the new root's directory.
Status mount_staging(const sys::MountCall& staging, const std::string& new_root) {
  SANDBOX_TRY(sys::mount(staging));
  return sys::make_dir(new_root, 0755);
}

// Only one id is mapped each way (--map-root, or maps of count 1).
bool single_ids(const Spec& spec) {
  auto one = [](const IdMap& map) {
    return map.empty() || (map.size() == 1 && map.front().count == 1);
  };
  return one(spec.uid_map) && one(spec.gid_map);
}

bool is_plain_user(uid_t uid) {
  return uid != 0 && uid != 65534;
}

// The uid outside that the box's root stands for: what the kernel checks when the box opens a
// file of the rootfs. Without a user namespace, or when root inside is not mapped, the runner's.
uid_t box_root_outside(const Plan& plan) {
  for (const auto& range : plan.uid_map)
    if (range.inside == 0) return range.outside;
  return plan.caller.uid;
}

// What an errno from opening or binding the rootfs directory means for the person who gave it.
std::string rootfs_hint(const Plan& plan, int err, Side side) {
  switch (err) {
    case ENOENT:
      return "no such directory: give the path of a directory tree that holds the box's files "
             "(made by debootstrap, a busybox install, or docker export)";
    case ENOTDIR:
      return "not a directory (or a part of its path is not): a rootfs is a directory that "
             "holds the box's files";
    case EACCES: {
      uid_t uid = side == Side::Box ? box_root_outside(plan) : plan.caller.uid;
      if (side == Side::Box && plan.spec.user && uid != 0)
        return fmt::format(
            "the box's root is uid {} outside (the user namespace maps it there), and uid {} may "
            "not search this directory or one above it: give them o+x (ls -ld each one), or "
            "leave out --user",
            uid, uid);
      if (uid != 0)
        return fmt::format(
            "nslab runs as uid {}, which may not search this directory or one above it: check "
            "their permissions with ls -ld",
            uid);
      return "even root is refused here: the directory is on a network filesystem that maps "
             "root to nobody (NFS root_squash) or a FUSE mount without allow_other; copy the "
             "tree to a local disk";
    }
    default:
      return {};
  }
}

}  // namespace

std::vector<std::string> mounts_below(std::string_view mountinfo, const std::string& dir) {
  // proc(5): the 5th field is the mount point, with blanks and backslashes as octal escapes.
  std::string prefix = dir.ends_with('/') ? dir : dir + "/";
  std::vector<std::string> below;
  size_t start = 0;
  while (start < mountinfo.size()) {
    size_t end = mountinfo.find('\n', start);
    if (end == std::string_view::npos) end = mountinfo.size();
    std::string_view line = mountinfo.substr(start, end - start);
    start = end + 1;
    size_t field = 0, pos = 0;
    std::string_view point;
    while (pos <= line.size() && field < 5) {
      size_t blank = line.find(' ', pos);
      if (blank == std::string_view::npos) blank = line.size();
      if (++field == 5) point = line.substr(pos, blank - pos);
      pos = blank + 1;
    }
    std::string path = tinysh::cgroup::unescape_mountinfo(point);
    if (path.starts_with(prefix) && path.size() > prefix.size()) below.push_back(path);
  }
  return below;
}

Error refuse_host_root_as_rootfs(const std::string& given) {
  Error e = plain_error(
      fmt::format("--rootfs {}: {} the host's own root; as the box's root it would show the box "
                  "every file of the host (read-only), so the box would look isolated and "
                  "isolate no file",
                  given, given == "/" ? "this is" : "this directory is"),
      "leave out --rootfs to share the host's files on purpose, use --pivot for the embedded "
      "rootfs, or give a directory that holds a root tree (debootstrap, a busybox install)");
  e.step = "plan";
  return e;
}

Error about_rootfs(const Plan& plan, Error e, Side side) {
  e.call = fmt::format("--rootfs {}: {}", plan.spec.rootfs_name(), e.call);
  if (std::string hint = rootfs_hint(plan, e.err, side); !hint.empty()) e.hint = std::move(hint);
  return e;
}

Status check_not_host_root(const Plan& plan, int rootfs_fd) {
  struct stat dir {};
  struct stat root {};
  if (::fstat(rootfs_fd, &dir) < 0)
    return about_rootfs(plan, make_error("fstat(rootfs_fd)", errno), Side::Runner);
  if (::stat("/", &root) < 0) return make_error("stat(\"/\")", errno);
  // The same inode on the same device: a symlink to /, /proc/1/root, or a bind mount of /.
  if (dir.st_dev == root.st_dev && dir.st_ino == root.st_ino)
    return refuse_host_root_as_rootfs(plan.spec.rootfs_name());
  return ok();
}

// Refuses a mount target inside a user's rootfs that is a symlink: following it would mount
// over a path outside the rootfs (on the host, for a root box). Returns false when it is absent.
Result<bool> real_directory(const Plan& plan, std::string_view inside) {
  const Spec& spec = plan.spec;
  std::string path = std::string(kNewRoot) + std::string(inside);
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return false;
    Error e = plain_error(fmt::format("cannot look at its {}", inside));
    e.err = errno;
    return about_rootfs(plan, std::move(e), Side::Box);
  }
  if (S_ISLNK(st.st_mode))
    return plain_error(fmt::format("--rootfs {}: its {} is a symlink", spec.rootfs_name(), inside),
                       "nslab never follows a symlink out of a rootfs: make it a directory");
  if (!S_ISDIR(st.st_mode))
    return plain_error(
        fmt::format("--rootfs {}: its {} is not a directory", spec.rootfs_name(), inside),
        "make it an empty directory");
  return true;
}

std::string rootfs_passwd(const Caller& caller) {
  std::string text;
  for (const auto& file : rootfs_assets())
    if (file.path == "/etc/passwd") text = std::string(file.text);
  if (is_plain_user(caller.invoking_uid))
    text += fmt::format("{0}:x:{1}:{2}:{0}:/home/{0}:/bin/sh\n", caller.invoking_name,
                        caller.invoking_uid, caller.invoking_gid);
  return text;
}

std::string rootfs_group(const Caller& caller) {
  std::string text;
  for (const auto& file : rootfs_assets())
    if (file.path == "/etc/group") text = std::string(file.text);
  if (is_plain_user(caller.invoking_uid) && caller.invoking_gid != 0 &&
      caller.invoking_gid != 65534)
    text += fmt::format("{}:x:{}:\n", caller.invoking_name, caller.invoking_gid);
  return text;
}

namespace {

sys::MountCall staging_mount() {
  return {"nslab-staging", kStagingDir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64k"};
}

// The embedded root's directories, made in the root's tmpfs.
constexpr std::pair<const char*, unsigned> kEmbeddedDirs[] = {
    {"/bin", 0755u}, {"/etc", 0755u}, {"/dev", 0755u},
    {"/proc", 0555u}, {"/tmp", 01777u}, {"/root", 0700u}};

op::MountRootfsTmpfs embedded_rootfs() {
  std::string root = kNewRoot;
  op::MountRootfsTmpfs step;
  step.staging = staging_mount();
  step.root = {"nslab-rootfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m"};
  step.tinysh = root + "/bin/tinysh";
  step.shell_link = root + "/bin/sh";
  for (auto [dir, mode] : kEmbeddedDirs) step.dirs.emplace_back(root + dir, mode);
  for (const auto& file : rootfs_assets()) step.files.push_back(root + std::string(file.path));
  step.files.push_back(root + "/etc/hostname");
  return step;
}

op::BindRootfsDir rootfs_dir(const Spec& spec) {
  std::string lower = std::string(kStagingDir) + "/lower";
  std::string empty = std::string(kStagingDir) + "/empty";
  op::BindRootfsDir step{
      .dir = *spec.rootfs_dir,
      .staging = staging_mount(),
      .lower = {"/proc/self/fd/FD", lower, "", MS_BIND | MS_REC, ""},
      .overlay = {"nslab-rootfs", kNewRoot, "overlay", MS_RDONLY | MS_NOSUID,
                  fmt::format("lowerdir={}:{}", lower, empty)},
      .tmp = {"nslab-tmp", std::string(kNewRoot) + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
              "mode=1777,size=64m"}};
  if (!spec.overlay) return step;
  // With a layer to write to: one lower layer, the upper and work directories side by side on
  // the layer's filesystem (overlayfs needs both on the same one).
  std::string layer = std::string(kStagingDir) + "/layer";
  if (spec.overlay_dir) {
    step.layer = sys::MountCall{"/proc/self/fd/LAYER_FD", layer, "", MS_BIND | MS_REC, ""};
    step.layer_dir = *spec.overlay_dir;
  } else {
    step.layer = sys::MountCall{"nslab-layer", layer, "tmpfs", MS_NOSUID | MS_NODEV,
                                "mode=0755,size=256m"};
  }
  step.layer_dirs = {layer + "/upper", layer + "/work"};
  step.overlay = {"nslab-rootfs", kNewRoot, "overlay", MS_NOSUID,
                  fmt::format("lowerdir={},upperdir={},workdir={}", lower, step.layer_dirs[0],
                              step.layer_dirs[1])};
  return step;
}

op::MountDev minimal_dev(const Spec& spec) {
  using Make = PlannedMount::Make;
  std::string dev = std::string(kNewRoot) + "/dev";
  op::MountDev step;
  step.only_if_rootfs_has_dev = spec.rootfs() == RootfsKind::Directory;
  step.mounts.push_back({.call = {"nslab-dev", dev, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                  "mode=0755,size=64k"}});
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"})
    step.mounts.push_back({.call = {std::string("/dev/") + node, dev + "/" + node, "", MS_BIND, ""},
                           .make = Make::File,
                           .mode = 0666});
  // A new devpts instance: the box's ptys are its own, numbered from 0, invisible to the host's
  // /dev/pts. ptmxmode=0666 so its ptmx node is usable; /dev/ptmx points at it.
  step.mounts.push_back({.call = {"devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                                  "newinstance,ptmxmode=0666,mode=0620"},
                         .make = Make::Directory,
                         .mode = 0755});
  step.mounts.push_back({.call = {"nslab-shm", dev + "/shm", "tmpfs",
                                  MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=16m"},
                         .make = Make::Directory,
                         .mode = 01777});
  step.links = {{"pts/ptmx", dev + "/ptmx"},
                {"/proc/self/fd", dev + "/fd"},
                {"/proc/self/fd/0", dev + "/stdin"},
                {"/proc/self/fd/1", dev + "/stdout"},
                {"/proc/self/fd/2", dev + "/stderr"}};
  return step;
}

}  // namespace

Status plan_rootfs(const Spec& spec, const Caller&, Plan& plan) {
  switch (spec.rootfs()) {
    case RootfsKind::Host:
      return ok();
    case RootfsKind::Embedded:
      plan.steps.push_back(
          {embedded_rootfs(),
           "build the box's root in memory, over /tmp in its own mount namespace only: a copy of "
           "tinysh (never the host's file, which the box could otherwise reach), a few files in "
           "/etc; nothing is written to the host's disk"});
      break;
    case RootfsKind::Directory:
      plan.steps.push_back(
          {rootfs_dir(spec),
           spec.overlay
               ? fmt::format(
                     "use the directory as the lower layer of an overlay, under a layer the box "
                     "writes to ({}): a file it changes is copied up there first, a file it "
                     "deletes leaves a whiteout there, and the directory itself never changes; "
                     "FD is {}, opened again in the box's mount namespace",
                     spec.overlay_dir ? "LAYER_FD is " + *spec.overlay_dir + ", kept"
                                      : std::string("a tmpfs, gone with the box"),
                     *spec.rootfs_dir)
               : fmt::format(
                     "use the directory as the box's root through an overlay with no layer to "
                     "write to: even root in the box cannot remount it writable, and mounts "
                     "under the directory stay on the host; FD is {}, opened again in the "
                     "box's mount namespace; its /dev, /proc and /tmp must be real "
                     "directories, never symlinks",
                     *spec.rootfs_dir)});
      if (spec.user && single_ids(spec))
        plan.notes.push_back(
            "a distribution's root has users and groups besides root (apt's _apt, daemon, "
            "...): with one id mapped, su and apt-get fail in setgroups or setuid (Invalid "
            "argument); as root, map a range: --map-uid 0:100000:65536 --map-gid 0:100000:65536");
      break;
  }
  plan.steps.push_back(
      {minimal_dev(spec),
       "a minimal /dev: the host's device nodes bound one by one (mknod is refused in a user "
       "namespace), a private pty instance, and no access to the host's disks"});
  return ok();
}

Status build_embedded_rootfs(BoxSetup& box, const op::MountRootfsTmpfs& step) {
  const Plan& plan = box.plan;
  SANDBOX_TRY(mount_staging(step.staging, step.root.target));
  SANDBOX_TRY(sys::mount(step.root));
  for (const auto& [dir, mode] : step.dirs) SANDBOX_TRY(sys::make_dir(dir, mode));

  std::string root = step.root.target;
  for (const auto& file : rootfs_assets()) {
    if (file.path == "/etc/passwd" || file.path == "/etc/group") continue;
    SANDBOX_TRY(sys::create_file(root + std::string(file.path), 0644, file.text));
  }
  SANDBOX_TRY(sys::create_file(root + "/etc/passwd", 0644, rootfs_passwd(plan.caller)));
  SANDBOX_TRY(sys::create_file(root + "/etc/group", 0644, rootfs_group(plan.caller)));
  // The UTS step ran before this one, so gethostname() is the box's own name.
  char name[65] = {};
  ::gethostname(name, sizeof name - 1);
  SANDBOX_TRY(sys::create_file(root + "/etc/hostname", 0644, std::string(name) + "\n"));

  SANDBOX_TRY(sys::copy_file(box.tinysh.get(), step.tinysh, 0555));
  return sys::make_symlink("tinysh", step.shell_link);
}

Status bind_rootfs_dir(BoxSetup& box, const op::BindRootfsDir& step) {
  // Errors of the steps that use the user's directory name it as the user gave it.
  auto about = [&](Status status) -> Status {
    if (status) return status;
    return about_rootfs(box.plan, status.error(), Side::Box);
  };
  SANDBOX_TRY(about(reopen_here(box.rootfs_dir, step.dir, O_DIRECTORY)));
  auto layer_dir = open_layer_dir(box, step);
  if (!layer_dir) return layer_dir.error();
  SANDBOX_TRY(mount_staging(step.staging, step.overlay.target));
  std::string empty = std::string(kStagingDir) + "/empty";
  SANDBOX_TRY(sys::make_dir(step.lower.target, 0755));
  SANDBOX_TRY(sys::make_dir(empty, 0755));
  sys::MountCall lower = step.lower;
  lower.source = fd_path(box.rootfs_dir.get());
  SANDBOX_TRY(about(sys::mount(lower)));
  SANDBOX_TRY(mount_layer(step, *layer_dir));
  Status overlay = sys::mount(step.overlay);
  if (!overlay) {
    Error e = about_rootfs(box.plan, overlay.error(), Side::Box);
    e.hint = step.layer
                 ? "the box's root is an overlay of the directory under a layer it writes to: "
                   "overlayfs must be there (sudo modprobe overlay), in a user namespace only "
                   "since Linux 5.11; the directory on a filesystem overlayfs reads (ext4, xfs, "
                   "btrfs, tmpfs; not NFS); --overlay-dir on one it writes, owned by the box's "
                   "root outside (with --map-range, use --overlay: the layer in memory)"
                 : "the box's root is a read-only overlay of the directory: overlayfs must be "
                   "there (sudo modprobe overlay), in a user namespace only since Linux 5.11, and "
                   "the directory on a filesystem overlayfs reads (ext4, xfs, btrfs, tmpfs; not "
                   "NFS)";
    return e;
  }
  // tinysh for the box comes from outside the rootfs: exec_command() runs a sealed copy in
  // memory through its fd (execveat), so the directory need not contain tinysh and the box gets
  // no path to the host's file.

  auto has_tmp = real_directory(box.plan, "/tmp");
  if (!has_tmp) return has_tmp.error();
  if (*has_tmp) SANDBOX_TRY(sys::mount(step.tmp));
  return ok();
}

Status mount_dev(const BoxSetup& box, const op::MountDev& step) {
  if (step.only_if_rootfs_has_dev) {
    auto exists = real_directory(box.plan, "/dev");
    if (!exists) return exists.error();
    if (!*exists) return ok();  // a rootfs without /dev keeps none
  }
  for (const PlannedMount& m : step.mounts) {
    switch (m.make) {
      case PlannedMount::Make::Nothing:
        break;
      case PlannedMount::Make::Directory:
        SANDBOX_TRY(sys::make_dir(m.call.target, m.mode));
        break;
      case PlannedMount::Make::File:
        SANDBOX_TRY(sys::create_file(m.call.target, m.mode));
        break;
    }
    SANDBOX_TRY(sys::mount(m.call));
  }
  for (const auto& [target, link] : step.links) SANDBOX_TRY(sys::make_symlink(target, link));
  return ok();
}

}  // namespace sandbox
