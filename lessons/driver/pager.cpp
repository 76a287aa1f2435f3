#include "pager.h"

#include <algorithm>
#include <vector>

namespace nslab::lessons {

size_t RowCounter::feed_until(std::string_view text, int limit) {
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (escape_ == 1) {  // after ESC: '[' starts a CSI sequence, anything else ends it
      escape_ = c == '[' ? 2 : 0;
      continue;
    }
    if (escape_ == 2) {  // parameters until the final byte, '@' to '~'
      if (c >= 0x40 && c <= 0x7e) escape_ = 0;
      continue;
    }
    if (c == 0x1b) {
      escape_ = 1;
    } else if (c == '\n') {
      ++rows_;
      column_ = 0;
      if (rows_ >= limit) return i + 1;
    } else if (c == '\r') {
      column_ = 0;
    } else if (c == '\t') {
      column_ = std::min(width_, (column_ / 8 + 1) * 8);
    } else if (c >= 0x20 && (c & 0xC0) != 0x80) {  // a character's first byte takes a column
      if (column_ >= width_) {  // the terminal wraps before drawing it
        ++rows_;
        column_ = 0;
        if (rows_ >= limit) return i;
      }
      ++column_;
    }
  }
  return std::string_view::npos;
}

namespace {

int columns(std::string_view text) {
  int n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string fit_keys_line(std::string_view line, int width) {
  constexpr std::string_view dot = " · ";
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    size_t next = line.find(dot, at);
    parts.push_back(line.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) break;
    at = next + dot.size();
  }
  auto joined = [&] {
    std::string out;
    for (auto p : parts) out += (out.empty() ? "" : std::string(dot)) + std::string(p);
    return out;
  };
  std::string out = joined();
  // One column to spare: a line that ends in the last column leaves some terminals' cursor
  // on the next.
  while (columns(out) > width - 1 && parts.size() > 2) {
    parts.erase(parts.end() - 2);
    out = joined();
  }
  while (columns(out) > width - 1 && !out.empty()) {
    size_t cut = out.size() - 1;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.erase(cut);
  }
  return out;
}

}  // namespace nslab::lessons
