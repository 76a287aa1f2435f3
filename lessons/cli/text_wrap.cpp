#include "text_wrap.h"
#include "text.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <vector>

namespace nslab::cli {

namespace {

bool continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

size_t columns(std::string_view s) {
  return text::code_points(s);
}

// The byte offset of column `col` in `s` (s.size() when the text is shorter).
size_t offset_of_column(std::string_view s, size_t col) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (continuation_byte(s[i])) continue;
    if (seen == col) return i;
    ++seen;
  }
  return s.size();
}

// Where the text of a line starts: after its leading spaces and a "12. " step number.
size_t hanging_indent(std::string_view line) {
  size_t i = line.find_first_not_of(' ');
  if (i == std::string_view::npos) return 0;
  size_t j = i;
  while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
  if (j > i && j + 1 < line.size() && line[j] == '.' && line[j + 1] == ' ') {
    i = line.find_first_not_of(' ', j + 1);
    if (i == std::string_view::npos) return 0;
  }
  return i;
}

// Where to end the first piece of `rest` so it takes at most `room` columns.
size_t break_point(std::string_view rest, size_t room) {
  size_t limit = offset_of_column(rest, room);  // the first byte that does not fit
  if (limit >= rest.size()) return rest.size();
  size_t space = rest.rfind(' ', limit);
  if (space != std::string_view::npos && space > 0) return space;
  for (size_t i = limit; i > 0; --i)
    if (rest[i - 1] == '|' || rest[i - 1] == ',') return i;
  return limit;
}

void wrap_line(std::string_view line, size_t width, std::string& out) {
  if (columns(line) <= width) {
    out.append(line);
    return;
  }
  size_t indent = hanging_indent(line);
  // An indent that leaves less than half the width is not worth keeping.
  if (indent > width / 2) indent = 0;
  const std::string pad(indent, ' ');
  bool first = true;
  while (!line.empty()) {
    size_t room = first ? width : width - indent;
    size_t cut = break_point(line, room);
    if (!first) out += pad;
    out.append(line.substr(0, cut));
    line.remove_prefix(cut);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!line.empty()) out += '\n';
    first = false;
  }
}

}  // namespace

std::string wrap_text(std::string_view text, int width) {
  if (width < 20) return std::string(text);
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    wrap_line(line, static_cast<size_t>(width), out);
    if (end == std::string_view::npos) break;
    out += '\n';
    text.remove_prefix(end + 1);
  }
  return out;
}

int terminal_width(int fd) {
  struct winsize ws {};
  if (!::isatty(fd) || ::ioctl(fd, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col;
}

}  // namespace nslab::cli
