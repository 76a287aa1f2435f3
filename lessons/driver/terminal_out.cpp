#include "terminal_out.h"

#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "asciicast.h"

namespace nslab::lessons {

std::string without_sgr(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      size_t j = i + 2;
      while (j < text.size() && ((text[j] >= '0' && text[j] <= '9') || text[j] == ';')) ++j;
      if (j < text.size() && text[j] == 'm') {
        i = j;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string with_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

bool color_wanted(bool is_terminal, const char* no_color_env) {
  return is_terminal && (no_color_env == nullptr || *no_color_env == '\0');
}

std::chrono::milliseconds Pacing::key_delay(size_t index, std::string_view key_text) {
  // A fixed hash of the position, not a random generator: 0.6x to 1.4x the base delay, and a
  // small hesitation before each word.
  uint32_t h = static_cast<uint32_t>(index + 1) * 2654435761u;
  int spread = static_cast<int>((h >> 16) % 81);  // 0..80
  auto delay = key * (60 + spread) / 100;
  if (key_text == " ") delay += 40ms;
  return std::chrono::duration_cast<std::chrono::milliseconds>(delay);
}

std::chrono::milliseconds Pacing::reading(std::string_view prose) {
  size_t words = 0;
  bool in_word = false;
  for (char c : prose) {
    bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  auto t = 1000ms + 40ms * static_cast<int>(words);
  return std::min<std::chrono::milliseconds>(t, 6000ms);
}

namespace {

volatile std::sig_atomic_t g_resizes = 0;
std::sig_atomic_t g_resizes_seen = 0;  // by width(): the size was read after that many

void on_winch(int) {
  g_resizes = g_resizes + 1;
}

}  // namespace

int terminal_resizes() {
  return g_resizes;
}

TerminalOut::TerminalOut(Options options, CastWriter* cast) : options_(options), cast_(cast) {
  if (options_.speed <= 0) options_.speed = 1;
  rows_.set_width(options_.width);
  if (options_.follow_size) {
    struct ::sigaction sa {};
    sa.sa_handler = on_winch;
    sigemptyset(&sa.sa_mask);
    // A read of a key goes on after a resize; a pause (nanosleep) returns EINTR and pause()
    // sleeps the rest.
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGWINCH, &sa, &old_winch_);
    g_resizes_seen = g_resizes;
  }
}

TerminalOut::~TerminalOut() {
  if (options_.follow_size) ::sigaction(SIGWINCH, &old_winch_, nullptr);
}

int TerminalOut::width() const {
  if (options_.follow_size && g_resizes != g_resizes_seen) {
    g_resizes_seen = g_resizes;
    winsize ws{};
    if (::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
      options_.width = ws.ws_col;
      if (options_.height > 0) options_.height = ws.ws_row;
      rows_.set_width(options_.width);
    }
  }
  return options_.width;
}

int TerminalOut::page_rows() const {
  width();  // a resize changes the height too
  // The rows above the one the "more" line takes.
  return options_.height - 1;
}

bool TerminalOut::color() const {
  return cast_ ? options_.cast_color : options_.stdout_color;
}

void TerminalOut::to_stdout(std::string_view text) {
  if (!options_.to_stdout || stdout_broken_) return;
  std::string plain;
  if (!options_.stdout_color) {
    plain = without_sgr(text);
    text = plain;
  }
  while (!text.empty()) {
    ssize_t n = ::write(1, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      stdout_broken_ = true;
      return;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

void TerminalOut::paged_to_stdout(std::string_view text) {
  if (muted_) return;
  if (options_.height < 3 || !more_) {
    to_stdout(text);
    return;
  }
  while (!text.empty() && !stdout_broken_) {
    // The screen is full since the last key: the student reads it before more comes. (Only
    // when there is more: the end of a lesson does not wait.)
    if (rows_.rows() >= page_rows()) more_();
    size_t cut = rows_.feed_until(text, page_rows());
    if (cut == std::string_view::npos || cut == text.size()) {
      to_stdout(text);
      return;
    }
    to_stdout(text.substr(0, cut));
    text.remove_prefix(cut);
  }
}

void TerminalOut::replay(std::string_view transcript) {
  std::string* sink = transcript_;
  transcript_ = nullptr;
  paged_to_stdout(transcript);
  transcript_ = sink;
}

void TerminalOut::write(std::string_view text) {
  if (text.empty()) return;
  if (transcript_) transcript_->append(text);
  paged_to_stdout(text);
  if (cast_) {
    std::string crlf = with_crlf(text);
    cast_->output(clock_s_, options_.cast_color ? crlf : without_sgr(crlf));
  }
}

void TerminalOut::type(std::string_view keys) {
  if (!options_.paced) {
    write(keys);
    return;
  }
  size_t index = 0;
  for (size_t i = 0; i < keys.size();) {
    // One character at a time, UTF-8 sequences whole.
    size_t n = 1;
    while (i + n < keys.size() && (static_cast<unsigned char>(keys[i + n]) & 0xC0) == 0x80) ++n;
    std::string_view key = keys.substr(i, n);
    if (!pause(Pacing::key_delay(index++, key))) return;  // a signal: the caller stops
    write(key);
    i += n;
  }
}

bool TerminalOut::pause(std::chrono::milliseconds at_speed_one) {
  if (!options_.paced || at_speed_one.count() <= 0) return true;
  double seconds = at_speed_one.count() / 1000.0 / options_.speed;
  clock_s_ += seconds;
  if (!options_.wait_for_real) return true;
  timespec left{};
  left.tv_sec = static_cast<time_t>(seconds);
  left.tv_nsec = static_cast<long>((seconds - static_cast<double>(left.tv_sec)) * 1e9);
  for (;;) {
    int resizes = g_resizes;
    if (::nanosleep(&left, &left) == 0) return true;
    // A resize only: sleep the rest. Another signal (Ctrl-C): the caller decides what it means.
    if (errno != EINTR || g_resizes == resizes) return false;
  }
}

}  // namespace nslab::lessons
