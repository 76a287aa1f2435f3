// A box and the terminal it was started from. On a terminal, a box gets a pty of its own that the
// runner relays: tinysh takes that terminal's foreground, Ctrl-C and Ctrl-Z reach only the box's
// foreground job, window size changes follow, and nslab's terminal gets its modes back however
// the box ends. What the box types into a terminal with ioctl(TIOCSTI) never reaches nslab's
// (CVE-2017-5226). Without a terminal, the box still has a session of its own and no controlling
// terminal at all.
#include <doctest/doctest.h>
#include <pty.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "box_harness.h"
#include "pty_session.h"

using namespace boxtest;

namespace {

// Fields 5-8 of /proc/PID/stat: process group, session, controlling terminal (tty_nr: 0 for
// none) and that terminal's foreground process group (-1 for none).
struct StatIds {
  long pgrp = 0, session = 0, tty_nr = 0, tpgid = 0;
};
std::optional<StatIds> stat_ids(pid_t pid) {
  std::string stat = testing::read_file(fmt::format("/proc/{}/stat", pid));
  auto paren = stat.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(paren + 2));
  std::string state;
  long ppid;
  StatIds ids;
  fields >> state >> ppid >> ids.pgrp >> ids.session >> ids.tty_nr >> ids.tpgid;
  if (!fields) return std::nullopt;
  return ids;
}

// True when `pid` runs in the terminal's foreground process group.
bool in_foreground(pid_t pid) {
  auto ids = stat_ids(pid);
  return ids && ids->pgrp == ids->tpgid;
}

// The job the box's shell runs in the foreground: the child of the box's first process.
pid_t foreground_job(pid_t runner) {
  pid_t job = -1;
  testing::wait_until(
      [&] {
        for (pid_t box : children_of(runner))
          for (pid_t child : children_of(box))
            if (in_foreground(child)) job = child;
        return job > 0;
      },
      10s);
  return job;
}

// The box's first process: the runner's child, once it runs `comm`.
pid_t box_of(pid_t runner, const std::string& comm = "tinysh") {
  pid_t box = -1;
  testing::wait_until(
      [&] {
        for (pid_t child : children_of(runner))
          if (testing::read_file(fmt::format("/proc/{}/comm", child)) == comm + "\n") box = child;
        return box > 0;
      },
      10s);
  return box;
}

std::vector<std::string> nslab_run_argv(std::vector<std::string> args) {
  args.insert(args.begin(), {testing::bin("nslab"), "run"});
  return args;
}

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A --rootfs directory holding only the probe and the directories nslab mounts on.
struct ProbeRootfs {
  TempDir dir;
  ProbeRootfs() {
    namespace fs = std::filesystem;
    for (const char* sub : {"/dev", "/proc", "/tmp"}) fs::create_directory(dir.path() + sub);
    fs::copy_file(testing::bin("terminal_probe"), dir.path() + "/terminal_probe");
    fs::permissions(dir.path(), fs::perms(0755));
  }
};

bool legacy_tiocsti() {
  // Linux 6.2+: 0 refuses TIOCSTI to processes without CAP_SYS_ADMIN; the file is absent before.
  return testing::read_file("/proc/sys/dev/tty/legacy_tiocsti") != "0\n";
}

const std::string kInjected = "echo typed-by-the-box\n";

// The modes a new pty starts with: those of a PtySession's terminal before nslab changes them.
termios fresh_pty_modes() {
  int master = -1, slave = -1;
  termios modes{};
  REQUIRE(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  ::tcgetattr(slave, &modes);
  ::close(master);
  ::close(slave);
  return modes;
}

}  // namespace

TEST_CASE(
    "an interactive --all box shows root@tinyhost, survives Ctrl-C, and exits with its status") {
  if (!have_root()) return;
  testing::PtySession box({testing::bin("nslab"), "run", "--all"});
  REQUIRE_MESSAGE(box.expect("root@tinyhost:/"), box.output());
  box.send("echo pid=$$\n");
  CHECK(box.expect("pid=1"));
  box.send("sleep 100\n");
  REQUIRE_MESSAGE(foreground_job(box.pid()) > 0, box.output());
  box.send("\x03");
  CHECK_MESSAGE(box.expect("root@tinyhost:/"), box.since_last_match());
  box.send("echo after=$?\n");
  CHECK(box.expect("after=130"));
  box.send("exit 3\n");
  CHECK(box.wait_exit() == 3);
}

TEST_CASE(
    "Ctrl-Z stops the box's foreground job on the box's own terminal, and fg brings it back") {
  if (!have_root()) return;
  testing::PtySession box({testing::bin("nslab"), "run", "--mount", "--pivot", "--pid", "--proc"});
  REQUIRE_MESSAGE(box.expect("root@"), box.output());
  box.send("sleep 100\n");
  pid_t job = foreground_job(box.pid());
  REQUIRE_MESSAGE(job > 0, box.output());
  // The job's terminal is the box's pty, not the test's: another session, another tty.
  auto job_ids = stat_ids(job), runner_ids = stat_ids(box.pid());
  REQUIRE((job_ids && runner_ids));
  CHECK(job_ids->session != runner_ids->session);
  CHECK(job_ids->tty_nr != runner_ids->tty_nr);
  box.send("\x1a");  // Ctrl-Z
  CHECK_MESSAGE(box.expect("Stopped"), box.since_last_match());
  CHECK(testing::wait_until([&] { return testing::proc_state(job) == 'T'; }, 5s));
  box.send("fg\n");
  CHECK(testing::wait_until([&] { return testing::proc_state(job) != 'T' && in_foreground(job); },
                            5s));
  box.send("\x03");
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(job); }, 5s));
  box.send("echo after=$?\n");
  CHECK_MESSAGE(box.expect("after=130"), box.output());
  box.send("exit 0\n");
  CHECK(box.wait_exit() == 0);
}

TEST_CASE("after the box ends, the runner's process group has the terminal again") {
  if (!have_root()) return;
  // tinysh (the outer shell, on the pty) runs nslab as a foreground job; when the box ends, the
  // outer shell's next job must not be stopped by SIGTTIN.
  testing::PtySession outer({testing::bin("tinysh")});
  REQUIRE_MESSAGE(outer.expect("# "), outer.output());  // root's prompt
  outer.send(testing::bin("nslab") + " run --uts --hostname inner\n");
  REQUIRE_MESSAGE(outer.expect("@inner:"), outer.output());
  outer.send("exit 0\n");
  // Keys typed while the box runs are the box's (the runner relays them to the box's terminal):
  // the next line waits for the outer shell's prompt.
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  REQUIRE_MESSAGE(outer.expect(fmt::format("@{}:", host)), outer.output());
  outer.send("echo back=$?\n");
  CHECK_MESSAGE(outer.expect("back=0"), outer.output());
  outer.send("exit 0\n");
  CHECK(outer.wait_exit() == 0);
}

TEST_CASE("what a box pushes with TIOCSTI stays in the box's terminal, never in nslab's") {
  if (!have_root()) return;
  std::string probe = testing::bin("terminal_probe");
  testing::PtyOptions keep;
  keep.keep_slave = true;
  // Negative control: a program on the terminal itself pushes a line into the terminal's input
  // queue, where the shell that reads next would run it. The test holds the terminal open and
  // finds the line there.
  {
    testing::PtySession direct({probe, "tiocsti", kInjected}, keep);
    REQUIRE_MESSAGE(direct.wait_exit() == 0, direct.output());
    CHECK(direct.output().find(fmt::format("pushed {}", kInjected.size())) != std::string::npos);
    CHECK(direct.pending_input() == kInjected);
  }
  // The same probe in boxes on the host's root: it pushes into its own terminal (the box's pty),
  // and nslab's terminal holds nothing afterwards.
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"--mount"}, {"--mount", "--pid"}, {"--user", "--map-root", "--mount"}}) {
    CAPTURE(flags);
    bool user = flags.front() == "--user";
    testing::PtySession box(nslab_run_argv(plus(flags, {"--", probe, "tiocsti", kInjected})), keep);
    int status = box.wait_exit();
    if (legacy_tiocsti() || !user) {
      CHECK_MESSAGE(status == 0, box.output());
      CHECK(box.output().find(fmt::format("pushed {}", kInjected.size())) != std::string::npos);
    } else {
      // dev.tty.legacy_tiocsti=0: without CAP_SYS_ADMIN (a user namespace gives none over the
      // host's terminals) nobody may push, not even into their own terminal.
      CHECK(box.output().find("refused") != std::string::npos);
    }
    CHECK(box.pending_input().empty());
  }
}

TEST_CASE("a box on a terminal has a terminal of its own, under a name that exists in the box") {
  if (!have_root()) return;
  std::string probe = testing::bin("terminal_probe");
  // On the host's root: a pty of the host's devpts, not the test's terminal.
  {
    testing::PtySession box(nslab_run_argv({"--mount", "--", probe, "tty"}));
    REQUIRE_MESSAGE(box.wait_exit() == 0, box.output());
    CHECK(box.output().find("isatty 1") != std::string::npos);
    CHECK(box.output().find("exists 1") != std::string::npos);
    CHECK(box.output().find("name /dev/pts/") != std::string::npos);
    // Not the terminal nslab runs on.
    REQUIRE_FALSE(box.terminal_name().empty());
    CHECK(box.output().find("name " + box.terminal_name() + "\r") == std::string::npos);
    // Control: the probe run on that terminal directly names it.
    testing::PtySession direct({probe, "tty"});
    REQUIRE(direct.wait_exit() == 0);
    CHECK(direct.output().find("name " + direct.terminal_name() + "\r") != std::string::npos);
  }
  // In a root of its own (a --rootfs holding only the probe), as root and in a user namespace:
  // the box's /dev/pts is its own devpts instance, and its terminal is /dev/console.
  ProbeRootfs rootfs;
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"--mount", "--rootfs", rootfs.dir.path(), "--pid", "--proc"},
           {"--user", "--map-root", "--mount", "--rootfs", rootfs.dir.path(), "--pid", "--proc"},
           // Root inside is host uid 100000 here, which must own the pty to open /dev/console.
           {"--user", "--map-uid", "0:100000:65536", "--map-gid", "0:100000:65536", "--mount",
            "--rootfs", rootfs.dir.path(), "--pid", "--proc"}}) {
    CAPTURE(flags);
    testing::PtySession box(nslab_run_argv(plus(flags, {"--", "/terminal_probe", "tty"})));
    REQUIRE_MESSAGE(box.wait_exit() == 0, box.output());
    CHECK(box.output().find("isatty 1") != std::string::npos);
    CHECK_MESSAGE(box.output().find("name /dev/console") != std::string::npos, box.output());
    CHECK(box.output().find("exists 1") != std::string::npos);
  }
  // The embedded rootfs, seen by tinysh: fd 0 is /dev/console, a character device there.
  testing::PtySession shell(nslab_run_argv(
      {"--mount", "--pivot", "--pid", "--proc", "-c", "ls -l /proc/self/fd /dev/console"}));
  REQUIRE_MESSAGE(shell.wait_exit() == 0, shell.output());
  CHECK_MESSAGE(shell.output().find("0 -> /dev/console") != std::string::npos, shell.output());
  bool character_device = false;
  std::istringstream lines(shell.output());
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with("c") && line.ends_with(" /dev/console\r")) character_device = true;
  CHECK(character_device);
}

TEST_CASE("a change of the terminal's size reaches the box's terminal and its foreground job") {
  if (!have_root()) return;
  testing::PtyOptions size;
  size.rows = 40;
  size.cols = 120;
  testing::PtySession box(
      nslab_run_argv({"--mount", "--pid", "--", testing::bin("terminal_probe"), "winsize"}), size);
  // Copied at the start...
  REQUIRE_MESSAGE(box.expect("size 40x120"), box.output());
  // ...and followed: SIGWINCH to nslab, TIOCSWINSZ on the box's pty, SIGWINCH to the probe.
  box.resize(50, 132);
  CHECK_MESSAGE(box.expect("resized 50x132"), box.output());
  CHECK(box.wait_exit() == 0);
}

TEST_CASE("nslab's terminal gets its modes back after an exit, a killed box and a SIGTERM") {
  if (!have_root()) return;
  for (std::string end : {"exit", "box killed", "runner SIGTERM"}) {
    CAPTURE(end);
    termios before = fresh_pty_modes();
    testing::PtySession box(nslab_run_argv({"--mount", "--pivot", "--pid", "--proc"}));
    REQUIRE_MESSAGE(box.expect("root@"), box.output());
    // Control: while the box runs, nslab's terminal is raw (the comparison below can fail).
    termios during = box.modes();
    CHECK_FALSE(testing::same_modes(before, during));
    CHECK((during.c_lflag & (ICANON | ECHO | ISIG)) == 0);
    int status = -1;
    if (end == "exit") {
      box.send("exit 7\n");
      status = box.wait_exit();
      CHECK(status == 7);
    } else if (end == "box killed") {
      pid_t first = box_of(box.pid());
      REQUIRE(first > 0);
      REQUIRE(::kill(first, SIGKILL) == 0);
      status = box.wait_exit();
      CHECK(status == 128 + SIGKILL);
    } else {
      REQUIRE(::kill(box.pid(), SIGTERM) == 0);
      status = box.wait_exit();
      CHECK(status == 128 + SIGTERM);  // forwarded: the box's PID 1 ended with it
    }
    CHECK(testing::same_modes(before, box.modes()));
  }
}

TEST_CASE("with stdin off the terminal, Ctrl-C on nslab's terminal still reaches the box") {
  if (!have_root()) return;
  // nslab leads the terminal's foreground group; the box is in a session of its own, out of the
  // terminal's reach: the runner passes the terminal's SIGINT on.
  testing::PtySession box(
      {"/bin/sh", "-c",
       "exec " + testing::bin("nslab") + " run --pid -c 'echo ready; sleep 100' </dev/null"});
  REQUIRE_MESSAGE(box.expect("ready"), box.output());
  pid_t first = box_of(box.pid());
  REQUIRE(first > 0);
  REQUIRE(testing::wait_until([&] { return !children_of(first).empty(); }, 5s));
  box.send("\x03");
  CHECK_MESSAGE(box.wait_exit() == 130, box.output());
}

TEST_CASE(
    "without a terminal, the box leads a session of its own and has no controlling terminal") {
  if (!have_root()) return;
  for (const auto& flags :
       std::vector<std::vector<std::string>>{{"-c", "sleep 30"}, {"--pid", "-c", "sleep 30"}}) {
    CAPTURE(flags);
    LiveBox box(flags);  // stdin /dev/null, output to a file
    pid_t first = box.wait_for_box();
    REQUIRE(first > 0);
    std::optional<StatIds> ids;
    // The session starts just before exec: poll until tinysh runs (comm) and its ids read.
    REQUIRE(
        testing::wait_until([&] { return (ids = stat_ids(first)) && ids->session == first; }, 5s));
    CHECK(ids->tty_nr == 0);
    CHECK(ids->tpgid == -1);
    // Control: the runner is in another session (the test's).
    auto runner = stat_ids(box.runner());
    REQUIRE(runner);
    CHECK(runner->session != first);
  }
}
