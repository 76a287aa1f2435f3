// Text helpers the screen tests share: the lines of an output and the output without colors.
#pragma once

#include <string>
#include <vector>

namespace testing {

// The lines of `text` without their line ends; a final line end adds no empty line.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// `text` without its SGR sequences (ESC [ ... m), as a terminal without colors would show it.
inline std::string without_colors(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      size_t m = text.find('m', i);
      if (m == std::string::npos) break;
      i = m;
      continue;
    }
    out += text[i];
  }
  return out;
}

// The first line of `text` that holds `part`, or "" when none does.
inline std::string line_with(const std::string& text, const std::string& part) {
  for (const auto& l : split_lines(text))
    if (l.find(part) != std::string::npos) return l;
  return {};
}

}  // namespace testing
