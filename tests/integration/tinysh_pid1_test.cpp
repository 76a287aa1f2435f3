// tinysh as PID 1 of a real PID namespace (made with util-linux unshare): orphans are reaped,
// signals from inside do not kill it, the host's signals reach the foreground job, Ctrl-C on
// the terminal interrupts only the job. Needs root; each test says so when it skips.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "process.h"
#include "pty_session.h"

using namespace std::chrono_literals;
using testing::bin;
using testing::signal_blocked;

namespace {

bool can_make_pid_namespaces() {
  if (!testing::is_root()) {
    testing::skip("creating a PID namespace with unshare needs root (CI runs as root)");
    return false;
  }
  if (!testing::have_program("unshare")) {
    testing::skip("util-linux unshare is not installed");
    return false;
  }
  return true;
}

std::vector<std::string> in_pid_namespace(std::vector<std::string> argv) {
  std::vector<std::string> full = {"unshare", "--pid", "--fork", "--mount-proc"};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

// The box's PID 1 as the host sees it: the child that unshare forked.
pid_t box_init(pid_t unshare_pid) {
  pid_t init = 0;
  testing::wait_until(
      [&] {
        auto kids = testing::children_of(unshare_pid);
        if (kids.empty()) return false;
        init = kids.front();
        return true;
      },
      5s);
  return init;
}

int count_zombies(pid_t init) {
  int zombies = 0;
  for (pid_t p : testing::processes_in_pid_namespace_of(init))
    if (testing::proc_state(p) == 'Z') ++zombies;
  return zombies;
}

// A shell inside the namespace that starts 20 short sleeps in the background and exits at once:
// the sleeps become orphans, and the kernel gives them to the namespace's PID 1. One second is
// long enough that on a busy machine they are still alive when the negative control's PID 1 has
// become `sleep` (with 0.1 s the first PID 1 sometimes reaped a few of them before its exec).
const std::string kMakeOrphans = [] {
  std::string commands;
  for (int i = 0; i < 20; ++i) commands += "sleep 1 & ";
  return "tinysh -c '" + commands + "'";
}();

// A process below `root` (up to three generations down) whose command name is `comm`.
pid_t descendant_named(pid_t root, const std::string& comm) {
  std::vector<pid_t> level = {root};
  for (int depth = 0; depth < 3; ++depth) {
    std::vector<pid_t> next;
    for (pid_t p : level)
      for (pid_t kid : testing::children_of(p)) {
        if (testing::read_file("/proc/" + std::to_string(kid) + "/comm") == comm + "\n") return kid;
        next.push_back(kid);
      }
    level = next;
  }
  return 0;
}

// The signals pending for `pid` (SigPnd, for its thread, and ShdPnd, for the process).
unsigned long long pending_signals(pid_t pid) {
  std::string status = testing::read_file("/proc/" + std::to_string(pid) + "/status");
  unsigned long long mask = 0;
  for (const char* field : {"\nSigPnd:", "\nShdPnd:"}) {
    auto at = status.find(field);
    if (at != std::string::npos) mask |= std::strtoull(status.c_str() + at + 8, nullptr, 16);
  }
  return mask;
}

std::string path_env() { return "PATH=" + std::string(NSLAB_BIN_DIR) + ":/usr/bin:/bin"; }

// The host's own sleep program (not the builtin), for a foreground job that is an external program.
std::string external_sleep() {
  for (const char* path : {"/bin/sleep", "/usr/bin/sleep"})
    if (::access(path, X_OK) == 0) return path;
  return "";
}

// tinysh as an idle PID 1: it waits for commands on a pipe that never brings any, so no job runs.
// The shell around it prints "status=N" when it ends. Returns tinysh's pid as the host sees it,
// once tinysh has blocked `sig` (before that the kernel would drop it: pid_namespaces(7)), or 0.
std::vector<std::string> idle_init_command() {
  return {"sh", "-c",
          "sleep 100 | { unshare --pid --fork " + bin("tinysh") + "; echo status=$?; }"};
}
pid_t wait_for_idle_init(testing::Background& box, int sig) {
  pid_t tinysh = 0;
  bool found = testing::wait_until(
      [&] {
        tinysh = descendant_named(box.pid(), "tinysh");
        return tinysh != 0;
      },
      5s);
  if (!found) return 0;
  return testing::wait_until([&] { return signal_blocked(tinysh, sig); }, 5s) ? tinysh : 0;
}

}  // namespace

TEST_CASE("as PID 1, tinysh reaps the orphans the kernel re-parents to it") {
  if (!can_make_pid_namespaces()) return;
  ::setenv("PATH", (std::string(NSLAB_BIN_DIR) + ":/usr/bin:/bin").c_str(), 1);
  testing::Background box(in_pid_namespace({bin("tinysh"), "-c", kMakeOrphans + "; sleep 30"}));
  pid_t init = box_init(box.pid());
  REQUIRE(init > 0);
  // Wait until the orphans have come and gone: only PID 1 and its `sleep 30` remain, no zombie.
  bool clean = testing::wait_until(
      [&] {
        auto procs = testing::processes_in_pid_namespace_of(init);
        return procs.size() == 2 && count_zombies(init) == 0;
      },
      10s);
  CHECK_MESSAGE(clean, "processes left in the namespace: ",
                testing::processes_in_pid_namespace_of(init).size(), ", zombies ",
                count_zombies(init));
}

TEST_CASE("negative control: a PID 1 that never waits leaves the orphans as zombies") {
  if (!can_make_pid_namespaces()) return;
  ::setenv("PATH", (std::string(NSLAB_BIN_DIR) + ":/usr/bin:/bin").c_str(), 1);
  // `exec sleep` replaces tinysh, so PID 1 becomes a program that never calls wait().
  testing::Background box(in_pid_namespace({bin("tinysh"), "-c", kMakeOrphans + "; exec sleep 30"}));
  pid_t init = box_init(box.pid());
  REQUIRE(init > 0);
  bool zombies = testing::wait_until([&] { return count_zombies(init) >= 20; }, 10s);
  CHECK_MESSAGE(zombies, "the zombie check did not fire; it could not catch a missing reaper");
}

TEST_CASE("as PID 1, signals sent from inside the namespace do not end tinysh") {
  if (!can_make_pid_namespaces()) return;
  auto r = testing::run(in_pid_namespace(
      {bin("tinysh"), "-c", "echo pid=$$; kill -9 1; kill -TERM 1; kill -INT 1; kill -HUP 1; echo alive"}));
  CHECK(r.out == "pid=1\nalive\n");
  CHECK(r.status() == 0);
}

TEST_CASE("as PID 1, SIGUSR1, SIGUSR2 and the rest sent from inside the namespace do not end tinysh") {
  if (!can_make_pid_namespaces()) return;
  // The builtin kill sends as PID 1 itself; the host's kill program is another process of the box
  // (a foreground job: the signal it sends may come back to it, which ends the job, not PID 1).
  std::string commands = "echo pid=$$";
  for (const char* sig : {"USR1", "USR2", "ALRM", "PWR", "VTALRM", "PROF", "STKFLT", "40"})
    commands += std::string("; kill -") + sig + " 1";
  for (const char* kill_program : {"/bin/kill", "/usr/bin/kill"})
    if (::access(kill_program, X_OK) == 0) {
      commands += std::string("; ") + kill_program + " -USR1 1; " + kill_program + " -USR2 1";
      break;
    }
  auto r = testing::run(in_pid_namespace({bin("tinysh"), "-c", commands + "; echo alive"}));
  CHECK(r.out == "pid=1\nalive\n");
  CHECK(r.status() == 0);
}

TEST_CASE("SIGUSR1, SIGUSR2, SIGALRM and SIGRTMIN+3 from the host end an idle PID 1 with 128+N") {
  if (!can_make_pid_namespaces()) return;
  for (int sig : {SIGUSR1, SIGUSR2, SIGALRM, SIGRTMIN + 3}) {
    CAPTURE(sig);
    testing::Background box(idle_init_command());
    pid_t tinysh = wait_for_idle_init(box, sig);
    REQUIRE(tinysh > 0);
    REQUIRE(::kill(tinysh, sig) == 0);
    CHECK(testing::wait_until([&] { return testing::zombie_or_gone(tinysh); }, 5s));
    CHECK(testing::wait_until(
        [&] { return box.output() == "status=" + std::to_string(128 + sig) + "\n"; }, 5s));
    CHECK(box.output() == "status=" + std::to_string(128 + sig) + "\n");
  }
}

TEST_CASE("SIGWINCH, SIGURG and SIGCONT from the host do not end an idle PID 1") {
  if (!can_make_pid_namespaces()) return;
  testing::Background box(idle_init_command());
  pid_t tinysh = wait_for_idle_init(box, SIGWINCH);
  REQUIRE(tinysh > 0);
  for (int sig : {SIGWINCH, SIGURG, SIGCONT}) REQUIRE(::kill(tinysh, sig) == 0);
  // Their default action ends nothing, so they must not end the shell either: the SIGUSR1 that
  // follows is what ends it, with its own status.
  REQUIRE(::kill(tinysh, SIGUSR1) == 0);
  CHECK(testing::wait_until([&] { return box.output() == "status=138\n"; }, 5s));
  CHECK(box.output() == "status=138\n");
}

TEST_CASE("negative control: a PID 1 that neither blocks nor handles SIGUSR1 drops it from the host") {
  if (!can_make_pid_namespaces()) return;
  std::string sleep = external_sleep();
  if (sleep.empty()) {
    testing::skip("no sleep program in /bin or /usr/bin");
    return;
  }
  // `exec sleep` replaces tinysh: PID 1 becomes a program with SIGUSR1 at its default action, as
  // tinysh itself had it before it took every signal in hand.
  testing::Background box(in_pid_namespace({bin("tinysh"), "-c", "exec " + sleep + " 100"}));
  pid_t init = box_init(box.pid());
  REQUIRE(init > 0);
  REQUIRE(testing::wait_until(
      [&] { return testing::read_file("/proc/" + std::to_string(init) + "/comm") == "sleep\n"; },
      5s));
  // Asleep in nanosleep(2): past its start-up, with its signal state as it will stay.
  REQUIRE(testing::wait_until([&] { return testing::proc_state(init) == 'S'; }, 5s));
  REQUIRE_FALSE(signal_blocked(init, SIGUSR1));
  REQUIRE(::kill(init, SIGUSR1) == 0);
  // kill(2) has returned: a signal the kernel kept would be pending now, and one that ends a
  // process marks it for death (SIGKILL pending) before returning. Neither: it was dropped.
  CHECK((pending_signals(init) & ((1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGKILL - 1)))) == 0);
  CHECK(testing::proc_state(init) == 'S');
}

TEST_CASE("SIGUSR1 and SIGUSR2 from the host reach PID 1's foreground job, builtin or program") {
  if (!can_make_pid_namespaces()) return;
  std::string sleep = external_sleep();
  struct Case {
    std::string job;
    int sig;
  };
  std::vector<Case> cases = {{"sleep 30", SIGUSR1}, {"sleep 30", SIGUSR2}};
  if (!sleep.empty()) cases.push_back({sleep + " 30", SIGUSR1});
  if (!sleep.empty()) cases.push_back({sleep + " 30", SIGUSR2});
  for (const Case& c : cases) {
    CAPTURE(c.job);
    CAPTURE(c.sig);
    testing::Background box(in_pid_namespace({bin("tinysh"), "-c", c.job + "; echo after=$?"}));
    pid_t init = box_init(box.pid());
    REQUIRE(init > 0);
    REQUIRE(testing::wait_until([&] { return !testing::children_of(init).empty(); }, 5s));
    REQUIRE(signal_blocked(init, c.sig));
    REQUIRE(::kill(init, c.sig) == 0);
    CHECK(box.wait(5s) == 0);  // PID 1 went on after the job and exited normally
    std::string name = c.sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2";
    CHECK(box.output() == "tinysh: " + c.job + ": killed by signal " + std::to_string(c.sig) +
                              " (" + name + ")\nafter=" + std::to_string(128 + c.sig) + "\n");
  }
}

TEST_CASE("as PID 1, exit statuses pass through, 0 to 255") {
  if (!can_make_pid_namespaces()) return;
  for (int n : {0, 1, 2, 42, 126, 127, 128, 255}) {
    auto r = testing::run(in_pid_namespace({bin("tinysh"), "-c", "exit " + std::to_string(n)}));
    CHECK_MESSAGE(r.status() == n, "exit ", n);
  }
}

TEST_CASE("a SIGTERM from the host reaches PID 1's foreground job, which ends with 143") {
  if (!can_make_pid_namespaces()) return;
  testing::Background box(in_pid_namespace({bin("tinysh"), "-c", "sleep 100; echo after=$?"}));
  pid_t init = box_init(box.pid());
  REQUIRE(init > 0);
  // Wait for the foreground `sleep` (a child of PID 1) before signalling PID 1.
  REQUIRE(testing::wait_until([&] { return !testing::children_of(init).empty(); }, 5s));
  REQUIRE(::kill(init, SIGTERM) == 0);
  CHECK(box.wait(5s) == 0);  // tinysh went on after the job and exited normally
  CHECK(box.output() == "tinysh: sleep 100: killed by signal 15 (SIGTERM)\nafter=143\n");
}

TEST_CASE("a SIGTERM from the host to an idle PID 1 ends the box") {
  if (!can_make_pid_namespaces()) return;
  // PID 1 waits for commands on a pipe that never brings any: no job to pass the signal to.
  testing::Background box({"sh", "-c", "sleep 100 | unshare --pid --fork " + bin("tinysh")});
  pid_t tinysh = 0;
  REQUIRE(testing::wait_until(
      [&] {
        tinysh = descendant_named(box.pid(), "tinysh");
        return tinysh != 0;
      },
      5s));
  // Wait until tinysh has taken SIGTERM in hand (blocked, read from its signalfd). Before that
  // its action is the default, and the kernel drops a signal sent from an ancestor namespace to a
  // namespace's init that has no handler for it: pid_namespaces(7). A SIGTERM sent that early is
  // simply lost — which is why tinysh blocks its signals first thing.
  REQUIRE(testing::wait_until([&] { return signal_blocked(tinysh, SIGTERM); }, 5s));
  REQUIRE(::kill(tinysh, SIGTERM) == 0);
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(tinysh); }, 5s));
}

TEST_CASE("Ctrl-C on the terminal interrupts the foreground job, not PID 1") {
  if (!can_make_pid_namespaces()) return;
  testing::PtySession box(in_pid_namespace({bin("tinysh")}), {path_env()});
  REQUIRE(box.expect("# "));
  box.send("sleep 100\r");
  // Wait, as a person would, until the sleep is really running: a child of PID 1 (`sleep` is a
  // builtin that runs in a child process of tinysh).
  pid_t init = box_init(box.pid());
  REQUIRE(init > 0);
  REQUIRE(testing::wait_until([&] { return !testing::children_of(init).empty(); }, 5s));
  box.send("\x03");
  REQUIRE(box.expect("# "));
  box.send("echo status=$? pid=$$\r");
  CHECK(box.expect("status=130 pid=1"));
  box.send("exit 7\r");
  CHECK(box.wait_exit() == 7);
}

TEST_CASE("a terminal resize ends neither PID 1 at its prompt nor the job in the foreground") {
  if (!can_make_pid_namespaces()) return;
  if (!testing::have_program("stty")) {
    testing::skip("stty (coreutils) is not installed");
    return;
  }
  testing::PtySession box(in_pid_namespace({bin("tinysh")}), {path_env()});
  REQUIRE(box.expect("# "));
  pid_t init = box_init(box.pid());
  REQUIRE(init > 0);
  REQUIRE(testing::wait_until([&] { return signal_blocked(init, SIGWINCH); }, 5s));
  // At the prompt tinysh holds the terminal's foreground: the kernel's SIGWINCH is for it.
  REQUIRE(box.resize(30, 100));
  box.send("stty size; echo alive $$\r");
  CHECK(box.expect("30 100"));  // the control: the size did change, so SIGWINCH was sent
  CHECK(box.expect("alive 1"));
  // While a job runs, the job's process group has the terminal and gets the SIGWINCH.
  box.send("sleep 2; echo slept=$?\r");
  REQUIRE(testing::wait_until([&] { return !testing::children_of(init).empty(); }, 5s));
  REQUIRE(box.resize(31, 101));
  CHECK(box.expect("slept=0"));
  box.send("stty size\r");
  CHECK(box.expect("31 101"));
  box.send("exit 3\r");
  CHECK(box.wait_exit() == 3);
}

TEST_CASE("a terminal resize does not end a PID 1 running commands from -c, nor its job") {
  if (!can_make_pid_namespaces()) return;
  // Without job control the job shares PID 1's process group, which is the terminal's foreground
  // group: the kernel sends SIGWINCH to both, and PID 1 must not pass on a second one or stop.
  testing::PtySession box(in_pid_namespace({bin("tinysh"), "-c", "sleep 2; echo slept=$?"}),
                          {path_env()});
  pid_t init = box_init(box.pid());
  REQUIRE(init > 0);
  REQUIRE(testing::wait_until([&] { return !testing::children_of(init).empty(); }, 5s));
  REQUIRE(signal_blocked(init, SIGWINCH));
  REQUIRE(box.resize(32, 102));
  CHECK(box.expect("slept=0"));
  CHECK(box.wait_exit() == 0);
}

TEST_CASE("the prompt shows the user, the hostname and the directory, and follows changes") {
  if (!can_make_pid_namespaces()) return;
  testing::PtySession box({"unshare", "--uts", bin("tinysh")}, {path_env()});
  REQUIRE(box.expect("# "));
  box.send("cd /tmp; hostname tinyhost\r");
  CHECK(box.expect("root@tinyhost:/tmp# "));
  box.send("exit\r");
  CHECK(box.wait_exit() == 0);
}
