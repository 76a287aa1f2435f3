#include "common/mount_flags.h"

#include <sys/mount.h>

#include <array>
#include <charconv>
#include <string_view>

namespace common {

namespace {

// The MS_* bits of mount(2), in the order of their values.
struct FlagName {
  unsigned long flag;
  std::string_view name;
};

constexpr std::array<FlagName, 22> kFlagNames{{
    {MS_RDONLY, "MS_RDONLY"},
    {MS_NOSUID, "MS_NOSUID"},
    {MS_NODEV, "MS_NODEV"},
    {MS_NOEXEC, "MS_NOEXEC"},
    {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
    {MS_REMOUNT, "MS_REMOUNT"},
    {MS_MANDLOCK, "MS_MANDLOCK"},
    {MS_DIRSYNC, "MS_DIRSYNC"},
    {MS_NOATIME, "MS_NOATIME"},
    {MS_NODIRATIME, "MS_NODIRATIME"},
    {MS_BIND, "MS_BIND"},
    {MS_MOVE, "MS_MOVE"},
    {MS_REC, "MS_REC"},
    {MS_SILENT, "MS_SILENT"},
    {MS_UNBINDABLE, "MS_UNBINDABLE"},
    {MS_PRIVATE, "MS_PRIVATE"},
    {MS_SLAVE, "MS_SLAVE"},
    {MS_SHARED, "MS_SHARED"},
    {MS_RELATIME, "MS_RELATIME"},
    {MS_STRICTATIME, "MS_STRICTATIME"},
    {MS_LAZYTIME, "MS_LAZYTIME"},
    {MS_POSIXACL, "MS_POSIXACL"},
}};

}  // namespace

std::string mount_flags_text(unsigned long flags) {
  std::string text;
  for (const FlagName& f : kFlagNames) {
    if (!(flags & f.flag)) continue;
    if (!text.empty()) text += '|';
    text += f.name;
    flags &= ~f.flag;
  }
  if (flags) {
    if (!text.empty()) text += '|';
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, flags, 16);
    text += "0x";
    text.append(buf, end);
  }
  return text.empty() ? "0" : text;
}

}  // namespace common
