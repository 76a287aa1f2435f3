#include "screen.h"

#include <vector>

namespace nslab::lessons {

namespace {

std::string rstrip(std::string s) {
  size_t end = s.find_last_not_of(' ');
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

}  // namespace

std::string screen_text(std::string_view raw) {
  std::vector<std::string> lines(1);
  size_t col = 0;
  auto put = [&](char c) {
    std::string& line = lines.back();
    if (line.size() < col) line.resize(col, ' ');
    if (col < line.size()) {
      line[col] = c;
    } else {
      line.push_back(c);
    }
    ++col;
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\r') {
      col = 0;
    } else if (c == '\n') {
      lines.emplace_back();
      col = 0;
    } else if (c == '\b') {
      if (col > 0) --col;
    } else if (c == '\t') {
      do put(' ');
      while (col % 8 != 0);
    } else if (c == '\x1b' && i + 1 < raw.size() && raw[i + 1] == '[') {
      // CSI: parameters, then one final byte in @..~
      size_t j = i + 2;
      while (j < raw.size() && (raw[j] < '@' || raw[j] > '~')) ++j;
      if (j == raw.size()) break;
      std::string_view params = raw.substr(i + 2, j - i - 2);
      size_t n = 0;
      for (char p : params) n = (p >= '0' && p <= '9') ? n * 10 + (p - '0') : n;
      if (n == 0) n = 1;
      switch (raw[j]) {
        case 'K':
          if (params.empty() || params == "0")
            if (lines.back().size() > col) lines.back().resize(col);
          break;
        case 'C':
          col += n;
          break;
        case 'D':
          col = col > n ? col - n : 0;
          break;
        default:
          break;
      }
      i = j;
    } else if (c == '\x1b' && i + 1 < raw.size() && raw[i + 1] == ']') {
      // OSC (a window title): up to BEL or ESC backslash
      size_t j = i + 2;
      while (j < raw.size() && raw[j] != '\a' &&
             !(raw[j] == '\x1b' && j + 1 < raw.size() && raw[j + 1] == '\\'))
        ++j;
      i = (j < raw.size() && raw[j] == '\x1b') ? j + 1 : j;
    } else if (c == '\x1b') {
      ++i;  // a two-byte escape such as ESC =
    } else if (static_cast<unsigned char>(c) >= 0x20 || c < 0) {
      put(c);
    }
  }
  std::string out;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k) out += '\n';
    out += rstrip(lines[k]);
  }
  return out;
}

}  // namespace nslab::lessons
