// The keeper and the sweep of a box's session (keeper.h says why both).
#include "keeper.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "builtins/proc_read.h"
#include "isolation.h"
#include "sys.h"

namespace sandbox {

namespace {

std::optional<pid_t> as_pid(std::string_view text) {
  pid_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

constexpr int kRounds = 50;
constexpr int kWaitMs = 2000;  // for the killed ones of one round to end

// One read, retried on EINTR: some bytes, or end of file (0) once the other end is closed.
ssize_t read_some(int fd, void* buf, size_t size) {
  ssize_t n;
  do n = ::read(fd, buf, size);
  while (n < 0 && errno == EINTR);
  return n;
}

[[noreturn]] void keeper_main(int from_runner, const std::vector<std::string>& cgroup_procs) {
  // Out of the runner's session and process group: what kills those does not reach the keeper.
  ::setsid();
  ::prctl(PR_SET_NAME, kKeeperName);
  // Named now: whoever lists the runner's children after start() can tell the keeper apart.
  if (::write(from_runner, "r", 1) != 1) ::_exit(0);
  // Nothing of the runner's but the socket: no terminal, no box pipe, no cgroup file.
  if (from_runner > 0) ::syscall(SYS_close_range, 0U, static_cast<unsigned>(from_runner - 1), 0U);
  ::syscall(SYS_close_range, static_cast<unsigned>(from_runner + 1), ~0U, 0U);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  pid_t box = 0;
  if (read_some(from_runner, &box, sizeof box) != static_cast<ssize_t>(sizeof box)) ::_exit(0);
  char done = 0;
  if (read_some(from_runner, &done, 1) == 1) ::_exit(0);  // the runner ended the box itself
  sweep_box(box, cgroup_procs);
  ::_exit(0);
}

}  // namespace

std::vector<pid_t> box_processes(pid_t session, const std::vector<std::string>& cgroup_procs) {
  std::vector<pid_t> found;
  pid_t self = ::getpid();
  if (DIR* dir = ::opendir("/proc")) {
    while (dirent* entry = ::readdir(dir)) {
      auto pid = as_pid(entry->d_name);
      if (!pid || *pid == self) continue;
      auto text = sys::read_file(fmt::format("/proc/{}/stat", *pid));
      if (!text) continue;  // gone meanwhile
      auto stat = tinysh::parse_proc_stat(*text);
      if (stat && stat->session == session && stat->state != 'Z') found.push_back(*pid);
    }
    ::closedir(dir);
  }
  for (const std::string& file : cgroup_procs) {
    auto text = sys::read_file(file);
    if (!text) continue;
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      auto pid = as_pid(std::string_view(*text).substr(start, end - start));
      if (pid && *pid != self && std::find(found.begin(), found.end(), *pid) == found.end())
        found.push_back(*pid);
      start = end + 1;
    }
  }
  return found;
}

void sweep_box(pid_t session, const std::vector<std::string>& cgroup_procs) {
  for (int round = 0; round < kRounds; ++round) {
    std::vector<pid_t> victims = box_processes(session, cgroup_procs);
    if (victims.empty()) return;
    std::vector<pollfd> ends;
    for (pid_t pid : victims) {
      int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
      if (fd < 0) {
        if (errno != ESRCH) ::kill(pid, SIGKILL);  // a kernel without pidfds (before 5.3)
        continue;
      }
      if (::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0)
        ends.push_back({fd, POLLIN, 0});
      else
        ::close(fd);
    }
    // A pidfd polls readable once its process has ended (a zombie counts: its parent reaps it).
    for (pollfd& end : ends) {
      pollfd one = end;
      while (::poll(&one, 1, kWaitMs) < 0 && errno == EINTR) {
      }
      ::close(end.fd);
    }
  }
}

void plan_keeper(const Spec& spec, Plan& plan) {
  if (spec.pid) return;
  plan.steps.push_back(
      {op::StartKeeper{},
       "without --pid nothing ends the box's background processes with it: if the runner is "
       "killed, a keeper in a session of its own sees its socket close and kills the box's session"
       " and cgroup"});
}

void plan_sweep(const Spec& spec, Plan& plan) {
  if (spec.pid) return;
  plan.steps.push_back(
      {op::SweepBox{},
       "the box's first process has ended: what it left running in the background goes too, as "
       "a PID namespace would have done"});
  plan.notes.push_back(
      "without --pid, nslab ends a box's background processes by its session" +
      std::string(spec.limits.empty() ? "" : " and its cgroup") +
      ": a process that calls setsid() itself leaves the session" +
      std::string(spec.limits.empty() ? ", and outlives the box; --pid closes that" : ", not the cgroup"));
}

Result<Keeper> Keeper::start(std::vector<std::string> cgroup_procs) {
  // A stream socket pair, not a pipe: the keeper answers once it has its name, and still reads
  // end of file when the runner's end closes with the runner.
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0)
    return make_error("socketpair(keeper)", errno);
  Fd from_runner(ends[0]), to_keeper(ends[1]);
  auto forked = sys::fork_process();
  if (!forked) return forked.error();
  if (*forked == 0) {
    to_keeper.reset();
    keeper_main(from_runner.get(), cgroup_procs);
  }
  Keeper keeper(*forked, std::move(to_keeper));
  char ready = 0;
  if (read_some(keeper.to_keeper_.get(), &ready, 1) != 1)
    return make_error("read(keeper_socket)", errno ? errno : EPIPE);
  return keeper;
}

Keeper::Keeper(Keeper&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), to_keeper_(std::move(other.to_keeper_)) {}

Keeper::~Keeper() {
  done();
}

Status Keeper::watch(pid_t box) {
  // MSG_NOSIGNAL: a keeper killed from outside must not take the runner with it (SIGPIPE).
  if (::send(to_keeper_.get(), &box, sizeof box, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof box))
    return make_error("write(keeper_socket)", errno);
  return ok();
}

void Keeper::done() {
  if (pid_ <= 0) return;
  [[maybe_unused]] ssize_t n = ::send(to_keeper_.get(), "d", 1, MSG_NOSIGNAL);
  to_keeper_.reset();
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace sandbox
