// The namespaces nslab knows, in one table: the CLONE_NEW* flag, the name the kernel uses under
// /proc/PID/ns/, the nslab flag that asks for it, and what it isolates (namespaces(7)).
// `nslab explain`, the tests that compare /proc/PID/ns links, and a later `nslab enter` (setns
// into each) all read this table.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sandbox {

struct NamespaceKind {
  std::uint64_t clone_flag;
  std::string_view proc_name;  // /proc/PID/ns/<proc_name>
  std::string_view flag;       // --uts
  std::string_view isolates;   // "hostname and NIS domain name"
};

std::span<const NamespaceKind> namespace_kinds();

}  // namespace sandbox
