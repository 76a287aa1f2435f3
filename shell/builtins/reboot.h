// `reboot`: what a restart means to a PID namespace — reboot(2), pid_namespaces(7).
//
// An init system's `reboot` first asks PID 1 to shut down (busybox's sends it SIGTERM);
// `reboot -f` skips init and calls reboot(2) at once. In the host's initial PID namespace that
// call restarts the machine. In any other the kernel restarts nothing (reboot_pid_ns() in
// kernel/pid_namespace.c): it kills the namespace's init, and with it every process of the
// namespace, and the init's parent sees it die of SIGHUP (LINUX_REBOOT_CMD_RESTART; SIGINT for
// HALT and POWER_OFF). The call needs CAP_SYS_BOOT in the user namespace that owns the PID
// namespace, and a seccomp filter may refuse it before any capability is checked.
//
// So tinysh signals PID 1 or calls reboot(2) only when it is sure its PID namespace is not the
// host's: when it is PID 1 itself (the host's PID 1 is never tinysh) and /proc/self/ns/pid, if it
// can be read, does not name the initial namespace, whose inode number is fixed (0xEFFFFFFC).
//
// Pure functions: values in, decision and words out, so they are tested without a namespace.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "caps_status.h"

namespace tinysh {

enum class RebootGate {
  NamespaceInit,     // PID 1 of a PID namespace that is not the initial one: may go on
  NotPid1,           // any other PID: PID 1 may be the host's init
  InitialNamespace,  // PID 1 of the initial PID namespace: the machine's own init
};

// From getpid() and the text of /proc/self/ns/pid ("pid:[4026532201]"; empty when unreadable,
// as in a box with a root of its own and no /proc yet).
RebootGate reboot_gate(pid_t pid, std::string_view pid_ns_link);

// Why `reboot` (or `reboot -f`, when `force`) refuses at this gate, for any gate but
// NamespaceInit; names the call it refused and what it would do here.
std::string reboot_refusal(RebootGate gate, pid_t pid, bool force);

// What an EPERM from reboot(2) means, from the caller's /proc/self/status: a seccomp filter, a
// bounding set without CAP_SYS_BOOT (--cap-drop), no CAP_SYS_BOOT at all, or one held in a user
// namespace that does not own the PID namespace.
std::string_view reboot_denied_hint(const ProcessPowers& powers);

}  // namespace tinysh
