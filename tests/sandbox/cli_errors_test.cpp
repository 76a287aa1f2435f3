// What nslab says about a wrong command line: the wrong word, what was expected, and the
// nearest thing that exists. Pure.
#include <doctest/doctest.h>

#include "cli_errors.h"

using namespace nslab::cli;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

ParseContext run_context() {
  return {"nslab run", {"run", "lesson", "lessons", "doctor"}, {"--uts", "--user", "--pids", "-c"}};
}

}  // namespace

TEST_CASE("a slip of a letter or two is matched, a different word is not") {
  std::vector<std::string> commands = {"run", "lesson", "lessons", "doctor", "enter"};
  CHECK(closest("lsson", commands) == "lesson");
  CHECK(closest("docter", commands) == "doctor");
  CHECK(closest("lessons", commands) == "lessons");
  // Controls: nothing near enough, and a short word that would match anything.
  CHECK(closest("explain-everything", commands).empty());
  CHECK(closest("xy", commands).empty());
  CHECK(closest("--x", {"--ipc"}).empty());
  CHECK(closest("--utss", {"--uts", "--user"}) == "--uts");
}

TEST_CASE("an unknown flag or command is named with the nearest one and where to look") {
  auto flag = explain_parse_error("The following argument was not expected: --utss",
                                  run_context());
  CHECK(has(flag, "nslab run: there is no flag --utss"));
  CHECK(has(flag, "did you mean --uts?"));
  CHECK(has(flag, "`nslab run --help`"));
  auto with_value = explain_parse_error("The following argument was not expected: --pidz=5",
                                        run_context());
  CHECK(has(with_value, "no flag --pidz (did you mean --pids?)"));

  ParseContext top = run_context();
  top.command = "nslab";
  auto command = explain_parse_error("The following argument was not expected: lsson", top);
  CHECK(has(command, "there is no command 'lsson' (did you mean lesson?)"));
  CHECK(has(command, "`nslab help`"));
  // Control: a word far from every command gets no guess.
  auto far = explain_parse_error("The following argument was not expected: frobnicate", top);
  CHECK_FALSE(has(far, "did you mean"));

  // A stray word after `nslab run`: the likely intent is a -c script or a program after --.
  auto stray = explain_parse_error("The following arguments were not expected: ps hostname",
                                   run_context());
  CHECK(has(stray, "'hostname' was not expected here"));
  CHECK(has(stray, "after -c"));
}

TEST_CASE("a value of the wrong kind or out of range says which and what to give") {
  ParseContext lesson = {"nslab lesson", {}, {"--speed"}};
  auto number = explain_parse_error("Could not convert: number = abc", lesson);
  CHECK(number == "nslab lesson: the lesson number takes a number, not 'abc'. `nslab lesson "
                  "--help` lists what it takes.");
  auto speed = explain_parse_error("--speed: Value 0 not in range 0.100000 to 50.000000", lesson);
  CHECK(speed == "nslab lesson: --speed 0 is out of range: give 0.1 to 50.");
  auto missing = explain_parse_error("--speed: 1 required FLOAT missing", lesson);
  CHECK(has(missing, "--speed needs a value"));
  // Anything else keeps the parser's words, with where to look.
  auto other = explain_parse_error("something new", lesson);
  CHECK(has(other, "nslab lesson: something new."));
  CHECK(has(other, "--help"));
}
