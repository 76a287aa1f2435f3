#include "process.h"

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace testing {

namespace {

void close_extra_fds() {
  // The environment that starts the tests hands down extra open fds; the program under test
  // must not inherit them.
  for (int fd = 3; fd < 1024; ++fd) ::close(fd);
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  RunResult result;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    close_extra_fds();
    if (options.cwd && ::chdir(options.cwd->c_str()) != 0) _exit(126);
    for (const auto& e : options.env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  std::string_view pending = options.input;
  if (pending.empty()) ::close(in[1]);
  int in_fd = pending.empty() ? -1 : in[1];
  ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);

  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0},
                     {err_open ? err[0] : -1, POLLIN, 0},
                     {in_fd, POLLOUT, 0}};
    int n = ::poll(fds, 3, static_cast<int>(std::min<long>(left.count(), 100)));
    if (n < 0 && errno != EINTR) break;
    char buf[4096];
    if (fds[0].revents) {
      ssize_t r = ::read(out[0], buf, sizeof buf);
      if (r > 0) result.out.append(buf, r); else out_open = false;
    }
    if (fds[1].revents) {
      ssize_t r = ::read(err[0], buf, sizeof buf);
      if (r > 0) result.err.append(buf, r); else err_open = false;
    }
    if (in_fd >= 0 && fds[2].revents) {
      ssize_t w = ::write(in_fd, pending.data(), pending.size());
      if (w > 0) pending.remove_prefix(w);
      if (w < 0 || pending.empty()) { ::close(in_fd); in_fd = -1; }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::string bin(const std::string& name) { return std::string(NSLAB_BIN_DIR) + "/" + name; }
std::string source_dir() { return NSLAB_SOURCE_DIR; }

bool is_root() { return ::geteuid() == 0; }

void skip(const std::string& why) {
  const char* ci = std::getenv("CI");
  // CI runs as root: a test skipped there for want of it means CI lost its root.
  if (ci && std::string(ci) == "true" && !is_root())
    FAIL("CI must run as root, and this test needs what root has: " << why);
  MESSAGE("skipped: " << why);
  if (std::getenv("NSLAB_SKIP_STATUS")) {
    std::fflush(nullptr);
    std::exit(77);
  }
}

bool have_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

std::optional<char> proc_state(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return std::nullopt;
  return stat[paren + 2];
}

bool zombie_or_gone(pid_t pid) {
  auto state = proc_state(pid);
  return !state || *state == 'Z' || *state == 'X';
}

bool signal_blocked(pid_t pid, int sig) {
  std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  auto at = status.find("\nSigBlk:");
  if (at == std::string::npos) return false;
  unsigned long long mask = std::strtoull(status.c_str() + at + 8, nullptr, 16);
  return (mask >> (sig - 1)) & 1;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<pid_t> parent_of(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(paren + 2));
  char state;
  pid_t ppid;
  if (!(rest >> state >> ppid)) return std::nullopt;
  return ppid;
}

namespace {

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* d = ::opendir("/proc");
  if (!d) return pids;
  while (dirent* e = ::readdir(d)) {
    char* end;
    long n = std::strtol(e->d_name, &end, 10);
    if (*end == '\0' && n > 0) pids.push_back(static_cast<pid_t>(n));
  }
  ::closedir(d);
  return pids;
}

std::string ns_link(pid_t pid, const char* ns) {
  char buf[128];
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

}  // namespace

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> kids;
  for (pid_t p : all_pids())
    if (parent_of(p) == pid) kids.push_back(p);
  return kids;
}

std::vector<pid_t> processes_in_pid_namespace_of(pid_t pid) {
  std::vector<pid_t> same;
  std::string ns = ns_link(pid, "pid");
  if (ns.empty()) return same;
  for (pid_t p : all_pids())
    if (ns_link(p, "pid") == ns) same.push_back(p);
  return same;
}

Background::Background(const std::vector<std::string>& argv) {
  char path[] = "/tmp/nslab-test-log.XXXXXX";
  int log = ::mkstemp(path);
  log_path_ = path;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    close_extra_fds();
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(log);
}

Background::~Background() {
  if (!reaped_ && pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
  }
  ::unlink(log_path_.c_str());
}

int Background::wait(std::chrono::milliseconds timeout) {
  int status = 0;
  bool done = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!done) return -1;
  reaped_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Background::output() const { return read_file(log_path_); }

}  // namespace testing
