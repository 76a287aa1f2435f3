// Builtins whose output the kernel refuses: run through the executor (run_text), as typed, with
// fd 1 redirected to /dev/full, where every write(2) fails with ENOSPC. Each must end with status
// 1 and one line naming the file and the reason, never silence and status 0. No root needed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "builtin.h"
#include "capture.h"
#include "exec.h"
#include "shell.h"
#include "temp_dir.h"

namespace {

testing::Captured run_line(const std::string& line) {
  tinysh::Shell sh;
  return testing::capture([&] { return tinysh::run_text(sh, line); });
}

// Every builtin that prints something on fd 1 without needing root or changing the host, with
// the words that make it print.
const char* const kPrinters[] = {
    "echo hello",
    "echo -n hello",
    "export A=1; env",
    "export A=1; export",
    "pwd",
    "help",
    "help echo",
    "kill -l",
    "ls /",
    "ls -l /",
    "cat /etc/passwd",
    "hostname",
    "uname",
    "uname -a",
    "id",
    "ns",
};

std::string last_command(const std::string& line) {
  auto semi = line.rfind("; ");
  return semi == std::string::npos ? line : line.substr(semi + 2);
}

}  // namespace

TEST_CASE("a builtin printing into a file that refuses writes fails with the file and the reason") {
  for (const char* line : kPrinters) {
    CAPTURE(line);
    std::string command = last_command(line);
    std::string name = command.substr(0, command.find(' '));
    auto r = run_line(std::string(line) + " > /dev/full");
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err == name + ": write /dev/full: No space left on device\n");
  }
}

TEST_CASE("control: the same builtins printing into a regular file succeed and write it") {
  testing::TempDir dir;
  std::string file = dir.path + "/out";
  for (const char* line : kPrinters) {
    CAPTURE(line);
    auto r = run_line(std::string(line) + " > " + file + "; cat " + file);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK_FALSE(r.out.empty());
  }
}

TEST_CASE(
    "control: a builtin that prints nothing into /dev/full has nothing refused and succeeds") {
  auto r = run_line("jobs > /dev/full; echo -n > /dev/full");
  CHECK(r.status == 0);
  CHECK(r.err.empty());
}

TEST_CASE("the refused write shows in $? and the shell goes on with the next command") {
  auto r = run_line("echo 5 > /dev/full; echo status=$?; echo 5 >> /dev/full || echo failed");
  CHECK(r.out == "status=1\nfailed\n");
  CHECK(r.err ==
        "echo: write /dev/full: No space left on device\n"
        "echo: write /dev/full: No space left on device\n");
}

TEST_CASE("a copy of the refusing fd carries the file's name: 2> FILE 1>&2") {
  // The message itself goes to the same refusing file, so only the status can show it.
  auto r = run_line("echo x 2> /dev/full 1>&2; echo status=$?");
  CHECK(r.out == "status=1\n");
  CHECK(r.err.empty());
}

TEST_CASE("cat stops at the first refused write instead of reading its input to the end") {
  // /dev/zero never ends: without the stop this would hang until the test's time limit.
  auto r = run_line("cat /dev/zero > /dev/full");
  CHECK(r.status == 1);
  CHECK(r.err == "cat: write /dev/full: No space left on device\n");
}

TEST_CASE("a refused write to the shell's own stdout is named stdout") {
  tinysh::Shell sh;
  int saved = ::dup(1);
  int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  auto r = testing::capture([&] {
    ::dup2(full, 1);
    return tinysh::run_text(sh, "echo hi");
  });
  ::close(full);
  ::close(saved);
  CHECK(r.status == 1);
  CHECK(r.err == "echo: write stdout: No space left on device\n");
}

TEST_CASE("write_all reports a refused write and keeps the first errno of fd 1 until taken") {
  tinysh::take_output_error();
  int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  REQUIRE(full >= 0);
  int saved = ::dup(1);
  ::dup2(full, 1);
  bool first = tinysh::write_all(1, "x");
  ::dup2(saved, 1);
  CHECK_FALSE(first);
  CHECK(tinysh::write_all(full, "x") == false);  // not fd 1: refused, but not kept
  CHECK(tinysh::take_output_error() == ENOSPC);
  CHECK(tinysh::take_output_error() == 0);  // taken
  ::close(full);
  ::close(saved);
}
