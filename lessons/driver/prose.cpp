#include "prose.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "terminal_out.h"
#include "text.h"

namespace nslab::lessons {

int text_columns(std::string_view text) {
  return static_cast<int>(text::code_points(text));
}

namespace {

using text::split_lines;
using text::starts_with;
using text::trim;

// The marker of a list item ("- ", "* ", "12. ") at the start of `line`, or 0.
size_t list_marker(std::string_view line) {
  if (starts_with(line, "- ") || starts_with(line, "* ") || starts_with(line, "+ ")) return 2;
  size_t d = 0;
  while (d < line.size() && line[d] >= '0' && line[d] <= '9') ++d;
  if (d > 0 && d + 1 < line.size() && line[d] == '.' && line[d + 1] == ' ') return d + 2;
  return 0;
}

// Inline Markdown of one word on a color terminal: `code`, **bold** and *emphasis* lose their
// marks and get a style; the styles may run across words, so each word closes what it opened and the next one
// opens it again.
struct InlineStyle {
  bool code = false;
  bool bold = false;
  bool italic = false;

  std::string open() const {
    std::string s;
    if (code) s += sgr::cyan;
    if (bold) s += sgr::bold;
    if (italic) s += "\x1b[3m";
    return s;
  }

  std::string render(std::string_view word, int& columns) {
    std::string out = open();
    columns = 0;
    for (size_t i = 0; i < word.size(); ++i) {
      char c = word[i];
      if (c == '`') {
        code = !code;
        out += sgr::reset;
        out += open();
        continue;
      }
      if (!code && c == '*' && i + 1 < word.size() && word[i + 1] == '*') {
        bold = !bold;
        ++i;
        out += sgr::reset;
        out += open();
        continue;
      }
      // *emphasis*: a star that opens comes before a letter, one that closes after one; a star
      // alone ("a * b") is a star.
      if (!code && c == '*' && (italic ? i > 0 : i + 1 < word.size())) {
        italic = !italic;
        out += sgr::reset;
        out += open();
        continue;
      }
      out += c;
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++columns;
    }
    if (code || bold || italic) out += sgr::reset;
    return out;
  }
};

// Fills `words` into lines of `width` columns; the first line starts after `first_indent`, the
// others after `indent` spaces.
std::string fill(const std::vector<std::string_view>& words, int width,
                 const std::string& first_indent, const std::string& indent, bool color) {
  InlineStyle style;
  std::string out = first_indent;
  int col = text_columns(first_indent);
  bool line_empty = true;
  for (auto word : words) {
    int w = 0;
    std::string shown = color ? style.render(word, w) : std::string(word);
    if (!color) w = text_columns(word);
    if (!line_empty && col + 1 + w > width) {
      out += '\n';
      out += indent;
      col = static_cast<int>(indent.size());
      line_empty = true;
    }
    if (!line_empty) {
      out += ' ';
      ++col;
    }
    out += shown;
    col += w;
    line_empty = false;
  }
  out += '\n';
  return out;
}

// The words of a cell, split at spaces.
std::vector<std::string_view> words_of(std::string_view text) {
  std::vector<std::string_view> words;
  for (size_t i = 0; i < text.size();) {
    size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) words.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return words;
}

// The cells of a table row "| a | b |", trimmed.
std::vector<std::string_view> table_cells(std::string_view row) {
  std::vector<std::string_view> cells;
  if (starts_with(row, "|")) row.remove_prefix(1);
  if (!row.empty() && row.back() == '|') row.remove_suffix(1);
  for (size_t at = 0;;) {
    size_t bar = row.find('|', at);
    cells.push_back(trim(row.substr(at, bar == std::string_view::npos ? bar : bar - at)));
    if (bar == std::string_view::npos) break;
    at = bar + 1;
  }
  return cells;
}

// The row under a table's header: "|---|:--:|".
bool is_rule_row(const std::vector<std::string_view>& cells) {
  for (auto c : cells)
    if (c.empty() || c.find_first_not_of("-: ") != std::string_view::npos) return false;
  return true;
}

// One cell as shown, with the columns it takes.
struct Cell {
  std::string shown;
  int columns = 0;
};

Cell show_cell(std::string_view text, bool color) {
  if (!color) return {std::string(text), text_columns(text)};
  Cell cell;
  InlineStyle style;
  for (auto w : words_of(text)) {
    int n = 0;
    if (!cell.shown.empty()) {
      cell.shown += ' ';
      ++cell.columns;
    }
    cell.shown += style.render(w, n);
    cell.columns += n;
  }
  return cell;
}

// A Markdown table: in columns under an underlined header when it fits `width`; too wide, each
// row becomes a block, its first cell a title and the others "header: cell", wrapped.
std::string render_table(const std::vector<std::string_view>& lines, int width, bool color) {
  std::vector<std::vector<Cell>> rows;
  std::vector<std::vector<std::string_view>> raw;
  for (auto line : lines) {
    auto cells = table_cells(line);
    if (is_rule_row(cells)) continue;
    raw.push_back(cells);
    std::vector<Cell> shown;
    for (auto c : cells) shown.push_back(show_cell(c, color));
    rows.push_back(std::move(shown));
  }
  if (rows.empty()) return "";
  size_t ncols = 0;
  for (const auto& r : rows) ncols = std::max(ncols, r.size());
  std::vector<int> widths(ncols, 0);
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) widths[c] = std::max(widths[c], r[c].columns);
  int total = 2;
  for (int w : widths) total += w + 2;
  std::string out;
  auto styled_header = [&](const std::string& text) {
    return color ? std::string(sgr::bold) + text + std::string(sgr::reset) : text;
  };
  if (total - 2 <= width) {
    for (size_t r = 0; r < rows.size(); ++r) {
      std::string line = "  ";
      for (size_t c = 0; c < ncols; ++c) {
        const Cell empty;
        const Cell& cell = c < rows[r].size() ? rows[r][c] : empty;
        std::string shown = r == 0 ? styled_header(cell.shown) : cell.shown;
        line += shown;
        if (c + 1 < ncols) line += std::string(static_cast<size_t>(widths[c] - cell.columns + 2), ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
      if (r == 0) {
        std::string rule = "  ";
        for (int i = 0; i < total - 4; ++i) rule += "─";
        out += rule + "\n";
      }
    }
    return out;
  }
  // Too wide: a block per row.
  for (size_t r = 1; r < rows.size(); ++r) {
    if (r > 1) out += "\n";
    out += "  " + styled_header(rows[r].empty() ? std::string() : rows[r][0].shown) + "\n";
    for (size_t c = 1; c < rows[r].size(); ++c) {
      std::string label = c < raw[0].size() ? std::string(raw[0][c]) + ":" : std::string("-");
      std::string first = "    " + label + " ";
      out += fill(words_of(raw[r][c]), width, first, "      ", color);
    }
  }
  return out;
}

}  // namespace

std::string wrap_prose(std::string_view markdown, int width, bool color) {
  if (width < 20) width = 20;
  auto lines = split_lines(markdown);
  std::string out;
  std::vector<std::string_view> words;
  std::string first_indent, indent;
  auto flush = [&] {
    if (!words.empty()) out += fill(words, width, first_indent, indent, color);
    words.clear();
    first_indent.clear();
    indent.clear();
  };
  auto add_words = [&](std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      size_t j = i;
      while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
      if (j > i) words.push_back(text.substr(i, j - i));
      i = j;
    }
  };
  for (size_t k = 0; k < lines.size(); ++k) {
    std::string_view line = lines[k];
    std::string_view t = trim(line);
    if (starts_with(t, "```") || starts_with(t, "~~~")) {
      // A documentation block: as written, indented, up to its closing fence.
      flush();
      std::string_view fence = t.substr(0, 3);
      for (++k; k < lines.size() && !starts_with(trim(lines[k]), fence); ++k) {
        std::string shown = "    " + std::string(lines[k]);
        out += color ? std::string(sgr::dim) + shown + std::string(sgr::reset) : shown;
        out += '\n';
      }
      continue;
    }
    if (t.empty()) {
      flush();
      if (!out.empty() && !starts_with(std::string_view(out).substr(out.size() - 1), "\n\n") &&
          (out.size() < 2 || out.substr(out.size() - 2) != "\n\n"))
        out += '\n';
      continue;
    }
    if (starts_with(t, "<!--") && t.ends_with("-->")) continue;  // a comment: not shown
    if (t[0] == '|') {  // a table: its rows, up to the first line that is not one
      flush();
      std::vector<std::string_view> rows;
      for (; k < lines.size() && starts_with(trim(lines[k]), "|"); ++k) rows.push_back(trim(lines[k]));
      --k;
      out += render_table(rows, width, color);
      continue;
    }
    if (t[0] == '#') {  // a heading inside the prose
      flush();
      std::string title(trim(t.substr(t.find_first_not_of('#'))));
      out += color ? std::string(sgr::bold) + title + std::string(sgr::reset) : title;
      out += '\n';
      continue;
    }
    if (size_t m = list_marker(t)) {
      flush();
      size_t lead = line.size() - line.substr(line.find_first_not_of(' ')).size();
      first_indent = std::string(lead, ' ') + std::string(t.substr(0, m));
      indent = std::string(lead + m, ' ');
      add_words(t.substr(m));
      continue;
    }
    add_words(t);
  }
  flush();
  while (out.size() >= 2 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n')
    out.pop_back();
  return out;
}

std::optional<std::chrono::milliseconds> pause_line(std::string_view line, std::string& problem) {
  std::string_view t = trim(line);
  if (!starts_with(t, "<!--") || !t.ends_with("-->")) return std::nullopt;
  std::string_view inside = trim(t.substr(4, t.size() - 7));
  if (!starts_with(inside, "pause")) return std::nullopt;
  std::string_view amount = trim(inside.substr(5));
  double seconds = 0;
  bool ok = amount.size() >= 2 && amount.back() == 's';
  if (ok) {
    std::string number(amount.substr(0, amount.size() - 1));
    char* end = nullptr;
    seconds = std::strtod(number.c_str(), &end);
    ok = end && *end == '\0' && !number.empty() && seconds >= 0.1 && seconds <= 60;
  }
  if (!ok) {
    problem = fmt::format("\"{}\": a pause is written <!-- pause 4s --> (0.1s to 60s)", t);
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000 + 0.5));
}

std::vector<ProsePiece> prose_pieces(std::string_view markdown) {
  std::vector<ProsePiece> pieces(1);
  std::string problem;
  for (auto line : split_lines(markdown)) {
    if (auto pause = pause_line(line, problem)) {
      pieces.back().pause += *pause;
      pieces.emplace_back();
      continue;
    }
    pieces.back().text += std::string(line) + "\n";
  }
  return pieces;
}

}  // namespace nslab::lessons
