// Recordings: the JSON of asciicast v2 (escaping, UTF-8 kept whole or replaced), its header and
// events, the writer on a real file; then, as root, `nslab lesson 1 --record` played back by
// asciinema itself, twice with the same timing, without waiting in real time.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "asciicast.h"
#include "process.h"
#include "pty_session.h"
#include "temp_dir.h"
#include "terminal_out.h"

using nslab::lessons::cast_header_line;
using nslab::lessons::cast_output_line;
using nslab::lessons::CastHeader;
using nslab::lessons::CastWriter;
using nslab::lessons::json_string;
using nslab::lessons::record_path_problem;
using nslab::lessons::Utf8Joiner;

namespace {

std::vector<std::string> lines_of_file(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The time of each event line ("[12.345, ...") of a cast.
std::vector<std::string> event_times(const std::vector<std::string>& lines) {
  std::vector<std::string> times;
  for (size_t i = 1; i < lines.size(); ++i) times.push_back(lines[i].substr(0, lines[i].find(',')));
  return times;
}

}  // namespace

TEST_CASE("JSON strings escape quotes, backslashes and every control character") {
  CHECK(json_string("say \"hi\"") == R"("say \"hi\"")");
  CHECK(json_string("a\\b") == R"("a\\b")");
  CHECK(json_string("\x1b[1mbold\x1b[0m") == R"("\u001b[1mbold\u001b[0m")");
  CHECK(json_string("\r\n\t\b\f") == R"("\r\n\t\b\f")");
  CHECK(json_string(std::string("\x00\x01\x1f\x7f", 4)) == R"("\u0000\u0001\u001f\u007f")");
  CHECK(json_string("") == R"("")");
}

TEST_CASE("JSON strings keep valid UTF-8 and replace each stray byte with U+FFFD") {
  CHECK(json_string("✓ · é 😀") == "\"✓ · é 😀\"");
  CHECK(json_string("a\xff"
                    "b") == R"("a\ufffdb")");
  // A lead byte whose continuation is missing, an overlong '/', a UTF-16 surrogate, a code point
  // above U+10FFFF: none is UTF-8.
  CHECK(json_string("\xc3(") == R"("\ufffd(")");
  CHECK(json_string("\xc0\xaf") == R"("\ufffd\ufffd")");
  CHECK(json_string("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");
  CHECK(json_string("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");
  CHECK(json_string("\xe2\x9c") == R"("\ufffd\ufffd")");  // cut short at the end
}

TEST_CASE("a character split across two writes is written whole, in the second") {
  const std::string check_mark = "✓";  // e2 9c 93
  REQUIRE(check_mark.size() == 3);
  Utf8Joiner joiner;
  CHECK(joiner.take("ok " + check_mark.substr(0, 2)) == "ok ");
  CHECK(joiner.take(check_mark.substr(2) + " done") == check_mark + " done");
  CHECK(joiner.rest().empty());

  // Four bytes, one at a time.
  const std::string emoji = "😀";
  REQUIRE(emoji.size() == 4);
  CHECK(joiner.take(emoji.substr(0, 1)).empty());
  CHECK(joiner.take(emoji.substr(1, 1)).empty());
  CHECK(joiner.take(emoji.substr(2, 1)).empty());
  CHECK(joiner.take(emoji.substr(3)) == emoji);

  // A complete character before an unfinished one: only the unfinished one waits.
  CHECK(joiner.take("é" + check_mark.substr(0, 1)) == "é");
  CHECK(joiner.rest() == check_mark.substr(0, 1));

  // Bytes that can never start a character are not held back: they are replaced at once.
  CHECK(joiner.take("x\xff") == "x\xff");
  CHECK(joiner.rest().empty());

  // The control: without the joiner, each half of the character is invalid on its own.
  CHECK(json_string(check_mark.substr(0, 2)) == R"("\ufffd\ufffd")");
}

TEST_CASE("the cast header has the version, the size, the title and the environment") {
  CastHeader h;
  h.width = 100;
  h.height = 30;
  h.timestamp = 1700000000;
  h.title = "Lesson 1 · \"UTS\"";
  h.term = "xterm-256color";
  h.shell = "/bin/sh";
  CHECK(cast_header_line(h) ==
        R"({"version": 2, "width": 100, "height": 30, "timestamp": 1700000000, )"
        R"("title": "Lesson 1 · \"UTS\"", "env": {"TERM": "xterm-256color", "SHELL": "/bin/sh"}})");
  h.timestamp.reset();
  h.title.clear();
  CHECK(cast_header_line(h) == R"({"version": 2, "width": 100, "height": 30, )"
                               R"("env": {"TERM": "xterm-256color", "SHELL": "/bin/sh"}})");
}

TEST_CASE("an output event is the time, o and the bytes as a JSON string") {
  CHECK(cast_output_line(1.25, "hi\r\n") == R"([1.250, "o", "hi\r\n"])");
  CHECK(cast_output_line(0, "\x1b[32m✓\x1b[0m") == R"([0.000, "o", "\u001b[32m✓\u001b[0m"])");
}

TEST_CASE("the writer keeps a split character in one event and never goes back in time") {
  testing::TempDir dir;
  std::string path = dir / "t.cast";
  {
    CastHeader h;
    h.timestamp = 1;
    auto w = CastWriter::create(path, h);
    REQUIRE(w);
    const std::string check_mark = "✓";
    w->output(0.5, "a" + check_mark.substr(0, 1));
    w->output(0.25, check_mark.substr(1) + "b");  // earlier than the last event: kept at 0.5
    w->output(1.0, "\xe2");                       // unfinished at the end
    REQUIRE(w->close());
  }
  auto lines = lines_of_file(path);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].rfind(R"({"version": 2, "width": 80, "height": 24, "timestamp": 1)", 0) == 0);
  CHECK(lines[1] == R"([0.500, "o", "a"])");
  CHECK(lines[2] == R"([0.500, "o", "✓b"])");
  CHECK(lines[3] == R"([0.500, "o", "\ufffd"])");
}

TEST_CASE("a recording path in a folder that does not exist is refused with the reason") {
  testing::TempDir dir;
  CHECK(record_path_problem(dir / "ok.cast").empty());
  CHECK(record_path_problem("relative.cast").empty());
  CHECK(record_path_problem(dir / "missing/x.cast") ==
        "the folder " + (dir / "missing") + " does not exist");
  CHECK(record_path_problem(dir.path).find("folder") != std::string::npos);
  std::ofstream(dir / "file") << "x";
  CHECK(record_path_problem(dir / "file/x.cast") == (dir / "file") + " is not a folder");
  auto refused = CastWriter::create(dir / "missing/x.cast", {});
  REQUIRE(!refused);
  CHECK(refused.error().message().find("does not exist") != std::string::npos);
}

TEST_CASE("the same screen recorded twice gives the same file, and speed 2 halves its times") {
  testing::TempDir dir;
  auto record = [&](const std::string& name, double speed) {
    CastHeader h;
    h.timestamp = 42;
    auto w = CastWriter::create(dir / name, h);
    REQUIRE(w);
    nslab::lessons::TerminalOut::Options o;
    o.to_stdout = false;
    o.paced = true;
    o.speed = speed;
    nslab::lessons::TerminalOut out(o, &*w);
    out.write("root@tinyhost:/# ");
    out.type("hostname classroom");
    out.write("\n");
    out.pause(std::chrono::milliseconds(800));
    out.write("done\n");
    double seconds = out.seconds();
    REQUIRE(w->close());
    return seconds;
  };
  double one = record("a.cast", 1);
  double again = record("b.cast", 1);
  double twice = record("c.cast", 2);
  CHECK(one == again);
  CHECK(testing::read_file(dir / "a.cast") == testing::read_file(dir / "b.cast"));
  CHECK(twice == doctest::Approx(one / 2).epsilon(0.001));
  // One event per key, at a human pace: 18 keys of about 60 ms.
  auto lines = lines_of_file(dir / "a.cast");
  CHECK(lines.size() == 1 + 1 + 18 + 2);
  CHECK(one > 18 * 0.036 + 0.8);
  CHECK(one < 18 * 0.124 + 0.8 + 0.5);
}

// --- `nslab lesson --record`, end to end (root) --------------------------------------------------

TEST_CASE("nslab lesson 1 --record writes a cast that asciinema plays, without waiting for it") {
  if (!testing::is_root()) {
    testing::skip("lesson 1's box uses --uts, which needs root");
    return;
  }
  REQUIRE_MESSAGE(testing::have_program("asciinema"),
                  "asciinema is missing: apt-get install asciinema (./nslab.sh test does)");
  testing::TempDir dir;
  // The recording holds more than 30 s of lesson; made in real time it would not end within
  // the 25 s this run is given (a bound for a hang, not a measure: bench/ measures speed).
  auto r = testing::run({testing::bin("nslab"), "lesson", "1", "--record", dir / "one.cast"},
                        {.timeout = std::chrono::seconds(25)});
  INFO(r.out, r.err);
  REQUIRE(r.status() == 0);
  CHECK(r.out.find("asciinema play " + (dir / "one.cast")) != std::string::npos);

  auto lines = lines_of_file(dir / "one.cast");
  REQUIRE(lines.size() > 20);
  CHECK(lines[0].find(R"("version": 2)") != std::string::npos);
  CHECK(lines[0].find(R"("title": "Lesson 1 · UTS namespace)") != std::string::npos);
  std::regex event(R"(^\[[0-9]+\.[0-9]{3}, "o", ".*"\]$)");
  for (size_t i = 1; i < lines.size(); ++i) {
    INFO(lines[i]);
    CHECK(std::regex_match(lines[i], event));
  }
  // The recorded time comes from the pacing model: a minute of lesson, made in a few seconds.
  double recorded_s = std::stod(event_times(lines).back().substr(1));
  CHECK(recorded_s > 30);

  // asciinema reads it back (`cat` wants a terminal, as a person would have).
  testing::PtySession cat({"asciinema", "cat", dir / "one.cast"});
  CHECK(cat.expect("Lesson 1 · UTS namespace", std::chrono::seconds(20)));
  CHECK(cat.expect("root@tinyhost", std::chrono::seconds(20)));
  CHECK(cat.expect("Challenge passed.", std::chrono::seconds(20)));
  CHECK(cat.wait_exit(std::chrono::seconds(20)) == 0);

  // A second recording of the same lesson has the same timing, event for event.
  auto again = testing::run({testing::bin("nslab"), "lesson", "1", "--record", dir / "two.cast"},
                            {.timeout = std::chrono::seconds(60)});
  REQUIRE(again.status() == 0);
  CHECK(event_times(lines_of_file(dir / "two.cast")) == event_times(lines));
}

TEST_CASE("a recording holds where the lesson says <!-- pause 30s -->, and on its verdicts") {
  // The fixture lesson without isolation runs as anyone; its two copies differ by one line.
  testing::TempDir plain_dir, paused_dir;
  std::string lesson = testing::read_file(FIXTURES_DIR "/04-passes.md");
  std::string marker = "```host\n";
  size_t at = lesson.find(marker);
  REQUIRE(at != std::string::npos);
  std::string paused = lesson.substr(0, at) + "<!-- pause 30s -->\n\n" + lesson.substr(at);
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  };
  write(plain_dir / "01-fixture.md", lesson);
  write(paused_dir / "01-fixture.md", paused);
  auto record = [](const std::string& dir) {
    auto r = testing::run({testing::bin("nslab"), "lesson", "1", "--dir", dir, "--record",
                           dir + "/one.cast"},
                          {.timeout = std::chrono::seconds(60)});
    INFO(r.out, r.err);
    REQUIRE(r.status() == 0);
    return lines_of_file(dir + "/one.cast");
  };
  auto plain = record(plain_dir.path);
  auto held = record(paused_dir.path);
  auto end = [](const std::vector<std::string>& lines) {
    return std::stod(event_times(lines).back().substr(1));
  };
  CHECK(end(held) - end(plain) == doctest::Approx(30).epsilon(0.01));
  // The comment itself is never shown.
  for (const auto& line : held) CHECK(line.find("pause 30s") == std::string::npos);
  // After a verdict the recording waits before the next event: at least 2 seconds.
  bool verdict_seen = false;
  for (size_t i = 1; i + 1 < plain.size() && !verdict_seen; ++i) {
    if (plain[i].find("✓") == std::string::npos) continue;
    verdict_seen = true;
    double now = std::stod(plain[i].substr(1));
    double next = std::stod(plain[i + 1].substr(1));
    CHECK(next - now >= 2.0);
  }
  CHECK(verdict_seen);
}

TEST_CASE("--record into a folder that does not exist is refused before a box starts") {
  auto r =
      testing::run({testing::bin("nslab"), "lesson", "1", "--record", "/nonexistent-nslab/x.cast"},
                   {.timeout = std::chrono::seconds(10)});
  CHECK(r.status() == 2);
  CHECK(r.err ==
        "nslab lesson: cannot record to /nonexistent-nslab/x.cast: the folder "
        "/nonexistent-nslab does not exist\n");
  CHECK(r.out.empty());  // not even the lesson's title: nothing started
}
