// Guided and auto modes: the pure parts (prose wrapping, the prompt read back from the box's
// terminal, the live shell's way back, host script prompts, colors, pacing), then `nslab
// lesson 1` on a pseudo-terminal as a student would take it (root): steps, a live shell and
// back, the challenge done by hand or left undone, Ctrl-C; and without a terminal.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "live_shell.h"
#include "process.h"
#include "prose.h"
#include "shown_commands.h"
#include "temp_dir.h"
#include "terminal_out.h"
#include "text_lines.h"

using namespace nslab::lessons;
using namespace std::chrono_literals;

namespace {

using testing::split_lines;

// `nslab` on a pseudo-terminal of its own, 100x40, as a student's terminal emulator would run
// it (like tests/support/pty_session.h, plus the terminal's modes, to see that they come back).
class Student {
 public:
  explicit Student(const std::vector<std::string>& args, int columns = 100, int rows = 40)
      : columns_(columns), rows_(rows) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(columns);
    pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      for (int fd = 3; fd < 1024; ++fd) ::close(fd);
      ::setenv("TERM", "xterm", 1);
      std::vector<std::string> argv = {testing::bin("nslab")};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      ::execv(c[0], c.data());
      ::_exit(127);
    }
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
  }
  ~Student() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    ::close(master_);
  }

  void press(std::string_view keys) {
    while (!keys.empty()) {
      ssize_t n = ::write(master_, keys.data(), keys.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      keys.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Waits until `text` appears (colors aside) after what the last call found. A step longer
  // than the screen stops at a "more" line: the student reads on with Space, unless told not to.
  bool sees(std::string_view text, std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t at = screen_.find(text, matched_);
      if (at != std::string::npos) {
        matched_ = at + text.size();
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      pump(50ms);
      if (pages_on_) {
        size_t more = screen_.find("-- more --", std::max(matched_, more_seen_));
        if (more != std::string::npos) {
          more_seen_ = more + 1;
          ++mores_;
          press(" ");
        }
      }
    }
  }
  void pages_on(bool on) { pages_on_ = on; }
  int mores() const { return mores_; }  // the more lines read on from
  void resize(int columns, int rows) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(rows);
    ws.ws_col = static_cast<unsigned short>(columns);
    ::ioctl(master_, TIOCSWINSZ, &ws);  // the kernel sends SIGWINCH to the foreground group
    columns_ = columns;
    rows_ = rows;
  }
  // The lines of the screen written after what the last call found, colors aside.
  std::vector<std::string> lines_since(size_t from) const {
    std::vector<std::string> lines;
    std::string line;
    for (size_t i = from; i < screen_.size(); ++i) {
      char c = screen_[i];
      if (c == '\r') continue;
      if (c == '\n') {
        lines.push_back(line);
        line.clear();
      } else {
        line += c;
      }
    }
    lines.push_back(line);
    return lines;
  }
  size_t position() const { return matched_; }
  pid_t pid() const { return pid_; }

  // Waits for `prefix` followed by a number and the end of its line; the number.
  std::optional<int> sees_number_after(const std::string& prefix,
                                       std::chrono::milliseconds timeout = 20s) {
    std::regex pattern(prefix + "([0-9]+)\r");
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::smatch m;
      std::string rest = screen_.substr(matched_);
      if (std::regex_search(rest, m, pattern)) {
        matched_ += static_cast<size_t>(m.position(0) + m.length(0));
        return std::stoi(m[1]);
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      pump(50ms);
    }
  }
  const std::string& screen() const { return screen_; }

  int exit_status(std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reaped_) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      pump(20ms);
    }
    pump(0ms);
    return status_;
  }

  // The modes of the terminal (the master end reports those of its line discipline).
  tcflag_t local_modes() const {
    termios t{};
    ::tcgetattr(master_, &t);
    return t.c_lflag;
  }

 private:
  void pump(std::chrono::milliseconds timeout) {
    pollfd p = {master_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return;
    char buf[4096];
    ssize_t n = ::read(master_, buf, sizeof buf);
    if (n <= 0) return;
    raw_.append(buf, static_cast<size_t>(n));
    screen_ = without_sgr(raw_);  // what the student reads, colors aside
  }

  int columns_, rows_;
  bool pages_on_ = true;
  size_t more_seen_ = 0;
  int mores_ = 0;
  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
  std::string raw_;
  std::string screen_;
  size_t matched_ = 0;
};

// In the live shell of a lesson 1 box (no PID namespace): its shell's PID on the host.
pid_t ask_box_pid(Student& s) {
  s.press("echo box'-'pid $$\r");
  auto pid = s.sees_number_after("box-pid ");
  REQUIRE(pid);
  return *pid;
}

}  // namespace

// --- Pure parts ---------------------------------------------------------------------------------

TEST_CASE(
    "prose is wrapped to the width, list items hang, code blocks stay as written") {
  std::string md =
      "A UTS namespace holds two strings: the host name and the NIS domain name, nothing else "
      "at all.\n"
      "\n"
      "- What you saw: the same `hostname` probe answered differently inside and outside the "
      "box.\n"
      "- Short.\n"
      "\n"
      "| probe | reads |\n"
      "|-------|-------|\n"
      "\n"
      "```text\n"
      "a line in a documentation block that is longer than forty columns, kept\n"
      "```\n";
  std::string out = wrap_prose(md, 40, false);
  auto lines = split_lines(out);
  INFO(out);
  for (const auto& l : lines) {
    if (l.rfind("    a line", 0) == 0) continue;  // the block, as written
    CHECK(text_columns(l) <= 40);
  }
  CHECK(lines[0] == "A UTS namespace holds two strings: the");
  CHECK(out.find("\n- What you saw: the same `hostname`\n  probe") != std::string::npos);
  CHECK(out.find("\n- Short.\n") != std::string::npos);
  CHECK(out.find("\n  probe  reads\n  ────────────\n") != std::string::npos);  // a table
  CHECK(out.find("\n    a line in a documentation block that is longer than forty columns, "
                 "kept\n") != std::string::npos);
  CHECK(out.find("```") == std::string::npos);
  // Paragraphs stay apart by one blank line.
  CHECK(out.find("at all.\n\n- What") != std::string::npos);
}

TEST_CASE(
    "on a color terminal code is shown in color without its backticks and plain text keeps them") {
  std::string md = "Run `nslab run --uts` and **look** at it.";
  std::string plain = wrap_prose(md, 80, false);
  CHECK(plain == "Run `nslab run --uts` and **look** at it.\n");
  std::string color = wrap_prose(md, 80, true);
  CHECK(color.find('`') == std::string::npos);
  CHECK(color.find("**") == std::string::npos);
  CHECK(color.find(std::string(sgr::cyan) + "nslab") != std::string::npos);
  CHECK(without_sgr(color) == "Run nslab run --uts and look at it.\n");
  // Widths count what is shown, not the marks: this fits 35 columns in color only.
  CHECK(split_lines(wrap_prose(md, 35, true)).size() == 1);
  CHECK(split_lines(wrap_prose(md, 35, false)).size() == 2);
}

TEST_CASE("the prompt of the newest command is read between the last two marker answers") {
  // What tinysh draws: the marker answer, the prompt, the line editor's redraw while the keys
  // arrive, the output, the next prompt with the typed marker command, its answer.
  std::string raw =
      "tinysh: type 'help'\r\nroot@tinyhost:/# \rroot@tinyhost:/# echo ::nslab:\"0\":$?\x1b[K\r\n"
      "::nslab:0:0\r\n"
      "root@tinyhost:/# \rroot@tinyhost:/# h\x1b[K\r\x1b[18C"
      "\rroot@tinyhost:/# hostname\x1b[K\r\x1b[25C\r\n"
      "tinyhost\r\n"
      "root@tinyhost:/# \rroot@tinyhost:/# echo ::nslab:\"1\":$?\x1b[K\r\n"
      "::nslab:1:0\r\n"
      "root@tinyhost:/# ";
  auto line = last_prompt_line(raw, "hostname");
  CHECK(line.prompt == "root@tinyhost:/# ");
  CHECK(line.command == "hostname");

  // After a rename, the next command's prompt says so.
  std::string next = raw +
                     "\rroot@tinyhost:/# hostname classroom\x1b[K\r\n"
                     "root@classroom:/# \rroot@classroom:/# echo ::nslab:\"2\":$?\x1b[K\r\n"
                     "::nslab:2:0\r\n"
                     "root@classroom:/# \rroot@classroom:/# hostname\x1b[K\r\n"
                     "classroom\r\n"
                     "root@classroom:/# \rroot@classroom:/# echo ::nslab:\"3\":$?\x1b[K\r\n"
                     "::nslab:3:0\r\n";
  CHECK(last_prompt_line(next, "hostname").prompt == "root@classroom:/# ");

  // Controls: the typed marker line is no answer (it has quotes), and a line that does not end
  // with the command gives no prompt.
  CHECK(last_prompt_line("root@x:/# echo ::nslab:\"1\":$?\r\n::nslab:1:0\r\n", "hostname")
            .prompt.empty());
  CHECK(last_prompt_line(raw, "ls").prompt.empty());
}

TEST_CASE(
    "the way back from the live shell: its escape key, exit alone on its line, Ctrl-D on an empty "
    "one") {
  CHECK(WayBack().feed("\x1d") == 0);
  CHECK(WayBack().feed("ls\x1d") == 2);
  CHECK(WayBack().feed("exit\r") == 4);
  CHECK(WayBack().feed("  exit 3\r") == 8);
  CHECK(WayBack().feed("\x04") == 0);
  {
    WayBack w;  // typed in two reads
    CHECK(w.feed("ex") == std::string_view::npos);
    CHECK(w.feed("it\r") == 2);
  }
  {
    WayBack w;  // corrected with backspace
    CHECK(w.feed("exix\x7ft\r") == 6);
  }
  {
    WayBack w;  // a whole line with Enter, then exit
    CHECK(w.feed("hostname classroom\r") == std::string_view::npos);
    CHECK(w.feed("exit\r") == 4);
  }
}

TEST_CASE("keys that are not the way back all go to the box") {
  auto npos = std::string_view::npos;
  CHECK(WayBack().feed("echo exit\r") == npos);
  CHECK(WayBack().feed("exitcode\r") == npos);
  CHECK(WayBack().feed("ls\x04") == npos);    // Ctrl-D on a line with text deletes a character
  CHECK(WayBack().feed("\x1b[A\r") == npos);  // history: whatever it recalled runs in the box
  {
    WayBack w;  // after an arrow the line is unknown, so exit is the shell's own
    CHECK(w.feed("ls\x1b[Dexit\r") == npos);
    // Ctrl-C drops the line: known again
    CHECK(w.feed("abc\x03"
                 "exit\r") == 8);
  }
}

TEST_CASE("host script lines that continue a command are shown after > instead of host$") {
  CHECK(continuation_lines("hostname\ncat /proc/sys/kernel/hostname\n") ==
        std::vector<bool>{false, false});
  CHECK(continuation_lines("for ns in uts mnt; do\n  echo $ns\ndone\nhostname\n") ==
        std::vector<bool>{false, true, true, false});
  CHECK(continuation_lines("if true; then\n  echo a\nfi\n") ==
        std::vector<bool>{false, true, true});
  CHECK(continuation_lines("ls | \\\n  wc -l\n") == std::vector<bool>{false, true});
  CHECK(continuation_lines("for x in a b; do echo $x; done\nid\n") ==
        std::vector<bool>{false, false});
}

TEST_CASE("a box command and a host script are the same probe only when the host runs it too") {
  CHECK(runs_same_command("hostname", "\"$TINYSH\" -c hostname\n"));
  CHECK(runs_same_command("ls /", "ls /\n"));
  CHECK(runs_same_command("ns", "$TINYSH -c 'ns'"));
  CHECK_FALSE(runs_same_command("hostname renamed", "hostname\n"));
  CHECK_FALSE(runs_same_command("hostname", "hostname\ncat /proc/sys/kernel/hostname\n"));
  CHECK_FALSE(runs_same_command("tcp listen 7000 &", "\"$TINYSH\" -c \"tcp connect x 7000\""));
}

TEST_CASE("colors only on a terminal without NO_COLOR, and the plain text loses only the colors") {
  CHECK(color_wanted(true, nullptr));
  CHECK(color_wanted(true, ""));
  CHECK_FALSE(color_wanted(true, "1"));
  CHECK_FALSE(color_wanted(false, nullptr));
  CHECK(without_sgr("\x1b[1m\x1b[32m✓\x1b[0m ok") == "✓ ok");
  CHECK(without_sgr("\x1b[K kept") == "\x1b[K kept");  // not a color: left alone
  CHECK(with_crlf("a\nb\r\nc\n") == "a\r\nb\r\nc\r\n");
}

TEST_CASE("the typing pace is about 60 ms a key, varies from key to key, and never at random") {
  std::vector<long> delays;
  for (size_t i = 0; i < 20; ++i) delays.push_back(Pacing::key_delay(i, "x").count());
  for (long d : delays) {
    CHECK(d >= 36);
    CHECK(d <= 84);
  }
  CHECK(std::count(delays.begin(), delays.end(), delays.front()) < 20);
  for (size_t i = 0; i < 20; ++i) CHECK(Pacing::key_delay(i, "x").count() == delays[i]);
  CHECK(Pacing::key_delay(3, " ") > Pacing::key_delay(3, "x"));

  TerminalOut::Options unpaced;
  unpaced.to_stdout = false;
  TerminalOut guided(unpaced, nullptr);
  guided.type("hostname");
  guided.pause(1000ms);
  CHECK(guided.seconds() == 0);  // guided mode does not pace
}

// --- nslab lesson on a terminal (root) -----------------------------------------------------------

TEST_CASE("guided lesson 1: steps on Enter, a live shell and back, the challenge done by hand") {
  if (!testing::is_root()) {
    testing::skip("lesson 1's box uses --uts, which needs root");
    return;
  }
  Student s({"lesson", "1"});
  REQUIRE(s.sees("Lesson 1 · UTS namespace"));
  REQUIRE(s.sees("Enter: start"));
  CHECK((s.local_modes() & ICANON) == 0);  // waiting for one key, not a line
  s.press("\r");
  REQUIRE(s.sees("Step 1 of 3"));
  REQUIRE(s.sees("root@tinyhost"));
  REQUIRE(s.sees("inside the box"));  // the box's output beside the host's
  REQUIRE(s.sees("✓ the box's output contains \"tinyhost\""));
  REQUIRE(s.sees("Enter: next step · s: shell in the box"));

  s.press("s");
  REQUIRE(s.sees("The box's shell is yours"));
  REQUIRE(s.sees("root@tinyhost"));
  pid_t box = ask_box_pid(s);
  CHECK(box > 1);
  // Ctrl-C in the live shell goes to the box's command, not to the lesson.
  s.press("echo sleep'ing'; sleep 30\r");
  REQUIRE(s.sees("sleeping"));
  s.press("\x03");
  REQUIRE(s.sees("root@tinyhost", 5s));  // the prompt again: sleep 30 was interrupted
  s.press("echo after'-'sleep\r");
  REQUIRE(s.sees("after-sleep"));
  // Leaving while a command runs: the lesson interrupts it and finds the prompt again.
  s.press("echo sleep'ing'; sleep 30\r");
  REQUIRE(s.sees("sleeping"));
  s.press("\x1d");
  REQUIRE(s.sees("Back in the lesson", 5s));
  REQUIRE(s.sees("Enter: next step"));
  s.press("s");
  REQUIRE(s.sees("root@tinyhost"));
  s.press("exit\r");
  REQUIRE(s.sees("Back in the lesson"));
  auto state = testing::proc_state(box);  // `exit` brought the student back; the box lives on
  CHECK((state && *state != 'Z'));
  REQUIRE(s.sees("Enter: next step"));

  s.press("\r");
  REQUIRE(s.sees("Step 2 of 3"));
  REQUIRE(s.sees("root@tinyhost"));  // the driver's next command runs at a fresh prompt
  REQUIRE(s.sees("✓ the box prints something else than the host"));
  REQUIRE(s.sees("Enter: next step"));
  s.press("\r");
  REQUIRE(s.sees("Step 3 of 3"));
  REQUIRE(s.sees("Enter: the challenge"));
  s.press("\r");
  REQUIRE(s.sees("Challenge"));
  REQUIRE(s.sees("The box's shell is yours: do the challenge"));
  REQUIRE(s.sees("root@renamed-inside"));
  s.press("hostname classroom\r");
  REQUIRE(s.sees("root@classroom"));
  s.press("\x1d");  // Ctrl-]
  REQUIRE(s.sees("The check:"));
  REQUIRE(s.sees("✓ the box's output contains \"classroom\""));
  REQUIRE(s.sees("Challenge passed."));
  REQUIRE(s.sees("Recap"));
  REQUIRE(s.sees("Next: "));
  REQUIRE(s.sees("nslab lesson 2"));
  CHECK(s.exit_status() == 0);
  CHECK(s.screen().find("Not done yet") == std::string::npos);
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(box); }, 10s));
  CHECK((s.local_modes() & (ICANON | ECHO)) == (ICANON | ECHO));
}

namespace {

// The widest line of `lines` that is text (lines carrying cursor movements are skipped).
int widest(const std::vector<std::string>& lines) {
  int most = 0;
  for (const auto& l : lines)
    if (l.find('\x1b') == std::string::npos) most = std::max(most, text_columns(l));
  return most;
}

size_t count_newlines(const std::string& text, size_t from, size_t to) {
  return static_cast<size_t>(std::count(text.begin() + static_cast<long>(from),
                                        text.begin() + static_cast<long>(to), '\n'));
}

}  // namespace

TEST_CASE("guided lesson 1 at 80x24: a step pages, r and b show steps again, a resize re-wraps") {
  // Lesson 1 runs as any user (its boxes have --user): as root, and as anyone else.
  Student s({"lesson", "1"}, 80, 24);
  s.pages_on(false);
  REQUIRE(s.sees("Enter: start"));
  s.press("\r");
  REQUIRE(s.sees("Step 1 of 3"));
  size_t step_line = s.position();
  // Step 1 (the probe table, the side by side) is longer than 23 rows: it stops while its
  // heading is still on the screen.
  REQUIRE(s.sees("-- more --"));
  size_t more = s.position();
  CHECK(count_newlines(s.screen(), step_line, more) <= 22);
  CHECK(s.screen().find("Enter: next step", step_line) == std::string::npos);  // waiting
  CHECK(widest(s.lines_since(step_line)) <= 80);
  s.press(" ");
  REQUIRE(s.sees("Enter: next step"));
  size_t hint = s.screen().rfind("Enter: next step");
  CHECK(s.screen().find('\n', hint) == std::string::npos);  // one line, not wrapped
  // r: the step again, paged the same way.
  s.press("r");
  REQUIRE(s.sees("Again: step 1"));
  REQUIRE(s.sees("-- more --"));
  s.press(" ");
  REQUIRE(s.sees("End of step 1"));
  REQUIRE(s.sees("Enter: next step"));
  // b: the introduction, the screen before step 1.
  s.press("b");
  REQUIRE(s.sees("Again: the introduction"));
  REQUIRE(s.sees("Lesson 1 · UTS namespace"));
  REQUIRE(s.sees("End of the introduction"));
  REQUIRE(s.sees("Enter: next step"));
  // ?: every key, said once.
  s.press("?");
  REQUIRE(s.sees("this step again"));
  REQUIRE(s.sees("Enter: next step"));
  // The control: at 80 columns the prose fills lines wider than 60.
  CHECK(widest(s.lines_since(step_line)) > 60);
  // A projector at 60x20: the next step is wrapped and paged for it.
  s.resize(60, 20);
  s.press("\r");
  REQUIRE(s.sees("Step 2 of 3"));
  size_t step2 = s.position();
  REQUIRE(s.sees("-- more --"));
  CHECK(count_newlines(s.screen(), step2, s.position()) <= 18);
  CHECK(widest(s.lines_since(step2)) <= 60);
  s.press("q");
  CHECK(s.exit_status() == 0);
}

TEST_CASE("a box killed from the host mid-lesson: the lesson stops at once and offers it again") {
  Student s({"lesson", "1"});
  REQUIRE(s.sees("Enter: start"));
  s.press("\r");
  REQUIRE(s.sees("Enter: next step"));
  // The runner of the box: the child of nslab that runs `nslab run`.
  std::string children = testing::read_file(
      "/proc/" + std::to_string(s.pid()) + "/task/" + std::to_string(s.pid()) + "/children");
  pid_t runner = 0;
  for (const auto& word : split_lines(children + "\n")) {
    std::istringstream in(word);
    for (pid_t p; in >> p;)
      if (testing::read_file("/proc/" + std::to_string(p) + "/cmdline").find("run") !=
          std::string::npos)
        runner = p;
  }
  REQUIRE(runner > 0);
  REQUIRE(::kill(runner, SIGKILL) == 0);
  s.press("\r");
  REQUIRE(s.sees("The lesson could not go on", 5s));  // no wait for a command timeout
  REQUIRE(s.sees("Start it again with: "));
  CHECK(s.exit_status() == 1);
  CHECK(s.screen().find("Next: ") == std::string::npos);
}

TEST_CASE("guided lesson 1: a challenge left undone is not passed, and the driver says so") {
  if (!testing::is_root()) {
    testing::skip("lesson 1's box uses --uts, which needs root");
    return;
  }
  Student s({"lesson", "1"});
  for (auto key :
       {"Enter: start", "Enter: next step", "Enter: next step", "Enter: the challenge"}) {
    REQUIRE(s.sees(key));
    s.press("\r");
  }
  REQUIRE(s.sees("The box's shell is yours: do the challenge"));
  REQUIRE(s.sees("root@renamed-inside"));
  s.press("hostname");  // typed, never run: Ctrl-] drops the half-typed line
  s.press("\x1d");
  REQUIRE(s.sees("✗ the box's output contains \"classroom\""));
  REQUIRE(s.sees("Not done yet. The check wants: the box's output contains \"classroom\""));
  REQUIRE(s.sees("Enter: try again · s: show the solution · q: move on"));
  s.press("s");
  REQUIRE(s.sees("hostname classroom"));
  REQUIRE(s.sees("Enter: try again"));
  s.press("q");
  REQUIRE(s.sees("The challenge is still open"));
  CHECK(s.exit_status() == 1);
  CHECK(s.screen().find("Challenge passed") == std::string::npos);
}

TEST_CASE("Ctrl-C at a pause ends the lesson with 130, ends the box and restores the terminal") {
  if (!testing::is_root()) {
    testing::skip("lesson 1's box uses --uts, which needs root");
    return;
  }
  Student s({"lesson", "1"});
  REQUIRE(s.sees("Enter: start"));
  s.press("\r");
  REQUIRE(s.sees("Enter: next step"));
  s.press("s");
  REQUIRE(s.sees("root@tinyhost"));
  pid_t box = ask_box_pid(s);
  s.press("\x1d");
  REQUIRE(s.sees("Enter: next step"));
  // The control: while nslab waits for a key the terminal is not in its usual mode.
  CHECK((s.local_modes() & (ICANON | ECHO)) != (ICANON | ECHO));
  s.press("\x03");
  REQUIRE(s.sees("Interrupted; the box is gone."));
  CHECK(s.exit_status() == 130);
  CHECK((s.local_modes() & (ICANON | ECHO)) == (ICANON | ECHO));
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(box); }, 10s));
}

TEST_CASE("Ctrl-C during --auto ends the lesson with 130 and the box with it") {
  if (!testing::is_root()) {
    testing::skip("lesson 1's box uses --uts, which needs root");
    return;
  }
  Student s({"lesson", "1", "--auto", "--speed", "4"});
  REQUIRE(s.sees("Step 1 of 3"));
  REQUIRE(s.sees("root@tinyhost"));
  s.press("\x03");
  REQUIRE(s.sees("Interrupted; the box is gone."));
  CHECK(s.exit_status() == 130);
  CHECK(s.screen().find("Step 2 of 3") == std::string::npos);
}

TEST_CASE("guided mode without a terminal exits 2 at once and says what to use instead") {
  // Waiting for a key that cannot come would end in the run's timeout, not with status 2.
  auto r = testing::run({testing::bin("nslab"), "lesson", "1"}, {.timeout = 10s});
  CHECK(r.status() == 2);
  CHECK(r.err.find("stdin is not a terminal") != std::string::npos);
  CHECK(r.err.find("nslab lesson 1 --auto") != std::string::npos);
  CHECK(r.err.find("nslab check 1") != std::string::npos);
}

TEST_CASE("--auto without a terminal plays the whole lesson, in plain text") {
  if (!testing::is_root()) {
    testing::skip("lesson 1's box uses --uts, which needs root");
    return;
  }
  auto r = testing::run({testing::bin("nslab"), "lesson", "1", "--auto", "--speed", "50"},
                        {.timeout = 60s});
  INFO(r.out, r.err);
  CHECK(r.status() == 0);
  CHECK(r.out.find("Challenge passed.") != std::string::npos);
  CHECK(r.out.find("root@tinyhost:") != std::string::npos);
  CHECK(r.out.find("host$ hostname") != std::string::npos);
  CHECK(r.out.find('\x1b') == std::string::npos);
}

TEST_CASE("a box block of several commands compared with the host is one column beside it") {
  testing::TempDir dir;
  std::ofstream(dir.path + "/01-blocks.md") << R"(# Lesson 1 · Two commands, one comparison

## Both lines

```flags
```

```box
echo first-line
echo second-line
```

```host
printf 'first-line\nsecond-line\n'
```

```expect
box same as host
```

## Recap

Nothing.

## Challenge

Nothing to do.

```solution
true
```

```box
echo done
```

```expect
box contains done
```
)";
  auto r = testing::run({testing::bin("nslab"), "lesson", "1", "--dir", dir.path, "--auto",
                         "--speed", "50"},
                        {.timeout = 60s});
  INFO(r.out, r.err);
  REQUIRE(r.status() == 0);
  // Each line of the box's block beside the same line of the host's.
  auto row = [&](const std::string& text) {
    for (const auto& line : split_lines(r.out))
      if (line.find(text) != std::string::npos && line.find("│") != std::string::npos)
        return line;
    return std::string();
  };
  CHECK(row("first-line").find("first-line") < row("first-line").find("│"));
  CHECK(row("first-line").rfind("first-line") > row("first-line").find("│"));
  CHECK(row("second-line").find("second-line") < row("second-line").find("│"));
  CHECK(row("second-line").rfind("second-line") > row("second-line").find("│"));
}

TEST_CASE("the challenge's check runs once, so a check that removes what it found still passes") {
  // Lesson 0's check looks for a directory the box made on the host and removes it: a second
  // run of the check would find nothing and fail the lesson.
  auto r = testing::run({testing::bin("nslab"), "lesson", "0", "--auto", "--speed", "50"},
                        {.timeout = 60s});
  INFO(r.out, r.err);
  CHECK(r.status() == 0);
  size_t passed = r.out.find("Challenge passed.");
  CHECK(passed != std::string::npos);
  CHECK(r.out.find("The check:") == r.out.rfind("The check:"));
}

TEST_CASE("nslab COMMAND builds only that command's flags, and a mistake is still explained") {
  // `nslab run` makes run's options alone; a command line that does not parse is parsed again
  // with every command, so the message names the nearest flag as it always did.
  auto typo = testing::run({testing::bin("nslab"), "run", "--utss"});
  INFO(typo.out, typo.err);
  CHECK(typo.status() == 2);
  CHECK(typo.err.find("nslab run: there is no flag --utss") != std::string::npos);
  CHECK(typo.err.find("did you mean --uts?") != std::string::npos);
  auto run = testing::run({testing::bin("nslab"), "run", "-c", "echo built-alone"});
  CHECK(run.status() == 0);
  CHECK(run.out.find("built-alone") != std::string::npos);
  auto explain = testing::run({testing::bin("nslab"), "explain", "--uts", "--hostname", "h1"});
  CHECK(explain.status() == 0);
  CHECK(explain.out.find("sethostname(\"h1\")") != std::string::npos);
  // Control: another command's flag is still refused, with that command named.
  auto wrong = testing::run({testing::bin("nslab"), "ps", "--uts"});
  CHECK(wrong.status() == 2);
  CHECK(wrong.err.find("nslab ps: there is no flag --uts") != std::string::npos);
}

TEST_CASE("nslab with no arguments lists the lessons and the command to start") {
  auto r = testing::run({testing::bin("nslab")}, {.timeout = 10s});
  INFO(r.out, r.err);
  CHECK(r.status() == 0);
  CHECK(r.out.find("UTS namespace: a hostname of its own") != std::string::npos);
  CHECK(r.out.find("No isolation") != std::string::npos);
  CHECK(r.out.find("nslab lesson 1 ") != std::string::npos);
  CHECK(r.out.find("--auto") != std::string::npos);
  CHECK(r.out.find("--record") != std::string::npos);
  // The control: a subcommand that does not exist is still an error, said in plain words.
  CHECK(testing::run({testing::bin("nslab"), "no-such-command"}).status() == 2);
  auto slip = testing::run({testing::bin("nslab"), "lesson", "abc"});
  CHECK(slip.status() == 2);
  CHECK(slip.err.find("the lesson number takes a number, not 'abc'") != std::string::npos);
  auto typo = testing::run({testing::bin("nslab"), "lsson"});
  CHECK(typo.status() == 2);
  CHECK(typo.err.find("did you mean lesson?") != std::string::npos);
  // `nslab help` alone lists the commands, not the help of `help`.
  auto all = testing::run({testing::bin("nslab"), "help"});
  CHECK(all.status() == 0);
  CHECK(all.out.find("Usage: nslab [OPTIONS] [SUBCOMMAND]") != std::string::npos);
  CHECK(all.out.find("  lesson ") != std::string::npos);
  CHECK(all.out.find("Usage: nslab help") == std::string::npos);
  auto help = testing::run({testing::bin("nslab"), "help", "doctor"});
  CHECK(help.status() == 0);
  CHECK(help.out.find("--color") != std::string::npos);
  auto version = testing::run({testing::bin("nslab"), "--version"});
  CHECK(version.status() == 0);
  CHECK(version.out.starts_with("nslab "));
}

TEST_CASE("without root a lesson whose boxes need it says so and how to run it") {
  if (!testing::is_root() || !testing::have_program("setpriv")) {
    testing::skip("needs root to become another user, with setpriv");
    return;
  }
  // From "/", where the way to call nslab is its whole path (it is not on PATH).
  auto as_nobody = [](std::vector<std::string> args, std::string cwd = "/") {
    std::vector<std::string> argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                     testing::bin("nslab")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run(argv, {.timeout = 20s, .cwd = cwd});
  };
  // Lesson 4 maps a range of ids: root's, or a user's own from /etc/subuid, and nobody has none.
  auto r = as_nobody({"lesson", "4", "--auto"});
  if (r.status() == 126 || r.status() == 127) {
    testing::skip("nobody cannot run " + testing::bin("nslab") + " here");
    return;
  }
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(r.err.find("lesson 4 needs root here") != std::string::npos);
  CHECK(r.err.find("/etc/subuid") != std::string::npos);  // the reason
  CHECK(r.err.find("sudo " + testing::bin("nslab") + " lesson 4") != std::string::npos);
  CHECK(r.out.empty());
  // From the build directory, the command is what a person types there.
  std::string build_dir = std::filesystem::path(testing::bin("nslab")).parent_path().parent_path();
  auto here = as_nobody({"lesson", "4", "--auto"}, build_dir);
  CHECK(here.err.find("Run it with: sudo bin/nslab lesson 4\n") != std::string::npos);
  // Lesson 7 shows a box without --user: root's alone, whatever ranges a user has.
  auto seven = as_nobody({"lesson", "7", "--auto"});
  CHECK(seven.err.find("without --user need root") != std::string::npos);
  // The control: lesson 1's boxes have a user namespace of their own, so nobody may take it to
  // the end, and the next lesson is offered without sudo.
  auto one = as_nobody({"lesson", "1", "--auto", "--speed", "50"});
  INFO(one.out, one.err);
  CHECK(one.err.find("needs root") == std::string::npos);
  CHECK(one.out.find("Lesson 1") != std::string::npos);
  CHECK(one.out.find("Next: " + testing::bin("nslab") + " lesson 2") != std::string::npos);
  CHECK(one.status() == 0);
}

TEST_CASE("a lesson that does not exist is refused with the way to list them") {
  auto r = testing::run({testing::bin("nslab"), "lesson", "99", "--auto"}, {.timeout = 10s});
  CHECK(r.status() == 2);
  CHECK(r.err.find("there is no lesson 99") != std::string::npos);
  CHECK(r.err.find("nslab lessons") != std::string::npos);
}
