// What the kernel takes away from a process, as /proc/PID/status shows it (proc(5)): `caps`.
//
// Being uid 0 is not what lets a process mount, trace or open raw sockets: each of those powers
// is one of about forty capabilities (capabilities(7)), held in sets of bits:
//   CapEff  effective: what the kernel checks at this moment
//   CapPrm  permitted: the most the effective set may be raised to again (capset(2))
//   CapBnd  bounding: the most any program this process runs can ever gain; dropped bits
//           (prctl(PR_CAPBSET_DROP)) never come back
// Two more switches take away what is left to gain:
//   NoNewPrivs      prctl(PR_SET_NO_NEW_PRIVS): execve(2) no longer honours setuid bits and file
//                   capabilities; inherited by children, never turned off
//   Seccomp         seccomp(2): 0 no filter, 1 strict (read, write, _exit, sigreturn only),
//                   2 BPF filters that decide each system call; Seccomp_filters counts them
// The status file writes each set as 16 hex digits, bit N for capability N (CAP_CHOWN is 0,
// CAP_NET_RAW 13, CAP_SYS_ADMIN 21). A line the kernel does not write is "unknown" here, never
// a guess: a kernel built without seccomp has no Seccomp line, which is not the same as mode 0.
//
// Pure functions: status text in, report text out, so they are tested without root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tinysh {

// The capabilities this kernel's headers name: 0 (CAP_CHOWN) to 40 (CAP_CHECKPOINT_RESTORE).
inline constexpr int kNamedCapabilities = 41;

struct ProcessPowers {
  std::optional<uint64_t> effective, permitted, bounding;  // CapEff, CapPrm, CapBnd
  std::optional<int> no_new_privs;                         // NoNewPrivs: 0 or 1
  std::optional<int> seccomp_mode;                         // Seccomp: 0, 1 or 2
  std::optional<int> seccomp_filters;                      // Seccomp_filters (Linux 5.9 on)
};

// Every field that is present and well formed; the others stay nullopt.
ProcessPowers parse_process_powers(std::string_view status_text);

// "cap_net_raw" for 13; "cap_41" for a bit this table has no name for.
std::string capability_name(int bit);

// "none", "all 41", "3: cap_chown cap_kill cap_net_raw", "40: all but cap_sys_resource" (the
// shorter of the two lists: a box without some of root's powers reads as what it lacks).
std::string describe_capabilities(uint64_t mask);

// The report `caps` prints, one item a line, continuation lines indented, within `width`:
//   CapEff     0x000001ffffffffff = all 41
//   NoNewPrivs 0 off: execve may still gain privileges (setuid, file capabilities)
//   Seccomp    2 filter: BPF programs decide each system call (1 filter)
std::string format_process_powers(const ProcessPowers& powers, size_t width = 80);

}  // namespace tinysh
