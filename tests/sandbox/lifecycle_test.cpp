// A box's life as the host sees it: exit statuses, signals, dying with the runner, no fd of the
// runner reaching the box, and nothing left on the host after any kind of exit.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "box_harness.h"
#include "launch.h"
#include "plan.h"

using namespace boxtest;

namespace {

const std::vector<std::string> kFull = {"--mount", "--pivot", "--pid", "--proc"};

std::vector<std::string> with(std::vector<std::string> flags, const std::string& commands) {
  flags.push_back("-c");
  flags.push_back(commands);
  return flags;
}

size_t line_count(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Starts a box in a forked "runner" process that calls launch() directly (optionally without
// one step of its plan), and returns {runner pid, box pid}. By default a --pid box that sleeps.
std::pair<pid_t, pid_t> launch_in_child(std::optional<sandbox::Action> without,
                                        sandbox::Spec spec = {}) {
  if (spec.command.shell_commands.empty()) {
    spec.mount = spec.pid = spec.proc = true;
    spec.command.shell_commands = "sleep 1000";
  }
  spec.command.kind = sandbox::CommandKind::ShellCommands;
  spec.tinysh_path = testing::bin("tinysh");
  auto plan = sandbox::plan(spec, sandbox::current_caller());
  REQUIRE(plan.ok());
  if (without) {
    auto& steps = plan->steps;
    steps.erase(std::remove_if(steps.begin(), steps.end(),
                               [&](const sandbox::Step& s) { return s.action() == *without; }),
                steps.end());
  }
  int report[2];
  REQUIRE(::pipe(report) == 0);
  pid_t runner = ::fork();
  REQUIRE(runner >= 0);
  if (runner == 0) {
    ::close(report[0]);
    sigset_t mask;
    sigemptyset(&mask);
    auto box = sandbox::launch(*plan, mask);
    pid_t pid = box.ok() ? box->release() : -1;
    [[maybe_unused]] ssize_t n = ::write(report[1], &pid, sizeof pid);
    for (;;) ::pause();
  }
  ::close(report[1]);
  pid_t box = -1;
  REQUIRE(::read(report[0], &box, sizeof box) == sizeof box);
  ::close(report[0]);
  return {runner, box};
}

}  // namespace

TEST_CASE("nslab exits with the box's exit status") {
  if (!have_root()) return;
  for (int code : {0, 1, 2, 7, 42, 126, 128, 255}) {
    CAPTURE(code);
    CHECK(nslab_run({"--pid", "-c", fmt::format("exit {}", code)}).status() == code);
  }
  CHECK(nslab_run({"--", "/bin/false"}).status() == 1);
  CHECK(nslab_run({"--", "/bin/true"}).status() == 0);
  CHECK(nslab_run({"-c", "true; false"}).status() == 1);
}

TEST_CASE("a program that is not in the box is one clear line and status 127, a directory 126") {
  if (!have_root()) return;
  auto missing = nslab_run(with(kFull, "true"));  // sanity: the full box itself starts
  REQUIRE(missing.status() == 0);
  auto r = nslab_run({"--mount", "--pivot", "--", "nosuch-program"});
  CHECK(r.status() == 127);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find("nosuch-program") != std::string::npos);
  CHECK(r.err.find("No such file or directory") != std::string::npos);
  auto dir = nslab_run({"--", "/tmp"});
  CHECK(dir.status() == 126);
  CHECK(line_count(dir.err) == 1);
}

TEST_CASE("PID 1 killed from the host: nslab exits 137 and says so") {
  if (!have_root()) return;
  LiveBox box({"--mount", "--pid", "--proc", "-c", "sleep 100"});
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  CHECK(box.wait_exit() == 137);
  CHECK(box.output().find("the box's PID 1 was killed by SIGKILL") != std::string::npos);
}

TEST_CASE("SIGTERM to the runner is forwarded to the box, which ends with 143 and leaves nothing") {
  if (!have_root()) return;
  LiveBox box({"--mount", "--pid", "--proc", "-c", "sleep 100"});
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  REQUIRE(testing::wait_until([&] { return children_of(pid).size() == 1; }, 10s));
  auto members = processes_in_pid_namespace_of(pid);
  REQUIRE(members.size() == 2);
  REQUIRE(::kill(box.runner(), SIGTERM) == 0);
  CHECK(box.wait_exit() == 143);
  for (pid_t member : members) CHECK(testing::zombie_or_gone(member));
}

TEST_CASE("SIGUSR1 to the runner reaches an idle box, whose PID 1 exits 138, and so does nslab") {
  if (!have_root()) return;
  // The box's shell reads commands from a pipe this test holds open and never writes to: it is
  // PID 1 with no job, waiting. nslab's stdin becomes the pipe through a small sh.
  int feed[2];
  REQUIRE(::pipe(feed) == 0);
  ::fcntl(feed[1], F_SETFD, FD_CLOEXEC);
  std::string read_end = std::to_string(feed[0]);
  LiveBox box({"--mount", "--pid", "--proc"},
              {"sh", "-c", "exec \"$@\" 0<&" + read_end + " " + read_end + "<&-", "sh"}, {feed[0]});
  ::close(feed[0]);
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  // The box's PID 1 must hold SIGUSR1 before it comes, or the kernel drops it. (The runner blocks
  // what it forwards before it clones the box; while it waits in sigwaitinfo(2) /proc shows
  // those signals unblocked, so its SigBlk tells nothing.)
  REQUIRE(testing::wait_until([&] { return testing::signal_blocked(pid, SIGUSR1); }, 10s));
  auto members = processes_in_pid_namespace_of(pid);
  REQUIRE(::kill(box.runner(), SIGUSR1) == 0);
  CHECK(box.wait_exit() == 138);
  CHECK_FALSE(box.killed_by_signal());  // nslab exited with the box's status; it did not die
  for (pid_t member : members) CHECK(testing::zombie_or_gone(member));
  ::close(feed[1]);
}

TEST_CASE("the runner forwards USR1, USR2, ALRM, PWR and SIGRTMIN+3 to the box's foreground job") {
  if (!have_root()) return;
  for (int sig : {SIGUSR1, SIGUSR2, SIGALRM, SIGPWR, SIGRTMIN + 3}) {
    CAPTURE(sig);
    LiveBox box({"--mount", "--pid", "--proc", "-c", "sleep 100; echo after=$?"});
    pid_t pid = box.wait_for_box();
    REQUIRE(pid > 0);
    REQUIRE(testing::wait_until([&] { return children_of(pid).size() == 1; }, 10s));
    REQUIRE(testing::signal_blocked(pid, sig));
    REQUIRE(::kill(box.runner(), sig) == 0);
    CHECK(box.wait_exit() == 0);
    CHECK_FALSE(box.killed_by_signal());
    CHECK(box.output().find(fmt::format("after={}\n", 128 + sig)) != std::string::npos);
  }
}

TEST_CASE("negative control: SIGPIPE, which the runner does not forward, ends the runner, not the job") {
  if (!have_root()) return;
  // The same check as above fails for a signal nslab keeps to itself: nslab dies of it (its
  // default action), the box goes with it through the parent-death signal, and no job reports.
  // nslab inherits its SIGPIPE action from this process, where testing::run() ignores SIGPIPE:
  // the default is put back for the fork, then the action this process had.
  auto previous = ::signal(SIGPIPE, SIG_DFL);
  LiveBox box({"--mount", "--pid", "--proc", "-c", "sleep 100; echo after=$?"});
  ::signal(SIGPIPE, previous);
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  REQUIRE(testing::wait_until([&] { return children_of(pid).size() == 1; }, 10s));
  REQUIRE(::kill(box.runner(), SIGPIPE) == 0);
  CHECK(box.wait_exit() == 128 + SIGPIPE);
  CHECK(box.killed_by_signal());
  CHECK(box.output().find("after=") == std::string::npos);
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(pid); }, 5s));
}

TEST_CASE("every box process dies when the runner is SIGKILLed") {
  if (!have_root()) return;
  LiveBox box({"--mount", "--pid", "--proc", "-c", "sleep 1000 & sleep 1000"});
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  REQUIRE(testing::wait_until([&] { return children_of(pid).size() == 2; }, 10s));
  auto members = processes_in_pid_namespace_of(pid);
  REQUIRE(members.size() == 3);
  REQUIRE(::kill(box.runner(), SIGKILL) == 0);
  CHECK(box.wait_exit() == 137);
  bool all_gone = testing::wait_until(
      [&] {
        return std::all_of(members.begin(), members.end(),
                           [](pid_t p) { return testing::zombie_or_gone(p); });
      },
      1s);
  CHECK(all_gone);
}

// tinysh processes whose command line holds `marker` and that still run (not zombies): the
// runner and its keeper have the marker in theirs too.
std::vector<pid_t> running_with(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    std::string cmdline = testing::read_file("/proc/" + name + "/cmdline");
    if (cmdline.find(marker) != std::string::npos &&
        testing::read_file("/proc/" + name + "/comm") == "tinysh\n" && !testing::zombie_or_gone(pid))
      found.push_back(pid);
  }
  return found;
}

TEST_CASE("without --pid, what a box started in the background ends with it") {
  const std::string marker = fmt::format("1000.{}", ::getpid());
  // As any user: --uts needs --user without root.
  std::vector<std::string> flags = have_root() ? std::vector<std::string>{"--uts"}
                                               : std::vector<std::string>{"--user", "--uts"};
  auto r = nslab_run(with(flags, "sleep " + marker + " & echo started"));
  CHECK(r.out.find("started") != std::string::npos);
  CHECK(testing::wait_until([&] { return running_with(marker).empty(); }, 5s));
}

// Whatever a test leaves with `marker` in its command line is killed when the guard goes, so a
// failed check does not leave sleeping boxes behind.
struct KillLeftovers {
  std::string marker;
  pid_t runner = -1;
  ~KillLeftovers() {
    if (runner > 0 && ::kill(runner, SIGKILL) == 0) ::waitpid(runner, nullptr, 0);
    for (pid_t p : running_with(marker)) ::kill(p, SIGKILL);
  }
};

TEST_CASE("without --pid, a box's background processes die when the runner is SIGKILLed") {
  const std::string marker = fmt::format("1001.{}", ::getpid());
  KillLeftovers guard{marker};
  std::vector<std::string> flags = have_root() ? std::vector<std::string>{"--uts"}
                                               : std::vector<std::string>{"--user", "--uts"};
  LiveBox box(with(flags, "sleep " + marker + " & sleep " + marker));
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  // The box's shell and at least the process it put in the background.
  REQUIRE(testing::wait_until([&] { return running_with(marker).size() >= 2; }, 10s));
  REQUIRE(::kill(box.runner(), SIGKILL) == 0);
  CHECK(box.wait_exit() == 137);
  CHECK(testing::wait_until([&] { return running_with(marker).empty(); }, 10s));
}

TEST_CASE("control: without the keeper, a SIGKILLed runner leaves the box's background process") {
  const std::string marker = fmt::format("1002.{}", ::getpid());
  KillLeftovers guard{marker};
  sandbox::Spec spec;
  spec.uts = spec.user = true;  // any user may run it
  spec.command.shell_commands = "sleep " + marker + " & sleep " + marker;
  auto [runner, box] = launch_in_child(sandbox::Action::StartKeeper, spec);
  guard.runner = runner;
  REQUIRE(box > 0);
  REQUIRE(testing::wait_until([&] { return running_with(marker).size() >= 2; }, 10s));
  ::kill(runner, SIGKILL);
  ::waitpid(runner, nullptr, 0);
  guard.runner = -1;
  // The first process dies with the runner (PR_SET_PDEATHSIG); what it started stays: sleeps of
  // 1000 s, so what is still there once the first process is gone was left behind.
  REQUIRE(testing::wait_until([&] { return testing::zombie_or_gone(box); }, 10s));
  CHECK_FALSE(running_with(marker).empty());
}

TEST_CASE("the parent-death signal is what ends the box: without that step PID 1 survives") {
  if (!have_root()) return;
  for (bool die_with_runner : {true, false}) {
    CAPTURE(die_with_runner);
    auto [runner, box] = launch_in_child(
        die_with_runner ? std::nullopt : std::optional(sandbox::Action::DieWithRunner));
    REQUIRE(box > 0);
    ::kill(runner, SIGKILL);
    int status;
    ::waitpid(runner, &status, 0);
    bool gone = testing::wait_until([box = box] { return testing::zombie_or_gone(box); }, 2s);
    CHECK(gone == die_with_runner);
    ::kill(box, SIGKILL);  // cleanup for the control; PID 1's death ends its namespace
    CHECK(testing::wait_until([box = box] { return testing::zombie_or_gone(box); }, 5s));
  }
}

TEST_CASE("no fd handed to nslab reaches the box") {
  if (!have_root()) return;
  TempDir dir;
  std::ofstream(dir.path() + "/secret") << "secret\n";
  // Extra fds, as a careless parent would hand them down: a directory, a secret file, a socket,
  // a pipe, an O_PATH fd on the host's /.
  int sockets[2], pipe_fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) == 0);
  REQUIRE(::pipe(pipe_fds) == 0);
  std::vector<int> opened = {::open("/", O_RDONLY | O_DIRECTORY),
                             ::open((dir.path() + "/secret").c_str(), O_RDONLY),
                             sockets[0],
                             sockets[1],
                             pipe_fds[0],
                             pipe_fds[1],
                             ::open("/", O_PATH)};
  std::vector<int> extra;
  for (size_t i = 0; i < opened.size(); ++i) {
    REQUIRE(opened[i] >= 0);
    int fd = 200 + static_cast<int>(i);
    REQUIRE(::dup2(opened[i], fd) == fd);  // dup2 clears close-on-exec
    ::close(opened[i]);
    extra.push_back(fd);
  }
  for (const auto& flags : {std::vector<std::string>{}, kFull}) {
    CAPTURE(flags.size());
    LiveBox box(with(flags, "ls /proc/self/fd; cd /proc/self/fd/200 && echo escaped; sleep 100"),
                {}, extra);
    pid_t pid = box.wait_for_box();
    REQUIRE(pid > 0);
    REQUIRE(testing::wait_until([&] { return box.output().find("cd") != std::string::npos; }, 10s));
    // Negative control: the runner really had them.
    for (int fd : extra)
      CHECK(!testing::read_file(fmt::format("/proc/{}/fdinfo/{}", box.runner(), fd)).empty());
    std::istringstream listed(box.output());
    std::string word;
    while (listed >> word) {
      CAPTURE(word);
      CHECK(std::find(extra.begin(), extra.end(), std::atoi(word.c_str())) == extra.end());
    }
    for (int fd = 0; fd < 3; ++fd)
      CHECK(!testing::read_file(fmt::format("/proc/{}/fdinfo/{}", pid, fd)).empty());
    for (int fd : extra)
      CHECK(testing::read_file(fmt::format("/proc/{}/fdinfo/{}", pid, fd)).empty());
    CHECK(box.output().find("escaped") == std::string::npos);
  }
  for (int fd : extra) ::close(fd);
}

TEST_CASE(
    "the host's mount table is unchanged after exit 0, exit 1, a setup failure and a "
    "runner SIGKILL") {
  if (!have_root()) return;
  std::string before = mount_table();
  std::vector<std::string> all = {"--all"};
  CHECK(nslab_run(with(kFull, "exit 0")).status() == 0);
  CHECK(mount_table() == before);
  CHECK(nslab_run(with(all, "exit 1")).status() == 1);
  CHECK(mount_table() == before);
  {
    TempDir bad;  // no /proc directory: the box fails while mounting it
    CHECK(
        nslab_run({"--mount", "--pid", "--proc", "--rootfs", bad.path(), "-c", "true"}).status() ==
        125);
  }
  CHECK(mount_table() == before);
  {
    LiveBox box(with(kFull, "sleep 1000"));
    pid_t pid = box.wait_for_box();
    REQUIRE(pid > 0);
    CHECK(mount_table() == before);  // even while it runs, the host sees none of its mounts
    ::kill(box.runner(), SIGKILL);
    CHECK(box.wait_exit() == 137);
    CHECK(testing::wait_until([&] { return testing::zombie_or_gone(pid); }, 2s));
  }
  CHECK(mount_table() == before);
}

TEST_CASE("a setup failure reports the step, the call and a hint, and leaves no process") {
  if (!have_root()) return;
  TempDir bad;
  auto r = nslab_run({"--mount", "--pid", "--proc", "--rootfs", bad.path(), "-c", "true"});
  CHECK(r.status() == 125);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.starts_with("nslab: step "));
  CHECK(r.err.find("mount /proc") != std::string::npos);
  CHECK(r.err.find(" — ") != std::string::npos);
  CHECK(children_of(::getpid()).empty());
}
