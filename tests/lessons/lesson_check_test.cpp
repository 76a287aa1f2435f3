// `nslab check` as CI runs it, against fixture lessons made to fail in one way each, beside one
// that passes: the exit status, the report naming the lesson, the step, the line, expected and
// seen, the last line, and no box left behind.
#include <doctest/doctest.h>

#include <cctype>
#include <filesystem>
#include <regex>
#include <string>

#include "process.h"

namespace {

testing::RunResult check(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {testing::bin("nslab"), "check", "--dir", FIXTURES_DIR};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::run(argv, {.timeout = std::chrono::seconds(60)});
}

std::string last_line(const std::string& out) {
  std::string t = out;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') + 1);
}

// The start of lesson N's row in `nslab lessons`: its number, right-aligned in two columns.
std::string fmt_row(int n) {
  return (n < 10 ? " " : "") + std::to_string(n) + "  ";
}

}  // namespace

TEST_CASE("a false expectation fails the lesson and the report says lesson, step, expected, seen") {
  if (!testing::is_root()) {
    testing::skip("the fixture's box uses --uts, which needs root");
    return;
  }
  auto r = check({"1"});
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(r.out.find("lesson 1 (01-wrong-expectation.md): FAILED") != std::string::npos);
  CHECK(r.out.find("step \"The name\", line 17: box contains not-the-name") != std::string::npos);
  CHECK(r.out.find("expected: the box's output contains \"not-the-name\"") != std::string::npos);
  CHECK(r.out.find("seen:     tinyhost") != std::string::npos);
  CHECK(last_line(r.out) == "0 passed, 1 failed");
}

TEST_CASE("a challenge whose check passes before the solution is refused") {
  if (!testing::is_root()) {
    testing::skip("the fixture's box uses --uts, which needs root");
    return;
  }
  auto r = check({"2"});
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(r.out.find("the challenge's check passes before the solution is typed") !=
        std::string::npos);
  CHECK(last_line(r.out) == "0 passed, 1 failed");
}

TEST_CASE("a lesson that does not parse fails with its file and line") {
  auto r = check({"3"});
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(r.out.find("03-unparsable.md:13: \"box contain tinyhost\": unknown check") !=
        std::string::npos);
  CHECK(last_line(r.out) == "0 passed, 1 failed");
}

TEST_CASE("a true lesson passes, and its box is gone afterwards") {
  auto r = check({"4", "--verbose"});
  INFO(r.out, r.err);
  CHECK(r.status() == 0);
  CHECK(r.out.find("lesson 4 (04-passes.md): passed, 2 checks") != std::string::npos);
  CHECK(last_line(r.out) == "1 passed, 0 failed");
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("BOX_PID=([0-9]+)")));
  pid_t box = std::stoi(m[1]);
  CHECK(box > 1);
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(box); }, std::chrono::seconds(5)));
}

TEST_CASE("several lessons: each is reported and the last line counts them") {
  if (!testing::is_root()) {
    testing::skip("fixtures 1 and 2 use --uts, which needs root");
    return;
  }
  auto r = check({"4", "1"});
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(r.out.find("lesson 4 (04-passes.md): passed") < r.out.find("lesson 1 ("));
  CHECK(last_line(r.out) == "1 passed, 1 failed");
}

TEST_CASE("a lesson number that does not exist is a usage error") {
  auto r = check({"9"});
  CHECK(r.status() == 2);
  CHECK(r.err.find("there is no lesson 9") != std::string::npos);
}

TEST_CASE("nslab lessons lists every lesson with who may run it and whether this host can") {
  const std::string lessons_dir = std::string(FIXTURES_DIR) + "/../../../lessons";
  auto r = testing::run({testing::bin("nslab"), "lessons", "--dir", lessons_dir});
  INFO(r.out, r.err);
  REQUIRE(r.status() == 0);
  for (int n = 0; n <= 7; ++n) CHECK(r.out.find(fmt_row(n)) != std::string::npos);
  // Every lesson gets this host's answer.
  size_t answers = 0;
  for (size_t at = r.out.find(" here"); at != std::string::npos; at = r.out.find(" here", at + 1))
    ++answers;
  size_t lessons = 0;
  for (const auto& entry : std::filesystem::directory_iterator(lessons_dir))
    if (entry.path().extension() == ".md" && std::isdigit(entry.path().filename().string()[0]))
      ++lessons;
  CHECK(lessons >= 9);
  CHECK(answers == lessons);
  // Lesson 0 turns nothing on; lesson 7's limits and veth need root even with a user namespace.
  size_t zero = r.out.find(fmt_row(0)), one = r.out.find(fmt_row(1));
  CHECK(r.out.substr(zero, one - zero).find("runs as any user") != std::string::npos);
  CHECK(r.out.substr(r.out.find(fmt_row(7))).find("needs root") != std::string::npos);
  CHECK(r.out.substr(r.out.find(fmt_row(7))).find("--veth") != std::string::npos);
}

TEST_CASE("a box that ends at once is reported with its exit status and its message, not a timeout") {
  auto r = check({"5"});
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(r.out.find("`nslab run` exited with status ") != std::string::npos);
  CHECK(r.out.find("nonexistent/nslab-fixture-root") != std::string::npos);
  CHECK(r.out.find("no answer") == std::string::npos);
  CHECK(last_line(r.out) == "0 passed, 1 failed");
}
