// The lesson format without a box: the parser and each of its errors with its line, expectation
// lines, the screen replay of tinysh's line editor, the command markers, the judging of
// expectations, and every lesson file of the repository.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "box_pty.h"
#include "catalog.h"
#include "lesson.h"
#include "observe.h"
#include "process.h"
#include "screen.h"

using namespace nslab::lessons;

namespace {

// A small valid lesson; tests break one thing at a time.
const char* kValid = R"(# Title

Intro text.

## First step

Some prose.

```flags
--uts --hostname tinyhost
```

```box
hostname
```

```host
hostname
```

```expect
box contains tinyhost
box differs from host
```

## Recap

What happened.

## Challenge

Do it.

```solution
hostname classroom
```

```box
hostname
```

```expect
box contains classroom
```
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The line number of the first line holding `needle`.
int line_of(const std::string& text, const std::string& needle) {
  auto at = text.find(needle);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

// The only error of `text`: its line and message.
ParseError only_error(const std::string& text) {
  auto r = parse_lesson(text);
  CHECK_FALSE(r.lesson);
  REQUIRE(r.errors.size() == 1);
  return r.errors[0];
}

}  // namespace

TEST_CASE("a valid lesson parses into title, intro, steps, recap and challenge") {
  auto r = parse_lesson(kValid);
  REQUIRE(r.errors.empty());
  REQUIRE(r.lesson);
  const Lesson& l = *r.lesson;
  CHECK(l.title == "Title");
  CHECK(l.intro == "Intro text.\n");
  REQUIRE(l.steps.size() == 3);
  CHECK(l.steps[0].title == "First step");
  CHECK(l.steps[0].line == 5);
  CHECK(l.steps[0].prose.find("Some prose.") != std::string::npos);
  REQUIRE(l.steps[0].blocks.size() == 4);
  CHECK(l.steps[0].blocks[0].kind == Block::Kind::StartBox);
  CHECK(l.steps[0].blocks[0].flags == std::vector<std::string>{"--uts", "--hostname", "tinyhost"});
  CHECK(l.steps[0].blocks[1].commands == std::vector<std::string>{"hostname"});
  CHECK(l.steps[0].blocks[2].script == "hostname\n");
  REQUIRE(l.steps[0].blocks[3].expectations.size() == 2);
  CHECK(l.steps[0].blocks[3].expectations[0].line == 22);
  CHECK(l.steps[0].blocks[3].expectations[1].kind == CheckKind::DiffersFromHost);
  REQUIRE(l.recap());
  CHECK(l.recap()->prose.find("What happened.") != std::string::npos);
  REQUIRE(l.challenge());
  CHECK(l.challenge()->blocks[0].kind == Block::Kind::Solution);
  CHECK(l.first_flags().size() == 3);
}

TEST_CASE("the next lesson compares with the last box before the challenge, not the first") {
  std::string text = replace(kValid, "## Recap\n",
                             "## Second step\n\n```flags\n--uts --mount\n```\n\n```box\nls\n```"
                             "\n\n## Recap\n");
  text = replace(text, "```solution\n", "```flags\n--user --map-root\n```\n\n```solution\n");
  auto parsed = parse_lesson(text);
  REQUIRE(parsed.lesson);
  CHECK(parsed.lesson->first_flags() == std::vector<std::string>{"--uts", "--hostname", "tinyhost"});
  CHECK(parsed.lesson->last_flags() == std::vector<std::string>{"--uts", "--mount"});
}

TEST_CASE("blocks in other languages are prose and never run") {
  auto text = replace(kValid, "Some prose.\n", "Some prose.\n\n```c\nint x;\n```\n");
  auto r = parse_lesson(text);
  REQUIRE(r.lesson);
  CHECK(r.lesson->steps[0].prose.find("int x;") != std::string::npos);
  CHECK(r.lesson->steps[0].blocks.size() == 4);
}

TEST_CASE("an empty flags block starts a box with no isolation") {
  auto r = parse_lesson(replace(kValid, "--uts --hostname tinyhost\n", ""));
  REQUIRE(r.lesson);
  CHECK(r.lesson->steps[0].blocks[0].kind == Block::Kind::StartBox);
  CHECK(r.lesson->steps[0].blocks[0].flags.empty());
}

TEST_CASE("a file without a title is refused on line 1") {
  auto e = only_error(replace(kValid, "# Title\n", "Title\n"));
  CHECK(e.line == 1);
  CHECK(e.message.find("# title") != std::string::npos);
}

TEST_CASE("a second title is refused on its line") {
  auto e = only_error(replace(kValid, "Intro text.", "# Another"));
  CHECK(e.line == 3);
  CHECK(e.message.find("second # title") != std::string::npos);
}

TEST_CASE("an unclosed block is refused on the line that opened it") {
  auto text = std::string(kValid) + "\n```box\nls\n";
  auto r = parse_lesson(text);
  CHECK_FALSE(r.lesson);
  REQUIRE_FALSE(r.errors.empty());
  CHECK(r.errors.back().message.find("never closed") != std::string::npos);
  CHECK(r.errors.back().line == line_of(text, "```box\nls"));
}

TEST_CASE("a block before the first step is refused") {
  auto e = only_error(replace(kValid, "Intro text.", "```box\nls\n```"));
  CHECK(e.line == 3);
  CHECK(e.message.find("before the first ## step") != std::string::npos);
}

TEST_CASE("box and host blocks before any flags block are refused: there is no box yet") {
  auto text = replace(kValid, "Some prose.\n", "Some prose.\n\n```box\nls\n```\n");
  auto e = only_error(text);
  CHECK(e.line == 9);
  CHECK(e.message.find("before any flags block") != std::string::npos);
  auto host = only_error(replace(kValid, "Some prose.\n", "Some prose.\n\n```host\nls\n```\n"));
  CHECK(host.message.find("$BOX_PID would name no box") != std::string::npos);
}

TEST_CASE("flags may not say what to run") {
  auto e = only_error(replace(kValid, "--uts --hostname tinyhost", "--uts -c hostname"));
  CHECK(e.line == 9);
  CHECK(e.message.find("-c is not allowed") != std::string::npos);
}

TEST_CASE("empty box, host, solution and expect blocks are refused") {
  CHECK(only_error(replace(kValid, "```box\nhostname\n```\n\n```host",
                           "```box\n\n```\n\n```box\nhostname\n```\n\n```host"))
            .message.find("empty box block") != std::string::npos);
  CHECK(only_error(replace(kValid, "```host\nhostname\n```",
                           "```host\n   \n```\n\n```host\nhostname\n```"))
            .message.find("empty host block") != std::string::npos);
  auto r =
      parse_lesson(replace(kValid, "```solution\nhostname classroom\n```", "```solution\n```"));
  CHECK_FALSE(r.lesson);
  CHECK(describe(r.errors, "x.md").find("empty solution block") != std::string::npos);
  CHECK(only_error(replace(kValid, "box contains classroom\n", "# only a comment\n"))
            .message.find("without expectations") != std::string::npos);
}

TEST_CASE("a malformed expectation is refused on its own line") {
  auto e = only_error(replace(kValid, "box contains tinyhost", "box contain tinyhost"));
  CHECK(e.line == 22);
  CHECK(e.message.find("unknown check \"contain\"") != std::string::npos);
}

TEST_CASE("an expectation about a block the step does not have is refused") {
  // The challenge has a box block but no host block.
  auto e = only_error(replace(kValid, "box contains classroom", "host lacks classroom"));
  CHECK(e.message.find("no host block above it in this step") != std::string::npos);
  // Outputs do not carry over from one step to the next.
  auto text =
      replace(kValid, "## Recap", "## Second\n\n```expect\nbox contains x\n```\n\n## Recap");
  auto next = only_error(text);
  CHECK(next.line == line_of(text, "box contains x"));
  CHECK(next.message.find("no box block above it") != std::string::npos);
}

TEST_CASE("a lesson needs steps, a recap and a challenge") {
  auto no_recap = only_error(replace(kValid, "## Recap\n\nWhat happened.\n", ""));
  CHECK(no_recap.message.find("## Recap") != std::string::npos);
  auto cut = std::string(kValid).substr(0, std::string(kValid).find("## Challenge"));
  auto no_challenge = only_error(cut);
  CHECK(no_challenge.message.find("## Challenge") != std::string::npos);
  auto no_steps = parse_lesson("# Only a title\n");
  REQUIRE(no_steps.errors.size() == 1);
  CHECK(no_steps.errors[0].message.find("at least one ## step") != std::string::npos);
}

TEST_CASE("the challenge needs a solution and an expect block after it") {
  auto no_solution = parse_lesson(replace(kValid, "```solution\nhostname classroom\n```\n", ""));
  CHECK_FALSE(no_solution.lesson);
  CHECK(describe(no_solution.errors, "x.md").find("needs a solution block") != std::string::npos);
  auto no_expect = only_error(replace(kValid, "```expect\nbox contains classroom\n```\n", ""));
  CHECK(no_expect.message.find("needs an expect block") != std::string::npos);
}

TEST_CASE("a solution outside the challenge, a second recap or challenge, a step after it") {
  auto sol = only_error(
      replace(kValid, "Some prose.\n", "Some prose.\n\n```flags\n```\n\n```solution\nls\n```\n"));
  CHECK(sol.message.find("belongs in ## Challenge") != std::string::npos);
  auto recap = only_error(replace(kValid, "## Challenge", "## Recap\n\n## Challenge"));
  CHECK(recap.message.find("second ## Recap (first on line 26)") != std::string::npos);
  auto after = only_error(std::string(kValid) + "\n## Later\n");
  CHECK(after.message.find("after ## Challenge") != std::string::npos);
  auto twice = parse_lesson(std::string(kValid) + "\n## Challenge\n");
  CHECK(describe(twice.errors, "x.md").find("second ## Challenge") != std::string::npos);
}

TEST_CASE("blocks in the recap are refused: it is prose only") {
  auto e = only_error(replace(kValid, "What happened.\n", "What happened.\n\n```box\nls\n```\n"));
  CHECK(e.message.find("recap is prose only") != std::string::npos);
}

TEST_CASE("every error of a file is reported, in line order, named file:line") {
  auto text = replace(kValid, "box contains tinyhost", "bx contains tinyhost");
  text = replace(text, "box contains classroom", "box matches (");
  auto r = parse_lesson(text);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].line < r.errors[1].line);
  auto d = describe(r.errors, "lessons/01-x.md");
  CHECK(d.find("lessons/01-x.md:22: ") != std::string::npos);
  CHECK(d.find("not a regular expression") != std::string::npos);
}

TEST_CASE("expectation lines: every check, quotes, comparisons both ways") {
  std::string why;
  auto c = parse_expectation("box contains \" 1 \"", why);
  REQUIRE(c);
  CHECK(c->text == " 1 ");
  CHECK(parse_expectation("host lacks [kthreadd]", why)->kind == CheckKind::Lacks);
  CHECK(parse_expectation("box matches ^uts +[0-9]+$", why)->kind == CheckKind::Matches);
  CHECK(parse_expectation("box same as host", why)->kind == CheckKind::SameAsHost);
  CHECK(parse_expectation("host differs from box", why)->kind == CheckKind::DiffersFromHost);
  CHECK(parse_expectation("box succeeds", why)->kind == CheckKind::Succeeds);
  CHECK(parse_expectation("host fails", why)->kind == CheckKind::Fails);
  CHECK_FALSE(parse_expectation("box differs from box", why));
  CHECK(why.find("box differs from host") != std::string::npos);
  CHECK_FALSE(parse_expectation("box contains", why));
  CHECK(why.find("needs a text") != std::string::npos);
  CHECK_FALSE(parse_expectation("box fails now", why));
  CHECK_FALSE(parse_expectation("guest contains x", why));
  CHECK(why.find("starts with box or host") != std::string::npos);
}

TEST_CASE("judging: contains, lacks, matches per line, comparisons and statuses") {
  std::string why;
  Observed o{"tinyhost\nuts 4026532184\n", 0, "vm\n", 1};
  auto pass = [&](const char* line) { return judge(*parse_expectation(line, why), o).passed; };
  CHECK(pass("box contains tinyhost"));
  CHECK_FALSE(pass("box contains vm"));
  CHECK(pass("box lacks vm"));
  CHECK(pass("box matches ^uts [0-9]+$"));
  CHECK_FALSE(pass("box matches ^tinyhost uts"));  // one line at a time
  CHECK(pass("box differs from host"));
  CHECK_FALSE(pass("box same as host"));
  CHECK(pass("box succeeds"));
  CHECK(pass("host fails"));
  Observed same{"vm\n", 0, "vm", 0};
  CHECK(judge(*parse_expectation("box same as host", why), same).passed);
  auto v = judge(*parse_expectation("host contains tinyhost", why), o);
  CHECK(v.expected == "the host's output contains \"tinyhost\"");
  CHECK(v.seen == "vm");
}

TEST_CASE("a malformed pause line is refused on its line, a well-formed one parses") {
  std::string text = replace(kValid, "## Recap\n", "<!-- pause soon -->\n\n## Recap\n");
  auto r = parse_lesson(text);
  REQUIRE_FALSE(r.lesson);
  REQUIRE_FALSE(r.errors.empty());
  CHECK(r.errors[0].message.find("pause 4s") != std::string::npos);
  CHECK(parse_lesson(replace(kValid, "## Recap\n", "<!-- pause 3s -->\n\n## Recap\n")).lesson);
}

TEST_CASE("a pattern may say in words what it looks for, and the student reads the words") {
  std::string why;
  Observed o{"         0     100000      65536\n", 0, "", 0};
  auto said = parse_expectation(R"(box matches ^\s*0\s+[0-9]+\s+65536$  # a map of 65536 ids)", why);
  REQUIRE(said);
  CHECK(said->text == R"(^\s*0\s+[0-9]+\s+65536$)");
  CHECK(said->meaning == "a map of 65536 ids");
  Judgement v = judge(*said, o);
  CHECK(v.passed);
  CHECK(v.expected == "the box's output shows a map of 65536 ids");
  // The control: without words, the pattern is what is shown, and it still judges the same.
  auto bare = parse_expectation(R"(box matches ^\s*0\s+[0-9]+\s+65536$)", why);
  REQUIRE(bare);
  CHECK(bare->meaning.empty());
  CHECK(judge(*bare, o).expected.find("/^") != std::string::npos);
  Observed one{"         0       1000          1\n", 0, "", 0};
  CHECK_FALSE(judge(*said, one).passed);
  // A single space and a hash belong to the pattern.
  CHECK(parse_expectation("box matches a #b", why)->text == "a #b");
}

TEST_CASE("the screen replay keeps what a person reads of tinysh's line editor") {
  // Keys echoed one by one by the editor's redraw, then Enter, output, and the next prompt.
  std::string raw =
      "\rroot@box:/# \x1b[K\r\x1b[12C\rroot@box:/# h\x1b[K\r\x1b[13C"
      "\rroot@box:/# hostname\x1b[K\r\x1b[20C\r\r\ntinyhost\r\n\x1b[1mbold\x1b[0m\r\n"
      "\x1b]0;title\a\rroot@box:/# \x1b[K\r\x1b[12C";
  CHECK(screen_text(raw) == "root@box:/# hostname\ntinyhost\nbold\nroot@box:/#");
  CHECK(screen_text("abc\bX\tY") == "abX     Y");
  CHECK(screen_text("long line\rshort\x1b[K") == "short");
}

TEST_CASE("markers: the printed answer is found, the typed line is not") {
  std::string raw = "\rroot@box:/# echo ::nslab:\"3\":$?\x1b[K\r\x1b[30C\r\r\n::nslab:3:1\r\n\r# ";
  auto hit = find_marker(raw, 0, 3);
  REQUIRE(hit.begin != std::string::npos);
  CHECK(hit.status == 1);
  CHECK(raw.substr(hit.begin, 11) == "::nslab:3:1");
  CHECK(find_marker(raw, 0, 4).begin == std::string::npos);
  CHECK(find_marker("x::nslab:3:0\r\n", 0, 3).begin == std::string::npos);  // not at a line start
  CHECK(find_marker("\n::nslab:3:", 0, 3).begin == std::string::npos);      // not finished yet
}

TEST_CASE("a command's output is the screen between its typed line and the typed marker") {
  CHECK(command_output("root@b:/# hostname\ntinyhost\nroot@b:/# echo ::nslab:\"1\":$?\n") ==
        "tinyhost");
  CHECK(command_output("root@b:/# true\nroot@b:/# echo ::nslab:\"1\":$?\n").empty());
  // A background job's notice, printed over the prompt before the command was typed.
  CHECK(command_output("[1] Done  tcp listen 7000\nroot@b:/# cat log\nreceived\n"
                       "root@b:/# echo ::nslab:\"2\":$?\n",
                       "cat log") == "received");
  CHECK(command_output("root@b:/# echo cat log\ncat log\nroot@b:/# echo ::nslab:\"3\":$?\n",
                       "echo cat log") == "cat log");
}

TEST_CASE("the runner's veth line gives host blocks the box's addresses") {
  auto veth = find_veth_line(
      "nslab: note: x\r\nnslab: veth nslab-1037: box 10.213.16.54, host 10.213.16.53\r\n# ");
  REQUIRE(veth);
  CHECK(veth->host_link == "nslab-1037");
  CHECK(veth->box_address == "10.213.16.54");
  CHECK(veth->host_address == "10.213.16.53");
  CHECK(veth->end == std::string_view("nslab: note: x\r\n").size() +
                         std::string_view("nslab: veth nslab-1037: box 10.213.16.54, host "
                                          "10.213.16.53\r\n")
                             .size());
  CHECK_FALSE(find_veth_line("root@tinyhost:/# ifaces\r\n"));
  auto after_prompt =
      find_veth_line("root@tinyhost:/# nslab: veth nslab-7: box 10.213.0.30, host 10.213.0.29\r\n");
  REQUIRE(after_prompt);
  CHECK(after_prompt->box_address == "10.213.0.30");
  CHECK_FALSE(find_veth_line("nslab: veth nslab-1: box 10.213.0.2, host 10.21"));  // unfinished
  CHECK_FALSE(find_veth_line("nslab: veth nslab-1: box 10.213.0.2;x, host 10.213.0.1\n"));
  CHECK(find_veth_line("nslab: veth nslab-1: box 10.213.0.2, host 10.213.0.1\n")->bridge.empty());
}

TEST_CASE("a box on a bridge: the veth line names the bridge, and the host is the bridge's address") {
  auto veth = find_veth_line(
      "nslab: veth nslab-p65282: box 10.213.255.2, host 10.213.255.1, bridge nslab-br-lab\r\n");
  REQUIRE(veth);
  CHECK(veth->host_link == "nslab-p65282");
  CHECK(veth->box_address == "10.213.255.2");
  CHECK(veth->host_address == "10.213.255.1");
  CHECK(veth->bridge == "nslab-br-lab");
  // Only a link name's characters: the name is put into host scripts.
  CHECK_FALSE(find_veth_line(
      "nslab: veth nslab-p2: box 10.213.255.2, host 10.213.255.1, bridge x;rm\r\n"));
}

TEST_CASE("lesson files are found by their NN- prefix, in number order") {
  CHECK(lesson_number("01-uts.md") == 1);
  CHECK(lesson_number("12-x.md") == 12);
  CHECK_FALSE(lesson_number("README.md"));
  CHECK_FALSE(lesson_number("01-uts.txt"));
  CHECK_FALSE(lesson_number("uts-01.md"));
}

TEST_CASE("every lesson of the repository parses, has a challenge and starts a box") {
  auto files = list_lessons(testing::source_dir() + "/lessons");
  REQUIRE(files.size() >= 5);
  for (size_t i = 0; i < files.size(); ++i) {
    CAPTURE(files[i].path);
    CHECK(files[i].number == static_cast<int>(i));
    auto loaded = load_lesson(files[i]);
    INFO(loaded.problem);
    REQUIRE(loaded.lesson);
    CHECK(loaded.lesson->challenge());
    CHECK(loaded.lesson->recap());
  }
}
