// Small text helpers the lesson driver and the command line share: lines, trimming, and the
// width of UTF-8 text on a terminal. Header-only, pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::text {

// `s` without leading and trailing blanks (spaces, tabs, CR, LF).
inline std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The lines of `text` without their line ends; a final line end adds no empty line.
inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// Columns on a terminal, counted as UTF-8 code points: continuation bytes take none.
inline size_t code_points(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// `piece` `times` times over.
inline std::string repeat(std::string_view piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

// `s` without trailing spaces.
inline std::string rstrip(std::string s) {
  size_t end = s.find_last_not_of(' ');
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

}  // namespace nslab::text
