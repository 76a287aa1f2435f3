#include "enter.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

#include "boxes.h"
#include "child.h"
#include "isolation.h"
#include "launch.h"
#include "namespaces.h"
#include "supervise.h"
#include "sys.h"
#include "terminal.h"
#include "builtins/caps_status.h"
#include "builtins/cgroup_fs.h"
#include "common/files.h"

namespace sandbox {

// --- Pure parts ------------------------------------------------------------------------------

std::vector<NamespaceToJoin> namespaces_to_join(const std::map<std::string, std::string>& box,
                                                const std::map<std::string, std::string>& own) {
  std::vector<NamespaceToJoin> joins;
  for (const auto& kind : namespace_kinds()) {
    std::string name(kind.proc_name);
    auto theirs = box.find(name);
    if (theirs == box.end()) continue;
    auto mine = own.find(name);
    if (mine != own.end() && mine->second == theirs->second) continue;
    joins.push_back({name, kind.clone_flag});
  }
  return joins;
}

std::vector<std::string> box_cgroup_dirs(std::string_view box_cgroup,
                                         std::string_view runner_cgroup,
                                         std::string_view mountinfo) {
  // The same parsers as tinysh's `cgroup` and the runner's: a membership the runner shares is
  // not the box's own, and a path with ".." is never followed.
  namespace cg = tinysh::cgroup;
  auto runner = cg::parse_proc_cgroup(runner_cgroup);
  std::vector<cg::Membership> own;
  for (auto& m : cg::parse_proc_cgroup(box_cgroup)) {
    bool shared = std::any_of(runner.begin(), runner.end(), [&](const cg::Membership& r) {
      return r.hierarchy_id == m.hierarchy_id && r.controllers == m.controllers && r.path == m.path;
    });
    if (!shared) own.push_back(std::move(m));
  }
  std::vector<std::string> dirs;
  for (const auto& place : cg::locate(own, cg::parse_cgroup_mounts(mountinfo)))
    if (place.visible()) dirs.push_back(place.directory);
  return dirs;
}

// --- Entering --------------------------------------------------------------------------------

namespace {

// The hint for a failed open of /proc/BOX/...: what the errno means for entering a box.
Error box_open_error(Error e, pid_t box_pid) {
  e.step = "open the box's namespaces";
  if (e.err == ENOENT || e.err == ESRCH)
    e.hint = fmt::format("the box (PID {}) has ended; nslab ps lists the running ones", box_pid);
  else if (e.err == EACCES || e.err == EPERM)
    e.hint =
        "only root, or the user who started the box, may enter it: the kernel lets a process "
        "open another's /proc/PID/ns/* only if it could ptrace it";
  return e;
}

struct Opened {
  pid_t box_pid = 0;
  std::vector<std::pair<NamespaceToJoin, Fd>> namespaces;
  Fd root;                       // /proc/BOX/root: the box's root directory
  Fd tinysh;                     // a sealed copy in memory, for execveat
  std::vector<Fd> cgroup_procs;  // opened for writing
  bool own_root = false;         // the box's root is not ours: give it a box's environment
  bool user_namespace = false;   // we join the box's user namespace
  // What the box's first process was left (its /proc/PID/status): the shell that enters gets
  // no more: the same bounding set, no_new_privs, and nslab's seccomp filter if it has one.
  tinysh::ProcessPowers powers;
};

// Takes away from this process what the box's first process lacks: the capabilities its
// bounding set lacks, then no_new_privs, then (last: it filters what follows) nslab's filter.
Status lose_what_the_box_lost(const tinysh::ProcessPowers& box) {
  if (box.bounding) {
    std::vector<int> missing;
    for (int cap = 0; cap < tinysh::kNamedCapabilities; ++cap)
      if (!((*box.bounding >> cap) & 1)) missing.push_back(cap);
    if (!missing.empty())
      SANDBOX_TRY(drop_capabilities(op::DropCapabilities{.caps = missing}));
  }
  bool filtered = box.seccomp_mode == 2;
  if (box.no_new_privs == 1 || filtered) SANDBOX_TRY(sys::set_no_new_privs());
  if (!filtered) return ok();
  // A box's filter can only be nslab's (--seccomp): the same list, in the same order.
  return install_seccomp(nslab_filter());
}

Result<std::map<std::string, std::string>> namespace_links(pid_t pid) {
  std::map<std::string, std::string> links;
  for (const auto& kind : namespace_kinds()) {
    std::string path = pid ? fmt::format("/proc/{}/ns/{}", pid, kind.proc_name)
                           : fmt::format("/proc/self/ns/{}", kind.proc_name);
    char link[256];
    ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
    if (n < 0) {
      if (errno == ENOENT && kind.proc_name == "time") continue;  // a kernel before 5.6
      return make_error(fmt::format("readlink(\"{}\")", path), errno);
    }
    links[std::string(kind.proc_name)].assign(link, static_cast<size_t>(n));
  }
  return links;
}

// Step 1: everything the box's side needs, opened from the host.
Result<Opened> open_box(const EnterRequest& request) {
  Opened opened;
  pid_t pid = opened.box_pid = request.box_pid;
  auto box_links = namespace_links(pid);
  if (!box_links) return box_open_error(box_links.error(), pid);
  auto own_links = namespace_links(0);
  if (!own_links) return own_links.error();
  for (auto& join : namespaces_to_join(*box_links, *own_links)) {
    auto fd = sys::open(fmt::format("/proc/{}/ns/{}", pid, join.name), O_RDONLY);
    if (!fd) return box_open_error(fd.error(), pid);
    if (join.clone_flag == CLONE_NEWUSER) opened.user_namespace = true;
    opened.namespaces.emplace_back(std::move(join), std::move(*fd));
  }
  auto root = sys::open(fmt::format("/proc/{}/root", pid), O_RDONLY | O_DIRECTORY);
  if (!root) return box_open_error(root.error(), pid);
  auto status = sys::read_file(fmt::format("/proc/{}/status", pid));
  if (!status) return box_open_error(status.error(), pid);
  opened.powers = tinysh::parse_process_powers(*status);
  opened.root = std::move(*root);
  struct stat box_root {
  }, host_root{};
  if (::fstat(opened.root.get(), &box_root) == 0 && ::stat("/", &host_root) == 0)
    opened.own_root = box_root.st_dev != host_root.st_dev || box_root.st_ino != host_root.st_ino;

  if (request.command.kind != CommandKind::Program) {
    auto tinysh = open_host_tinysh(request.tinysh_path);
    if (!tinysh) return tinysh.error();
    // The shell that enters runs from a sealed copy in memory, made here on the host's side.
    // Run from the host's file, it would hand the box that file: a process of the box that
    // opens /proc/PID/exe (O_PATH) while the entered shell lives can reopen it for writing once
    // it has exited, and change the tinysh every later box runs (CVE-2019-5736, runc's exec).
    // The copy costs one sendfile of the binary per enter.
    auto copy = sys::sealed_copy(tinysh->get(), "tinysh");
    if (!copy) {
      Error e = copy.error();
      e.step = "copy tinysh";
      return e;
    }
    opened.tinysh = std::move(*copy);
  }

  // The box's own cgroups (its limits): the new shell joins them, so `spawn` or `hog` run from it
  // meet the same pids.max and memory limit as the box's first process.
  auto box_cgroup = sys::read_file(fmt::format("/proc/{}/cgroup", pid));
  auto runner_cgroup = sys::read_file(fmt::format("/proc/{}/cgroup", request.runner_pid));
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  if (box_cgroup && runner_cgroup && mountinfo) {
    for (const auto& dir : box_cgroup_dirs(*box_cgroup, *runner_cgroup, *mountinfo)) {
      auto procs = sys::open(dir + "/cgroup.procs", O_WRONLY);
      if (!procs) {
        Error e = procs.error();
        e.step = "open the box's cgroup";
        return e;
      }
      opened.cgroup_procs.push_back(std::move(*procs));
    }
  }

  // Step 2: the pid may have been reused since `nslab ps` read it; the fds above are only the
  // box's if the process is still the one with the start time seen then.
  auto start = start_ticks_of(pid);
  if (!start || (request.box_start_ticks && *start != request.box_start_ticks)) {
    Error e = make_error(fmt::format("/proc/{}/stat", pid), ESRCH);
    return box_open_error(e, pid);
  }
  return opened;
}

// Step 3.
Status join_namespaces(const Opened& opened) {
  for (const auto& [join, fd] : opened.namespaces) {
    Status joined = sys::setns(fd.get(), static_cast<int>(join.clone_flag));
    if (!joined) {
      Error e = joined.error();
      e.step = fmt::format("join the box's {} namespace", join.name);
      if (e.err == EPERM)
        e.hint =
            "joining needs CAP_SYS_ADMIN over the box's user namespace: run as root, or be "
            "the user who started a --user box";
      else if (e.err == EINVAL && join.name == "time")
        e.hint = "a multithreaded process cannot join a time namespace";
      return e;
    }
  }
  return ok();
}

bool parent_gone(int alive_fd) {
  // nslab holds the other end of this pipe until the child has exec'd or failed.
  pollfd pfd{alive_fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLHUP);
}

// Step 5, in the child (already in the box's namespaces). Returns only on failure.
Error become_box_process(const EnterRequest& request, const Opened& opened, int alive_fd,
                         const sigset_t& original_mask, int terminal,
                         const std::array<bool, 3>& stdio_terminals) {
  // The box's cgroups: "0" is the writer itself (cgroups(7)). The fds were opened on the host.
  for (const auto& procs : opened.cgroup_procs) {
    if (::write(procs.get(), "0", 1) != 1) {
      Error e = make_error("write cgroup.procs \"0\"", errno);
      e.step = "join the box's cgroup";
      return e;
    }
  }
  if (auto s = sys::set_parent_death_signal(SIGKILL); !s) return s.error();
  // The box's root: /proc/BOX/root names it even when the box's mount tree starts elsewhere.
  if (auto s = sys::fchdir(opened.root.get()); !s) return s.error();
  if (auto s = sys::chroot("."); !s) return s.error();
  if (opened.user_namespace) {
    // After setns(CLONE_NEWUSER) our ids are still the caller's, which the box's maps may not
    // cover (they then read 65534). The box's root, uid 0 inside, is who a shell there should be.
    // EINVAL: the box maps no uid/gid 0; stay as we are.
    if (auto s = sys::set_gid(0); !s && s.error().err != EINVAL) return s.error();
    // EPERM when the box's runner wrote setgroups=deny (a box started by a non-root user).
    if (auto s = sys::drop_supplementary_groups(); !s && s.error().err != EPERM) return s.error();
    if (auto s = sys::set_uid(0); !s && s.error().err != EINVAL) return s.error();
    // Changing ids clears the parent-death signal (prctl(2)): arm it again.
    if (auto s = sys::set_parent_death_signal(SIGKILL); !s) return s.error();
  }
  if (parent_gone(alive_fd)) return plain_error("nslab exited while the shell was starting");
  ::sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  // A session of its own, as a box's first process has: nslab's terminal is out of its reach
  // (TIOCSTI), and on a terminal the shell has a pty of its own (terminal.cpp).
  if (auto s = start_session(terminal, stdio_terminals); !s) return s.error();
  if (auto s = sys::cloexec_from(3); !s) return s.error();
  if (auto s = lose_what_the_box_lost(opened.powers); !s) return s.error();

  // The exec of `nslab run`, with the copy made above.
  op::Exec exec{.argv = box_argv(request.command), .host_environment = !opened.own_root};
  if (request.command.kind == CommandKind::Program) {
    exec.from = op::Exec::From::Path;
    exec.file = exec.argv[0];
  } else {
    exec.from = op::Exec::From::SealedCopy;
  }
  return exec_program(exec, opened.tinysh.get(), "");
}

}  // namespace

Result<BoxExit> enter_box(const EnterRequest& request) {
  auto opened = open_box(request);
  if (!opened) return opened.error();

  // On a terminal, the new shell gets a pty of its own. In a box with a root of its own, from the
  // box's devpts instance (opened from the host through /proc/BOX/root), so that its name,
  // /dev/pts/N, exists in the box: the box's /dev/console is its first process's terminal, and
  // a name in the host's devpts means nothing there. Otherwise, or if the box has no usable
  // devpts, from the host's /dev/ptmx, as `nslab run` does.
  std::array<bool, 3> stdio_terminals{};
  for (int fd = 0; fd < 3; ++fd) stdio_terminals[static_cast<size_t>(fd)] = ::isatty(fd);
  std::optional<Pty> pty;
  if (stdio_terminals[0]) {
    auto own = opened->own_root ? open_pty_under(opened->root.get(), STDIN_FILENO)
                                : Result<Pty>(plain_error("no root of its own"));
    auto made = own ? std::move(own) : open_host_pty(STDIN_FILENO);
    if (!made) {
      Error e = made.error();
      e.step = "open a terminal for the shell";
      return e;
    }
    pty.emplace(std::move(*made));
  }

  SignalState signals;
  // The child reports a failure before exec on `report`; `alive` tells it whether nslab is
  // still there. Both are close-on-exec, so a successful exec closes the child's ends.
  int report_pipe[2], alive_pipe[2];
  if (::pipe2(report_pipe, O_CLOEXEC) < 0) return make_error("pipe2(report_pipe)", errno);
  Fd report_read(report_pipe[0]), report_write(report_pipe[1]);
  if (::pipe2(alive_pipe, O_CLOEXEC) < 0) return make_error("pipe2(alive_pipe)", errno);
  Fd alive_read(alive_pipe[0]), alive_write(alive_pipe[1]);

  SANDBOX_TRY(join_namespaces(*opened));

  // Step 4.
  auto forked = sys::fork_process();
  if (!forked) {
    Error e = forked.error();
    e.step = "start a process in the box";
    if (e.err == ENOMEM)
      e.hint = "the box's PID 1 has exited, so its PID namespace takes no new processes";
    return e;
  }
  if (*forked == 0) {
    report_read.reset();
    alive_write.reset();
    Error e = become_box_process(request, *opened, alive_read.get(), signals.original_mask(),
                                 pty ? pty->slave.get() : -1, stdio_terminals);
    if (e.step.empty()) e.step = "become a process of the box";
    report_error(report_write.get(), e);
  }

  Child child(*forked);
  report_write.reset();
  alive_read.reset();
  if (pty) pty->slave.reset();  // the shell holds it: the master reads EIO once it is done
  // Blocks until the child has exec'd (EOF, nothing written) or reported why it could not.
  std::string report = common::read_fd(report_read.get());
  if (!report.empty()) {
    child.wait();
    return read_reported_error(report);
  }
  alive_write.reset();
  std::optional<TerminalRelay> relay;
  if (pty) relay.emplace(std::move(pty->master), stdio_terminals);

  // Step 6: wait, forwarding signals and relaying the shell's terminal.
  auto waited = wait_forwarding(
      signals, child.pid(), [&child] { return child.poll(); }, relay ? &*relay : nullptr);
  if (!waited) return waited.error();
  int status = *waited;

  BoxExit exit;
  if (WIFEXITED(status)) exit.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
  return exit;
}

}  // namespace sandbox
