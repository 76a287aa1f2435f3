// `caps`: the status-file parser and the report from strings, and the builtin on this process's
// own /proc/self/status. No root needed; tests/integration/tinysh_caps_test.cpp compares root
// with an unprivileged user.
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "builtin.h"
#include "builtins/caps_status.h"
#include "capture.h"
#include "common/files.h"
#include "common/text.h"
#include "shell.h"

namespace {

using tinysh::describe_capabilities;
using tinysh::format_process_powers;
using tinysh::parse_process_powers;

// What the kernel writes for root in the host's namespaces, trimmed to the lines that matter.
constexpr std::string_view kRootStatus =
    "Name:\ttinysh\n"
    "Uid:\t0\t0\t0\t0\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001ffffffffff\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t0\n"
    "Seccomp_filters:\t0\n"
    "Speculation_Store_Bypass:\tthread vulnerable\n";

// A process in a container runtime's usual box: 14 capabilities, no_new_privs, two filters.
constexpr std::string_view kContainerStatus =
    "CapPrm:\t00000000a80425fb\n"
    "CapEff:\t00000000a80425fb\n"
    "CapBnd:\t00000000a80425fb\n"
    "NoNewPrivs:\t1\n"
    "Seccomp:\t2\n"
    "Seccomp_filters:\t2\n";

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

void check_lines_fit(const std::string& text, size_t width) {
  for (std::string_view line : common::split(text, '\n')) CHECK_MESSAGE(line.size() <= width, line);
}

testing::Captured run_caps(std::vector<std::string> args) {
  tinysh::Shell shell;
  return testing::capture([&] { return tinysh::find_builtin("caps")->run(shell, args); });
}

}  // namespace

TEST_CASE("the status file's capability sets, no_new_privs and seccomp lines are parsed") {
  auto root = parse_process_powers(kRootStatus);
  CHECK(root.effective == 0x1ffffffffffULL);
  CHECK(root.permitted == 0x1ffffffffffULL);
  CHECK(root.bounding == 0x1ffffffffffULL);
  CHECK(root.no_new_privs == 0);
  CHECK(root.seccomp_mode == 0);
  CHECK(root.seccomp_filters == 0);  // "Seccomp_filters" is not taken for "Seccomp"
  auto box = parse_process_powers(kContainerStatus);
  CHECK(box.effective == 0xa80425fbULL);
  CHECK(box.no_new_privs == 1);
  CHECK(box.seccomp_mode == 2);
  CHECK(box.seccomp_filters == 2);
}

TEST_CASE("a status text without a Seccomp line says unknown, not 0") {
  // A kernel built without CONFIG_SECCOMP writes no Seccomp line at all.
  std::string status =
      "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"
      "NoNewPrivs:\t0\n";
  auto powers = parse_process_powers(status);
  CHECK_FALSE(powers.seccomp_mode.has_value());
  CHECK_FALSE(powers.seccomp_filters.has_value());
  std::string report = format_process_powers(powers);
  CHECK(contains(report, "Seccomp    unknown: no Seccomp line"));
  CHECK_FALSE(contains(report, "Seccomp    0"));
  // The control: the same text with the line reads as mode 0.
  CHECK(contains(format_process_powers(parse_process_powers(status + "Seccomp:\t0\n")),
                 "Seccomp    0 disabled"));
}

TEST_CASE("missing or malformed capability and no_new_privs lines are unknown too") {
  auto powers = parse_process_powers("CapEff:\tnot-hex\nCapPrm:\t\nNoNewPrivs:\tyes\n");
  CHECK_FALSE(powers.effective.has_value());
  CHECK_FALSE(powers.permitted.has_value());
  CHECK_FALSE(powers.bounding.has_value());
  CHECK_FALSE(powers.no_new_privs.has_value());
  std::string report = format_process_powers(powers);
  CHECK(contains(report, "CapEff     unknown: no CapEff line"));
  CHECK(contains(report, "CapBnd     unknown"));
  CHECK(contains(report, "NoNewPrivs unknown"));
  CHECK(format_process_powers(parse_process_powers("")).find("0x") == std::string::npos);
}

TEST_CASE("capability bits are named from cap_chown to cap_checkpoint_restore, others by number") {
  CHECK(tinysh::capability_name(0) == "cap_chown");
  CHECK(tinysh::capability_name(13) == "cap_net_raw");
  CHECK(tinysh::capability_name(21) == "cap_sys_admin");
  CHECK(tinysh::capability_name(40) == "cap_checkpoint_restore");
  CHECK(tinysh::capability_name(41) == "cap_41");
  CHECK(tinysh::capability_name(63) == "cap_63");
}

TEST_CASE("a set reads as none, all 41, its names, or all but the few it lacks") {
  CHECK(describe_capabilities(0) == "none");
  CHECK(describe_capabilities(0x1ffffffffffULL) == "all 41");
  CHECK(describe_capabilities((1ULL << 13) | 1ULL) == "2: cap_chown cap_net_raw");
  // Root without CAP_SYS_RESOURCE (24): what it lacks is the shorter list.
  CHECK(describe_capabilities(0x1fffeffffffULL) == "40: all but cap_sys_resource");
  // 20 held, 21 lacking: the held ones are listed.
  CHECK(describe_capabilities(0xfffffULL).starts_with("20: cap_chown cap_dac_override"));
  // Bits of a newer kernel than the table: by number, never dropped.
  CHECK(describe_capabilities(1ULL << 41) == "1: cap_41");
  CHECK(describe_capabilities(0x3ffffffffffULL) == "42: all 41 + cap_41");
}

TEST_CASE("the report shows hex and names, aligned, wrapped within 80 columns") {
  std::string root = format_process_powers(parse_process_powers(kRootStatus));
  CHECK(root ==
        "CapEff     0x000001ffffffffff = all 41\n"
        "CapPrm     0x000001ffffffffff = all 41\n"
        "CapBnd     0x000001ffffffffff = all 41\n"
        "NoNewPrivs 0 off: setuid files and file capabilities still raise privileges\n"
        "Seccomp    0 disabled: no system call is filtered\n");
  std::string box = format_process_powers(parse_process_powers(kContainerStatus));
  INFO(box);
  CHECK(
      box.starts_with("CapEff     0x00000000a80425fb = 14: cap_chown cap_dac_override cap_fowner\n"
                      "           cap_fsetid cap_kill cap_setgid cap_setuid cap_setpcap\n"));
  CHECK(contains(box, "cap_net_raw"));
  CHECK(contains(box, "NoNewPrivs 1 on: execve ignores setuid bits and file capabilities\n"));
  CHECK(contains(box, "Seccomp    2 filter: BPF programs decide each system call (2 filters)\n"));
  check_lines_fit(box, 80);
  check_lines_fit(root, 80);
  auto strict = parse_process_powers("Seccomp:\t1\n");
  CHECK(contains(format_process_powers(strict), "Seccomp    1 strict: only read, write"));
}

TEST_CASE("caps reads this process's status file, and caps PID another's") {
  auto self = run_caps({"caps"});
  CHECK(self.status == 0);
  CHECK(self.err.empty());
  auto status = common::read_file("/proc/self/status");
  REQUIRE(status);
  // The same sets as this process's own status file: the builtin runs in this process.
  auto powers = parse_process_powers(*status);
  REQUIRE(powers.effective);
  CHECK(contains(self.out, fmt::format("CapEff     {:#018x} = ", *powers.effective)));
  auto by_pid = run_caps({"caps", std::to_string(::getpid())});
  CHECK(by_pid.status == 0);
  CHECK(by_pid.out == self.out);
}

TEST_CASE("caps of a process that is not there, or of a word, fails with a reason") {
  auto gone = run_caps({"caps", "999999999"});
  CHECK(gone.status == 1);
  CHECK(contains(gone.err, "no such process in this /proc"));
  CHECK(gone.out.empty());
  auto word = run_caps({"caps", "self"});
  CHECK(word.status == 2);
  CHECK(contains(word.err, "usage: caps [PID]"));
  CHECK(run_caps({"caps", "1", "2"}).status == 2);
}

TEST_CASE("wrap_line breaks at spaces within the width and keeps padding runs") {
  CHECK(common::wrap_line("a  b", 80, "  ") == "a  b\n");
  CHECK(common::wrap_line("aaa bbb ccc", 7, "  ") == "aaa bbb\n  ccc\n");
  CHECK(common::wrap_line("  lead one two", 9, "    ") == "  lead\n    one\n    two\n");
  // A word longer than the width stays whole.
  CHECK(common::wrap_line("x abcdefghij y", 5, "") == "x\nabcdefghij\ny\n");
  // Columns are code points: "—" is three bytes and one column.
  CHECK(common::wrap_line("a — b", 5, "") == "a — b\n");
}
