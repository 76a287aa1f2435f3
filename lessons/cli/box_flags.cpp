#include "box_flags.h"

#include "embedded.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "cgroup.h"

namespace nslab::cli {

namespace {

// The flags in `nslab run --help`, grouped by the lesson that turns each on.

void add_uts_flags(CLI::App& app, BoxFlags& f) {
  const char* uts = "Lesson 1 - hostname (UTS namespace)";
  app.add_flag("--uts", f.uts, "own hostname: `hostname NAME` inside leaves the host's alone")
      ->group(uts);
  app.add_option("--hostname", f.hostname, "name the box (implies --uts)")
      ->type_name("NAME")
      ->group(uts);
}

void add_lockdown_flags(CLI::App& app, BoxFlags& f) {
  const char* lockdown = "Lesson 10 - what real runtimes take away (capabilities, seccomp)";
  app.add_option("--cap-drop", f.cap_drop,
                 "take capabilities away for good (net_raw,sys_admin,... or all): out of the "
                 "bounding set, which no setuid program can raise again")
      ->type_name("CAPS")
      ->group(lockdown);
  app.add_flag("--no-new-privs", f.no_new_privs,
               "execve() grants nothing more: setuid bits and file capabilities are ignored")
      ->group(lockdown);
  app.add_flag("--seccomp", f.seccomp,
               "a filter: mount, unshare, setns, reboot, modules, bpf, ptrace, keyctl and more fail "
               "with EPERM (implies --no-new-privs)")
      ->group(lockdown);
}

void add_mount_flags(CLI::App& app, BoxFlags& f) {
  const char* mnt = "Lesson 2 - mount table and root (mount namespace, pivot_root)";
  app.add_flag("--mount", f.mount, "own mount table; mounts made inside never reach the host")
      ->group(mnt);
  app.add_flag("--pivot", f.pivot,
               "pivot_root into the embedded rootfs: tinysh, /etc, /dev, /tmp on a tmpfs "
               "(needs --mount)")
      ->group(mnt);
  app.add_option("--rootfs", f.rootfs,
                 "pivot_root into DIR instead, read-only (implies --pivot), e.g. a busybox or "
                 "debootstrap tree")
      ->type_name("DIR")
      ->group(mnt);
  const char* layers = "Lesson 8 - layers (overlayfs)";
  app.add_flag("--overlay", f.overlay,
               "with --rootfs: a layer the box writes to over DIR, in memory; DIR never changes")
      ->group(layers);
  app.add_option("--overlay-dir", f.overlay_dir,
                 "the same, with the layer kept in LAYER/upper (implies --overlay)")
      ->type_name("LAYER")
      ->group(layers);
}

void add_pid_flags(CLI::App& app, BoxFlags& f) {
  const char* pid = "Lesson 3 - processes (PID namespace, /proc)";
  app.add_flag("--pid", f.pid, "own process ids: the box's first process is PID 1")->group(pid);
  app.add_flag("--proc", f.proc, "a fresh /proc, so ps shows only the box (needs --mount)")
      ->group(pid);
}

void add_user_flags(CLI::App& app, BoxFlags& f) {
  const char* user = "Lesson 4 - users (user namespace, id maps)";
  app.add_flag("--user", f.user, "own user namespace: root inside without being root outside")
      ->group(user);
  app.add_flag("--map-root", f.map_root,
               "map root inside to you outside (under sudo: to SUDO_UID/SUDO_GID; run by root "
               "itself: to nobody, 65534)")
      ->group(user);
  app.add_flag("--map-range", f.map_range,
               "map root inside and 65535 ids more to a range outside that is not yours: root's "
               "100000, a user's own in /etc/subuid and /etc/subgid (written by newuidmap)")
      ->group(user);
  // One range per occurrence: `--map-uid 0:100000:1000 --map-uid ...`.
  app.add_option("--map-uid", f.map_uid, "map uids; repeat for more ranges")
      ->type_name("IN:OUT:COUNT")
      ->allow_extra_args(false)
      ->group(user);
  app.add_option("--map-gid", f.map_gid, "map gids; repeat for more ranges")
      ->type_name("IN:OUT:COUNT")
      ->allow_extra_args(false)
      ->group(user);
}

void add_limit_flags(CLI::App& app, BoxFlags& f) {
  const char* limits = "Lesson 5 - limits (cgroups; root or a delegated cgroup)";
  app.add_option("--pids", f.pids, "at most N tasks in the box: a fork beyond fails (EAGAIN)")
      ->type_name("N")
      ->group(limits);
  app.add_option("--memory", f.memory, "memory limit, e.g. 32M; beyond it the OOM killer acts")
      ->type_name("SIZE")
      ->group(limits);
  app.add_option("--cpus", f.cpus, "CPU quota in CPUs, e.g. 0.5: half of one CPU")
      ->type_name("X")
      ->group(limits);
}

void add_network_flags(CLI::App& app, BoxFlags& f) {
  const char* net = "Lessons 6 and 9 - network (network namespace, veth, bridge)";
  app.add_flag("--net", f.net, "a new network namespace: only lo, and it is down")->group(net);
  app.add_flag("--veth", f.veth, "--net plus a veth pair to the host, addresses set (root)")
      ->group(net);
  app.add_option("--bridge", f.bridge,
                 "--veth into the host bridge nslab-br-NAME, shared with the other boxes on it: "
                 "made with the first box, gone with the last (root)")
      ->type_name("NAME")
      ->group(net);
}

void add_more_namespace_flags(CLI::App& app, BoxFlags& f) {
  const char* more = "More namespaces";
  app.add_flag("--ipc", f.ipc, "own System V IPC and POSIX message queues")->group(more);
  app.add_flag("--cgroup", f.cgroup, "own view of the cgroup tree (cgroup namespace)")->group(more);
  app.add_flag("--time", f.time, "own boot-time and monotonic clocks: uptime differs")->group(more);
  app.add_flag("--all", f.all,
               "every namespace above with sensible defaults: --uts --hostname tinyhost --mount "
               "--pivot --pid --proc --user --map-root --net --ipc --cgroup --time")
      ->group(more);
}

void add_program_flags(CLI::App& app, BoxFlags& f) {
  const char* what = "What runs in the box (default: tinysh, interactive)";
  app.add_option("-c", f.commands, "run these tinysh commands; exit with the last one's status")
      ->type_name("'COMMANDS'")
      ->group(what);
  app.add_option("program", f.program,
                 "after --: run any program with its arguments, looked up inside the box")
      ->type_name("PROGRAM ARGS")
      ->group(what);
}

}  // namespace

void add_box_flags(CLI::App& app, BoxFlags& f) {
  add_uts_flags(app, f);
  add_mount_flags(app, f);
  add_pid_flags(app, f);
  add_user_flags(app, f);
  add_limit_flags(app, f);
  add_network_flags(app, f);
  add_more_namespace_flags(app, f);
  add_lockdown_flags(app, f);
  add_program_flags(app, f);
}

sandbox::Error empty_value(std::string_view flag, std::string_view give) {
  return sandbox::plain_error(
      fmt::format("{}: empty value (is the variable you passed unset?); {}", flag, give));
}

namespace {

// Every value the flags were given, checked before any is read: an empty one is a mistake (most
// often an unset shell variable), and reading it as "not given" would make a different box than
// the one asked for: `--rootfs "$DIR"` with DIR unset would run on the host's own root.
// A directory flag's value as an absolute path, normalised, without a trailing slash ("layer/"
// names "layer"; "/" stays "/").
sandbox::Result<std::string> absolute_dir(std::string_view flag, const std::string& given) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(given, ec);
  if (ec) return sandbox::plain_error(fmt::format("{} {}: {}", flag, given, ec.message()));
  std::string dir = absolute.lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

sandbox::Status refuse_empty_values(const BoxFlags& f) {
  struct Single {
    const std::optional<std::string>& value;
    std::string_view flag, give;
  };
  const Single singles[] = {
      {f.hostname, "--hostname", "give a name, e.g. --hostname tinyhost"},
      {f.bridge, "--bridge", "give the bridge a name, e.g. --bridge lab"},
      {f.rootfs, "--rootfs", "give a directory"},
      {f.overlay_dir, "--overlay-dir", "give a directory for the layer, or use --overlay"},
      {f.cap_drop, "--cap-drop", "give capabilities, e.g. --cap-drop net_raw,sys_admin"},
      {f.pids, "--pids", "give a number of tasks, e.g. --pids 10"},
      {f.memory, "--memory", "give a size, e.g. --memory 32M"},
      {f.cpus, "--cpus", "give a number of CPUs, e.g. --cpus 0.5"},
      {f.commands, "-c", "give the commands to run, or leave out -c for an interactive tinysh"},
  };
  for (const auto& single : singles)
    if (single.value && single.value->empty()) return empty_value(single.flag, single.give);
  for (const auto& text : f.map_uid)
    if (text.empty())
      return empty_value("--map-uid", "give INSIDE:OUTSIDE:COUNT, e.g. --map-uid 0:100000:65536");
  for (const auto& text : f.map_gid)
    if (text.empty())
      return empty_value("--map-gid", "give INSIDE:OUTSIDE:COUNT, e.g. --map-gid 0:100000:65536");
  // The program's arguments may be empty strings; its name may not.
  if (!f.program.empty() && f.program.front().empty())
    return empty_value("-- PROGRAM", "name the program to run after --");
  return sandbox::ok();
}

}  // namespace

sandbox::Result<sandbox::Spec> to_spec(const BoxFlags& f, const std::string& tinysh) {
  SANDBOX_TRY(refuse_empty_values(f));
  sandbox::Spec spec;
  spec.uts = f.uts;
  spec.mount = f.mount;
  spec.pivot = f.pivot;
  spec.pid = f.pid;
  spec.proc = f.proc;
  spec.user = f.user;
  spec.map_root = f.map_root;
  spec.map_range = f.map_range;
  spec.ipc = f.ipc;
  spec.cgroup = f.cgroup;
  spec.time = f.time;
  spec.net = f.net || f.veth || f.bridge;
  spec.veth = f.veth || f.bridge;
  spec.bridge = f.bridge;
  if (f.pids) {
    auto pids = sandbox::cgroup::parse_pids_limit(*f.pids);
    if (!pids) return pids.error();
    spec.limits.pids_max = *pids;
  }
  if (f.memory) {
    auto bytes = sandbox::cgroup::parse_memory_limit(*f.memory);
    if (!bytes) return bytes.error();
    spec.limits.memory_bytes = *bytes;
  }
  if (f.cpus) {
    long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    auto quota =
        sandbox::cgroup::parse_cpus(*f.cpus, online > 0 ? static_cast<unsigned>(online) : 1);
    if (!quota) return quota.error();
    spec.limits.cpu = *quota;
  }
  if (f.hostname) {
    SANDBOX_TRY(sandbox::validate_hostname(*f.hostname));
    spec.hostname = *f.hostname;
  }
  if (f.all) {
    spec.uts = spec.mount = spec.pivot = spec.pid = spec.proc = spec.ipc = true;
    spec.cgroup = spec.time = spec.user = spec.net = true;
    if (f.map_uid.empty() && f.map_gid.empty() && !f.map_range) spec.map_root = true;
    if (!spec.hostname) spec.hostname = "tinyhost";
  }
  for (const auto& text : f.map_uid) {
    auto range = sandbox::parse_id_range(text);
    if (!range) return range.error();
    spec.uid_map.push_back(*range);
  }
  for (const auto& text : f.map_gid) {
    auto range = sandbox::parse_id_range(text);
    if (!range) return range.error();
    spec.gid_map.push_back(*range);
  }
  if (!spec.uid_map.empty()) SANDBOX_TRY(sandbox::validate_id_map(spec.uid_map, "--map-uid"));
  if (!spec.gid_map.empty()) SANDBOX_TRY(sandbox::validate_id_map(spec.gid_map, "--map-gid"));
  if (f.rootfs) {
    auto dir = absolute_dir("--rootfs", *f.rootfs);
    if (!dir) return dir.error();
    spec.rootfs_dir = *dir;
    spec.rootfs_as_given = *f.rootfs;
  }
  spec.overlay = f.overlay;
  if (f.overlay_dir) {
    auto dir = absolute_dir("--overlay-dir", *f.overlay_dir);
    if (!dir) return dir.error();
    spec.overlay_dir = *dir;
    spec.overlay_dir_as_given = *f.overlay_dir;
  }
  if (f.cap_drop) {
    auto caps = sandbox::parse_capabilities(*f.cap_drop);
    if (!caps) return caps.error();
    spec.cap_drop = *caps;
  }
  spec.no_new_privs = f.no_new_privs;
  spec.seccomp = f.seccomp;
  if (f.commands && !f.program.empty())
    return sandbox::plain_error("-c and -- PROGRAM both say what to run", "give one of them");
  if (f.commands) {
    spec.command.kind = sandbox::CommandKind::ShellCommands;
    spec.command.shell_commands = *f.commands;
  } else if (!f.program.empty()) {
    spec.command.kind = sandbox::CommandKind::Program;
    spec.command.argv = f.program;
  }
  spec.tinysh_path = tinysh;
  return spec;
}

std::string find_tinysh() {
  if (const char* path = std::getenv("NSLAB_TINYSH"); path && *path) return path;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && std::filesystem::is_regular_file(self.parent_path() / "tinysh", ec))
    return (self.parent_path() / "tinysh").string();
  // nslab alone (a copied file, a package without it): the tinysh it carries.
  std::string problem;
  if (auto extracted = extracted_tinysh(problem)) return *extracted;
  fmt::print(stderr, "nslab: no tinysh beside {} and the one nslab carries cannot be written "
                     "out: {}\n",
             ec ? "nslab" : self.string(), problem);
  return "tinysh";
}

}  // namespace nslab::cli
