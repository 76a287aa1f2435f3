// The demo tools spawn, hog and burn, and the cgroup builtin on this machine. Most run without
// root; the cgroup tests make scratch cgroups named nslab-test-<pid> (root only) and skip, saying
// why, where that is not possible.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "builtin.h"
#include "builtins/cgroup_fs.h"
#include "capture.h"
#include "process.h"
#include "shell.h"

using namespace std::chrono_literals;
namespace cg = tinysh::cgroup;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int run_builtin(std::vector<std::string> args) {
  const tinysh::Builtin* b = tinysh::find_builtin(args.at(0));
  REQUIRE(b != nullptr);
  tinysh::Shell sh;
  return b->run(sh, args);
}

testing::Captured captured(std::vector<std::string> args) {
  return testing::capture([&] { return run_builtin(args); });
}

// Children of this test process that are still alive (not zombies).
std::vector<pid_t> live_children() {
  std::vector<pid_t> live;
  for (pid_t pid : testing::children_of(::getpid()))
    if (!testing::zombie_or_gone(pid)) live.push_back(pid);
  return live;
}

bool write_text(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::vector<pid_t> pids_in(const std::string& procs_file) {
  std::vector<pid_t> pids;
  std::istringstream in(testing::read_file(procs_file));
  pid_t pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

// Where a scratch cgroup for `controller` can be made: a v1 hierarchy holding it, or a cgroup2
// mount whose root enables it for children. Empty, with `why` set, when there is none.
struct Hierarchy {
  cg::Version version = cg::Version::V1;
  std::string base;
  std::string why;
};

Hierarchy hierarchy_for(const std::string& controller) {
  Hierarchy h;
  if (!testing::is_root()) {
    h.why = "not root: making a cgroup needs root";
    return h;
  }
  auto mounts = cg::parse_cgroup_mounts(testing::read_file("/proc/self/mountinfo"));
  for (const cg::Mount& m : mounts)
    if (m.version == cg::Version::V1 && m.root == "/" &&
        std::find(m.options.begin(), m.options.end(), controller) != m.options.end())
      return {cg::Version::V1, m.mount_point, ""};
  for (const cg::Mount& m : mounts) {
    if (m.version != cg::Version::V2 || m.root != "/") continue;
    std::string enabled = " " + testing::read_file(m.mount_point + "/cgroup.subtree_control");
    std::replace(enabled.begin(), enabled.end(), '\n', ' ');
    if (contains(enabled, " " + controller + " ")) return {cg::Version::V2, m.mount_point, ""};
  }
  h.why = "no " + controller + " controller here (no v1 hierarchy, not enabled in cgroup2)";
  return h;
}

// A cgroup made for one test and removed when it ends, whatever happened: any process still in
// it is killed first, then the directory is removed (the kernel refuses while tasks remain).
class ScratchCgroup {
 public:
  explicit ScratchCgroup(const Hierarchy& h)
      : version_(h.version), path_(h.base + "/nslab-test-" + std::to_string(::getpid())) {
    made_ = ::mkdir(path_.c_str(), 0755) == 0;
    if (!made_) error_ = "mkdir " + path_ + ": " + std::strerror(errno);
  }
  ~ScratchCgroup() {
    if (!made_) return;
    std::string procs = path_ + "/cgroup.procs";
    testing::wait_until(
        [&] {
          auto pids = pids_in(procs);
          for (pid_t pid : pids) ::kill(pid, SIGKILL);
          return pids.empty();
        },
        5000ms);
    bool removed =
        testing::wait_until([&] { return ::rmdir(path_.c_str()) == 0 || errno == ENOENT; }, 5000ms);
    if (!removed) std::cerr << "could not remove " << path_ << ": " << std::strerror(errno) << "\n";
  }
  ScratchCgroup(const ScratchCgroup&) = delete;
  ScratchCgroup& operator=(const ScratchCgroup&) = delete;

  bool made() const { return made_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }
  cg::Version version() const { return version_; }
  bool set(const std::string& file, const std::string& value) const {
    return write_text(path_ + "/" + file, value);
  }
  std::optional<std::uint64_t> oom_kills() const { return cg::read_oom_kills(path_, version_); }

 private:
  cg::Version version_;
  std::string path_;
  bool made_ = false;
  std::string error_;
};

// Sets a memory limit in either layout, with swap held to the same limit where it is counted.
bool limit_memory(const ScratchCgroup& group, const std::string& bytes) {
  if (group.version() == cg::Version::V2) {
    if (!group.set("memory.max", bytes)) return false;
    group.set("memory.swap.max", "0");  // absent without swap accounting: fine
    return true;
  }
  if (!group.set("memory.limit_in_bytes", bytes)) return false;
  group.set("memory.memsw.limit_in_bytes", bytes);  // absent without swap accounting: fine
  return true;
}

struct Ran {
  int status = -1;  // like $?
  std::string out;
};

// Forks a child that joins `group`, then runs a builtin with fds 1 and 2 on a pipe (or on
// `out_fd` when given). Returns its status and, with the pipe, what it wrote.
Ran run_in_cgroup(const ScratchCgroup& group, const std::vector<std::string>& args,
                  std::chrono::milliseconds timeout = 60000ms) {
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // "0" moves the writing process itself.
    if (!write_text(group.path() + "/cgroup.procs", "0")) _exit(120);
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    const tinysh::Builtin* b = tinysh::find_builtin(args.at(0));
    tinysh::Shell sh;
    _exit(b ? b->run(sh, args) & 0xff : 127);
  }
  ::close(pipe_fds[1]);
  Ran ran;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (true) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      FAIL_CHECK("the builtin did not finish in time: " << ran.out);
      break;
    }
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    ran.out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return ran;
}

#define SKIP_UNLESS(condition, reason) \
  if (!(condition)) {                  \
    testing::skip(reason);             \
    return;                            \
  }

}  // namespace

TEST_CASE("spawn, hog and burn refuse bad arguments with a usage error and status 2") {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"spawn", "0"}, "from 1 to"},         {{"spawn", "-1"}, "not '-1'"},
      {{"spawn", "abc"}, "not 'abc'"},       {{"spawn", "5", "-1"}, "SECONDS"},
      {{"spawn"}, "usage: spawn N"},         {{"hog", "1e9"}, "exponents"},
      {{"hog", "0"}, "more than 0"},         {{"hog", "16M", "0"}, "STEP must be more than 0"},
      {{"hog", "123bogus"}, "unknown unit"}, {{"burn", "-3"}, "not '-3'"},
      {{"burn", "0"}, "more than 0"},        {{"burn", "1.2.3"}, "not '1.2.3'"},
      {{"burn"}, "usage: burn SECONDS"},     {{"cgroup", "extra"}, "usage: cgroup"},
  };
  for (const Case& c : cases) {
    auto r = captured(c.args);
    INFO(c.args[0] << " " << (c.args.size() > 1 ? c.args[1] : "") << " -> " << r.err);
    CHECK(r.status == 2);
    CHECK(contains(r.err, c.says));
    CHECK(r.out.empty());
  }
}

TEST_CASE("the process scan finds a live child of the test process (control for spawn's check)") {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    for (;;) ::pause();
  }
  auto found = live_children();
  CHECK(std::find(found.begin(), found.end(), child) != found.end());
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(testing::zombie_or_gone(child));
}

TEST_CASE("spawn 5 starts five processes and leaves none behind") {
  REQUIRE(live_children().empty());
  auto r = captured({"spawn", "5"});
  CHECK(r.status == 0);
  CHECK(r.out == "spawn: started 5 of 5\n");
  CHECK(r.err.empty());
  CHECK(live_children().empty());
}

TEST_CASE("spawn holds its processes for SECONDS, then ends them all") {
  auto started = std::chrono::steady_clock::now();
  auto r = captured({"spawn", "3", "0.2"});
  CHECK(std::chrono::steady_clock::now() - started >= 200ms);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "spawn: started 3 of 3\n"));
  CHECK(contains(r.out, "holding 3 children for 0.2 s"));
  CHECK(live_children().empty());
}

TEST_CASE("hog 16M without a limit touches it all and reports done") {
  auto r = captured({"hog", "16M"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "hog: 8 MiB touched\n"));
  CHECK(contains(r.out, "hog: 16 MiB touched\n"));
  CHECK(contains(r.out, "hog: touched 16 MiB, released it\n"));
  CHECK_FALSE(contains(r.out, "killed"));
  CHECK(live_children().empty());
}

TEST_CASE("hog with a step that does not divide the size still touches exactly the size") {
  auto r = captured({"hog", "10M", "4M"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "hog: touching 10 MiB in steps of 4 MiB"));
  CHECK(contains(r.out, "hog: touched 10 MiB, released it\n"));
}

TEST_CASE("burn spins for the wall time asked and reports CPU time and share") {
  auto r = captured({"burn", "0.2"});
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(contains(r.out, "burn: 0.2"));
  CHECK(contains(r.out, " s wall, "));
  CHECK(contains(r.out, "% of one CPU\n"));
}

TEST_CASE("cgroup on this machine lists the cgroups of /proc/self/cgroup") {
  auto r = captured({"cgroup"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  auto places = cg::locate_live().places;
  bool any_visible =
      std::any_of(places.begin(), places.end(), [](const cg::Place& p) { return p.visible(); });
  if (any_visible) {
    CHECK(contains(r.out, "cgroup v"));
  } else {
    CHECK(contains(r.out, "not visible without a cgroup filesystem"));
  }
}

// --- Real cgroups (root) ------------------------------------------------------------------------

TEST_CASE("under pids.max, spawn stops at the first fork failure, names EAGAIN, leaves nothing") {
  Hierarchy h = hierarchy_for("pids");
  SKIP_UNLESS(h.why.empty(), h.why);
  ScratchCgroup group(h);
  REQUIRE_MESSAGE(group.made(), group.error());
  // The process running spawn is one of the 5 tasks the cgroup allows.
  REQUIRE(group.set("pids.max", "5"));
  Ran limited = run_in_cgroup(group, {"spawn", "20"});
  INFO(limited.out);
  CHECK(limited.status == 1);
  CHECK(contains(limited.out,
                 "spawn: started 4 of 20; fork number 5 failed: Resource temporarily "
                 "unavailable (EAGAIN) — a pids limit (pids.max)"));
  CHECK(pids_in(group.path() + "/cgroup.procs").empty());
  CHECK(live_children().empty());

  // Control: the same spawn under a limit it does not reach starts all of them.
  REQUIRE(group.set("pids.max", "50"));
  Ran roomy = run_in_cgroup(group, {"spawn", "20"});
  CHECK(roomy.status == 0);
  CHECK(roomy.out == "spawn: started 20 of 20\n");
}

TEST_CASE("cgroup inside a scratch cgroup shows its pids limit") {
  Hierarchy h = hierarchy_for("pids");
  SKIP_UNLESS(h.why.empty(), h.why);
  ScratchCgroup group(h);
  REQUIRE_MESSAGE(group.made(), group.error());
  REQUIRE(group.set("pids.max", "10"));
  Ran ran = run_in_cgroup(group, {"cgroup"});
  INFO(ran.out);
  CHECK(ran.status == 0);
  std::string name = "/nslab-test-" + std::to_string(::getpid());
  std::string version =
      h.version == cg::Version::V1 ? "cgroup v1  pids    " : "cgroup v2  pids    ";
  CHECK(contains(ran.out, version + name));
  CHECK(contains(ran.out, "pids 1 of max 10\n"));
}

TEST_CASE("hog past the memory limit is reported as an OOM kill naming the limit, under it, done") {
  Hierarchy h = hierarchy_for("memory");
  SKIP_UNLESS(h.why.empty(), h.why);
  ScratchCgroup group(h);
  REQUIRE_MESSAGE(group.made(), group.error());
  REQUIRE(limit_memory(group, "33554432"));
  auto before = group.oom_kills();
  SKIP_UNLESS(before.has_value(), "this kernel has no oom_kill counter for the memory cgroup");

  Ran over = run_in_cgroup(group, {"hog", "200M"});
  INFO(over.out);
  CHECK(over.status == 137);
  CHECK(contains(over.out, "hog: touching 200 MiB in steps of 8 MiB (memory limit 32 MiB)\n"));
  CHECK(contains(over.out, "hog: killed by the OOM killer: memory limit 32 MiB reached"));
  CHECK(group.oom_kills() > before);

  // Control: the same cgroup, a hog that fits.
  auto before_small = group.oom_kills();
  Ran under = run_in_cgroup(group, {"hog", "16M"});
  CHECK(under.status == 0);
  CHECK(contains(under.out, "hog: touched 16 MiB, released it\n"));
  CHECK(group.oom_kills() == before_small);
}

TEST_CASE("a SIGKILL sent to hog's allocator under the limit is not called an OOM kill") {
  Hierarchy h = hierarchy_for("memory");
  SKIP_UNLESS(h.why.empty(), h.why);
  ScratchCgroup group(h);
  REQUIRE_MESSAGE(group.made(), group.error());
  REQUIRE(limit_memory(group, "67108864"));
  auto before = group.oom_kills();
  SKIP_UNLESS(before.has_value(), "this kernel has no oom_kill counter for the memory cgroup");

  // Hold the allocator still after its first step: its stdout is a one-page pipe that we fill
  // so exactly hog's first line fits; the allocator's progress line then blocks in write().
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  REQUIRE(::fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 4096);
  REQUIRE(::fcntl(fds[1], F_GETPIPE_SZ) == 4096);
  const std::string first_line = "hog: touching 16 MiB in steps of 8 MiB (memory limit 64 MiB)\n";
  std::string filler(4096 - first_line.size(), '.');
  REQUIRE(::write(fds[1], filler.data(), filler.size()) == static_cast<ssize_t>(filler.size()));

  pid_t hog = ::fork();
  REQUIRE(hog >= 0);
  if (hog == 0) {
    if (!write_text(group.path() + "/cgroup.procs", "0")) _exit(120);
    ::dup2(fds[1], 1);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 2);
    tinysh::Shell sh;
    std::vector<std::string> args{"hog", "16M"};
    _exit(tinysh::find_builtin("hog")->run(sh, args));
  }
  ::close(fds[1]);

  // The allocator: the other process in the cgroup, asleep with its first 8 MiB touched.
  pid_t allocator = 0;
  bool held = testing::wait_until(
      [&] {
        for (pid_t pid : pids_in(group.path() + "/cgroup.procs")) {
          if (pid == hog) continue;
          std::string status = testing::read_file("/proc/" + std::to_string(pid) + "/status");
          auto rss = status.find("VmRSS:");
          if (rss == std::string::npos || testing::proc_state(pid) != 'S') continue;
          if (std::stol(status.substr(rss + 6)) >= 8 * 1024) {
            allocator = pid;
            return true;
          }
        }
        return false;
      },
      20000ms);
  if (held) ::kill(allocator, SIGKILL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(hog, &status, 0) < 0 && errno == EINTR) {
  }
  REQUIRE_MESSAGE(held, "the allocator was never seen blocked after its first step");
  out.erase(0, filler.size());
  INFO(out);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 137);
  CHECK(contains(out, "hog: killed by signal 9 (SIGKILL) after 8 MiB touched\n"));
  CHECK_FALSE(contains(out, "OOM"));
  CHECK(group.oom_kills() == before);
}

TEST_CASE("burn under a cpu quota gets about its share and the cgroup counts throttled periods") {
  Hierarchy h = hierarchy_for("cpu");
  SKIP_UNLESS(h.why.empty(), h.why);
  ScratchCgroup group(h);
  REQUIRE_MESSAGE(group.made(), group.error());
  // 5 ms of CPU in every 100 ms: 0.05 CPU, far below what even a busy machine gives a spinner.
  if (h.version == cg::Version::V1) {
    REQUIRE(group.set("cpu.cfs_period_us", "100000"));
    REQUIRE(group.set("cpu.cfs_quota_us", "5000"));
  } else {
    REQUIRE(group.set("cpu.max", "5000 100000"));
  }
  Ran ran = run_in_cgroup(group, {"burn", "0.5"});
  INFO(ran.out);
  CHECK(ran.status == 0);
  CHECK(contains(ran.out, "burn: cgroup cpu limit 0.05 CPU; throttled in "));
  auto percent_at = ran.out.find("% of one CPU");
  REQUIRE(percent_at != std::string::npos);
  auto percent_from = ran.out.rfind(' ', percent_at) + 1;
  CHECK(std::stoi(ran.out.substr(percent_from, percent_at - percent_from)) < 30);
  auto throttled_at = ran.out.find("throttled in ");
  REQUIRE(throttled_at != std::string::npos);
  CHECK(std::stoi(ran.out.substr(throttled_at + 13)) > 0);
}
