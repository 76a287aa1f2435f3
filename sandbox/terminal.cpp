// The box's session and terminal — setsid(2), pty(7), ioctl_tty(2), termios(3).
//
// A terminal holds an input queue, and ioctl(fd, TIOCSTI, &c) pushes a byte into it as if it had
// been typed. The kernel allows that on one's own controlling terminal, and on any terminal with
// CAP_SYS_ADMIN. A box that stays in the runner's session, on the runner's terminal, can type a
// command there that the runner's shell reads and runs once the box has ended — from every kind
// of box, rootless included (CVE-2017-5226; bubblewrap's --new-session). Linux 6.2 added the
// sysctl dev.tty.legacy_tiocsti: at 0, TIOCSTI needs CAP_SYS_ADMIN, but most hosts keep 1.
//
// So every box starts a session of its own just before it execs (setsid(2)), and a new session
// has no controlling terminal: nslab's terminal is no longer the box's. Then:
//
// Without a terminal (nslab's stdin is a pipe or a file, as in CI): nothing more. The box's
// stdio is nslab's, passed through.
//
// On a terminal, the box gets one of its own, a pseudo-terminal, and the runner sits between:
//   runner, before the clone   posix_openpt() on the host's /dev/ptmx; the slave gets the modes
//                              and the window size of nslab's terminal
//   box, in its /dev           (a box with a root of its own) the slave bound on /dev/console
//   box, just before exec      setsid(); ioctl(TIOCSCTTY) on the slave; dup2 it onto each of
//                              fds 0-2 that was a terminal in nslab (a pipe or file stays one)
//   runner, while the box runs its own terminal in raw mode, bytes carried both ways with
//                              poll(2); SIGWINCH → ioctl(master, TIOCSWINSZ), after which the
//                              kernel sends SIGWINCH to the box's foreground process group
//   runner, after the box      the master read to its end, nslab's terminal's modes restored
// In raw mode nslab's terminal turns no key into a signal: Ctrl-C, Ctrl-Z and Ctrl-\ reach the
// box's terminal as bytes, and its line discipline (with the modes copied from nslab's) sends
// SIGINT, SIGTSTP or SIGQUIT to the box's foreground process group — which tinysh sets with
// tcsetpgrp(3) on its stdin, so job control inside works as on any terminal. What the box
// pushes with TIOCSTI lands in its own terminal's input queue and nowhere else.
//
// Where the pty comes from: the host's /dev/ptmx, opened by the runner before the clone, for
// every kind of box. The runner sets the slave's modes before the box exists, keeps the master
// without handing fds across the clone, and opens no path the box controls. The other way —
// opening the pty in the box's own devpts instance once the box has mounted it, and sending the
// master back over a unix socket — would make the runner wait for the box's mounts before it
// could copy the modes or relay, and would need this way anyway for boxes on the host's root,
// which have no devpts of their own.
//
// What `tty` shows inside (readlink /proc/self/fd/0): a box on the host's root sees the host's
// /dev/pts, where the slave's name /dev/pts/N exists. A box with a root of its own has its own
// devpts instance at /dev/pts (rootfs.cpp), where /dev/pts/N is another pty or none. So the box
// binds the slave on /dev/console in its /dev, as a container's console is (systemd-nspawn does
// the same), and opens it there after pivot_root: its terminal is then /dev/console, a file that
// exists in the box. A --rootfs without /dev keeps the host's name.
#include "terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

namespace sandbox {

namespace {

// Copies the modes and the window size of the terminal at `like` onto the new pty.
Result<Pty> with_modes_of(Fd master, int like) {
  auto slave = sys::open_pty_slave(master.get());
  if (!slave) return slave.error();
  auto number = sys::pty_number(master.get());
  if (!number) return number.error();
  Pty pty{std::move(master), std::move(*slave), fmt::format("/dev/pts/{}", *number)};
  struct termios modes {};
  if (sys::get_terminal_modes(like, modes))
    SANDBOX_TRY(sys::set_terminal_modes(pty.slave.get(), modes));
  struct winsize size {};
  if (sys::get_window_size(like, size)) SANDBOX_TRY(sys::set_window_size(pty.master.get(), size));
  return pty;
}


}  // namespace

Result<Pty> open_host_pty(int like) {
  auto master = sys::open_pty_master();
  if (!master) return master.error();
  return with_modes_of(std::move(*master), like);
}

Result<Pty> open_pty_under(int root, int like) {
  auto ptmx = sys::open_path_in_root(root, "/dev/pts/ptmx");
  if (!ptmx) return ptmx.error();
  auto master = sys::open_pty_master_at(ptmx->get());
  if (!master) return master.error();
  return with_modes_of(std::move(*master), like);
}

Status start_session(int terminal, const std::array<bool, 3>& replace) {
  SANDBOX_TRY(sys::setsid());
  if (terminal < 0) return ok();
  SANDBOX_TRY(sys::set_controlling_terminal(terminal));
  for (int fd = 0; fd < 3; ++fd)
    if (replace[static_cast<size_t>(fd)]) SANDBOX_TRY(sys::dup2(terminal, fd));
  return ok();
}

// --- The plan's steps ------------------------------------------------------------------------

Result<std::vector<Step>> plan_terminal(const Spec& spec, const Caller& caller) {
  std::vector<Step> steps;
  bool own_root = spec.rootfs() != RootfsKind::Host;
  if (caller.on_terminal()) {
    auto [uids, gids] = id_maps_for(spec, caller);
    // A process opens a pty by name only if its owner is mapped in its user namespace: the
    // slave goes to root inside, or the box could not open its /dev/console.
    auto owner = root_inside_owner(uids, gids, caller);
    steps.push_back(
        {op::OpenTerminal{.owner = owner},
         fmt::format("a terminal for the box alone, on the host's /dev/ptmx, with the modes and "
                     "size of nslab's: what a process of the box types into its terminal with "
                     "ioctl(TIOCSTI) lands there, never in the terminal nslab was started from "
                     "(CVE-2017-5226){}",
                     owner ? "; owned by root inside, who is another user outside" : "")});
    if (own_root)
      steps.push_back(
          {op::BindConsole{.mount = {.call = {"/proc/self/fd/FD",
                                              std::string(kNewRoot) + "/dev/console", "",
                                              MS_BIND, ""},
                                     .make = PlannedMount::Make::File,
                                     .mode = 0600}},
           "the box's own devpts instance has no /dev/pts/N, so its terminal gets a name that "
           "exists inside, as a container's console: /dev/console"});
  }
  if (!caller.on_terminal()) {
    steps.push_back({op::NewSession{},
                     "a session of its own, which has no controlling terminal: nslab's terminal "
                     "is out of reach, and ioctl(TIOCSTI) cannot type into it (CVE-2017-5226)"});
  } else {
    using Terminal = op::NewSession::Terminal;
    Terminal terminal = !own_root                                 ? Terminal::Slave
                        : spec.rootfs() == RootfsKind::Directory ? Terminal::ConsoleOrSlave
                                                                 : Terminal::Console;
    steps.push_back(
        {op::NewSession{.terminal = terminal, .replace = caller.stdio_terminals},
         "a session of its own whose controlling terminal is the box's pty, in place of each of "
         "nslab's standard streams that is a terminal: job control and Ctrl-C work inside, and "
         "nothing the box does reaches nslab's terminal"});
    steps.push_back(
        {op::RelayTerminal{},
         "nslab's terminal passes every key through unchanged, so Ctrl-C, Ctrl-Z and Ctrl-\\ "
         "become signals of the box's terminal for the box's foreground job; its modes come back "
         "however the box ends"});
  }
  return steps;
}

Result<Pty> open_box_terminal(const op::OpenTerminal& step) {
  auto pty = open_host_pty(STDIN_FILENO);
  if (!pty) return pty.error();
  if (step.owner)
    SANDBOX_TRY(sys::fchown(pty->slave.get(), step.owner->first, step.owner->second));
  return pty;
}

Status bind_console(BoxSetup& box, const op::BindConsole& step) {
  auto has_dev = real_directory(box.plan, "/dev");
  if (!has_dev) return has_dev.error();
  if (!*has_dev) return ok();  // a --rootfs without /dev: the box keeps the slave's host name
  // Reopened by name in the box's own mount namespace (the kernel refuses to bind from a mount
  // of another namespace, and the runner opened the slave in the host's). The name must lead to
  // the box's terminal; on a host whose devpts is not at /dev/pts it may not, and the box then
  // keeps the slave under its host name.
  auto here = sys::open(box.terminal_path, O_PATH | O_NOFOLLOW);
  if (!here) return here.error();
  struct stat named {
  }, terminal{};
  if (::fstat(here->get(), &named) < 0 || ::fstat(box.terminal.get(), &terminal) < 0 ||
      !S_ISCHR(named.st_mode) || named.st_rdev != terminal.st_rdev)
    return ok();
  sys::MountCall bind = step.mount.call;
  bind.source = fmt::format("/proc/self/fd/{}", here->get());
  SANDBOX_TRY(sys::create_file(bind.target, step.mount.mode));
  SANDBOX_TRY(sys::mount(bind));
  box.console_bound = true;
  return ok();
}

Status take_box_session(BoxSetup& box, const op::NewSession& step) {
  if (step.terminal == op::NewSession::Terminal::None) return start_session(-1, step.replace);
  if (box.console_bound) {
    // After pivot_root: the fd's name, as the box's processes read it, is /dev/console.
    auto console = sys::open("/dev/console", O_RDWR | O_NOCTTY);
    if (!console) return console.error();
    box.terminal = std::move(*console);
  }
  return start_session(box.terminal ? box.terminal.get() : -1, step.replace);
}

// --- The runner's relay ----------------------------------------------------------------------

TerminalRelay::TerminalRelay(Fd master, const std::array<bool, 3>& stdio_terminals)
    : master_(std::move(master)) {
  // Non-blocking: a box that stops reading must not block the runner, which also has to take
  // the box's output (or both would wait for each other on full buffers).
  int flags = ::fcntl(master_.get(), F_GETFL);
  if (flags >= 0) ::fcntl(master_.get(), F_SETFL, flags | O_NONBLOCK);
  if (stdio_terminals[1]) {
    screen_ = STDOUT_FILENO;
  } else if (stdio_terminals[2]) {
    screen_ = STDERR_FILENO;
  } else {
    int mode = ::fcntl(keys_, F_GETFL);
    if (mode >= 0 && (mode & O_ACCMODE) != O_RDONLY) screen_ = keys_;
  }
  have_modes_ = static_cast<bool>(sys::get_terminal_modes(keys_, saved_));
  take_keys();
}

TerminalRelay::~TerminalRelay() {
  if (!raw_) return;
  // SIGTTOU blocked: should nslab have been moved to the background meanwhile, the kernel would
  // otherwise stop it here instead of letting it put the modes back.
  sigset_t ttou, old;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  ::sigprocmask(SIG_BLOCK, &ttou, &old);
  (void)sys::set_terminal_modes(keys_, saved_);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

// Keys are taken only while nslab is in its terminal's foreground: started in the background
// (`nslab run ... &`), it shows the box's output but leaves the keys, and the modes, to the job
// in the foreground, until a SIGCONT finds it in the foreground (`fg`). A terminal that is not
// nslab's controlling terminal (ENOTTY: `setsid nslab run`, `< /dev/pts/5`) has no foreground
// for nslab to be in: job control does not apply, and nslab reads it as any file.
void TerminalRelay::take_keys() {
  pid_t foreground = ::tcgetpgrp(keys_);
  reading_keys_ = foreground == ::getpgrp() || (foreground < 0 && errno == ENOTTY);
  if (!reading_keys_ || !have_modes_) return;
  struct termios raw = saved_;
  ::cfmakeraw(&raw);
  raw_ = static_cast<bool>(sys::set_terminal_modes(keys_, raw)) || raw_;
}

size_t TerminalRelay::want(pollfd* fds) const {
  size_t count = 0;
  // Keys wait in nslab's own terminal while the box's input queue is full.
  if (reading_keys_ && pending_keys_.size() < 65536) fds[count++] = {keys_, POLLIN, 0};
  if (master_open_)
    fds[count++] = {master_.get(),
                    static_cast<short>(POLLIN | (pending_keys_.empty() ? 0 : POLLOUT)), 0};
  return count;
}

void TerminalRelay::move(const pollfd* fds, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (!fds[i].revents) continue;
    if (fds[i].fd == keys_) read_keys();
    if (fds[i].fd == master_.get()) {
      if (fds[i].revents & POLLOUT) write_keys();
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_screen();
    }
  }
}

void TerminalRelay::read_keys() {
  char buf[4096];
  ssize_t n = ::read(keys_, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    // The terminal hung up (0 or EIO), or nslab is in the background now (EIO with SIGTTIN
    // ignored): no more keys, until a SIGCONT finds nslab in the foreground again.
    reading_keys_ = false;
    return;
  }
  pending_keys_.append(buf, static_cast<size_t>(n));
  write_keys();
}

void TerminalRelay::write_keys() {
  while (!pending_keys_.empty()) {
    ssize_t n = ::write(master_.get(), pending_keys_.data(), pending_keys_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;  // the box's input queue is full: poll for POLLOUT
    if (n <= 0) {
      pending_keys_.clear();  // nobody holds the box's terminal any more
      return;
    }
    pending_keys_.erase(0, static_cast<size_t>(n));
  }
}

// One read of the box's output; false once there is nothing more to read now.
bool TerminalRelay::read_screen() {
  char buf[8192];
  ssize_t n = ::read(master_.get(), buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n < 0 && errno == EAGAIN) return false;
  if (n <= 0) {
    // EIO: no process holds the slave any more (the box closed its terminal or ended).
    master_open_ = false;
    return false;
  }
  show(buf, static_cast<size_t>(n));
  return true;
}

void TerminalRelay::show(const char* data, size_t size) {
  while (screen_ >= 0 && size > 0) {
    ssize_t n = ::write(screen_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {  // someone made nslab's terminal non-blocking
      pollfd p{screen_, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) {
      screen_ = -1;  // nslab's terminal is gone: the box's output is still read, and dropped
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void TerminalRelay::window_changed() {
  struct winsize size {};
  if (sys::get_window_size(keys_, size)) (void)sys::set_window_size(master_.get(), size);
}

void TerminalRelay::continued() {
  take_keys();
  window_changed();  // it may have changed while nslab was stopped
}

void TerminalRelay::drain() {
  // Once the box's first process is reaped, its writes are all in the pty. read() then hands
  // over what is left and ends with EIO when no process holds the slave any more, or with EAGAIN
  // when one still does (a background job of a box without a PID namespace): what such a job
  // writes later is not shown, and it is hung up when the runner closes the master.
  while (master_open_ && read_screen()) {
  }
}

}  // namespace sandbox
