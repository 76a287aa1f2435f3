#include "box_pty.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "screen.h"

namespace nslab::lessons {

namespace {

using Clock = std::chrono::steady_clock;

int shell_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

// Waits for `pid` to end within `timeout`, polling with WNOHANG; the status as $? or nullopt.
std::optional<int> reap_within(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int wstatus = 0;
    pid_t r = ::waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return shell_status(wstatus);
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    ::usleep(2000);
  }
}

// The children of `pid` from /proc/PID/task/PID/children (zombies included until reaped).
std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/task/{}/children", pid, pid));
  std::vector<pid_t> out;
  for (pid_t c; in >> c;) out.push_back(c);
  return out;
}

// In a forked child, before exec: nothing but 0-2 may leak into what runs next (the
// environment that started nslab may hand it extra fds).
void close_inherited_fds() {
  if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
}

}  // namespace

MarkerHit find_marker(const std::string& raw, size_t from, int n) {
  const std::string tag = fmt::format("::nslab:{}:", n);
  for (size_t at = raw.find(tag, from); at != std::string::npos; at = raw.find(tag, at + 1)) {
    // The answer stands at the start of a line: "\n" or "\r" before it, digits and "\r\n" after.
    if (at > 0 && raw[at - 1] != '\n' && raw[at - 1] != '\r') continue;
    size_t d = at + tag.size();
    size_t e = d;
    while (e < raw.size() && raw[e] >= '0' && raw[e] <= '9') ++e;
    if (e == d || e >= raw.size() || (raw[e] != '\r' && raw[e] != '\n')) continue;
    MarkerHit hit;
    hit.begin = at;
    hit.status = std::atoi(raw.substr(d, e - d).c_str());
    while (e < raw.size() && (raw[e] == '\r' || raw[e] == '\n')) ++e;
    hit.end = e;
    return hit;
  }
  return {};
}

std::optional<VethLine> find_veth_line(std::string_view raw) {
  constexpr std::string_view tag = "nslab: veth ";
  for (size_t at = raw.find(tag); at != std::string_view::npos; at = raw.find(tag, at + 1)) {
    // Not always at a line start: the runner prints it once the box runs, maybe just after the
    // shell drew its first prompt.
    size_t end = raw.find_first_of("\r\n", at);
    if (end == std::string_view::npos) return std::nullopt;  // not finished yet
    std::string_view line = raw.substr(at + tag.size(), end - at - tag.size());
    // LINK: box A, host B[, bridge C]
    size_t colon = line.find(": box ");
    size_t comma = line.find(", host ");
    if (colon == std::string_view::npos || comma == std::string_view::npos || comma < colon)
      continue;
    std::string_view host = line.substr(comma + 7), bridge;
    if (size_t more = host.find(", bridge "); more != std::string_view::npos) {
      bridge = host.substr(more + 9);
      host = host.substr(0, more);
    }
    VethLine veth{std::string(line.substr(0, colon)),
                  std::string(line.substr(colon + 6, comma - colon - 6)), std::string(host),
                  std::string(bridge), end};
    while (veth.end < raw.size() && (raw[veth.end] == '\r' || raw[veth.end] == '\n')) ++veth.end;
    // Only what the runner prints: they are typed into the shell and put into host scripts.
    auto made_of = [](const std::string& text, std::string_view allowed) {
      return !text.empty() && text.find_first_not_of(allowed) == std::string::npos;
    };
    if (!made_of(veth.host_link, "abcdefghijklmnopqrstuvwxyz0123456789-") ||
        !made_of(veth.box_address, "0123456789.") || !made_of(veth.host_address, "0123456789.") ||
        (!veth.bridge.empty() && !made_of(veth.bridge, "abcdefghijklmnopqrstuvwxyz0123456789-")))
      continue;
    return veth;
  }
  return std::nullopt;
}

std::string command_output(std::string screen, std::string_view command) {
  // The segment ends with the line break the editor wrote after the typed marker command.
  while (!screen.empty() && screen.back() == '\n') screen.pop_back();
  size_t first = screen.find('\n');
  if (first == std::string::npos) return {};
  size_t last = screen.rfind('\n');
  // The typed line is the first that ends with the command: what stands above it, the shell
  // printed at its prompt in the meantime (a background job's "[1] Done" notice).
  if (!command.empty()) {
    for (size_t begin = 0, end = first; begin < last;
         begin = end + 1, end = screen.find('\n', begin)) {
      if (std::string_view(screen).substr(begin, end - begin).ends_with(command)) {
        first = end;
        break;
      }
    }
  }
  if (last <= first) return {};
  return screen.substr(first + 1, last - first - 1);
}

sandbox::Result<BoxSession> BoxSession::start(const std::string& nslab,
                                              const std::vector<std::string>& flags,
                                              std::chrono::milliseconds timeout, int columns) {
  termios modes{};
  cfmakeraw(&modes);
  // A terminal as a login would have it, minus ECHO (see pty.h): canonical input, signals,
  // "\n" -> "\r\n" on output.
  modes.c_iflag = ICRNL | IXON | IUTF8;
  modes.c_oflag = OPOST | ONLCR;
  modes.c_lflag = ISIG | ICANON | IEXTEN;
  modes.c_cflag |= CS8 | CREAD;
  // The control characters a login terminal has (stty sane): without them Ctrl-C would be an
  // ordinary key under a running command, and a student in the live shell could not stop one.
  modes.c_cc[VINTR] = 0x03;  // Ctrl-C
  modes.c_cc[VQUIT] = 0x1c;  // Ctrl-backslash
  modes.c_cc[VERASE] = 0x7f;
  modes.c_cc[VKILL] = 0x15;  // Ctrl-U
  modes.c_cc[VEOF] = 0x04;   // Ctrl-D
  modes.c_cc[VSUSP] = 0x1a;  // Ctrl-Z
  modes.c_cc[VWERASE] = 0x17;
  modes.c_cc[VLNEXT] = 0x16;
  modes.c_cc[VMIN] = 1;
  modes.c_cc[VTIME] = 0;
  winsize size{};
  size.ws_row = 40;
  size.ws_col = static_cast<unsigned short>(std::clamp(columns, 20, 1000));
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, &modes, &size);
  if (pid < 0) return sandbox::make_error("forkpty()", errno);
  if (pid == 0) {
    close_inherited_fds();
    if (!std::getenv("TERM")) ::setenv("TERM", "xterm", 1);
    std::vector<std::string> args = {"nslab", "run"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(nslab.c_str(), argv.data());
    ::dprintf(2, "nslab check: execv(%s): %s\n", nslab.c_str(), strerror(errno));
    ::_exit(127);
  }
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  BoxSession session(master, pid);
  // The first marker proves the shell reads commands; only then is the box's PID 1 certain.
  session.send(fmt::format("echo ::nslab:\"{}\":$?\r", session.next_marker_));
  auto ready = session.await_marker(session.next_marker_++, "the box's shell to start", timeout);
  if (!ready) return ready.error();
  // The runner's children: the box's first process and, without --pid, the keeper it forked
  // before the clone (sandbox/keeper.h), which is not the box.
  for (pid_t kid : children_of(pid)) {
    std::ifstream comm(fmt::format("/proc/{}/comm", kid));
    std::string name;
    std::getline(comm, name);
    if (name == "nslab-keeper") continue;
    session.box_ = kid;
    break;
  }
  // The runner prints the veth line once the box runs: just before the shell's first answer, or
  // just after it. Wait for it, and count it as read so that no command's output holds it.
  if (std::find(flags.begin(), flags.end(), "--veth") != flags.end() ||
      std::find(flags.begin(), flags.end(), "--bridge") != flags.end()) {
    session.read_until(
        [&] {
          session.veth_ = find_veth_line(session.raw_);
          return session.veth_.has_value();
        },
        timeout);
    if (session.veth_) session.consumed_ = std::max(session.consumed_, session.veth_->end);
  }
  if (session.veth_) {
    // The box's shell gets the two addresses too, so a lesson can type `tcp connect $HOST_ADDR
    // 7000` whichever /30 this box was given. Typed like any command: it shows on the screen.
    auto exported =
        session.type(fmt::format("export BOX_ADDR={} HOST_ADDR={}", session.veth_->box_address,
                                 session.veth_->host_address),
                     timeout);
    if (!exported) return exported.error();
  }
  return session;
}

BoxSession::BoxSession(BoxSession&& o) noexcept
    : master_(o.master_),
      runner_(o.runner_),
      box_(o.box_),
      reaped_(o.reaped_),
      terminal_closed_(o.terminal_closed_),
      next_marker_(o.next_marker_),
      consumed_(o.consumed_),
      raw_(std::move(o.raw_)),
      veth_(std::move(o.veth_)) {
  o.master_ = -1;
  o.runner_ = -1;
  o.reaped_ = true;
}

BoxSession::~BoxSession() {
  stop();
}

void BoxSession::send(const std::string& keys) {
  size_t done = 0;
  while (done < keys.size()) {
    ssize_t n = ::write(master_, keys.data() + done, keys.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

bool BoxSession::read_until(const std::function<bool()>& found, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!found()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p = {master_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // EIO: every process holding the terminal is gone
      terminal_closed_ = true;
      return found();
    }
    raw_.append(buf, static_cast<size_t>(n));
  }
  return true;
}

sandbox::Result<Typed> BoxSession::await_marker(int n, const std::string& what,
                                                std::chrono::milliseconds timeout,
                                                std::string_view command) {
  MarkerHit hit;
  bool ok = read_until(
      [&] {
        hit = find_marker(raw_, consumed_, n);
        return hit.begin != std::string::npos;
      },
      timeout);
  if (!ok) {
    std::string tail = screen_text(std::string_view(raw_).substr(consumed_));
    std::string shown = tail.empty() ? "the box printed nothing" : "the screen shows:\n" + tail;
    // The terminal also closes when the runner is gone: a box that failed at its start (or died)
    // is not one that is slow to answer, so say how it ended instead of naming the timeout.
    // The runner closes the terminal as it exits, a moment before it can be reaped.
    if (!reaped_ && runner_ > 0 && terminal_closed_) {
      if (auto status = reap_within(runner_, 5s)) {
        reaped_ = true;
        return sandbox::plain_error(
            fmt::format("the box ended while nslab waited for {}: `nslab run` exited with "
                        "status {}",
                        what, *status),
            shown);
      }
    }
    if (reaped_)
      return sandbox::plain_error(fmt::format("the box had already ended before {}", what), shown);
    return sandbox::plain_error(
        fmt::format("no answer from the box while waiting for {} ({} ms)", what, timeout.count()),
        shown);
  }
  Typed typed;
  typed.output = command_output(
      screen_text(std::string_view(raw_).substr(consumed_, hit.begin - consumed_)), command);
  typed.status = hit.status;
  consumed_ = hit.end;
  return typed;
}

sandbox::Result<Typed> BoxSession::type(const std::string& command,
                                        std::chrono::milliseconds timeout) {
  int n = next_marker_++;
  // The command and its marker are typed at once: tinysh reads key by key, so the marker waits
  // in the terminal's input queue until the command is done (and ECHO is off, see pty.h).
  send(command + "\r" + fmt::format("echo ::nslab:\"{}\":$?\r", n));
  return await_marker(n, fmt::format("`{}` to finish", command), timeout, command);
}

sandbox::Status BoxSession::resync(std::chrono::milliseconds timeout) {
  // Ctrl-C: at a prompt the line editor reads it as a key and drops the line; under a running
  // command the terminal turns it into SIGINT for that command and, as termios(3) says without
  // NOFLSH, throws away the input that came with it. So the marker is typed again until one is
  // answered; those that were not thrown away answer first, before the last one.
  send("\x03");
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int n = next_marker_++;
    send(fmt::format("echo ::nslab:\"{}\":$?\r", n));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto answered = await_marker(n, "the shell's prompt after the live shell",
                                 std::max(1ms, std::min(left, std::chrono::milliseconds(500))));
    if (answered) return sandbox::ok();
    if (Clock::now() >= deadline) return answered.error();
  }
}

sandbox::Result<int> BoxSession::finish(std::chrono::milliseconds timeout) {
  if (reaped_) return sandbox::plain_error("the box has already ended");
  send("exit\r");
  // Drain the screen so the runner never blocks writing to a full terminal.
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int wstatus = 0;
    pid_t r = ::waitpid(runner_, &wstatus, WNOHANG);
    if (r == runner_) {
      reaped_ = true;
      return shell_status(wstatus);
    }
    read_until([] { return false; }, 20ms);
  }
  return sandbox::plain_error(
      fmt::format("the box did not end within {} ms of `exit`", timeout.count()));
}

void BoxSession::stop() {
  if (runner_ > 0 && !reaped_) {
    send("exit\r");
    if (!reap_within(runner_, 2s)) {
      // The runner kills the box on SIGTERM; the box also dies with it (PR_SET_PDEATHSIG).
      ::kill(runner_, SIGTERM);
      if (!reap_within(runner_, 3s)) {
        ::kill(runner_, SIGKILL);
        reap_within(runner_, 5s);
      }
    }
    reaped_ = true;
  }
  if (master_ >= 0) ::close(master_);
  master_ = -1;
}

sandbox::Result<HostRun> run_on_host(const std::string& script, const std::vector<std::string>& env,
                                     std::chrono::milliseconds timeout) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return sandbox::make_error("pipe2()", errno);
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(out[0]);
    ::close(out[1]);
    return sandbox::make_error("fork()", err);
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so a timeout kills whatever the script started
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    close_inherited_fds();
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(out[1]);
  HostRun run;
  auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p = {out[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    char buf[4096];
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // every writer closed: the script (and its children) are done
    run.output.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  auto status = reap_within(pid, timed_out ? 5s : timeout);
  if (!status) {
    ::kill(-pid, SIGKILL);
    status = reap_within(pid, 5s);
  }
  if (timed_out)
    return sandbox::plain_error(
        fmt::format("the host script did not finish within {} ms", timeout.count()),
        "output so far:\n" + run.output);
  run.status = status.value_or(-1);
  return run;
}

}  // namespace nslab::lessons
