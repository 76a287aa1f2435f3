// `nslab rootfs busybox DIR`: a small, real root filesystem for `nslab run --rootfs DIR`, made of
// the static busybox of Debian's busybox-static package (busybox_rootfs.h says why static, and
// decides every path and file). This file is the thin half that touches the disk: it reads the
// busybox, asks it for its applets, and makes the tree, undoing everything it made if a step
// fails. Needs no root: it only writes files the caller owns. Installs nothing.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "busybox_rootfs.h"
#include "fd.h"
#include "result.h"

namespace nslab::cli {

struct RootfsOptions {
  std::string kind;                      // what the root is made of: "busybox" or "debian"
  std::string dir;                       // where: a new or an empty directory
  std::string busybox = "/bin/busybox";  // the static busybox to copy
  std::string suite;                     // debian: the release; this host's own by default
};

CLI::App* setup_rootfs(CLI::App& app, RootfsOptions& options);
// 0: made; 1: a step failed while making (what it made is removed again); 2: refused before
// anything was made.
int run_rootfs(const RootfsOptions& options);

// What was read of a busybox, before anything is made: the open file (copied from this fd), its
// size, its version and its applets.
struct Busybox {
  sandbox::Fd file;
  std::uint64_t size_bytes = 0;
  std::string version;
  std::vector<std::string> applets;
};
// Refused, with the install line, when `path` is missing or is no static busybox for this
// machine; runs it twice (fork and execve through sys::run_program, a pipe for its output):
// `busybox --list-full` and `busybox` alone, whose first line is its version.
sandbox::Result<Busybox> read_busybox(const std::string& path);

// What `dir` is now (a symbolic link counts as what it points to).
sandbox::Result<DirState> dir_state(const std::string& dir);

// Makes `layout` in `dir` (absolute; missing or empty), copying bin/busybox from `busybox_fd`.
// Every mode is exact, whatever the umask. When a step fails, everything this call made is
// removed again (`dir` too if it made it; an existing empty `dir` gets its mode back) before the
// error returns: there is never a half-made tree. `left_behind` then lists what could not be
// removed (normally nothing). A path it did not make itself is never removed.
sandbox::Status make_rootfs(const std::string& dir, const RootfsLayout& layout, int busybox_fd,
                            std::vector<std::string>& left_behind);

}  // namespace nslab::cli
