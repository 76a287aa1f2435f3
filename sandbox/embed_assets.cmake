# Turns the files under ASSET_DIR into a C++ source (OUTPUT) that lists them as string
# literals, so nslab carries its embedded rootfs's text inside the binary and needs no data files
# at run time. Run as `cmake -DASSET_DIR=... -DOUTPUT=... -P embed_assets.cmake`.
file(GLOB_RECURSE files RELATIVE ${ASSET_DIR} ${ASSET_DIR}/*)
list(SORT files)
set(entries "")
foreach(path ${files})
  file(READ ${ASSET_DIR}/${path} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  file(SIZE ${ASSET_DIR}/${path} size)
  string(APPEND entries "    {\"/${path}\", std::string_view(\"${escaped}\", ${size})},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from assets/rootfs by sandbox/embed_assets.cmake. Do not edit.
#include \"rootfs_assets.h\"

namespace sandbox {

std::span<const AssetFile> rootfs_assets() {
  static const AssetFile kFiles[] = {
${entries}  };
  return kFiles;
}

}  // namespace sandbox
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
