// The namespaces nslab knows, in one table: the CLONE_NEW* flag, the name the kernel uses under
// /proc/PID/ns/, the nslab flag that asks for it, and what it isolates (namespaces(7)).
// `nslab explain`, the system call texts of the sys layer, the tests that compare /proc/PID/ns links, and a later `nslab enter` (setns
// into each) all read this table.
#pragma once

#include <sched.h>

#include <cstdint>
#include <span>
#include <string_view>

// Older C libraries do not know the time namespace (Linux 5.6).
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace sandbox {

struct NamespaceKind {
  std::uint64_t clone_flag;
  std::string_view flag_name;  // "CLONE_NEWUTS", as system call texts spell it
  std::string_view proc_name;  // /proc/PID/ns/<proc_name>
  std::string_view flag;       // --uts
  std::string_view isolates;   // "hostname and NIS domain name"
};

std::span<const NamespaceKind> namespace_kinds();

}  // namespace sandbox
