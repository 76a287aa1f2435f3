// A lesson on a small screen: rows counted as a terminal fills them, the "more" line where a
// step would scroll its start away, the screens kept for b, r and 1-9, lines of keys that fit
// without wrapping, and Markdown tables and emphasis rendered for a terminal.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pager.h"
#include "prose.h"
#include "terminal_out.h"
#include "text_lines.h"

using namespace nslab::lessons;

TEST_CASE("rows are counted as a terminal fills them: newlines, wraps, colors and UTF-8") {
  RowCounter rows(10);
  rows.feed("one\ntwo\n");
  CHECK(rows.rows() == 2);
  rows.feed("\x1b[1mbold\x1b[0m and more\n");  // 13 columns shown: wraps once, colors take none
  CHECK(rows.rows() == 4);
  rows.feed("──────────\n");  // ten box-drawing characters: exactly one row, no wrap
  CHECK(rows.rows() == 5);
  rows.feed("abc\rxyz\n");  // a carriage return starts the row again
  CHECK(rows.rows() == 6);
  rows.reset();
  CHECK(rows.rows() == 0);
  // Where the third row would begin: after the second newline.
  std::string text = "a\nb\nc\nd\n";
  RowCounter again(10);
  CHECK(again.feed_until(text, 2) == 4);
  CHECK(again.rows() == 2);
  // Where a wrap starts the row: before the character that wraps.
  RowCounter wrapping(4);
  CHECK(wrapping.feed_until("abcdefgh", 1) == 4);
  // The control: text that fills fewer rows never reaches the limit.
  RowCounter short_text(80);
  CHECK(short_text.feed_until("one line\n", 5) == std::string_view::npos);
}

TEST_CASE("a line of keys is cut to the width by dropping the keys before quit") {
  std::string line = "Enter: the challenge · s: shell in the box · ?: more keys · q: quit";
  CHECK(fit_keys_line(line, 80) == line);  // the control: it fits, nothing goes
  CHECK(fit_keys_line(line, 60) == "Enter: the challenge · s: shell in the box · q: quit");
  CHECK(fit_keys_line(line, 40) == "Enter: the challenge · q: quit");
  CHECK(text_columns(fit_keys_line(line, 20)) <= 19);
  CHECK(text_columns(fit_keys_line(kMoreLine, 40)) <= 39);
}

namespace {

// A TerminalOut that writes nowhere, `height` rows high, counting its "more" lines.
struct PagedScreen {
  explicit PagedScreen(int height) : out(options(height), nullptr) {
    out.on_page_full([this] {
      ++mores;
      out.page_starts();
    });
  }
  static TerminalOut::Options options(int height) {
    TerminalOut::Options o;
    o.to_stdout = false;
    o.width = 20;
    o.height = height;
    return o;
  }
  TerminalOut out;
  int mores = 0;
};

std::string numbered_lines(int n) {
  std::string text;
  for (int i = 1; i <= n; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

}  // namespace

TEST_CASE("a step longer than the screen stops at a more line once per screenful") {
  PagedScreen screen(10);  // 9 rows of text, then the more line
  screen.out.write(numbered_lines(9));
  CHECK(screen.mores == 0);  // a full screen, and nothing after it: no wait
  screen.out.write("line 10\n");
  CHECK(screen.mores == 1);  // the tenth line would push the first away
  screen.out.write(numbered_lines(17));
  CHECK(screen.mores == 2);
  // A key resets the count: what is on the screen was read.
  screen.out.page_starts();
  screen.out.write(numbered_lines(9));
  CHECK(screen.mores == 2);
  // The control: without a height nothing pages.
  PagedScreen unpaged(0);
  unpaged.out.write(numbered_lines(100));
  CHECK(unpaged.mores == 0);
}

TEST_CASE("each screen is kept as written and replayed paged without being kept twice") {
  PagedScreen screen(10);
  std::string step_one, step_two;
  screen.out.keep_transcript(&step_one);
  screen.out.write("first step\n");
  screen.out.type("hostname");
  screen.out.prompt("Enter: next step");  // a hint is not part of the step
  screen.out.keep_transcript(&step_two);
  screen.out.write(numbered_lines(3));
  CHECK(step_one == "first step\nhostname");
  CHECK(step_two == numbered_lines(3));
  screen.out.page_starts();
  screen.out.replay(numbered_lines(25));  // paged like the first time
  CHECK(screen.mores == 2);
  CHECK(step_two == numbered_lines(3));
  // Muted (the steps before a step the student jumped to): kept, not shown, not paged.
  screen.out.set_muted(true);
  screen.out.write(numbered_lines(30));
  CHECK(screen.mores == 2);
  CHECK(step_two == numbered_lines(3) + numbered_lines(30));
}

TEST_CASE("a Markdown table is laid out in columns, or one block a row when it is too wide") {
  std::string md =
      "| probe | reads | lesson |\n"
      "|-------|-------|--------|\n"
      "| `hostname` | uname(2)'s nodename | 1 |\n"
      "| `ls /` | the root directory | 2 |\n";
  std::string wide = wrap_prose(md, 80, false);
  INFO(wide);
  auto lines = testing::split_lines(wide);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "  probe       reads                lesson");
  CHECK(lines[1].find("──") == 2);
  CHECK(lines[2] == "  `hostname`  uname(2)'s nodename  1");
  CHECK(wide.find('|') == std::string::npos);  // no pipes left
  // In color the backticks go, and the columns still line up on what is shown.
  std::string color = without_sgr(wrap_prose(md, 80, true));
  CHECK(color.find("  hostname  uname(2)'s nodename  1\n") != std::string::npos);
  // Too wide for 30 columns: a block per row, every line within the width.
  std::string narrow = wrap_prose(md, 30, false);
  INFO(narrow);
  for (const auto& l : testing::split_lines(narrow)) CHECK(text_columns(l) <= 30);
  CHECK(narrow.find("  `hostname`\n    reads: uname(2)'s nodename\n    lesson: 1\n") !=
        std::string::npos);
}

TEST_CASE("*emphasis* is shown in italics on a color terminal, and a lone star stays a star") {
  std::string color = wrap_prose("A *copy* of the names, 2 * 3.", 80, true);
  CHECK(color.find("\x1b[3mcopy") != std::string::npos);
  CHECK(without_sgr(color) == "A copy of the names, 2 * 3.\n");
  CHECK(wrap_prose("A *copy* of it.", 80, false) == "A *copy* of it.\n");  // plain: as written
}

TEST_CASE("a pause line holds a demo for its seconds, is never shown, and a malformed one is named") {
  std::string problem;
  CHECK(pause_line("<!-- pause 4s -->", problem) == std::chrono::milliseconds(4000));
  CHECK(pause_line("  <!--pause 1.5s-->", problem) == std::chrono::milliseconds(1500));
  CHECK(problem.empty());
  CHECK_FALSE(pause_line("<!-- a note for authors -->", problem));  // a comment, not a pause
  CHECK(problem.empty());
  CHECK_FALSE(pause_line("<!-- pause four -->", problem));
  CHECK(problem.find("<!-- pause 4s -->") != std::string::npos);
  problem.clear();
  CHECK_FALSE(pause_line("<!-- pause 600s -->", problem));  // more than a minute
  CHECK_FALSE(problem.empty());
  auto pieces = prose_pieces("First.\n<!-- pause 2s -->\nSecond.\n");
  REQUIRE(pieces.size() == 2);
  CHECK(pieces[0].text == "First.\n");
  CHECK(pieces[0].pause == std::chrono::milliseconds(2000));
  CHECK(pieces[1].text == "Second.\n");
  CHECK(pieces[1].pause == std::chrono::milliseconds(0));
  CHECK(wrap_prose("Shown.\n<!-- hidden -->\n", 80, false) == "Shown.\n");
}
