// Cgroup limits on the real kernel (root; CI runs as root). The test process plays the runner:
// it makes the box's cgroup with sandbox/cgroup.h, forks a child that waits on a pipe, writes the
// child into the cgroup, releases it, and the child execs tinysh with a demo tool. Everything is
// checked from outside: the cgroup's files while the child runs, the kernel's counters after, and
// that the directories are gone afterwards. Only cgroups named nslab-box-<pid> are ever made.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "cgroup.h"
#include "process.h"

using namespace sandbox;
using namespace sandbox::cgroup;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::optional<std::uint64_t> keyed(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string k;
  std::uint64_t v;
  while (in >> k >> v)
    if (k == key) return v;
  return std::nullopt;
}

#define SKIP_UNLESS(condition, reason) \
  if (!(condition)) {                  \
    testing::skip(reason);             \
    return;                            \
  }

// The layout for `limits` on this host, or a reason to skip.
std::optional<Layout> host_layout(const Limits& limits, std::string& why) {
  if (!testing::is_root()) {
    why = "not root: making cgroups needs root (CI runs as root)";
    return std::nullopt;
  }
  auto layout = detect_layout(limits.controllers());
  if (!layout) {
    why = "no usable cgroup for these limits here: " + layout.error().message();
    return std::nullopt;
  }
  return *layout;
}

// A forked child that waits on a pipe before it execs `argv` (the box's first process between
// clone and release). Its stdout and stderr go to a pipe this test reads. Killed and reaped on
// destruction unless it was waited for.
class GatedChild {
 public:
  explicit GatedChild(const std::vector<std::string>& argv) {
    int gate[2], out[2];
    REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      char go = 0;
      ssize_t n;
      do n = ::read(gate[0], &go, 1);
      while (n < 0 && errno == EINTR);
      if (n != 1) ::_exit(99);  // the test gave up before releasing us
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(gate[0]);
    ::close(out[1]);
    gate_ = gate[1];
    out_ = out[0];
  }
  ~GatedChild() {
    if (gate_ >= 0) ::close(gate_);
    if (out_ >= 0) ::close(out_);
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  GatedChild(const GatedChild&) = delete;
  GatedChild& operator=(const GatedChild&) = delete;

  pid_t pid() const { return pid_; }
  void release() {
    REQUIRE(::write(gate_, "g", 1) == 1);
    ::close(gate_);
    gate_ = -1;
  }
  // Reads the output to EOF, then reaps; returns $? (128+N for signal N), or -1 on timeout.
  int finish(std::chrono::milliseconds timeout = 60000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
    }
    if (!testing::wait_until([&] { return testing::zombie_or_gone(pid_); }, 5000ms)) return -1;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int gate_ = -1, out_ = -1;
  bool reaped_ = false;
  std::string output_;
};

std::vector<std::string> tinysh_argv(const std::string& commands) {
  return {testing::bin("tinysh"), "-c", commands};
}

// The box directory that holds `controller`.
std::string dir_of(const BoxCgroup& box, Controller controller) {
  for (const BoxDir& d : box.dirs())
    for (Controller c : d.controllers)
      if (c == controller) return d.path;
  FAIL("no directory for " << controller_name(controller));
  return {};
}

std::string version_text(const Layout& layout, Controller controller) {
  return layout.find(controller)->hierarchy;
}

}  // namespace

TEST_CASE("with --pids 10, spawn 50 starts at most 9, names EAGAIN, and the shell lives on") {
  Limits limits;
  limits.pids_max = 10;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  MESSAGE("pids on " << version_text(*layout, Controller::Pids));
  auto box = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_MESSAGE(box.ok(), box.error().message());
  std::string dir = dir_of(*box, Controller::Pids);
  CHECK(trimmed(testing::read_file(dir + "/pids.max")) == "10");

  GatedChild child(tinysh_argv("spawn 50; echo shell still here"));
  REQUIRE_MESSAGE(box->join(child.pid()), box->join(child.pid()).error().message());
  // The child is counted before it runs anything; the runner is not in the box's cgroup.
  std::string procs = testing::read_file(dir + "/cgroup.procs");
  CHECK(trimmed(procs) == std::to_string(child.pid()));
  CHECK_FALSE(contains(testing::read_file("/proc/self/cgroup"), box_name(::getpid())));
  CHECK(contains(testing::read_file("/proc/" + std::to_string(child.pid()) + "/cgroup"),
                 box_name(::getpid())));
  child.release();
  int status = child.finish();
  INFO(child.output());
  CHECK(status == 0);
  std::smatch started;
  REQUIRE(std::regex_search(child.output(), started, std::regex("spawn: started (\\d+) of 50")));
  int forked = std::stoi(started[1]);
  CHECK(forked >= 1);
  CHECK(forked <= 9);
  CHECK(contains(child.output(), "(EAGAIN)"));
  CHECK(contains(child.output(), "shell still here\n"));
  if (exists(dir + "/pids.events")) CHECK(keyed(dir + "/pids.events", "max") > 0u);

  REQUIRE_MESSAGE(box->remove(), "remove");
  CHECK_FALSE(exists(dir));
}

TEST_CASE("a pids limit above what spawn needs lets it start all 50 (control for the limit)") {
  Limits limits;
  limits.pids_max = 60;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  auto box = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_MESSAGE(box.ok(), box.error().message());
  GatedChild child(tinysh_argv("spawn 50"));
  REQUIRE(box->join(child.pid()));
  child.release();
  CHECK(child.finish() == 0);
  CHECK(contains(child.output(), "spawn: started 50 of 50"));
}

TEST_CASE(
    "with --memory 32M, hog 200M is OOM-killed and the box's counter says so, the shell lives on") {
  Limits limits;
  limits.memory_bytes = 32 << 20;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  MESSAGE("memory on " << version_text(*layout, Controller::Memory));
  auto box = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_MESSAGE(box.ok(), box.error().message());
  std::string dir = dir_of(*box, Controller::Memory);
  bool v2 = layout->find(Controller::Memory)->version == Version::V2;
  CHECK(trimmed(testing::read_file(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"))) ==
        "33554432");
  auto before = box->oom_kills();
  SKIP_UNLESS(before.has_value(), "this kernel has no oom_kill counter for memory cgroups");
  CHECK(*before == 0u);
  CHECK(box->oom_report().empty());

  GatedChild child(tinysh_argv("hog 200M; echo shell still here"));
  REQUIRE(box->join(child.pid()));
  child.release();
  int status = child.finish();
  INFO(child.output());
  CHECK(status == 0);  // the shell's last command ran: PID 1 of the box was not the victim
  CHECK(contains(child.output(), "killed by the OOM killer"));
  CHECK(contains(child.output(), "shell still here\n"));
  CHECK(box->oom_kills() >= 1u);
  CHECK(contains(box->oom_report(), "killed by the OOM killer"));
  CHECK(contains(box->oom_report(), "(memory limit 32 MiB)"));
}

TEST_CASE("a box process killed with SIGKILL under its memory limit is not called an OOM kill") {
  Limits limits;
  limits.memory_bytes = 32 << 20;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  auto box = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_MESSAGE(box.ok(), box.error().message());
  SKIP_UNLESS(box->oom_kills().has_value(), "this kernel has no oom_kill counter");
  GatedChild child(tinysh_argv("echo ready; sleep 30"));
  REQUIRE(box->join(child.pid()));
  child.release();
  // Killed by us, not by the kernel: once it has started its shell.
  REQUIRE(testing::wait_until(
      [&] {
        return testing::read_file("/proc/" + std::to_string(child.pid()) + "/comm") == "tinysh\n";
      },
      10000ms));
  ::kill(child.pid(), SIGKILL);
  CHECK(child.finish() == 128 + SIGKILL);
  CHECK(box->oom_kills() == 0u);
  CHECK(box->oom_report().empty());
}

TEST_CASE(
    "with --cpus 0.2, burn 1 is throttled: the quota files say 20000/100000 and nr_throttled "
    "rises") {
  Limits limits;
  limits.cpu = CpuQuota{20000, 100000};
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  MESSAGE("cpu on " << version_text(*layout, Controller::Cpu));
  auto box = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_MESSAGE(box.ok(), box.error().message());
  std::string dir = dir_of(*box, Controller::Cpu);
  if (layout->find(Controller::Cpu)->version == Version::V2) {
    CHECK(trimmed(testing::read_file(dir + "/cpu.max")) == "20000 100000");
  } else {
    CHECK(trimmed(testing::read_file(dir + "/cpu.cfs_quota_us")) == "20000");
    CHECK(trimmed(testing::read_file(dir + "/cpu.cfs_period_us")) == "100000");
  }
  CHECK(keyed(dir + "/cpu.stat", "nr_throttled") == 0u);  // control: a fresh cgroup

  GatedChild child(tinysh_argv("burn 1"));
  REQUIRE(box->join(child.pid()));
  child.release();
  CHECK(child.finish() == 0);
  INFO(child.output());
  CHECK(keyed(dir + "/cpu.stat", "nr_periods") > 0u);
  CHECK(keyed(dir + "/cpu.stat", "nr_throttled") > 0u);
}

TEST_CASE(
    "the box's cgroup exists with its limits while the box runs and is gone on every exit path") {
  Limits limits;
  limits.pids_max = 20;
  limits.memory_bytes = 64 << 20;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);

  enum class End { Exit0, Exit1, Sigkill, RunnerGoneFirst, SubCgroupInside };
  for (End end :
       {End::Exit0, End::Exit1, End::Sigkill, End::RunnerGoneFirst, End::SubCgroupInside}) {
    CAPTURE(static_cast<int>(end));
    std::vector<std::string> dirs;
    std::optional<GatedChild> child;
    {
      auto box = BoxCgroup::create(*layout, limits, ::getpid());
      REQUIRE_MESSAGE(box.ok(), box.error().message());
      for (const BoxDir& d : box->dirs()) dirs.push_back(d.path);
      std::string commands = end == End::Exit0   ? "exit 0"
                             : end == End::Exit1 ? "exit 1"
                                                 : "echo ready; sleep 30";
      child.emplace(tinysh_argv(commands));
      REQUIRE(box->join(child->pid()));
      std::string pids_dir = dir_of(*box, Controller::Pids);
      CHECK(trimmed(testing::read_file(pids_dir + "/pids.max")) == "20");
      if (end == End::SubCgroupInside) {
        // What a root box may do: make a cgroup of its own inside its cgroup and move into it.
        REQUIRE(::mkdir((pids_dir + "/inner").c_str(), 0755) == 0);
        std::ofstream(pids_dir + "/inner/cgroup.procs") << child->pid();
        CHECK(trimmed(testing::read_file(pids_dir + "/inner/cgroup.procs")) ==
              std::to_string(child->pid()));
      }
      for (const std::string& d : dirs) CHECK(exists(d));
      child->release();
      switch (end) {
        case End::Exit0:
          CHECK(child->finish() == 0);
          break;
        case End::Exit1:
          CHECK(child->finish() == 1);
          break;
        case End::Sigkill:
          ::kill(child->pid(), SIGKILL);
          CHECK(child->finish() == 128 + SIGKILL);
          break;
        case End::RunnerGoneFirst:
        case End::SubCgroupInside:
          break;  // the box still runs when `box` goes out of scope
      }
    }
    // ~BoxCgroup has run: every directory is gone, and a box still running was killed.
    for (const std::string& d : dirs) CHECK_MESSAGE(!exists(d), d);
    if (end == End::RunnerGoneFirst || end == End::SubCgroupInside)
      CHECK(child->finish(10000ms) == 128 + SIGKILL);
  }
}

TEST_CASE(
    "the sweep removes a leftover empty box cgroup and leaves one with a live process alone") {
  Limits limits;
  limits.pids_max = 20;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  const std::string& parent = layout->find(Controller::Pids)->parent_dir;

  // Two pids of runners that are gone: children that exited and were reaped.
  auto dead_pid = [] {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
  };
  pid_t gone1 = dead_pid(), gone2 = dead_pid();
  std::string stale = parent + "/" + box_name(gone1);
  std::string busy = parent + "/" + box_name(gone2);
  REQUIRE(::mkdir(stale.c_str(), 0755) == 0);
  REQUIRE(::mkdir(busy.c_str(), 0755) == 0);
  GatedChild occupant(tinysh_argv("sleep 30"));
  std::ofstream(busy + "/cgroup.procs") << occupant.pid();
  REQUIRE(trimmed(testing::read_file(busy + "/cgroup.procs")) == std::to_string(occupant.pid()));

  SweepReport report = sweep_stale(*layout);
  bool removed_stale = false, reported_busy = false;
  for (const auto& r : report.removed) removed_stale |= r == stale;
  for (const auto& b : report.busy)
    reported_busy |= contains(b, busy) && contains(b, std::to_string(occupant.pid()));
  CHECK(removed_stale);
  CHECK_FALSE(exists(stale));
  CHECK(reported_busy);
  CHECK(exists(busy));  // never reused nor killed
  CHECK(testing::proc_state(occupant.pid()).has_value());

  // Clean up what the test made: the occupant, then its directory.
  ::kill(occupant.pid(), SIGKILL);
  occupant.finish(10000ms);
  CHECK(testing::wait_until([&] { return ::rmdir(busy.c_str()) == 0 || errno == ENOENT; }, 5000ms));
  if (exists(stale)) ::rmdir(stale.c_str());
}

TEST_CASE("a cgroup left under this runner's own name is swept when the box's is made") {
  // The sweep runs after the release; a SIGKILLed runner that had this pid before left
  // nslab-box-<pid>, which is in the way of the mkdir. create() sweeps it and makes the box's.
  Limits limits;
  limits.pids_max = 20;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  std::string namesake = layout->find(Controller::Pids)->parent_dir + "/" + box_name(::getpid());
  REQUIRE(::mkdir(namesake.c_str(), 0755) == 0);
  {
    auto made = BoxCgroup::create(*layout, limits, ::getpid());
    REQUIRE_MESSAGE(made.ok(), made.error().message());
    CHECK(trimmed(testing::read_file(namesake + "/pids.max")) == "20");  // the new one
  }
  CHECK_FALSE(exists(namesake));

  // Control: a namesake with a process in it is not swept, and the mkdir's error stays.
  REQUIRE(::mkdir(namesake.c_str(), 0755) == 0);
  GatedChild occupant(tinysh_argv("sleep 30"));
  std::ofstream(namesake + "/cgroup.procs") << occupant.pid();
  auto refused = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().err == EEXIST);
  CHECK(contains(refused.error().hint, "an earlier runner with the same pid"));  // the cgroup's hint
  CHECK(exists(namesake));
  ::kill(occupant.pid(), SIGKILL);
  occupant.finish(10000ms);
  CHECK(testing::wait_until([&] { return ::rmdir(namesake.c_str()) == 0 || errno == ENOENT; },
                            5000ms));
}

TEST_CASE("a runner that sweeps after making its box's cgroup leaves that cgroup alone") {
  Limits limits;
  limits.pids_max = 20;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  auto made = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_MESSAGE(made.ok(), made.error().message());
  std::string mine = layout->find(Controller::Pids)->parent_dir + "/" + box_name(::getpid());
  GatedChild box(tinysh_argv("sleep 30"));
  REQUIRE(made->join(box.pid()).ok());
  SweepReport report = sweep_stale_everywhere(/*still_mine=*/true);
  for (const auto& b : report.busy) CHECK_MESSAGE(!contains(b, mine), b);
  for (const auto& r : report.removed) CHECK(r != mine);
  CHECK(exists(mine));
  // Control: a sweep that counts this pid as gone (as one before the box's cgroup is made does)
  // reports the busy directory of that name. Every other runner counts as alive here, so this
  // sweep removes nothing that other tests left on purpose.
  pid_t self = ::getpid();
  SweepReport before = sweep_stale(*layout, [self](pid_t pid) { return pid != self; });
  bool reported = false;
  for (const auto& b : before.busy) reported |= contains(b, mine);
  CHECK(reported);
  ::kill(box.pid(), SIGKILL);
  box.finish(10000ms);
}

TEST_CASE("as a user without a delegated cgroup, limits are refused saying what would fix it") {
  Limits limits;
  limits.pids_max = 10;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  CHECK(check_access(*layout).ok());  // control: root may
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) _exit(3);
    Status status = check_access(*layout);
    std::string text = status ? std::string("allowed") : status.error().message();
    [[maybe_unused]] ssize_t n = ::write(out[1], text.data(), text.size());
    _exit(0);
  }
  ::close(out[1]);
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  INFO(text);
  CHECK(contains(text, "cannot make a cgroup in"));
  CHECK(contains(text,
                 "cgroup limits need root, or a cgroup delegated to you (systemd-run --user "
                 "--scope -p Delegate=yes ...)"));
}

TEST_CASE(
    "on a v2 host the box sits under nslab/, which enables the controllers and is removed after") {
  Limits limits;
  limits.pids_max = 10;
  std::string why;
  auto layout = host_layout(limits, why);
  SKIP_UNLESS(layout, why);
  SKIP_UNLESS(layout->find(Controller::Pids)->version == Version::V2,
              "this host has pids on cgroup v1 (" + layout->find(Controller::Pids)->hierarchy +
                  "); the v2 path is unit-tested on fake trees and runs in the kernels VM");
  auto box = BoxCgroup::create(*layout, limits, ::getpid());
  REQUIRE_MESSAGE(box.ok(), box.error().message());
  std::string parent = layout->find(Controller::Pids)->parent_dir;
  CHECK(contains(testing::read_file(parent + "/cgroup.subtree_control"), "pids"));
  CHECK(trimmed(testing::read_file(parent + "/cgroup.procs")).empty());
  REQUIRE(box->remove());
  CHECK_FALSE(exists(dir_of(*box, Controller::Pids)));
}
