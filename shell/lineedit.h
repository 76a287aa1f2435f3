// A small line editor for the interactive prompt: the terminal goes into raw mode (termios(3):
// no line buffering, no echo, no signal keys) while a line is typed, and back when it is done.
// Keys: left/right, Home/End, Ctrl-A/E/B/F, Backspace, Delete, Ctrl-K/U/W, up/down for history,
// Ctrl-L to clear the screen, Ctrl-C to drop the line, Ctrl-D to leave on an empty line.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tinysh {

struct LineRead {
  enum class Kind { Line, Interrupted, EndOfInput };
  Kind kind = Kind::Line;
  std::string text;
};

// What the caller did about a signal that arrived while a line was being typed.
enum class AfterSignal { Continue, Redraw, Stop };

// Reads one line from the terminal `fd`, echoing to it. While waiting, `on_signal` runs whenever
// the signalfd has something: it may print (Redraw draws the line again) or end the read (Stop
// gives EndOfInput).
LineRead read_line(int fd, const std::string& prompt, const std::vector<std::string>& history,
                   const std::function<AfterSignal()>& on_signal);

// The display width of a string: UTF-8 continuation bytes and escape sequences take no column.
size_t display_width(std::string_view text);

}  // namespace tinysh
