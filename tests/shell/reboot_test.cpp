// `reboot`: the gate that keeps it away from the host's init, its refusals and its EPERM hints,
// all from values; then the builtin itself in this test process, which is not PID 1 and must be
// refused. No root needed, and no namespace: lesson 3 shows `reboot -f` ending a real box.
#include <doctest/doctest.h>
#include <grp.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "builtin.h"
#include "builtins/caps_status.h"
#include "builtins/reboot.h"
#include "capture.h"
#include "common/text.h"
#include "shell.h"

namespace {

using tinysh::parse_process_powers;
using tinysh::reboot_denied_hint;
using tinysh::reboot_gate;
using tinysh::reboot_refusal;
using tinysh::RebootGate;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Runs the builtin in a child process that holds no capability: a root test drops to uid 65534
// first. Should the gate ever let this process through, the kernel refuses kill(1, SIGTERM) and
// reboot(2) with EPERM, and the test fails on the message instead of acting on the machine.
testing::Captured run_reboot_powerless(std::vector<std::string> args) {
  FILE* out = ::tmpfile();
  FILE* err = ::tmpfile();
  REQUIRE(out);
  REQUIRE(err);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::geteuid() == 0 &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
         ::setresuid(65534, 65534, 65534) != 0))
      ::_exit(99);
    ::dup2(::fileno(out), 1);
    ::dup2(::fileno(err), 2);
    tinysh::Shell sh;
    ::_exit(tinysh::find_builtin("reboot")->run(sh, args));
  }
  int wstatus = 0;
  REQUIRE(::waitpid(child, &wstatus, 0) == child);
  testing::Captured c;
  c.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  c.out = testing::slurp(out);
  c.err = testing::slurp(err);
  return c;
}

// What the kernel writes in /proc/self/status, trimmed to the lines that matter.
std::string status_text(std::string_view effective, std::string_view bounding, int seccomp) {
  return fmt::format("CapEff:\t{}\nCapBnd:\t{}\nSeccomp:\t{}\n", effective, bounding, seccomp);
}

constexpr std::string_view kAll = "000001ffffffffff";
constexpr std::string_view kNone = "0000000000000000";
constexpr std::string_view kAllButBoot = "000001ffffbfffff";  // bit 22, CAP_SYS_BOOT, cleared

}  // namespace

TEST_CASE("only PID 1 outside the initial PID namespace may reboot") {
  CHECK(reboot_gate(1, "pid:[4026532201]") == RebootGate::NamespaceInit);
  // A box without /proc cannot read the link: being PID 1 is enough, the host's PID 1 is never
  // tinysh.
  CHECK(reboot_gate(1, "") == RebootGate::NamespaceInit);
  // The initial namespace's inode number is fixed (0xEFFFFFFC): its PID 1 is the machine's init.
  CHECK(reboot_gate(1, "pid:[4026531836]") == RebootGate::InitialNamespace);
  // Any other PID may be in the host's namespace, whatever a link says.
  CHECK(reboot_gate(2, "pid:[4026532201]") == RebootGate::NotPid1);
  CHECK(reboot_gate(4242, "pid:[4026531836]") == RebootGate::NotPid1);
  CHECK(reboot_gate(4242, "") == RebootGate::NotPid1);
}

TEST_CASE("a refusal names the shell's PID and the call it would have made on the host") {
  std::string forced = reboot_refusal(RebootGate::NotPid1, 4242, true);
  CHECK(contains(forced, "PID 4242, not PID 1"));
  CHECK(contains(forced, "reboot(2) restarts the whole machine"));
  CHECK(contains(forced, "--pid"));
  std::string asked = reboot_refusal(RebootGate::NotPid1, 4242, false);
  CHECK(contains(asked, "kill(1, SIGTERM)"));
  CHECK_FALSE(contains(asked, "reboot(2)"));
  std::string initial = reboot_refusal(RebootGate::InitialNamespace, 1, true);
  CHECK(contains(initial, "initial PID namespace"));
  CHECK(contains(initial, "pid:[4026531836]"));
  CHECK(reboot_refusal(RebootGate::NamespaceInit, 1, true).empty());
}

TEST_CASE("EPERM from reboot(2) is told apart from the caller's capability sets and seccomp mode") {
  // Every capability and a filter: the filter answered first (nslab run --seccomp).
  CHECK(contains(reboot_denied_hint(parse_process_powers(status_text(kAll, kAll, 2))),
                 "seccomp filter"));
  // Every capability and no filter: CAP_SYS_BOOT, but over another user namespace.
  std::string_view elsewhere = reboot_denied_hint(parse_process_powers(status_text(kAll, kAll, 0)));
  CHECK(contains(elsewhere, "held, but not in the user namespace that owns"));
  CHECK_FALSE(contains(elsewhere, "seccomp"));
  // None at all, the bounding set whole: not root in the box's user namespace.
  CHECK(contains(reboot_denied_hint(parse_process_powers(status_text(kNone, kAll, 0))),
                 "no CAP_SYS_BOOT"));
  // Out of the bounding set: --cap-drop. The capability hint comes first even with a filter.
  CHECK(contains(reboot_denied_hint(parse_process_powers(status_text(kAllButBoot, kAllButBoot, 2))),
                 "--cap-drop"));
  // A process in a container runtime's usual box (14 capabilities, not CAP_SYS_BOOT).
  CHECK(contains(reboot_denied_hint(
                     parse_process_powers(status_text("00000000a80425fb", "00000000a80425fb", 2))),
                 "--cap-drop"));
  // No status file to read: both causes, and where to look.
  CHECK(contains(reboot_denied_hint(parse_process_powers("")), "`caps` shows both"));
}

TEST_CASE("reboot and reboot -f in a shell that is not PID 1 are refused, touching nothing") {
  REQUIRE(::getpid() != 1);
  REQUIRE(tinysh::find_builtin("reboot") != nullptr);
  for (bool force : {true, false}) {
    CAPTURE(force);
    std::vector<std::string> args{"reboot"};
    if (force) args.push_back("-f");
    testing::Captured c = run_reboot_powerless(args);
    REQUIRE(c.status != 99);  // the child could not drop root
    CHECK(c.status == 1);
    CHECK(c.out.empty());
    CHECK(contains(c.err, "reboot: refused: this shell is PID "));
    CHECK(contains(c.err, ", not PID 1,"));
    // Never got as far as the call: no EPERM, no "asked PID 1".
    CHECK_FALSE(contains(c.err, "Operation not permitted"));
    CHECK_FALSE(contains(c.err, "asked PID 1"));
    CHECK(contains(c.err, force ? "reboot(2)" : "kill(1, SIGTERM)"));
  }
}

TEST_CASE("reboot takes -f and nothing else") {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"reboot", "now"}, std::vector<std::string>{"reboot", "-n"}}) {
    testing::Captured c = run_reboot_powerless(args);
    CHECK(c.status == 2);
    CHECK(contains(c.err, "usage: reboot [-f]"));
  }
}

TEST_CASE("help reboot names both calls and the PID 1 rule") {
  tinysh::Shell sh;
  std::vector<std::string> args{"help", "reboot"};
  auto c = testing::capture([&] { return tinysh::find_builtin("help")->run(sh, args); });
  CHECK(c.status == 0);
  CHECK(c.out.starts_with("reboot [-f]\n"));
  CHECK(contains(c.out, "kill(1, SIGTERM), reboot(2) with -f"));
  CHECK(contains(c.out, "only as a PID namespace's PID 1"));
  for (std::string_view line : common::split(c.out, '\n')) CHECK_MESSAGE(line.size() <= 80, line);
}
