// Rendering a step's calls from its operands: one overload per kind of step, each made of the
// sys layer's own call texts, so what `nslab explain` shows is what the executor asks the kernel.
#include "operations.h"

#include <sys/mount.h>

#include <fmt/format.h>

#include "cgroup.h"
#include "isolation.h"
#include "bridge.h"
#include "net.h"
#include "namespaces.h"

namespace sandbox {

namespace {

using Calls = std::vector<PlannedCall>;

Calls texts(const std::vector<std::string>& calls) {
  Calls out;
  for (const auto& text : calls) out.push_back({text});
  return out;
}

std::string dup2_text(const std::array<bool, 3>& replace, std::string_view fd) {
  std::string text;
  for (int i = 0; i < 3; ++i)
    if (replace[static_cast<size_t>(i)]) text += fmt::format("; dup2({}, {})", fd, i);
  return text;
}

std::optional<BoxSubnet> subnet_at(const std::optional<unsigned>& index) {
  if (!index) return std::nullopt;
  return BoxSubnet{*index};
}

PlannedCall mount_call(const sys::MountCall& call, bool conditional = false) {
  return {sys::mount_text(call), conditional};
}

// A planned mount, after what its target needs: the text of the mount, and how sure it is.
void add_mount(Calls& calls, const PlannedMount& m, bool conditional) {
  switch (m.make) {
    case PlannedMount::Make::Nothing:
      break;
    case PlannedMount::Make::Directory:
      calls.push_back({fmt::format("mkdir(\"{}\", {:#o})", m.call.target, m.mode), conditional});
      break;
    case PlannedMount::Make::File:
      calls.push_back({fmt::format("create(\"{}\", {:#o})", m.call.target, m.mode), conditional});
      break;
  }
  PlannedCall call = mount_call(m.call, conditional || m.only != PlannedMount::Only::Always);
  switch (m.only) {
    case PlannedMount::Only::Always:
      break;
    case PlannedMount::Only::IfPresent:
      call.note = "if it exists";
      break;
    case PlannedMount::Only::IfFile:
      call.note = "if it is a file";
      break;
    case PlannedMount::Only::IfDirectory:
      call.note = "if it is a directory";
      break;
  }
  if (m.plus_locked_flags) {
    // The flags come after source, target and type: a made call begins like this one up to them.
    std::string bare = sys::mount_text({m.call.source, m.call.target, m.call.fstype, 0, ""});
    call.exact_prefix = bare.size() - std::string_view("0)").size();
    call.note = "+ the flags the kernel locked on the bind";
  }
  calls.push_back(std::move(call));
}

Calls render(const op::SweepStaleCgroups& o) { return texts(cgroup::sweep_calls(o.layout)); }
Calls render(const op::CreateCgroup& o) {
  return texts(cgroup::creation_calls(o.layout, o.limits, cgroup::kBoxNamePattern));
}
// open_host_pty() (terminal.cpp) and root_inside_owner() (user.cpp).
Calls render(const op::OpenTerminal& o) {
  Calls calls = {{"posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC)"},
                 {"ioctl(master, TIOCSPTLCK, 0)"},
                 {"ioctl(master, TIOCGPTPEER) → /dev/pts/N"},
                 {"tcgetattr(0) → tcsetattr(slave)"},
                 {"ioctl(0, TIOCGWINSZ) → ioctl(master, TIOCSWINSZ)"}};
  if (o.owner)
    calls.push_back({fmt::format("fchown(slave, {}, {})", o.owner->first,
                                 static_cast<int>(o.owner->second))});
  return calls;
}
// Keeper::start() (keeper.cpp).
Calls render(const op::StartKeeper&) {
  return {{"socketpair(keeper_socket)"},
          {"fork() → keeper: setsid(); read(keeper_socket) until the runner says \"done\" or "
           "dies (end of file)"}};
}
Calls render(const op::Clone& o) { return {{sys::clone_text(o.flags)}}; }
Calls render(const op::DieWithRunner& o) {
  return {{"prctl(PR_SET_PDEATHSIG, SIGKILL)"},
          {o.own_pid_namespace ? "read(sync_pipe) sees EOF if the runner died"
                               : "getppid() == runner"}};
}
Calls render(const op::CloseInheritedFds& o) {
  return {{fmt::format("close_range({}, ~0U, CLOSE_RANGE_CLOEXEC)", o.first_fd)}};
}
Calls render(const op::WaitForRelease&) { return {{"read(sync_pipe, &go, 1)"}}; }
Calls render(const op::JoinCgroup& o) {
  return texts(cgroup::join_calls(o.layout, cgroup::kBoxNamePattern));
}
Calls render(const op::WriteUidMap& o) { return {{id_map_call(o.map, "uid_map", o.helper)}}; }
Calls render(const op::DenySetgroups&) { return {{"write(\"/proc/BOX/setgroups\", \"deny\")"}}; }
Calls render(const op::WriteGidMap& o) { return {{id_map_call(o.map, "gid_map", o.helper)}}; }
Calls render(const op::DelegateCgroup& o) {
  return {{fmt::format("chown(BOX_CGROUP and its cgroup.procs, cgroup.threads or tasks, "
                       "cgroup.subtree_control, {}, {})",
                       o.uid, o.gid)}};
}
Calls render(const op::PrepareLayerDir& o) {
  Calls calls = {{fmt::format("mkdir(\"{}\", 0755)", o.dir), false, "if missing"}};
  for (const auto& sub : o.subdirs) {
    calls.push_back({fmt::format("mkdir(\"{}\", 0755)", sub), false, "if missing"});
    if (o.owner)
      calls.push_back({fmt::format("chown(\"{}\", {}, {})", sub, o.owner->first,
                                   static_cast<int>(o.owner->second))});
  }
  return calls;
}
Calls render(const op::PlugVeth& o) { return texts(plug_veth_calls(subnet_at(o.subnet))); }
Calls render(const op::Release&) { return {{"write(sync_pipe, \"g\", 1)"}}; }
Calls render(const op::BecomeRootInside& o) {
  Calls calls;
  if (o.root_group) calls.push_back({"setresgid(0, 0, 0)"});
  if (o.drop_groups) calls.push_back({"setgroups(0, NULL)"});
  if (o.root_user) calls.push_back({"setresuid(0, 0, 0)"});
  calls.push_back({"prctl(PR_SET_DUMPABLE, 1)"});
  calls.push_back({"prctl(PR_SET_PDEATHSIG, SIGKILL)"});
  calls.push_back({"poll(sync_pipe): the runner is still there"});
  return calls;
}
Calls render(const op::EmptyNetwork&) {
  return {{"none: CLONE_NEWNET in clone3 already made the network namespace"}};
}
Calls render(const op::JoinBridge& o) { return texts(join_bridge_calls(o.bridge, {})); }
Calls render(const op::ConfigureBoxNetwork& o) {
  auto subnet = subnet_at(o.subnet);
  std::optional<netlink::Ipv4Prefix> box;
  if (subnet) box = subnet->box_prefix();
  return texts(box_end_calls(box, o.prefix_len));
}
Calls render(const op::LeaveBridge& o) { return texts(leave_bridge_calls(o.bridge, {})); }
Calls render(const op::EnterCgroupNamespace&) { return {{sys::unshare_text(CLONE_NEWCGROUP)}}; }
Calls render(const op::SetHostname& o) { return {{sys::sethostname_text(o.name)}}; }
Calls render(const op::MakeMountsPrivate& o) { return {mount_call(o.mount)}; }
Calls render(const op::MountRootfsTmpfs& o) {
  Calls calls{mount_call(o.staging), {fmt::format("mkdir(\"{}\", 0755)", o.root.target)},
              mount_call(o.root)};
  std::string dirs, files;
  for (const auto& [dir, mode] : o.dirs) dirs += (dirs.empty() ? "" : " ") + dir;
  for (const auto& file : o.files) files += (files.empty() ? "" : " ") + file;
  calls.push_back({fmt::format("mkdir {}", dirs)});
  calls.push_back({fmt::format("write {}", files)});
  calls.push_back({fmt::format("copy(tinysh -> \"{}\")", o.tinysh)});
  calls.push_back({fmt::format("symlink(\"tinysh\", \"{}\")", o.shell_link)});
  return calls;
}
Calls render(const op::BindRootfsDir& o) {
  Calls calls = {{fmt::format("open(\"{}\", O_PATH|O_DIRECTORY) → FD", o.dir)}};
  if (o.layer && !o.layer_dir.empty())
    calls.push_back({fmt::format("open(\"{}\", O_PATH|O_DIRECTORY) → LAYER_FD", o.layer_dir)});
  calls.push_back(mount_call(o.staging));
  calls.push_back(mount_call(o.lower));
  if (o.layer) {
    calls.push_back(mount_call(*o.layer));
    for (const auto& dir : o.layer_dirs)
      calls.push_back({fmt::format("mkdir(\"{}\", 0755)", dir), false, "if missing"});
  }
  calls.push_back(mount_call(o.overlay));
  calls.push_back({sys::mount_text(o.tmp), true, "if its /tmp is a directory"});
  return calls;
}
Calls render(const op::MountDev& o) {
  Calls calls;
  for (const auto& m : o.mounts) add_mount(calls, m, o.only_if_rootfs_has_dev);
  for (const auto& [target, link] : o.links)
    calls.push_back({fmt::format("symlink(\"{}\", \"{}\")", target, link)});
  return calls;
}
Calls render(const op::BindConsole& o) {
  Calls calls{{"FD = open(\"/dev/pts/N\", O_PATH|O_NOFOLLOW)", true}};
  add_mount(calls, o.mount, true);
  return calls;
}
Calls render(const op::MountProc& o) { return {mount_call(o.mount)}; }
Calls render(const op::ProtectProc& o) {
  Calls calls;
  for (const auto& m : o.mounts) add_mount(calls, m, false);
  return calls;
}
Calls render(const op::MountCgroupView& o) {
  bool conditional = !o.rootfs_dirs.empty();
  Calls calls;
  for (const auto& [dir, mode] : o.first_dirs)
    calls.push_back({fmt::format("mkdir(\"{}\", {:#o})", dir, mode)});
  // The host's mounts there may be locked to their parent in a user namespace (EINVAL): then
  // they are covered instead.
  if (!o.detach.empty()) calls.push_back({sys::umount2_text(o.detach.c_str(), MNT_DETACH), true});
  for (const auto& m : o.mounts) add_mount(calls, m, conditional);
  return calls;
}
Calls render(const op::PivotRoot& o) {
  return {{sys::chdir_text(o.new_root.c_str())},
          {sys::pivot_root_text(".", ".")},
          {sys::umount2_text(".", MNT_DETACH)},
          {sys::chdir_text("/")}};
}
Calls render(const op::EnterTimeNamespace& o) {
  return {{sys::unshare_text(CLONE_NEWTIME)},
          {fmt::format("write(\"/proc/self/timens_offsets\", \"monotonic {0} 0\\nboottime {0} 0\")",
                       o.offset_seconds)},
          {fmt::format("FD = open(\"{}\")", kTimeForChildren)},
          {"setns(FD, CLONE_NEWTIME)"}};
}
Calls render(const op::SetNoNewPrivs&) { return {{"prctl(PR_SET_NO_NEW_PRIVS, 1)"}}; }
Calls render(const op::InstallSeccomp& o) {
  return {{fmt::format("seccomp(SECCOMP_SET_MODE_FILTER, 0, {} instructions)",
                       seccomp_program(o.denied).size()),
           false,
           fmt::format("another architecture: kill; EPERM for {}; allow the rest",
                       syscall_names(o.denied))}};
}
Calls render(const op::DropCapabilities& o) {
  return {{fmt::format("prctl(PR_CAPBSET_DROP, {})", capability_names(o.caps))},
          {"capset(the same out of every set)"}};
}
// take_box_session() (terminal.cpp).
Calls render(const op::NewSession& o) {
  using Terminal = op::NewSession::Terminal;
  std::string console;
  std::string fd = "console";
  switch (o.terminal) {
    case Terminal::None:
      return {{"setsid()"}};
    case Terminal::Slave:
      fd = "slave";
      break;
    case Terminal::Console:
      console = "console = open(\"/dev/console\", O_RDWR|O_NOCTTY); ";
      break;
    case Terminal::ConsoleOrSlave:
      console = "console = open(\"/dev/console\", O_RDWR|O_NOCTTY) (the slave itself when the "
                "rootfs has no /dev); ";
      break;
  }
  return {{"setsid()"},
          {fmt::format("{}ioctl({}, TIOCSCTTY, 0){}", console, fd, dup2_text(o.replace, fd))}};
}
Calls render(const op::Exec& o) {
  std::string argv = "[";
  for (std::size_t i = 0; i < o.argv.size(); ++i)
    argv += fmt::format("{}\"{}\"", i ? ", " : "", o.argv[i]);
  argv += "]";
  std::string env = o.host_environment ? "nslab's environment"
                                       : "[\"PATH=/bin:/sbin:/usr/bin:/usr/sbin\", \"HOME=/root\", "
                                         "TERM as nslab's]";
  switch (o.from) {
    case op::Exec::From::Path:
      // execvp() searches the PATH of `environ`: the executor points it at the box's first.
      return {{fmt::format("environ = {}", env)}, {fmt::format("execvp(\"{}\", {})", o.file, argv)}};
    case op::Exec::From::File:
      return {{fmt::format("execve(\"{}\", {}, {})", o.file, argv, env)}};
    case op::Exec::From::SealedCopy:
    {
      Calls calls;
      for (auto& text : sys::sealed_copy_texts("tinysh", o.file)) calls.push_back({text});
      calls.push_back({fmt::format("execveat(memfd:tinysh, \"\", {}, {}, AT_EMPTY_PATH)", argv, env)});
      return calls;
    }
  }
  return {};
}
// TerminalRelay (terminal.cpp), while the box runs.
Calls render(const op::RelayTerminal&) {
  return {{"tcsetattr(0, TCSANOW, cfmakeraw)"},
          {"poll(0, master, signalfd): keys → master, master → screen; SIGWINCH: ioctl(master, "
           "TIOCSWINSZ)"},
          {"at the end: read(master) to EIO, tcsetattr(0, TCSANOW, saved)"}};
}
// Box::sweep() (keeper.cpp), after the box's first process ended.
Calls render(const op::SweepBox&) {
  return {{"pidfd_open() + pidfd_send_signal(SIGKILL) for every process of the box's session "
           "(and cgroup), until none is left"},
          {"write(keeper_socket, \"done\")"},
          {"waitpid(keeper)"}};
}
Calls render(const op::RemoveCgroup& o) {
  return texts(cgroup::remove_calls(o.layout, cgroup::kBoxNamePattern));
}

}  // namespace

std::vector<PlannedCall> planned_calls(const Step& step) {
  return std::visit([](const auto& o) { return render(o); }, step.op);
}

std::string calls_text(const Step& step) {
  std::string text;
  for (const auto& call : planned_calls(step)) {
    text += (text.empty() ? "" : "; ") + call.text;
    if (!call.note.empty()) text += " " + call.note;
  }
  return text;
}

std::string Step::calls() const {
  return calls_text(*this);
}

}  // namespace sandbox
