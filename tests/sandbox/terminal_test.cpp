// An interactive box on a terminal, driven over a pty as a person would: tinysh takes the
// foreground of the box's own terminal, Ctrl-C reaches only its foreground job, and the outer
// shell has its terminal when the box ends.
#include <doctest/doctest.h>
#include <unistd.h>

#include <fmt/format.h>

#include <sstream>

#include "box_harness.h"
#include "pty_session.h"

using namespace boxtest;

namespace {

// True when `pid` runs in the terminal's foreground process group (stat fields 5 and 8).
bool in_foreground(pid_t pid) {
  std::string stat = testing::read_file(fmt::format("/proc/{}/stat", pid));
  auto paren = stat.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream fields(stat.substr(paren + 2));
  std::string state;
  long ppid, pgrp, session, tty, tpgid;
  fields >> state >> ppid >> pgrp >> session >> tty >> tpgid;
  return fields && pgrp == tpgid;
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
