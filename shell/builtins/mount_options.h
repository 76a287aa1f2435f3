// What the mount and umount builtins need that is pure: splitting `-o` options into the
// flags and the data string of mount(2), naming flags for messages, reading the mount table
// from /proc/self/mountinfo, and the usual meaning of each errno.
//
// mount(2) takes options in two parts (see mount(2), mount(8)):
//   mountflags  generic MS_* bits the VFS itself understands: ro, nosuid, nodev, noexec, the
//               atime rules, and the operation: MS_REMOUNT, MS_BIND, MS_MOVE, or a change of
//               propagation type (MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE), each made
//               recursive by MS_REC.
//   data        a comma-separated string passed as-is to the filesystem: "size=10m,mode=755"
//               for tmpfs, "hidepid=2" for proc. Anything the VFS does not know goes here.
#pragma once

#include "common/mount_flags.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tinysh {

using common::mount_flags_text;

struct MountOptions {
  unsigned long flags = 0;
  std::string data;  // the options left for the filesystem, comma-separated; may be empty
};

// Applies "opt,opt,..." left to right on top of `options`: "ro,rw" ends read-write, and a later
// propagation type replaces an earlier one (the kernel accepts only one per call). Empty items
// are ignored; unknown ones are appended to `data`.
MountOptions split_mount_options(std::string_view text, MountOptions options = {});

// The propagation bits (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE).
unsigned long propagation_flags();


// One line of /proc/PID/mountinfo (see proc(5)):
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   id parent dev root mount-point per-mount-options [optional fields...] - type source
//   per-superblock-options
struct MountInfo {
  int id = 0;
  int parent = 0;
  std::string device;       // "major:minor"
  std::string root;         // the directory of the filesystem seen at the mount point
  std::string mount_point;  // relative to the process's root
  std::string mount_options;
  std::vector<std::string> propagation;  // "shared:N", "master:N", "propagate_from:N", "unbindable"
  std::string fstype;
  std::string source;
  std::string super_options;
};

// Paths in mountinfo have space, tab, newline and backslash written as \ooo octal escapes.
std::string unescape_mountinfo(std::string_view text);

std::optional<MountInfo> parse_mountinfo_line(std::string_view line);
std::vector<MountInfo> parse_mountinfo(std::string_view text);  // skips malformed lines

// "SOURCE on TARGET type FSTYPE (OPTIONS)", followed by the propagation fields when there are
// any. A bind mount of a subdirectory shows its root in brackets: "/dev/sda1[/srv/data]".
std::string format_mount(const MountInfo& mount);

// One sentence on what an errno from mount(2) or umount2(2) usually means; empty if none.
std::string_view mount_error_hint(int err);
std::string_view umount_error_hint(int err);

}  // namespace tinysh
