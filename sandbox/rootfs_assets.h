// The text files of the embedded rootfs (assets/rootfs/ in the source tree), compiled into nslab
// by embed_assets.cmake so that a box needs no data files on the host.
#pragma once

#include <span>
#include <string_view>

namespace sandbox {

struct AssetFile {
  std::string_view path;  // "/etc/passwd", as it appears inside the box
  std::string_view text;
};

std::span<const AssetFile> rootfs_assets();

}  // namespace sandbox
