#include "lineedit.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "builtin.h"
#include "init.h"

namespace tinysh {

namespace {

// Raw mode for as long as this object lives.
class RawMode {
 public:
  explicit RawMode(int fd) : fd_(fd) {
    if (::tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
    raw.c_iflag &= ~(IXON | ICRNL | INLCR);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(fd, TCSADRAIN, &raw) == 0;
  }
  ~RawMode() {
    if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
  }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

class Editor {
 public:
  Editor(int fd, const std::string& prompt, const std::vector<std::string>& history)
      : fd_(fd), prompt_(prompt), history_(history), index_(history.size()) {}

  void redraw() {
    std::string s = "\r" + prompt_ + line_ + "\x1b[K\r";
    size_t col = display_width(prompt_) + display_width(std::string_view(line_).substr(0, pos_));
    if (col > 0) s += fmt::format("\x1b[{}C", col);
    write_all(fd_, s);
  }

  // Returns true when the line is finished (enter, Ctrl-C, Ctrl-D on empty).
  bool key(const std::string& k, LineRead& result) {
    if (k == "\r" || k == "\n") {
      write_all(fd_, "\r\n");
      result = {LineRead::Kind::Line, line_};
      return true;
    }
    if (k == "\x03") {  // Ctrl-C
      write_all(fd_, "^C\r\n");
      result = {LineRead::Kind::Interrupted, ""};
      return true;
    }
    if (k == "\x04") {  // Ctrl-D
      if (line_.empty()) {
        write_all(fd_, "\r\n");
        result = {LineRead::Kind::EndOfInput, ""};
        return true;
      }
      erase_forward();
    } else if (k == "\x7f" || k == "\x08") {
      erase_backward();
    } else if (k == "\x01" || k == "\x1b[H" || k == "\x1bOH" || k == "\x1b[1~") {
      pos_ = 0;
    } else if (k == "\x05" || k == "\x1b[F" || k == "\x1bOF" || k == "\x1b[4~") {
      pos_ = line_.size();
    } else if (k == "\x02" || k == "\x1b[D") {
      left();
    } else if (k == "\x06" || k == "\x1b[C") {
      right();
    } else if (k == "\x1b[3~") {
      erase_forward();
    } else if (k == "\x0b") {  // Ctrl-K: cut to the end
      line_.erase(pos_);
    } else if (k == "\x15") {  // Ctrl-U: cut to the start
      line_.erase(0, pos_);
      pos_ = 0;
    } else if (k == "\x17") {  // Ctrl-W: cut the word before the cursor
      size_t p = pos_;
      while (p > 0 && line_[p - 1] == ' ') --p;
      while (p > 0 && line_[p - 1] != ' ') --p;
      line_.erase(p, pos_ - p);
      pos_ = p;
    } else if (k == "\x0c") {  // Ctrl-L
      write_all(fd_, "\x1b[H\x1b[2J");
    } else if (k == "\x1b[A" || k == "\x10") {
      history_move(-1);
    } else if (k == "\x1b[B" || k == "\x0e") {
      history_move(+1);
    } else if (k.size() >= 1 && static_cast<unsigned char>(k[0]) >= 0x20 && k[0] != 0x7f &&
               k[0] != '\x1b') {
      line_.insert(pos_, k);
      pos_ += k.size();
    }
    redraw();
    return false;
  }

 private:
  void left() {
    while (pos_ > 0) {
      --pos_;
      if (!is_continuation(line_[pos_])) break;
    }
  }
  void right() {
    while (pos_ < line_.size()) {
      ++pos_;
      if (pos_ == line_.size() || !is_continuation(line_[pos_])) break;
    }
  }
  void erase_backward() {
    size_t end = pos_;
    left();
    line_.erase(pos_, end - pos_);
  }
  void erase_forward() {
    size_t start = pos_;
    right();
    line_.erase(start, pos_ - start);
    pos_ = start;
  }
  void history_move(int step) {
    if (history_.empty()) return;
    if (index_ == history_.size()) draft_ = line_;
    if (step < 0 && index_ == 0) return;
    if (step > 0 && index_ == history_.size()) return;
    index_ += step;
    line_ = index_ == history_.size() ? draft_ : history_[index_];
    pos_ = line_.size();
  }

  int fd_;
  std::string prompt_;
  const std::vector<std::string>& history_;
  size_t index_;
  std::string line_, draft_;
  size_t pos_ = 0;
};

// Reads one key: a byte, a whole UTF-8 character, or an escape sequence (ESC [ ... final byte).
// After ESC the rest of a sequence arrives at once; a lone ESC is given up after 50 ms.
std::optional<std::string> read_key(int fd) {
  auto byte = [fd](int timeout_ms) -> std::optional<char> {
    if (timeout_ms >= 0) {
      pollfd p = {fd, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    }
    char c;
    for (;;) {
      ssize_t n = ::read(fd, &c, 1);
      if (n == 1) return c;
      if (n < 0 && errno == EINTR) continue;
      return std::nullopt;
    }
  };
  auto first = byte(-1);
  if (!first) return std::nullopt;
  std::string k(1, *first);
  unsigned char u = static_cast<unsigned char>(*first);
  if (*first == '\x1b') {
    auto second = byte(50);
    if (!second) return k;
    k += *second;
    if (*second != '[' && *second != 'O') return k;
    while (auto c = byte(50)) {
      k += *c;
      if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || *c == '~') break;
      if (k.size() > 8) break;
    }
    return k;
  }
  int more = u >= 0xF0 ? 3 : u >= 0xE0 ? 2 : u >= 0xC0 ? 1 : 0;
  while (more-- > 0)
    if (auto c = byte(50)) k += *c;
  return k;
}

}  // namespace

size_t display_width(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !((text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= 'a' && text[i] <= 'z'))) ++i;
      continue;
    }
    if (!is_continuation(text[i])) ++width;
  }
  return width;
}

LineRead read_line(int fd, const std::string& prompt, const std::vector<std::string>& history,
                   const std::function<AfterSignal()>& on_signal) {
  RawMode raw(fd);
  Editor editor(fd, prompt, history);
  editor.redraw();
  LineRead result;
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {signal_fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {LineRead::Kind::EndOfInput, ""};
    }
    if (fds[1].revents & POLLIN) {
      AfterSignal after = on_signal();
      if (after == AfterSignal::Stop) {
        write_all(fd, "\r\n");
        return {LineRead::Kind::EndOfInput, ""};
      }
      if (after == AfterSignal::Redraw) editor.redraw();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      auto key = read_key(fd);
      if (!key) return {LineRead::Kind::EndOfInput, ""};  // the terminal went away
      if (editor.key(*key, result)) return result;
    }
  }
}

}  // namespace tinysh
