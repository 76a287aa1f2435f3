#include <doctest/doctest.h>

#include "builtin.h"
#include "capture.h"
#include "shell.h"

using namespace tinysh;

TEST_CASE("every builtin has a usage, a summary and a run function") {
  for (const Builtin* b : all_builtins()) {
    CAPTURE(b->name);
    CHECK_FALSE(b->usage.empty());
    CHECK(b->usage.substr(0, b->name.size()) == b->name);
    CHECK_FALSE(b->summary.empty());
    CHECK(static_cast<bool>(b->run));
  }
}

TEST_CASE("builtin names are unique, so find_builtin finds each one") {
  for (const Builtin* b : all_builtins()) CHECK(find_builtin(b->name) == b);
  CHECK(find_builtin("no-such-builtin") == nullptr);
}

TEST_CASE("help fits an 80-column projector, line by line") {
  Shell sh;
  std::vector<std::string> args{"help"};
  auto c = testing::capture([&] { return find_builtin("help")->run(sh, args); });
  CHECK(c.status == 0);
  size_t start = 0, lines = 0;
  while (start < c.out.size()) {
    size_t end = c.out.find('\n', start);
    if (end == std::string::npos) end = c.out.size();
    CHECK_MESSAGE(end - start <= 80, c.out.substr(start, end - start));
    start = end + 1;
    ++lines;
  }
  CHECK(lines > all_builtins().size());  // a line per builtin, plus the header and syntax lines
}

TEST_CASE("help NAME shows the usage, the summary and the kernel interface it reads") {
  Shell sh;
  std::vector<std::string> args{"help", "ps"};
  auto c = testing::capture([&] { return find_builtin("help")->run(sh, args); });
  CHECK(c.status == 0);
  CHECK(c.out.find("ps") == 0);
  CHECK(c.out.find("reads: /proc") != std::string::npos);
  std::vector<std::string> missing{"help", "nope"};
  c = testing::capture([&] { return find_builtin("help")->run(sh, missing); });
  CHECK(c.status == 1);
  CHECK(c.err.find("no builtin called 'nope'") != std::string::npos);
}

TEST_CASE("help kill says what tinysh does with the signals sent to it, within 80 columns") {
  Shell sh;
  std::vector<std::string> args{"help", "kill"};
  auto c = testing::capture([&] { return find_builtin("help")->run(sh, args); });
  CHECK(c.status == 0);
  CHECK(c.out.find("passed on to the job") != std::string::npos);
  CHECK(c.out.find("128+N\n      (SIGUSR1: 138)") != std::string::npos);
  CHECK(c.out.find("never end the shell") != std::string::npos);
  size_t start = 0;
  while (start < c.out.size()) {
    size_t end = c.out.find('\n', start);
    if (end == std::string::npos) end = c.out.size();
    CHECK_MESSAGE(end - start <= 80, c.out.substr(start, end - start));
    start = end + 1;
  }
  // The control: another builtin's help has no such paragraph.
  std::vector<std::string> echo{"help", "echo"};
  c = testing::capture([&] { return find_builtin("help")->run(sh, echo); });
  CHECK(c.out.find("signals sent to tinysh") == std::string::npos);
}
