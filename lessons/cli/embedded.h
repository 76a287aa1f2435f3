// One file for a classroom: nslab carries tinysh and the lessons inside itself, so the static
// binary alone runs every lesson on any x86-64 Linux. Files beside it still win: tinysh next to
// nslab (a build tree, an install), and a lessons folder (NSLAB_LESSONS, the source tree, or
// <prefix>/share/nslab/lessons), so a teacher can add lessons.
//
// What is embedded is written out once into a folder of the caller's own, and checked against
// the embedded bytes at every start (a file someone changed is written again):
//   root          /run/nslab            (a tmpfs, root's)
//   anyone else   $XDG_RUNTIME_DIR/nslab, or else ~/.cache/nslab
// never /tmp, where another user could have made the folder first.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "rootfs_assets.h"

namespace nslab::cli {

// The lessons compiled in (lessons/NN-*.md of the source tree): "/01-uts.md" and its text.
std::span<const sandbox::AssetFile> lesson_assets();
// The bytes of the tinysh built with this nslab.
std::string_view embedded_tinysh();

// The folder nslab writes its embedded files to, made if missing (mode 0700); an error names
// what went wrong.
std::optional<std::string> extraction_dir(std::string& problem);
// tinysh written out (mode 0755) and its path; nullopt with `problem` when it cannot be.
std::optional<std::string> extracted_tinysh(std::string& problem);
// The embedded lessons written out into their own folder, and its path.
std::optional<std::string> extracted_lessons(std::string& problem);

// The lessons to use: a folder found on disk (lessons::default_lessons_dir()), else the
// embedded ones written out. Says on stderr why neither is there, and returns "" then.
std::string lessons_dir();

}  // namespace nslab::cli
