// Parsing of the per-process files under /proc that ps and ns read. Pure functions: text in,
// values out, so they are tested without a /proc of any particular shape.
//
// proc(5) describes the formats:
//   /proc/PID/stat     "PID (COMM) STATE PPID ..." on one line. COMM is the executable's name,
//                      up to 15 bytes, and may itself contain spaces and parentheses, so it ends
//                      at the *last* ')'.
//   /proc/PID/status   "Name: value" lines; "Uid:" holds the real, effective, saved and
//                      filesystem uids, separated by tabs.
//   /proc/PID/cmdline  the arguments, each followed by a NUL byte; empty for kernel threads and
//                      zombies, which is why ps shows "[comm]" for those.
//   /proc/PID/ns/NAME  a symlink whose text is "NAME:[INODE]": the inode number identifies the
//                      namespace; two processes share a namespace exactly when the numbers match.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace tinysh {

struct ProcStat {
  pid_t pid = 0;
  std::string comm;
  char state = '?';  // R running, S sleeping, D disk wait, Z zombie, T stopped, I idle, ...
  pid_t ppid = 0;
  pid_t pgrp = 0;     // 0 when the line stops after PPID
  pid_t session = 0;  // the session leader's pid (setsid(2)); 0 likewise
};

std::optional<ProcStat> parse_proc_stat(std::string_view text);

// The effective uid from a status file (what ps shows under USER), or nullopt.
std::optional<uid_t> parse_status_effective_uid(std::string_view text);

// The arguments joined by spaces; empty when the process has none (kernel thread, zombie).
std::string cmdline_text(std::string_view raw);

// The inode number in a namespace link's text "NAME:[INODE]", or nullopt when the text does
// not have that form.
std::optional<unsigned long long> parse_ns_link(std::string_view link);

}  // namespace tinysh
