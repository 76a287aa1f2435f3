// Finding the boxes that run now, from /proc alone. nslab writes nothing to disk about its boxes
// (no state directory, no pid files): a box exists exactly as long as its processes do, so the
// kernel's process table is the only list that can never be stale.
//
// The rule (`nslab ps` and `nslab enter` both use it):
//   1. A runner is a process whose executable is called `nslab` and whose first argument is
//      `run`. The executable is /proc/PID/exe (a " (deleted)" suffix, left by a rebuild, is
//      ignored); when that link cannot be read (another user's process, for a non-root caller),
//      argv[0]'s last component stands in for it.
//   2. A box is a child of a runner that has exec'd its command: its cmdline (or exe) differs
//      from its runner's. Until the exec, the child is still the runner's copy doing the box's
//      setup (no pivot_root yet, no hostname), and is not listed.
//   3. The box's id is box-<runner pid>, the name its cgroups get (nslab-box-<runner pid>), so
//      what `nslab ps` shows can be found under /sys/fs/cgroup. Its PID is its first process's
//      pid as the host sees it (PID 1 inside, with --pid).
//   4. The box's namespaces are those of /proc/BOX/ns/* that differ from its runner's. The
//      runner is the box's reference rather than /proc/1: on a plain host they are the same, but
//      a non-root user cannot read /proc/1/ns/* and can read its own runner's, and when nslab runs
//      inside a container the runner's namespaces are the container's, not the machine's.
//
// Reading /proc is impure (read_processes); picking the boxes out of what was read, and choosing
// the one `nslab enter` meant, is pure and unit-tested on made-up process lists.
//
// A box's IPv4 addresses come from /proc too, once the box is found. /proc/PID/net is not the
// network of whoever reads it but that of process PID's network namespace (proc(5)), so
// /proc/BOX/net/fib_trie is the box's routing trie as its kernel keeps it. Every address the box
// owns is a leaf there followed by a "/32 host LOCAL" line: the route that delivers packets for
// it to the box itself (the local table, ip-route(8)). Reading it is box_ipv4_addresses (impure);
// picking the addresses out of the text is local_ipv4_addresses (pure, tested on captured text).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace sandbox {

// What /proc says about one process. Fields that could not be read stay empty.
struct ProcessFacts {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::optional<uid_t> uid;                       // real uid, from /proc/PID/status
  std::string exe;                                // readlink /proc/PID/exe; "" when not readable
  std::vector<std::string> argv;                  // /proc/PID/cmdline
  std::map<std::string, std::string> namespaces;  // "uts" -> "uts:[4026531838]"
  std::uint64_t start_ticks = 0;                  // /proc/PID/stat field 22: clock ticks after boot
};

struct BoxInfo {
  std::string id;  // box-<runner pid>
  pid_t pid = 0;   // the box's first process, as the host sees it
  pid_t runner = 0;
  std::optional<uid_t> uid;  // the runner's real uid: who started the box
  // The namespaces the box has of its own, in namespace_kinds() order ("user", "mnt", ...).
  std::vector<std::string> namespaces;
  bool namespaces_known = true;      // false when /proc/BOX/ns/* or the runner's could not be read
  std::vector<std::string> command;  // the box's first process's argv
  std::uint64_t start_ticks = 0;
  // Its IPv4 addresses, 127.0.0.0/8 left out, when it has a network namespace of its own ("net"
  // among `namespaces`); an empty list when it has none but loopback. find_boxes reads no files
  // and leaves this unset; box_ipv4_addresses reads it. nullopt when not read: the box shares its
  // runner's network, its namespaces are unknown, or fib_trie could not be read.
  std::optional<std::vector<std::string>> ipv4_addresses;
};

// Rule 1: a process running `nslab run`.
bool is_runner(const ProcessFacts& process);
// Rules 2-4: every box in `processes`, in the order of their runners' pids.
std::vector<BoxInfo> find_boxes(const std::vector<ProcessFacts>& processes);

// The box `nslab enter BOX` means. `which` is the id (box-N), the box's PID or its runner's PID;
// with no `which`, the only box. The error says what to do: start a box, pick one of several
// ("which one? nslab enter BOX"), or that a pid is not a box.
Result<BoxInfo> choose_box(const std::vector<BoxInfo>& boxes,
                           const std::optional<std::string>& which);

// The addresses in a fib_trie text (/proc/PID/net/fib_trie) that are this network namespace's
// own: every leaf ("|-- 10.213.0.2") with a "/32 host LOCAL" line under it, 127.0.0.0/8 left out.
// The trie lists the local table's routes under both "Main:" and "Local:" while no policy rule
// splits them, so each address is given once, in numeric order. Nothing here depends on the
// prefix of the box's subnet.
std::vector<std::string> local_ipv4_addresses(std::string_view fib_trie);

// --- Reading /proc --------------------------------------------------------------------------

// Every process's facts (processes that end while being read are skipped).
std::vector<ProcessFacts> read_processes();
std::optional<ProcessFacts> read_process(pid_t pid);
// The start time field of /proc/PID/stat; nullopt when the process is gone.
std::optional<std::uint64_t> start_ticks_of(pid_t pid);
// Seconds since boot (/proc/uptime) and clock ticks per second, for a box's age.
double seconds_since_boot();
long clock_ticks_per_second();

// The box's hostname, from its own UTS namespace. Not from /proc/BOX/root/proc/sys/kernel/hostname:
// that file answers with the UTS namespace of the process that reads it, not the one of the box
// whose /proc it is — reading it from the host gives the host's name. Not /etc/hostname either:
// `hostname NAME` inside changes the kernel's name, not the file. So a short-lived child joins the
// box's UTS namespace with setns(2) (after its user namespace when the caller is not root), calls
// uname(2) and reports back over a pipe. nullopt when this caller may not join it.
std::optional<std::string> box_hostname(const BoxInfo& box);

// The box's IPv4 addresses from /proc/BOX/net/fib_trie when it has a network namespace of its
// own; nullopt when it has none (it uses its runner's network), when its namespaces are unknown,
// or when the file cannot be read.
std::optional<std::vector<std::string>> box_ipv4_addresses(const BoxInfo& box);

// The user name for a uid from the host's /etc/passwd, or the number.
std::string user_name(uid_t uid);

}  // namespace sandbox
