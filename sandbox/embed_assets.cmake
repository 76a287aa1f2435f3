# Turns the files under ASSET_DIR into a C++ source (OUTPUT) that lists them as string
# literals, so nslab carries text it needs (its embedded rootfs, its lessons) inside the binary
# and needs no data files at run time. Run as `cmake -DASSET_DIR=... -DOUTPUT=... -P
# embed_assets.cmake`; FUNCTION (default sandbox::rootfs_assets) names what returns the list,
# and GLOB (default every file) which files of ASSET_DIR are taken.
if(NOT FUNCTION)
  set(FUNCTION "sandbox::rootfs_assets")
endif()
if(NOT GLOB)
  set(GLOB "*")
endif()
string(REGEX REPLACE "::[^:]*$" "" function_namespace "${FUNCTION}")
string(REGEX REPLACE "^.*::" "" function_name "${FUNCTION}")
file(GLOB_RECURSE files RELATIVE ${ASSET_DIR} ${ASSET_DIR}/${GLOB})
list(SORT files)
set(entries "")
foreach(path ${files})
  file(READ ${ASSET_DIR}/${path} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  file(SIZE ${ASSET_DIR}/${path} size)
  string(APPEND entries "    {\"/${path}\", std::string_view(\"${escaped}\", ${size})},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from ${ASSET_DIR} by sandbox/embed_assets.cmake. Do not edit.
#include \"rootfs_assets.h\"

namespace ${function_namespace} {

std::span<const sandbox::AssetFile> ${function_name}() {
  static const sandbox::AssetFile kFiles[] = {
${entries}  };
  return kFiles;
}

}  // namespace ${function_namespace}
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
