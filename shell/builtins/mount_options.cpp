#include "mount_options.h"
#include "common/text.h"

#include <sys/mount.h>

#include <array>
#include <cerrno>
#include <charconv>

namespace tinysh {

namespace {

struct OptionRule {
  std::string_view name;
  unsigned long set;
  unsigned long clear;
};

constexpr unsigned long kPropagation = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

// mount(8)'s option words and the MS_* bits they stand for. A propagation word clears the other
// propagation types: only one may reach the kernel.
constexpr std::array<OptionRule, 38> kRules{{
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},
    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
    {"mand", MS_MANDLOCK, 0},
    {"nomand", 0, MS_MANDLOCK},
    {"noatime", MS_NOATIME, 0},
    {"atime", 0, MS_NOATIME},
    {"nodiratime", MS_NODIRATIME, 0},
    {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, 0},
    {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, 0},
    {"nostrictatime", 0, MS_STRICTATIME},
    {"lazytime", MS_LAZYTIME, 0},
    {"nolazytime", 0, MS_LAZYTIME},
    {"silent", MS_SILENT, 0},
    {"loud", 0, MS_SILENT},
    {"remount", MS_REMOUNT, 0},
    {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0},
    {"rec", MS_REC, 0},
    {"private", MS_PRIVATE, kPropagation},
    {"rprivate", MS_PRIVATE | MS_REC, kPropagation},
    {"shared", MS_SHARED, kPropagation},
    {"rshared", MS_SHARED | MS_REC, kPropagation},
    {"slave", MS_SLAVE, kPropagation},
    {"rslave", MS_SLAVE | MS_REC, kPropagation},
    {"unbindable", MS_UNBINDABLE, kPropagation},
    {"runbindable", MS_UNBINDABLE | MS_REC, kPropagation},
}};


std::optional<int> integer(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

MountOptions split_mount_options(std::string_view text, MountOptions options) {
  for (std::string_view word : common::split_nonempty(text, ',')) {
    const OptionRule* rule = nullptr;
    for (const OptionRule& r : kRules)
      if (r.name == word) rule = &r;
    if (rule) {
      options.flags &= ~rule->clear;
      options.flags |= rule->set;
      continue;
    }
    if (!options.data.empty()) options.data += ',';
    options.data += word;
  }
  return options;
}

unsigned long propagation_flags() {
  return kPropagation;
}


std::string unescape_mountinfo(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
        text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
      out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                               (text[i + 3] - '0'));
      i += 3;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::optional<MountInfo> parse_mountinfo_line(std::string_view line) {
  std::vector<std::string_view> f = common::split_nonempty(line, ' ');
  // Six fixed fields, the optional ones, "-", then type, source and (usually) superblock options.
  if (f.size() < 9) return std::nullopt;
  MountInfo m;
  auto id = integer(f[0]);
  auto parent = integer(f[1]);
  if (!id || !parent) return std::nullopt;
  m.id = *id;
  m.parent = *parent;
  m.device = f[2];
  m.root = unescape_mountinfo(f[3]);
  m.mount_point = unescape_mountinfo(f[4]);
  m.mount_options = f[5];
  size_t i = 6;
  for (; i < f.size() && f[i] != "-"; ++i) m.propagation.emplace_back(f[i]);
  if (i + 2 >= f.size()) return std::nullopt;  // no "-", or nothing after it
  m.fstype = unescape_mountinfo(f[i + 1]);
  m.source = unescape_mountinfo(f[i + 2]);
  if (i + 3 < f.size()) m.super_options = f[i + 3];
  return m;
}

std::vector<MountInfo> parse_mountinfo(std::string_view text) {
  std::vector<MountInfo> mounts;
  for (std::string_view line : common::split_nonempty(text, '\n'))
    if (auto m = parse_mountinfo_line(line)) mounts.push_back(std::move(*m));
  return mounts;
}

std::string format_mount(const MountInfo& m) {
  // The per-mount options first, then the filesystem's own that add something. "rw"/"ro" of the
  // superblock is left out: the per-mount word is what applies at this mount point.
  std::vector<std::string_view> options = common::split_nonempty(m.mount_options, ',');
  for (std::string_view word : common::split_nonempty(m.super_options, ',')) {
    if (word == "rw" || word == "ro") continue;
    bool seen = false;
    for (std::string_view o : options) seen = seen || o == word;
    if (!seen) options.push_back(word);
  }
  std::string joined;
  for (std::string_view o : options) {
    if (!joined.empty()) joined += ',';
    joined += o;
  }
  std::string source = m.source.empty() ? "none" : m.source;
  if (!m.root.empty() && m.root != "/") source += "[" + m.root + "]";
  std::string line = source + " on " + m.mount_point + " type " + m.fstype + " (" + joined + ")";
  for (const std::string& p : m.propagation) line += " " + p;
  return line;
}

std::string_view mount_error_hint(int err) {
  switch (err) {
    case EPERM:
      return "mounting needs CAP_SYS_ADMIN in the user namespace that owns this mount namespace "
             "(root on the host, or root in a box with its own user and mount namespaces)";
    case EACCES:
      return "a directory on the way cannot be searched, or the source is on a nodev or "
             "read-only mount";
    case EBUSY:
      return "something is already mounted there or the source is in use; change options of an "
             "existing mount with -o remount";
    case ENOENT:
      return "the target directory (or the source of a bind) does not exist: mkdir it first";
    case ENOTDIR:
      return "the target (or a directory on its path) is not a directory";
    case ENODEV:
      return "the kernel does not know this filesystem type: /proc/filesystems lists the ones "
             "it does";
    case ENOTBLK:
      return "this filesystem type needs a block device as its source; proc, sysfs and tmpfs "
             "take any word";
    case EINVAL:
      return "remount and --make-* need a mount point as target; an option may be wrong for this "
             "filesystem; a bind source may belong to another mount namespace";
    case EROFS:
      return "the source is read-only: mount it with -o ro";
    case ELOOP:
      return "a move would put a mount under itself";
    default:
      return {};
  }
}

std::string_view umount_error_hint(int err) {
  switch (err) {
    case EBUSY:
      return "the mount is in use (a process has its working directory or an open file there, "
             "or something is mounted below it); umount -l detaches it now and frees it later";
    case EINVAL:
      return "this is not a mount point, or the mount is locked because it came from a more "
             "privileged mount namespace";
    case EPERM:
      return "unmounting needs CAP_SYS_ADMIN in the user namespace that owns this mount "
             "namespace";
    case ENOENT:
      return "the directory does not exist";
    default:
      return {};
  }
}

}  // namespace tinysh
