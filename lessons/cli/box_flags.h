// The flags that describe a box, shared by `nslab run` and `nslab explain` (and later by the
// lesson driver): how they appear in --help, and how they become a sandbox::Spec.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"
#include "spec.h"

namespace nslab::cli {

// A value-taking flag is an optional: "not given" and "given an empty value" (`--rootfs "$DIR"`
// with DIR unset) must stay apart, so that to_spec() can refuse the second.
struct BoxFlags {
  bool uts = false;
  std::optional<std::string> hostname;
  bool mount = false;
  bool pivot = false;
  std::optional<std::string> rootfs;
  bool overlay = false;
  std::optional<std::string> overlay_dir;
  bool pid = false;
  bool proc = false;
  bool user = false;
  bool map_root = false;
  bool map_range = false;
  std::vector<std::string> map_uid, map_gid;
  std::optional<std::string> pids, memory, cpus;  // cgroup limits, parsed in to_spec()
  bool net = false;
  bool veth = false;
  std::optional<std::string> bridge;
  bool ipc = false;
  bool cgroup = false;
  bool time = false;
  bool all = false;
  std::optional<std::string> cap_drop;
  bool no_new_privs = false;
  bool seccomp = false;
  std::optional<std::string> commands;  // -c
  std::vector<std::string> program;     // -- PROGRAM ARGS
};

// Adds the flags to `app`, grouped in the order of the lessons.
void add_box_flags(CLI::App& app, BoxFlags& flags);

// The Spec the flags ask for. Pure apart from making --rootfs absolute; `tinysh` is the host
// path of the tinysh binary. Empty and malformed values (an id map, two commands) are errors
// here; combinations that cannot work are refused later, by plan().
sandbox::Result<sandbox::Spec> to_spec(const BoxFlags& flags, const std::string& tinysh);

// The refusal of a flag given an empty value: "--rootfs: empty value (is the variable you passed
// unset?); give a directory". `give` says what the flag wants. nslab enter uses it too.
sandbox::Error empty_value(std::string_view flag, std::string_view give);

// tinysh next to the running nslab (/proc/self/exe's directory), or $NSLAB_TINYSH.
std::string find_tinysh();

}  // namespace nslab::cli
