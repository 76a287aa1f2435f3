// Word expansion: parsed words plus the shell's state give arguments.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "expand.h"
#include "parse.h"

using namespace tinysh;

namespace {

ExpandContext context(std::map<std::string, std::string, std::less<>> vars, int status = 0,
                      long pid = 0) {
  ExpandContext ctx;
  ctx.lookup = [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  ctx.last_status = status;
  ctx.shell_pid = pid;
  return ctx;
}

// The one word of a line such as "'a'$B", expanded.
std::string expand_line(std::string_view line, const ExpandContext& ctx) {
  ParseResult r = parse(line);
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 1);
  const Command& command = r.script().items[0].first.commands.at(0);
  REQUIRE(command.words.size() == 1);
  return expand(command.words[0], ctx);
}

}  // namespace

TEST_CASE("literal parts are joined in order") {
  Word w{{{WordPart::Kind::Literal, "a", false},
          {WordPart::Kind::Literal, "b c", true},
          {WordPart::Kind::Literal, "", true},
          {WordPart::Kind::Literal, "d", false}}};
  CHECK(expand(w, context({})) == "ab cd");
}

TEST_CASE("a variable expands to its value and an unset one to nothing") {
  ExpandContext ctx = context({{"HOME", "/root"}, {"EMPTY", ""}});
  CHECK(expand_line("x$HOME/y", ctx) == "x/root/y");
  CHECK(expand_line("${HOME}x", ctx) == "/rootx");
  CHECK(expand_line("[$EMPTY][$NOPE]", ctx) == "[][]");
  // Negative control: a name that is set does show up.
  CHECK(expand_line("$HOME", ctx) != "");
}

TEST_CASE("the status parameter is the last exit status and the pid parameter the shell pid") {
  ExpandContext ctx = context({}, 127, 1);
  CHECK(expand_line("$?", ctx) == "127");
  CHECK(expand_line("\"$$:$?\"", ctx) == "1:127");
  CHECK(expand_line("${?}${$}", context({}, 0, 4242)) == "04242");
}

TEST_CASE("a value with blanks or glob characters stays one unchanged argument") {
  ExpandContext ctx = context({{"V", "  a b  * ?"}});
  CHECK(expand_line("$V", ctx) == "  a b  * ?");
  CHECK(expand_line("\"$V\"", ctx) == "  a b  * ?");
}

TEST_CASE("a value is not expanded again") {
  ExpandContext ctx = context({{"A", "$B"}, {"B", "no"}});
  CHECK(expand_line("$A", ctx) == "$B");
}

TEST_CASE("single quotes and backslashes keep a dollar sign literal") {
  ExpandContext ctx = context({{"A", "1"}});
  CHECK(expand_line("'$A'\"$A\"\\$A$A", ctx) == "$A1$A1");
}

TEST_CASE("a context without a lookup expands every variable to nothing") {
  ExpandContext ctx;
  ctx.last_status = 3;
  CHECK(expand_line("[$A]$?", ctx) == "[]3");
}

TEST_CASE("a negative status and a large pid print as numbers") {
  CHECK(expand_line("$?", context({}, -1)) == "-1");
  CHECK(expand_line("$$", context({}, 0, 4194304)) == "4194304");
}
