// The tinysh parser, from text to tree, without running anything.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "parse.h"

using namespace tinysh;
using namespace std::string_literals;

namespace {

// A word as a short string, so a failed CHECK shows what the parser made of it:
// plain text as is, quoted text in '', a variable as {NAME} ("{NAME}" when quoted), $? as {?},
// $$ as {$}; parts joined by " + ".
std::string describe(const Word& word) {
  std::string out;
  for (const WordPart& part : word.parts) {
    if (!out.empty()) out += " + ";
    std::string body;
    switch (part.kind) {
      case WordPart::Kind::Literal:
        out += part.quoted ? "'" + part.text + "'" : part.text;
        continue;
      case WordPart::Kind::Variable:
        body = "{" + part.text + "}";
        break;
      case WordPart::Kind::Status:
        body = "{?}";
        break;
      case WordPart::Kind::ShellPid:
        body = "{$}";
        break;
    }
    out += part.quoted ? "\"" + body + "\"" : body;
  }
  return out;
}

std::vector<std::string> describe(const std::vector<Word>& words) {
  std::vector<std::string> out;
  for (const Word& w : words) out.push_back(describe(w));
  return out;
}

// The one command of a line that must hold exactly one simple command.
Command only_command(std::string_view input) {
  ParseResult r = parse(input);
  if (!r.ok()) FAIL("unexpected syntax error: " << r.error().message);
  REQUIRE(r.script().items.size() == 1);
  const AndOr& item = r.script().items[0];
  REQUIRE(item.rest.empty());
  REQUIRE(item.first.commands.size() == 1);
  return item.first.commands[0];
}

std::vector<std::string> words_of(std::string_view input) {
  return describe(only_command(input).words);
}

struct Expected {
  std::string message;
  size_t offset;
  bool needs_more_input;
};

void check_error(std::string_view input, const Expected& expected) {
  INFO("input: " << std::string(input));
  ParseResult r = parse(input);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == expected.message);
  CHECK(r.error().offset == expected.offset);
  CHECK(r.needs_more_input == expected.needs_more_input);
}

std::string redirect_str(const Redirect& r) {
  std::string op;
  switch (r.kind) {
    case Redirect::Kind::Input:
      op = "<";
      break;
    case Redirect::Kind::Output:
      op = ">";
      break;
    case Redirect::Kind::Append:
      op = ">>";
      break;
    case Redirect::Kind::Duplicate:
      op = ">&";
      break;
  }
  return std::to_string(r.fd) + op + describe(r.target);
}

std::vector<std::string> redirects_of(std::string_view input) {
  std::vector<std::string> out;
  for (const Redirect& r : only_command(input).redirects) out.push_back(redirect_str(r));
  return out;
}

}  // namespace

TEST_CASE("an empty line or blanks only or a comment only is an empty script") {
  for (std::string_view input :
       {"", "   ", "\t \t", "# just a comment", "   # indented", "\n\n", " \n # a\n\t\n", "\\\n"}) {
    INFO("input: " << std::string(input));
    ParseResult r = parse(input);
    REQUIRE(r.ok());
    CHECK(r.script().items.empty());
  }
  // Negative control: a real word is not dropped.
  CHECK(parse("x").script().items.size() == 1);
}

TEST_CASE("blanks and tabs separate words and runs of them count once") {
  CHECK(words_of("echo a b") == std::vector<std::string>{"echo", "a", "b"});
  CHECK(words_of("  echo\t\ta   b  ") == std::vector<std::string>{"echo", "a", "b"});
}

TEST_CASE("bytes outside ASCII are ordinary word characters") {
  CHECK(words_of("echo h\xc3\xa9llo \xe2\x82\xac\xff") ==
        std::vector<std::string>{"echo", "h\xc3\xa9llo", "\xe2\x82\xac\xff"});
}

TEST_CASE(
    "single quotes keep every character literal including dollar and backslash and operators") {
  CHECK(words_of("echo 'a $B \\ \" # ; | & < > \n'") ==
        std::vector<std::string>{"echo", "'a $B \\ \" # ; | & < > \n'"});
}

TEST_CASE("double quotes expand $ and honour only five backslash escapes") {
  CHECK(words_of(R"(echo "a $B c")") == std::vector<std::string>{"echo", R"('a ' + "{B}" + ' c')"});
  CHECK(words_of(R"(echo "\" \\ \$ \` \n \a")") ==
        std::vector<std::string>{"echo", R"('" \ $ ` \n \a')"});
  CHECK(words_of("echo \"a\\\nb\"") == std::vector<std::string>{"echo", "'ab'"});
  CHECK(words_of("echo \"# ; | & < >\"") == std::vector<std::string>{"echo", "'# ; | & < >'"});
}

TEST_CASE("a backslash outside quotes makes the next character literal") {
  CHECK(words_of(R"(echo a\ b \$HOME \' \" \\ \; \#x)") ==
        std::vector<std::string>{"echo", "a + ' ' + b", "'$' + HOME", "'''", "'\"'", "'\\'", "';'",
                                 "'#' + x"});
}

TEST_CASE("backslash-newline joins lines even inside a word or a name or an operator") {
  CHECK(words_of("ec\\\nho a \\\n b") == std::vector<std::string>{"echo", "a", "b"});
  CHECK(words_of("echo $HO\\\nME") == std::vector<std::string>{"echo", "{HOME}"});
  ParseResult r = parse("a &\\\n& b");
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 1);
  CHECK(r.script().items[0].rest.size() == 1);
  // Inside single quotes it is kept as it is.
  CHECK(words_of("echo 'a\\\nb'") == std::vector<std::string>{"echo", "'a\\\nb'"});
}

TEST_CASE("variables in both forms and the status and pid parameters become expansion parts") {
  CHECK(words_of("echo $HOME ${HOME}x $? $$ ${?} ${$} $A_1b") ==
        std::vector<std::string>{"echo", "{HOME}", "{HOME} + x", "{?}", "{$}", "{?}", "{$}",
                                 "{A_1b}"});
  // The name is the longest run of name characters.
  CHECK(words_of("echo $A-b $A.b $_x") ==
        std::vector<std::string>{"echo", "{A} + -b", "{A} + .b", "{_x}"});
  CHECK(words_of(R"(echo "$A$B" a$?b)") ==
        std::vector<std::string>{"echo", R"("{A}" + "{B}")", "a + {?} + b"});
}

TEST_CASE("a dollar sign that starts no expansion is a literal character") {
  CHECK(words_of("echo $ a$ $1 $- $/ \"$\" \"a$ \"") ==
        std::vector<std::string>{"echo", "$", "a$", "$1", "$-", "$/", "'$'", "'a$ '"});
  CHECK(words_of("echo $'x'") == std::vector<std::string>{"echo", "$ + 'x'"});
}

TEST_CASE("parts from quotes or escapes are marked quoted and bare parts are not") {
  Command c = only_command(R"(a'b'"$C"$D\e)");
  REQUIRE(c.words.size() == 1);
  const std::vector<WordPart>& parts = c.words[0].parts;
  REQUIRE(parts.size() == 5);
  CHECK(parts[0] == WordPart{WordPart::Kind::Literal, "a", false});
  CHECK(parts[1] == WordPart{WordPart::Kind::Literal, "b", true});
  CHECK(parts[2] == WordPart{WordPart::Kind::Variable, "C", true});
  CHECK(parts[3] == WordPart{WordPart::Kind::Variable, "D", false});
  CHECK(parts[4] == WordPart{WordPart::Kind::Literal, "e", true});
}

TEST_CASE("empty quotes are an empty argument and add nothing next to other text") {
  CHECK(words_of("echo '' \"\" a'' ''\"\"b") ==
        std::vector<std::string>{"echo", "''", "''", "a", "b"});
}

TEST_CASE("semicolon and newline run commands one after another") {
  ParseResult r = parse("a 1; b 2\nc;");
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 3);
  for (const AndOr& item : r.script().items) {
    CHECK_FALSE(item.background);
    CHECK(item.rest.empty());
  }
  CHECK(describe(r.script().items[1].first.commands[0].words) ==
        std::vector<std::string>{"b", "2"});
}

TEST_CASE("an ampersand ends a command that runs in the background") {
  ParseResult r = parse("sleep 1 & echo hi &");
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 2);
  CHECK(r.script().items[0].background);
  CHECK(r.script().items[1].background);
  // Negative control: ';' is not background.
  CHECK_FALSE(parse("a;").script().items[0].background);
}

TEST_CASE("&& and || chain pipelines into one item in order") {
  ParseResult r = parse("a && b || c && d");
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 1);
  const AndOr& item = r.script().items[0];
  CHECK(describe(item.first.commands[0].words) == std::vector<std::string>{"a"});
  REQUIRE(item.rest.size() == 3);
  CHECK(item.rest[0].first == AndOr::Op::And);
  CHECK(item.rest[1].first == AndOr::Op::Or);
  CHECK(item.rest[2].first == AndOr::Op::And);
  CHECK(describe(item.rest[2].second.commands[0].words) == std::vector<std::string>{"d"});
}

TEST_CASE("| joins commands into a pipeline and binds tighter than && and &") {
  ParseResult r = parse("a | b x | c && d | e &");
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 1);
  const AndOr& item = r.script().items[0];
  CHECK(item.background);
  REQUIRE(item.first.commands.size() == 3);
  CHECK(describe(item.first.commands[1].words) == std::vector<std::string>{"b", "x"});
  REQUIRE(item.rest.size() == 1);
  CHECK(item.rest[0].second.commands.size() == 2);
}

TEST_CASE("operators need no blanks around them") {
  ParseResult r = parse("a|b&&c||d;e&f");
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 3);
  CHECK(r.script().items[0].first.commands.size() == 2);
  CHECK(r.script().items[0].rest.size() == 2);
  CHECK(r.script().items[1].background);
  CHECK_FALSE(r.script().items[2].background);
}

TEST_CASE("a newline after | or && or || continues the command on the next line") {
  ParseResult r = parse("a |\n\n b &&\n c ||\n d");
  REQUIRE(r.ok());
  REQUIRE(r.script().items.size() == 1);
  CHECK(r.script().items[0].first.commands.size() == 2);
  CHECK(r.script().items[0].rest.size() == 2);
}

TEST_CASE("redirections < > >> with default and explicit fds") {
  CHECK(redirects_of("cmd <in >out >>log") == std::vector<std::string>{"0<in", "1>out", "1>>log"});
  CHECK(redirects_of("cmd 2>err 2>>err2 3<in 10>ten 0>zero") ==
        std::vector<std::string>{"2>err", "2>>err2", "3<in", "10>ten", "0>zero"});
  CHECK(redirects_of("cmd > out") == std::vector<std::string>{"1>out"});
  CHECK(redirects_of("cmd >\"a b\"") == std::vector<std::string>{"1>'a b'"});
  CHECK(redirects_of("cmd >$F") == std::vector<std::string>{"1>{F}"});
}

TEST_CASE("fd duplication 2>&1 and >&2") {
  CHECK(redirects_of("cmd 2>&1 >&2") == std::vector<std::string>{"2>&1", "1>&2"});
  CHECK(only_command("cmd 2>&1").redirects[0].kind == Redirect::Kind::Duplicate);
  CHECK(redirects_of("cmd 2>& 1") == std::vector<std::string>{"2>&1"});
  CHECK(redirects_of("cmd 2>&\"1\"") == std::vector<std::string>{"2>&'1'"});
  // From a variable it can only be checked when the command runs.
  CHECK(redirects_of("cmd 2>&$FD") == std::vector<std::string>{"2>&{FD}"});
}

TEST_CASE("redirections may stand anywhere among the words of a command") {
  Command c = only_command(">first echo a 2>&1 b <in");
  CHECK(describe(c.words) == std::vector<std::string>{"echo", "a", "b"});
  CHECK(describe(c.words) == std::vector<std::string>{"echo", "a", "b"});
  std::vector<std::string> redirects;
  for (const Redirect& r : c.redirects) redirects.push_back(redirect_str(r));
  CHECK(redirects == std::vector<std::string>{"1>first", "2>&1", "0<in"});
  // A command of redirections alone is a command (it creates or truncates the file).
  CHECK(redirects_of(">empty") == std::vector<std::string>{"1>empty"});
}

TEST_CASE("digits are an fd only when the whole word so far is unquoted digits") {
  Command c = only_command("echo a2>x 2 >y \"2\">z 2''>w \\2>v");
  CHECK(describe(c.words) == std::vector<std::string>{"echo", "a2", "2", "'2'", "2", "'2'"});
  std::vector<std::string> redirects;
  for (const Redirect& r : c.redirects) redirects.push_back(redirect_str(r));
  CHECK(redirects == std::vector<std::string>{"1>x", "1>y", "1>z", "1>w", "1>v"});
  // Negative control: the same digits written directly before '>' are the fd.
  CHECK(redirects_of("echo 2>x") == std::vector<std::string>{"2>x"});
  CHECK(redirects_of("echo 1023>x 0007>y") == std::vector<std::string>{"1023>x", "7>y"});
}

TEST_CASE("NAME=value words before the command name are assignments") {
  Command c = only_command("A=1 B=$X C=\"x y\" D= E=a=b cmd F=2");
  REQUIRE(c.assignments.size() == 5);
  CHECK(c.assignments[0].name == "A");
  CHECK(describe(c.assignments[0].value) == "1");
  CHECK(c.assignments[1].name == "B");
  CHECK(describe(c.assignments[1].value) == "{X}");
  CHECK(describe(c.assignments[2].value) == "'x y'");
  CHECK(c.assignments[3].name == "D");
  CHECK(c.assignments[3].value.parts.empty());
  CHECK(c.assignments[4].name == "E");
  CHECK(describe(c.assignments[4].value) == "a=b");
  // After the command name it is an ordinary argument.
  CHECK(describe(c.words) == std::vector<std::string>{"cmd", "F=2"});
}

TEST_CASE("a line of assignments alone is a command with no words") {
  Command c = only_command("A=1 B=2");
  CHECK(c.assignments.size() == 2);
  CHECK(c.words.empty());
}

TEST_CASE("assignments may be mixed with redirections before the command name") {
  Command c = only_command("A=1 >f B=2 cmd");
  CHECK(c.assignments.size() == 2);
  CHECK(describe(c.words) == std::vector<std::string>{"cmd"});
  CHECK(c.redirects.size() == 1);
}

TEST_CASE("words that only look like assignments are ordinary words") {
  for (std::string_view input :
       {"=x", "1A=x", "\"A\"=1", "A\\=1", "'A=1'", "A-B=1", "$A=1", "''A=1", "A''=1"}) {
    INFO("input: " << std::string(input));
    Command c = only_command(input);
    CHECK(c.assignments.empty());
    CHECK(c.words.size() == 1);
  }
  // Negative control: the same shape unquoted and with a valid name is an assignment.
  CHECK(only_command("A=1").assignments.size() == 1);
}

TEST_CASE("a hash sign starts a comment only at the start of a word") {
  CHECK(words_of("echo a # b c") == std::vector<std::string>{"echo", "a"});
  CHECK(words_of("echo a#b") == std::vector<std::string>{"echo", "a#b"});
  CHECK(words_of("echo '#' \"#\" \\#") == std::vector<std::string>{"echo", "'#'", "'#'", "'#'"});
  CHECK(words_of("echo a;# b") == std::vector<std::string>{"echo", "a"});
  CHECK(words_of("echo ''#a") == std::vector<std::string>{"echo", "#a"});
  // A comment ends at the newline; the next line is a command again.
  ParseResult r = parse("a # one | two\nb");
  REQUIRE(r.ok());
  CHECK(r.script().items.size() == 2);
  // Quotes and backslashes inside a comment mean nothing.
  CHECK(parse("a # it's \\").ok());
}

TEST_CASE("unterminated quotes are errors that ask for more input") {
  check_error("echo 'abc", {"unterminated single quote: no closing '", 5, true});
  check_error("echo \"abc", {"unterminated double quote: no closing \"", 5, true});
  check_error("echo \"abc\\", {"unterminated double quote: no closing \"", 5, true});
  check_error("echo \"a'b", {"unterminated double quote: no closing \"", 5, true});
}

TEST_CASE("a trailing backslash asks for more input") {
  check_error("echo a \\", {"backslash at the end of the input: nothing to escape", 7, true});
}

TEST_CASE(
    "an unterminated or badly named braced variable is an error that more input would not fix") {
  check_error("echo ${A", {"unterminated ${: no closing }", 5, false});
  check_error("echo \"${A\"", {"unterminated ${: no closing }", 6, false});
  std::string bad =
      "bad variable name in ${...}: use letters, digits and _, not starting with a digit";
  check_error("echo ${1A}", {bad, 5, false});
  check_error("echo ${}", {bad, 5, false});
  check_error("echo ${A B}", {bad, 5, false});
  check_error("echo ${A-x}", {bad, 5, false});
}

TEST_CASE("an operator with no command before it is an error") {
  check_error("| a", {"expected a command before '|'", 0, false});
  check_error("&& a", {"expected a command before '&&'", 0, false});
  check_error("  || a", {"expected a command before '||'", 2, false});
  check_error(";;", {"expected a command before ';'", 0, false});
  check_error("a;;", {"expected a command before ';'", 2, false});
  check_error("&", {"expected a command before '&'", 0, false});
  check_error("a & ;", {"expected a command before ';'", 4, false});
  check_error("a\n| b", {"expected a command before '|'", 2, false});
}

TEST_CASE("an operator with no command after it asks for more input only at the end") {
  check_error("a |", {"expected a command after '|'", 2, true});
  check_error("a && ", {"expected a command after '&&'", 2, true});
  check_error("a ||  # why", {"expected a command after '||'", 2, true});
  check_error("a |\n", {"expected a command after '|'", 2, true});
  // Something other than a command follows: more input cannot help.
  check_error("a | | b", {"expected a command after '|'", 4, false});
  check_error("a && ; b", {"expected a command after '&&'", 5, false});
  check_error("a || &", {"expected a command after '||'", 5, false});
}

TEST_CASE("a redirection with no target is an error") {
  check_error("a >", {"expected a file name after '>'", 2, false});
  check_error("a > | b", {"expected a file name after '>'", 2, false});
  check_error("a 2>> ;", {"expected a file name after '2>>'", 2, false});
  check_error("a < # comment", {"expected a file name after '<'", 2, false});
  check_error("a > >b", {"expected a file name after '>'", 2, false});
  check_error("a 2>&", {"expected a file descriptor number after '2>&'", 2, false});
}

TEST_CASE("a duplication target written in the line must be an fd number") {
  check_error("a 2>&x", {"expected a file descriptor number after '2>&'", 5, false});
  check_error("a >&1x", {"expected a file descriptor number after '>&'", 4, false});
  check_error("a 2>&''", {"expected a file descriptor number after '2>&'", 5, false});
  check_error("a 2>&99999999999999999999",
              {"file descriptor number too large (at most 1023)", 5, false});
}

TEST_CASE("an fd number above 1023 is an error") {
  check_error("a 1024>f", {"file descriptor number too large (at most 1023)", 2, false});
  check_error("a 99999999999999999999999999>f",
              {"file descriptor number too large (at most 1023)", 2, false});
  check_error("a 2>&1024", {"file descriptor number too large (at most 1023)", 5, false});
  // Negative control: the limit itself is allowed.
  CHECK(parse("a 1023>f 2>&1023").ok());
}

TEST_CASE("NUL bytes are rejected wherever they are except inside a comment") {
  check_error("a\0b"s,
              {"NUL byte in the input: a command or argument cannot contain one", 1, false});
  check_error("'a\0'"s,
              {"NUL byte in the input: a command or argument cannot contain one", 2, false});
  check_error("\"\0\""s,
              {"NUL byte in the input: a command or argument cannot contain one", 1, false});
  check_error("\\\0"s,
              {"NUL byte in the input: a command or argument cannot contain one", 1, false});
  check_error("\0"s, {"NUL byte in the input: a command or argument cannot contain one", 0, false});
  CHECK(parse("a # \0 b"s).ok());
}

TEST_CASE("here-documents are reported as unsupported") {
  check_error("cat <<EOF", {"here-documents (<<) are not supported by tinysh", 4, false});
}

TEST_CASE("every syntax error is one line at an offset within the input") {
  for (std::string_view input :
       {"'", "\"", "${", "${x", "|", "a|", "a||", "a&&", ";", "a>", "a 9999>f", "a\\", "a 2>&x"}) {
    INFO("input: " << std::string(input));
    ParseResult r = parse(input);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().offset <= input.size());
    CHECK_FALSE(r.error().message.empty());
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("input that asked for more parses once the next line is joined with a newline") {
  struct Case {
    std::string first, second;
  };
  for (const Case& c : {Case{"echo 'a", "b'"}, Case{"echo \"a", "b\""}, Case{"a |", "b"},
                        Case{"a &&", "b"}, Case{"a ||", "b"}, Case{"echo a \\", "b"}}) {
    INFO("lines: " << c.first << " / " << c.second);
    ParseResult first = parse(c.first);
    REQUIRE_FALSE(first.ok());
    CHECK(first.needs_more_input);
    CHECK(parse(c.first + "\n" + c.second).ok());
  }
  CHECK(words_of("echo 'a\nb'") == std::vector<std::string>{"echo", "'a\nb'"});
  CHECK(words_of("echo a \\\nb") == std::vector<std::string>{"echo", "a", "b"});
}

TEST_CASE("a 1 MiB word and a 1 MiB line of commands parse") {
  const size_t mib = 1 << 20;
  std::string word(mib, 'x');
  CHECK(words_of(word) == std::vector<std::string>{word});

  std::string quoted = "'" + std::string(mib, 'y') + "'";
  CHECK(only_command(quoted).words[0].parts[0].text.size() == mib);

  std::string many;
  while (many.size() < mib) many += "a b;";
  ParseResult r = parse(many);
  REQUIRE(r.ok());
  CHECK(r.script().items.size() == many.size() / 4);
}

TEST_CASE("long runs of operators or quotes or expansions need no stack depth") {
  const size_t count = 1 << 18;
  std::string pipeline = "a";
  for (size_t i = 0; i < count; ++i) pipeline += "|a";
  ParseResult r = parse(pipeline);
  REQUIRE(r.ok());
  CHECK(r.script().items[0].first.commands.size() == count + 1);

  std::string chain = "a";
  for (size_t i = 0; i < count; ++i) chain += i % 2 ? "&&a" : "||a";
  r = parse(chain);
  REQUIRE(r.ok());
  CHECK(r.script().items[0].rest.size() == count);

  std::string quotes;
  for (size_t i = 0; i < count; ++i) quotes += "''\"\"";
  CHECK(words_of(quotes) == std::vector<std::string>{"''"});

  std::string dollars;
  for (size_t i = 0; i < count; ++i) dollars += "\"${A}\"$?";
  CHECK(only_command(dollars).words[0].parts.size() == 2 * count);

  // An error at the very end of a long line is still found, at the right offset.
  std::string open = std::string(count, 'x') + " '";
  check_error(open, {"unterminated single quote: no closing '", count + 1, true});
  std::string braces;
  for (size_t i = 0; i < count; ++i) braces += "${";
  check_error(braces, {"unterminated ${: no closing }", 0, false});
}

TEST_CASE("to_source writes a tree that parses back to the same tree") {
  for (std::string_view input :
       {"echo a b", "A=1 B= C='x y' cmd D=4", "echo '' \"\" a'b'\"$C\"$D\\e", "a | b && c || d &",
        "x; y & z", "cmd <in >out >>log 2>err 2>>e 2>&1 >&2", "echo $? $$ \"$?\" ${A}b",
        "echo $ a$ $1 $'x' \"a'b\" 'it'\\''s'", ">only", "A=$B$C\"$D\"", "echo \\# a#b",
        "echo 2''>f \"2\">g", "''A=1 B=2", "x=1>''#y", "a ''#b", "echo $''x $''{ $''$A $\"\"?"}) {
    INFO("input: " << std::string(input));
    ParseResult first = parse(input);
    REQUIRE(first.ok());
    std::string source = to_source(first.script());
    INFO("written: " << source);
    ParseResult again = parse(source);
    REQUIRE(again.ok());
    CHECK(again.script() == first.script());
  }
  // Negative control: a different line gives a different tree, so the comparison can fail.
  CHECK_FALSE(parse("a b").script() == parse("a 'b'").script());
}
