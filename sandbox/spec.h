// What a box should be: a plain value, filled in from the command line (or a lesson step) and
// handed to plan(). Nothing here touches the kernel; the parsers are pure and unit-tested.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup_layout.h"
#include "id_map.h"
#include "result.h"

namespace sandbox {

// A hostname the kernel and a prompt accept: 1-64 bytes of letters, digits, '-' and '.',
// not starting with '-' or '.'.
Status validate_hostname(std::string_view name);

enum class RootfsKind {
  Host,       // no pivot: the box sees the host's files
  Embedded,   // a tmpfs built inside the box: tinysh, /etc, /dev, /tmp
  Directory,  // a directory given with --rootfs, bind-mounted as the box's root
};

enum class CommandKind {
  Shell,          // tinysh, interactive on a terminal
  ShellCommands,  // tinysh -c 'commands'
  Program,        // -- PROGRAM ARGS: any program, resolved inside the box
};

struct Command {
  CommandKind kind = CommandKind::Shell;
  std::string shell_commands;     // for ShellCommands
  std::vector<std::string> argv;  // for Program
};

// The box's network (network_namespaces(7), veth(4); net.h has the code).
enum class NetworkMode {
  Host,   // no network namespace: the box shares the host's interfaces
  Empty,  // --net: a new network namespace, lo only, down
  Veth,   // --veth: a new network namespace joined to the host by a veth pair
  Bridge,  // --bridge NAME: the same, with the host end a port of a bridge other boxes share
};

struct Spec {
  bool uts = false;
  std::optional<std::string> hostname;  // implies uts
  bool mount = false;
  bool pivot = false;
  std::optional<std::string> rootfs_dir;  // absolute; implies pivot
  std::string rootfs_as_given;            // --rootfs as the user typed it, for messages
  // --overlay: the rootfs directory becomes the lower layer of an overlay with a layer the box
  // writes to, in memory (gone with the box) or, with --overlay-dir, in DIR/upper (kept).
  bool overlay = false;
  std::optional<std::string> overlay_dir;  // absolute; implies overlay
  std::string overlay_dir_as_given;
  bool pid = false;
  bool proc = false;
  bool ipc = false;
  bool user = false;
  bool map_root = false;
  // --map-range: root inside and 65535 more ids, all outside the caller's own: root's 100000,
  // a user's first range of /etc/subuid and /etc/subgid (written through newuidmap(1)).
  bool map_range = false;
  IdMap uid_map;  // from --map-uid, inside:outside:count
  IdMap gid_map;
  bool cgroup = false;
  bool time = false;
  std::int64_t time_offset_seconds = 0;  // added to the box's boottime and monotonic clocks
  cgroup::Limits limits;                 // --pids, --memory, --cpus
  bool net = false;
  bool veth = false;  // implies net
  std::optional<std::string> bridge;  // --bridge NAME, as given (bridge.h); implies veth
  // Lesson 10, what real runtimes take away (caps.cpp, seccomp.cpp): capabilities out of every
  // set and the bounding set, no_new_privs, and a seccomp filter of system calls no box needs.
  std::vector<int> cap_drop;
  bool no_new_privs = false;
  bool seccomp = false;  // implies no_new_privs
  Command command;
  std::string tinysh_path;  // the host's tinysh binary (next to nslab, or $NSLAB_TINYSH)

  RootfsKind rootfs() const {
    if (rootfs_dir) return RootfsKind::Directory;
    return pivot ? RootfsKind::Embedded : RootfsKind::Host;
  }
  // How messages name the rootfs directory: as the user gave it (a relative path stays
  // relative), not as nslab resolved it nor where the box stages it (/tmp/root).
  std::string rootfs_name() const {
    if (!rootfs_as_given.empty()) return rootfs_as_given;
    return rootfs_dir.value_or(std::string());
  }
  NetworkMode network() const {
    if (bridge) return NetworkMode::Bridge;
    if (veth) return NetworkMode::Veth;
    return net ? NetworkMode::Empty : NetworkMode::Host;
  }
};

// Who starts the box: the one description of the process running nslab, for plan() (what is
// allowed: a non-root user can only map its own ids; what root inside maps to), the cgroup
// placement (a root runner may go under the root cgroup; a runner alone in its cgroup may move)
// and the doctor's facts. Under sudo, the "invoking user" is SUDO_UID's.
struct Caller {
  uid_t uid = 0;  // real uid of nslab
  gid_t gid = 0;
  uid_t euid = 0;           // effective uid: the one file permissions are checked against
  bool privileged = false;  // euid 0: may create namespaces without a user namespace
  pid_t pid = 0;            // nslab itself (in its own cgroup, where it does not count)
  uid_t invoking_uid = 0;   // the person at the keyboard (SUDO_UID when run under sudo)
  gid_t invoking_gid = 0;
  std::string invoking_name = "root";
  // The real user's subordinate ids and the setuid helpers that write maps naming them (empty
  // when not installed): how a user writes a map of more than its own id.
  std::optional<SubordinateIds> subuid, subgid;
  std::string newuidmap, newgidmap;
  // Where the box's cgroups would go, and why this caller may not make them there (if so): read
  // from the host by cgroup::find_cgroups() when the spec asks for limits. plan() only reads
  // them, so it stays pure and tests can hand it a fake layout.
  std::optional<cgroup::Layout> cgroup_layout;
  std::optional<Error> cgroup_refusal;
  // Which of nslab's standard streams (stdin, stdout, stderr) are terminals. With stdin on one,
  // the box gets a pseudo-terminal of its own in place of each of them (terminal.cpp).
  std::array<bool, 3> stdio_terminals{};
  bool on_terminal() const { return stdio_terminals[0]; }
  bool through_sudo() const { return uid == 0 && invoking_uid != 0; }
};

// The ids and the pid of this process, and nothing that needs a file read.
Caller this_process();

// --cap-drop's value: names as capabilities(7) has them, with or without CAP_, any case, separated
// by commas; "all" for every one (caps.cpp).
Result<std::vector<int>> parse_capabilities(std::string_view list);

// Reads getuid(), getgid(), geteuid(), SUDO_UID/SUDO_GID/SUDO_USER, /etc/passwd, and isatty(3)
// of fds 0-2.
// With `id_ranges` (a box that maps more than one id: box_needs() has IdRanges), also the real
// user's /etc/subuid and /etc/subgid ranges and the newuidmap/newgidmap helpers; every other box
// starts without reading them.
Caller current_caller(bool id_ranges = false);

// The setuid-root program `name` (newuidmap, newgidmap) where distributions install it, or "".
std::string find_map_helper(std::string_view name);

// The name /etc/passwd gives a uid, read directly with tinysh's parser: nslab is linked
// statically, and glibc's getpwuid() would need to load NSS modules at run time.
std::optional<std::string> host_user_name(uid_t uid);

}  // namespace sandbox
