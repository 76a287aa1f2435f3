// An interactive box on a terminal, driven over a pty as a person would: tinysh takes the
// terminal's foreground, Ctrl-C reaches only its foreground job, and the runner gets the
// terminal back when the box ends.
#include <doctest/doctest.h>

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
  // tinysh (the outer shell, on the pty) runs nslab as a foreground job; the box's tinysh takes
  // the foreground; when the box ends, nslab must take it back so the outer shell's next job
  // is not stopped by SIGTTIN.
  testing::PtySession outer({testing::bin("tinysh")});
  REQUIRE_MESSAGE(outer.expect("# "), outer.output());  // root's prompt
  outer.send(testing::bin("nslab") + " run --uts --hostname inner\n");
  REQUIRE_MESSAGE(outer.expect("@inner:"), outer.output());
  outer.send("exit 0\n");
  outer.send("echo back=$?\n");
  CHECK_MESSAGE(outer.expect("back=0"), outer.output());
  outer.send("exit 0\n");
  CHECK(outer.wait_exit() == 0);
}
