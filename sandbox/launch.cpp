// Executing a Plan: the runner's side and the box's side of the steps, across the clone.
//
//   runner                                   box (first process)
//   ──────                                   ───────────────────
//   make the box's cgroup,
//   on a terminal the box's pty
//   open tinysh (to copy it), pipes
//   clone3(CLONE_NEW*) ───────────────────▶  prctl(PR_SET_PDEATHSIG); fds close-on-exec
//   join the cgroup, write uid_map,           read(sync)  … waits …
//   setgroups, gid_map, plug the veth (or
//   join the bridge)
//   write(sync, "g") ─────────────────────▶  its setup steps, in order (the network: read its
//   sweep stale cgroups (the box's start      address, lo and eth0 up), then setsid()
//   does not wait for it)
//   read(report) … waits …                   execve(): the report pipe (close-on-exec) closes
//   EOF: the box runs its command            — or it writes its Error to the report pipe
//   … after the box ended: ~Box reaps, then removes the cgroup and leaves the bridge
#include "launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"
#include "terminal.h"

namespace sandbox {

namespace {

std::string step_label(const Plan& plan, const Step& step) {
  size_t number = static_cast<size_t>(&step - plan.steps.data()) + 1;
  return fmt::format("step {} ({})", number, action_label(step.action()));
}

// The box's own setup: one overload per kind of step the box runs. A new kind of box step that
// is not listed here matches no overload (the template takes only the runner's) and does not
// compile.
struct BoxStep {
  BoxSetup& box;

  Status operator()(const op::DieWithRunner& s) { return die_with_runner(box, s); }
  Status operator()(const op::CloseInheritedFds& s) { return close_inherited_fds(s); }
  Status operator()(const op::WaitForRelease&) { return wait_for_release(box); }
  Status operator()(const op::BecomeRootInside& s) { return become_root_inside(box, s); }
  Status operator()(const op::EmptyNetwork&) { return ok(); }  // CLONE_NEWNET made it: lo, down
  Status operator()(const op::ConfigureBoxNetwork&) { return configure_network(box); }
  Status operator()(const op::EnterCgroupNamespace&) { return enter_cgroup_namespace(); }
  Status operator()(const op::SetHostname& s) { return set_hostname(s); }
  Status operator()(const op::MakeMountsPrivate& s) { return make_mounts_private(s); }
  Status operator()(const op::MountRootfsTmpfs& s) { return build_embedded_rootfs(box, s); }
  Status operator()(const op::BindRootfsDir& s) { return bind_rootfs_dir(box, s); }
  Status operator()(const op::MountDev& s) { return mount_dev(box, s); }
  Status operator()(const op::BindConsole& s) { return bind_console(box, s); }
  Status operator()(const op::MountProc& s) { return mount_proc(box, s); }
  Status operator()(const op::ProtectProc& s) { return protect_proc(s); }
  Status operator()(const op::MountCgroupView& s) { return mount_cgroup_view(box, s); }
  Status operator()(const op::PivotRoot& s) { return pivot_into(s); }
  Status operator()(const op::EnterTimeNamespace& s) { return enter_time_namespace(s); }
  Status operator()(const op::DropCapabilities& s) { return drop_capabilities(s); }
  Status operator()(const op::SetNoNewPrivs& s) { return set_no_new_privs(s); }
  Status operator()(const op::InstallSeccomp& s) { return install_seccomp(s); }
  Status operator()(const op::NewSession& s) { return take_box_session(box, s); }
  Status operator()(const op::Exec& s) { return exec_command(box, s); }
  // The runner's steps: box_main() skips them.
  template <typename Op>
    requires(Op::side == Side::Runner)
  Status operator()(const Op&) {
    return ok();
  }
};

// The box's first process: its steps in order, then exec. Never returns.
[[noreturn]] void box_main(BoxSetup& box, int report_fd) {
  for (const auto& step : box.plan.steps) {
    if (step.side() != Side::Box) continue;
    Status status = std::visit(BoxStep{box}, step.op);
    if (status) continue;
    Error error = status.error();
    error.step = step_label(box.plan, step);
    report_error(report_fd, error);
  }
  ::_exit(125);  // unreachable: the Exec step either replaces us or fails
}

// What the runner holds for the box while it makes it.
struct RunnerSide {
  const Plan& plan;
  pid_t runner_pid = 0;
  std::optional<cgroup::BoxCgroup> cgroup;
  Fd network_out;  // --veth, --bridge: write end of the pipe that tells the box its address
  std::optional<BoxLink> link;
  std::optional<BridgeSeat> seat;  // --bridge: left when the runner is done with the box
  std::vector<std::string> notes;
  std::optional<Pty> pty;  // on a terminal: the box's
  std::optional<Keeper> keeper;  // without --pid
};

std::vector<std::string> cgroup_procs_of(const RunnerSide& runner) {
  std::vector<std::string> files;
  if (runner.cgroup)
    for (const auto& dir : runner.cgroup->dirs()) files.push_back(dir.path + "/cgroup.procs");
  return files;
}

// The runner's part: one overload per kind of step the runner runs, before the clone (no box
// yet: pid 0) or between the clone and the release. As for BoxStep, a kind of runner step not
// listed here does not compile.
struct RunnerStep {
  RunnerSide& runner;
  pid_t pid = 0;        // the box's, once cloned
  int release_fd = -1;  // the sync pipe's write end, once cloned

  Status operator()(const op::SweepStaleCgroups&) {
    // Every controller's, not only this box's: a box with --pids alone also removes what a
    // killed box with --memory left. It runs after the release, while the box sets itself up,
    // so this box's cgroup (named after this runner) is alive, not stale.
    auto notes = cgroup::sweep_notes(cgroup::sweep_stale_everywhere(/*still_mine=*/true));
    runner.notes.insert(runner.notes.end(), notes.begin(), notes.end());
    return ok();
  }
  Status operator()(const op::CreateCgroup& s) {
    auto made = cgroup::BoxCgroup::create(s.layout, s.limits, runner.runner_pid);
    if (!made) return made.error();
    runner.cgroup.emplace(std::move(*made));
    return ok();
  }
  Status operator()(const op::OpenTerminal& s) {
    auto pty = open_box_terminal(s);
    if (!pty) return pty.error();
    runner.pty.emplace(std::move(*pty));
    return ok();
  }
  Status operator()(const op::StartKeeper&) {
    auto keeper = Keeper::start(cgroup_procs_of(runner));
    if (!keeper) return keeper.error();
    runner.keeper.emplace(std::move(*keeper));
    return ok();
  }
  Status operator()(const op::Clone&) { return ok(); }  // launch() itself, between the two loops
  Status operator()(const op::JoinCgroup&) { return runner.cgroup->join(pid); }
  Status operator()(const op::WriteUidMap& s) { return write_uid_map(pid, s); }
  Status operator()(const op::DenySetgroups&) { return deny_setgroups(pid); }
  Status operator()(const op::WriteGidMap& s) { return write_gid_map(pid, s); }
  Status operator()(const op::DelegateCgroup& s) { return runner.cgroup->delegate(s.uid, s.gid); }
  Status operator()(const op::PrepareLayerDir& s) { return prepare_layer_dir(runner.plan, s); }
  Status operator()(const op::PlugVeth&) {
    auto subnet = plug_veth(pid, runner.runner_pid);
    if (!subnet) return subnet.error();
    return send_address(link_of(*subnet));
  }
  Status operator()(const op::JoinBridge& s) {
    auto link = join_bridge(pid, s.bridge);
    if (!link) return link.error();
    runner.seat.emplace(*link);
    return send_address(*link);
  }
  Status send_address(const BoxLink& link) {
    runner.link = link;
    SANDBOX_TRY(send_box_address(runner.network_out.get(), link.box));
    runner.network_out.reset();
    return ok();
  }
  Status operator()(const op::Release&) {
    if (::write(release_fd, "g", 1) != 1) return make_error("write(sync_pipe)", errno);
    return ok();
  }
  // While and after the box runs: run_box relays the terminal, Box::sweep() ends what the box
  // left, and the BoxCgroup's destructor removes the cgroup.
  Status operator()(const op::RelayTerminal&) { return ok(); }
  Status operator()(const op::SweepBox&) { return ok(); }
  Status operator()(const op::RemoveCgroup&) { return ok(); }
  Status operator()(const op::LeaveBridge&) { return ok(); }  // ~BridgeSeat, after the box
  // The box's steps: the runner skips them.
  template <typename Op>
    requires(Op::side == Side::Box)
  Status operator()(const Op&) {
    return ok();
  }
};

Result<std::string> read_report(int fd) {
  std::string text;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("read(report_pipe)", errno);
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Box::~Box() {
  if (!child_.owned()) return;
  ::kill(child_.pid(), SIGKILL);
  wait_exit();
}

Box::Box(Box&& other) noexcept
    : child_(std::move(other.child_)),
      cgroup_(std::move(other.cgroup_)),
      link_(std::move(other.link_)),
      seat_(std::move(other.seat_)),
      notes_(std::move(other.notes_)),
      terminal_(std::move(other.terminal_)),
      keeper_(std::move(other.keeper_)),
      cgroup_procs_(std::move(other.cgroup_procs_)) {}

void Box::sweep() {
  if (!keeper_) return;
  sweep_box(child_.pid(), cgroup_procs_);
  keeper_->done();
  keeper_.reset();
}

int Box::poll_exit() {
  int status = child_.poll();
  if (status >= 0) sweep();
  return status;
}

int Box::wait_exit() {
  int status = child_.wait();
  sweep();
  return status;
}

pid_t Box::release() {
  return child_.release();
}

Result<Fd> open_host_tinysh(const std::string& path) {
  auto fd = sys::open(path, O_RDONLY);
  if (!fd) {
    Error e = fd.error();
    e.step = "find tinysh";
    e.hint = "build it (cmake --build build --target tinysh) or point NSLAB_TINYSH at it";
    return e;
  }
  return std::move(*fd);
}

void report_error(int report_fd, const Error& error) {
  std::string text;
  for (const auto& field : {error.step, error.call, std::to_string(error.err), error.hint}) {
    text += field;
    text += '\0';
  }
  // If the parent is gone, nobody reads this; the write fails with EPIPE and we just exit.
  ::signal(SIGPIPE, SIG_IGN);
  [[maybe_unused]] ssize_t n = ::write(report_fd, text.data(), text.size());
  ::_exit(launch_failure_status(error));
}

Error read_reported_error(const std::string& text) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    fields.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (fields.size() != 4) return plain_error("the new process reported a malformed error");
  Error e;
  e.step = fields[0];
  e.call = fields[1];
  e.err = std::atoi(fields[2].c_str());
  e.hint = fields[3];
  return e;
}

int launch_failure_status(const Error& error) {
  bool exec = error.call.starts_with("execve");
  if (exec && (error.err == ENOENT || error.err == ENOTDIR)) return 127;
  if (exec) return 126;
  return 125;
}

namespace {

// The host's tinysh, open for reading, when the box runs it or builds a root with it: checked
// here, before anything is cloned, for a clear error. Read, not O_PATH: the box runs a copy of
// it, never the host's file (see rootfs.cpp).
Result<Fd> open_tinysh(const Spec& spec) {
  bool runs_tinysh = spec.command.kind != CommandKind::Program;
  if (spec.rootfs() == RootfsKind::Host && !runs_tinysh) return Fd();
  return open_host_tinysh(spec.tinysh_path);
}

// --rootfs DIR, opened and checked by the runner before the clone (the box opens it again in
// its own mount namespace): not the host's root by another name, and no mounts under it.
Result<Fd> open_rootfs_dir(const Plan& plan) {
  const Spec& spec = plan.spec;
  if (!spec.rootfs_dir) return Fd();
  auto about = [](Error e) {
    e.step = "open the rootfs";
    return e;
  };
  auto fd = sys::open(*spec.rootfs_dir, O_PATH | O_DIRECTORY);
  if (!fd) return about(about_rootfs(plan, fd.error(), Side::Runner));
  if (Status other = check_not_host_root(plan, fd->get()); !other) return about(other.error());
  // Mounts under the directory: overlayfs (rootfs.cpp) cannot take such a tree in a user
  // namespace, where they are locked to it, and nowhere would the box see them. Refused, by
  // name, rather than half hidden.
  auto real = sys::read_link(fmt::format("/proc/self/fd/{}", fd->get()));
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  if (real && mountinfo) {
    auto below = mounts_below(*mountinfo, *real);
    if (!below.empty()) {
      std::string list;
      for (const auto& m : below) list += (list.empty() ? "" : ", ") + m;
      return about(plain_error(
          fmt::format("--rootfs {}: it has mounts under it ({}), which the box's read-only "
                      "root would hide or, in a user namespace, cannot be separated from",
                      *spec.rootfs_dir, list),
          fmt::format("unmount them first (umount -R {}), or copy the tree elsewhere",
                      below.front())));
    }
  }
  return std::move(*fd);
}

// The runner's steps in [from, to): each labelled with its number in the plan if it fails.
Status run_runner_steps(const Plan& plan, std::vector<Step>::const_iterator from,
                        std::vector<Step>::const_iterator to, RunnerStep part) {
  for (auto step = from; step != to; ++step) {
    Status status = std::visit(part, step->op);
    if (!status) {
      Error e = status.error();
      e.step = step_label(plan, *step);
      return e;
    }
  }
  return ok();
}

}  // namespace

Result<Box> launch(const Plan& plan, const sigset_t& box_signal_mask) {
  auto clone_step = std::find_if(plan.steps.begin(), plan.steps.end(),
                                 [](const Step& step) { return step.as<op::Clone>(); });
  if (clone_step == plan.steps.end()) return plain_error("the plan has no clone step");
  // The runner's steps before the clone. Whatever they made is undone by RAII on any error
  // below: the cgroup is declared before the Box, so a box is killed before its cgroup goes.
  RunnerSide runner{plan, ::getpid(), {}, {}, {}, {}, {}, {}, {}};
  SANDBOX_TRY(run_runner_steps(plan, plan.steps.begin(), clone_step, RunnerStep{runner}));
  auto tinysh = open_tinysh(plan.spec);
  if (!tinysh) return tinysh.error();
  auto rootfs_dir = open_rootfs_dir(plan);
  if (!rootfs_dir) return rootfs_dir.error();

  int sync_pipe[2], report_pipe[2];
  if (::pipe2(sync_pipe, O_CLOEXEC) < 0) return make_error("pipe2(sync_pipe)", errno);
  Fd sync_read(sync_pipe[0]), sync_write(sync_pipe[1]);
  if (::pipe2(report_pipe, O_CLOEXEC) < 0) return make_error("pipe2(report_pipe)", errno);
  Fd report_read(report_pipe[0]), report_write(report_pipe[1]);

  // --veth, --bridge: the runner picks the box's address only after the clone, so it sends it
  // over a pipe.
  Fd network_in;
  if (plan.has(Action::PlugVeth) || plan.has(Action::JoinBridge)) {
    auto handoff = NetworkHandoff::open();
    if (!handoff) return handoff.error();
    network_in = std::move(handoff->box_end);
    runner.network_out = std::move(handoff->runner_end);
  }

  auto cloned = sys::clone_process(clone_step->as<op::Clone>()->flags);
  if (!cloned) {
    Error e = cloned.error();
    e.step = step_label(plan, *clone_step);
    return e;
  }
  if (*cloned == 0) {
    // The box. Its copies of the runner's pipe ends must go, or it would never see EOF. (It
    // never returns, so its copy of the runner's cgroup object is never destroyed here.)
    sync_write.reset();
    report_read.reset();
    runner.network_out.reset();
    BoxSetup box{plan,
                 runner.runner_pid,
                 sync_read.get(),
                 network_in.get(),
                 std::move(*tinysh),
                 std::move(*rootfs_dir),
                 box_signal_mask,
                 runner.pty ? std::move(runner.pty->slave) : Fd(),
                 runner.pty ? runner.pty->slave_path : std::string(),
                 false};
    if (runner.pty) runner.pty->master.reset();
    box_main(box, report_write.get());
  }

  Box box(*cloned);
  if (runner.keeper) {
    // From here the Box owns the keeper: whatever way launch() returns, it is told or swept.
    box.cgroup_procs_ = cgroup_procs_of(runner);
    box.keeper_.emplace(std::move(*runner.keeper));
    runner.keeper.reset();
    if (Status watching = box.keeper_->watch(box.pid()); !watching) return watching.error();
  }
  sync_read.reset();
  report_write.reset();
  network_in.reset();
  // The box holds the slave now; with no copy here, the master reads EIO once the box is done.
  if (runner.pty) runner.pty->slave.reset();
  // The runner's steps between the clone and the release. The relay runs while the box runs
  // (run_box); RemoveCgroup, after the box's end, is the BoxCgroup's destructor.
  // On an error ~Box kills and reaps the waiting child.
  SANDBOX_TRY(run_runner_steps(plan, clone_step + 1, plan.steps.end(),
                               RunnerStep{runner, box.pid(), sync_write.get()}));
  // Blocks until the box execs (the report pipe closes with no data) or reports its failure.
  auto report = read_report(report_read.get());
  if (!report) return report.error();
  if (!report->empty()) {
    box.wait_exit();
    return read_reported_error(*report);
  }
  if (runner.cgroup) box.cgroup_.emplace(std::move(*runner.cgroup));
  box.link_ = runner.link;
  if (runner.seat) box.seat_.emplace(std::move(*runner.seat));
  runner.seat.reset();
  box.notes_ = std::move(runner.notes);
  if (runner.pty) box.terminal_ = std::move(runner.pty->master);
  return box;
}

}  // namespace sandbox
