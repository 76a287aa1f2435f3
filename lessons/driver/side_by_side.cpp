#include "side_by_side.h"
#include "text.h"

#include <algorithm>
#include <vector>

#include "screen.h"

namespace nslab::lessons {

namespace {

constexpr std::string_view kHighlight = "\x1b[1;33m";  // bold yellow: what differs
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kReset = "\x1b[0m";

constexpr std::string_view kInsideTitle = "inside the box";
constexpr std::string_view kHostTitle = "on the host";
constexpr std::string_view kNoOutput = "(no output)";
constexpr std::string_view kSeparator = " │ ";
constexpr std::string_view kRuleCross = "─┼─";
// Below this a side-by-side view cannot show two useful columns.
constexpr int kSideBySideMinWidth = 80;
constexpr int kNarrowestWidth = 20;
constexpr int kMarkerColumns = 2;  // the marker and a space

// Columns a code point takes: 0 for combining marks and zero-width characters, 2 for East
// Asian wide ones and emoji, 1 otherwise. Ranges after Unicode's EastAsianWidth.txt, the
// common blocks only.
int codepoint_width(char32_t cp) {
  if (cp < 0x20 || cp == 0x7f) return 0;
  if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x200b && cp <= 0x200f) ||
      (cp >= 0xfe00 && cp <= 0xfe0f))
    return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
      (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
      (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
      (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
    return 2;
  return 1;
}

// One character of UTF-8 text: how many bytes it has and how many columns it takes. A byte
// that does not start a valid sequence stands alone (a terminal shows it as one U+FFFD).
struct Glyph {
  size_t bytes = 1;
  int width = 1;
};

Glyph glyph_at(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return {1, codepoint_width(lead)};
  size_t n = 0;
  char32_t cp = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
    cp = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    cp = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    cp = lead & 0x07;
  }
  if (n == 0 || i + n > s.size()) return {1, 1};
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return {1, 1};
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  return {n, codepoint_width(cp)};
}

using text::repeat;
using text::rstrip;

// The lines a person would read: the screen replay drops control sequences and carriage
// returns; trailing blank lines are dropped.
std::vector<std::string> lines_of(std::string_view text) {
  std::string screen = screen_text(text);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= screen.size()) {
    size_t end = screen.find('\n', start);
    if (end == std::string::npos) end = screen.size();
    lines.push_back(screen.substr(start, end - start));
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

int widest(const std::vector<std::string>& lines, std::string_view title) {
  int w = display_width(title);
  for (const auto& l : lines) w = std::max(w, display_width(l));
  return w;
}

struct Sides {
  std::vector<std::string> box, host;
  std::vector<bool> differs;  // per row, for max(box, host) rows
  bool any_differs = false;
};

Sides compare(std::string_view box, std::string_view host) {
  Sides s{lines_of(box), lines_of(host), {}, false};
  size_t rows = std::max(s.box.size(), s.host.size());
  for (size_t i = 0; i < rows; ++i) {
    bool d = i >= s.box.size() || i >= s.host.size() || s.box[i] != s.host[i];
    s.differs.push_back(d);
    s.any_differs = s.any_differs || d;
  }
  return s;
}

std::string legend(int width, bool color) {
  if (color)
    return styled("highlighted", kHighlight, true) +
           fit(": not the same on both sides", width - display_width("highlighted")) + "\n";
  return fit("* not the same on both sides", width) + "\n";
}

std::string render_wide(const Sides& s, const Columns& c) {
  int avail = c.width - kMarkerColumns - display_width(kSeparator);
  int left_need = widest(s.box, kInsideTitle);
  int right_need = widest(s.host, kHostTitle);
  int lw = split_width(avail, left_need, right_need);
  int rw = avail - lw;

  std::string out = repeat(" ", kMarkerColumns) + cell(kInsideTitle, lw, kBold, c.color) +
                    std::string(kSeparator) + styled(kHostTitle, kBold, c.color) + "\n";
  out += repeat(" ", kMarkerColumns) + repeat("─", lw) + std::string(kRuleCross) +
         repeat("─", std::min(rw, right_need)) + "\n";
  size_t rows = std::max<size_t>(s.differs.size(), 1);
  for (size_t i = 0; i < rows; ++i) {
    bool d = i < s.differs.size() && s.differs[i];
    std::string_view style = d ? kHighlight : std::string_view{};
    std::string line = (d && !c.color) ? "* " : "  ";
    if (i < s.box.size())
      line += cell(s.box[i], lw, style, c.color);
    else
      line += cell(s.box.empty() && i == 0 ? kNoOutput : "", lw, kDim, c.color);
    line += kSeparator;
    if (i < s.host.size())
      line += styled(fit(s.host[i], rw), style, c.color);
    else if (s.host.empty() && i == 0)
      line += styled(kNoOutput, kDim, c.color);
    out += rstrip(std::move(line)) + "\n";
  }
  if (s.any_differs) out += legend(c.width, c.color);
  return out;
}

std::string render_stacked(const Sides& s, const Columns& c) {
  int text_width = c.width - kMarkerColumns;
  auto side = [&](std::string_view title, const std::vector<std::string>& lines) {
    std::string out = styled(fit(title, c.width), kBold, c.color) + "\n";
    out += repeat("─", std::min(c.width, widest(lines, title) + kMarkerColumns)) + "\n";
    if (lines.empty()) out += "  " + styled(kNoOutput, kDim, c.color) + "\n";
    for (size_t i = 0; i < lines.size(); ++i) {
      bool d = s.differs[i];
      out += (d && !c.color) ? "* " : "  ";
      out += styled(fit(lines[i], text_width), d ? kHighlight : std::string_view{}, c.color);
      out += "\n";
    }
    return out;
  };
  std::string out = side(kInsideTitle, s.box) + "\n" + side(kHostTitle, s.host);
  if (s.any_differs) out += legend(c.width, c.color);
  return out;
}

}  // namespace

int display_width(std::string_view text) {
  int width = 0;
  for (size_t i = 0; i < text.size();) {
    Glyph g = glyph_at(text, i);
    width += g.width;
    i += g.bytes;
  }
  return width;
}

std::string fit(std::string_view text, int width) {
  if (width <= 0) return {};
  if (display_width(text) <= width) return std::string(text);
  // Keep whole characters up to one column short, for the ellipsis.
  std::string kept;
  int used = 0;
  for (size_t i = 0; i < text.size();) {
    Glyph g = glyph_at(text, i);
    if (used + g.width > width - 1) break;
    kept.append(text.substr(i, g.bytes));
    used += g.width;
    i += g.bytes;
  }
  return rstrip(std::move(kept)) + "…";
}

std::string pad(std::string_view text, int width) {
  int missing = width - display_width(text);
  return std::string(text) + std::string(static_cast<size_t>(std::max(missing, 0)), ' ');
}

int split_width(int width, int left, int right) {
  if (left + right <= width) return left;
  int half = width / 2;
  if (left <= half) return left;
  if (right <= width - half) return width - right;
  return half;
}

std::string side_by_side(std::string_view box, std::string_view host, const Columns& columns) {
  Columns c = columns;
  c.width = std::max(c.width, kNarrowestWidth);
  Sides sides = compare(box, host);
  if (c.width < kSideBySideMinWidth) return render_stacked(sides, c);
  // Side by side only when it cuts nothing that one above the other would show whole: a check
  // that asserts "of limit 32 MiB" must not leave it behind a '…'.
  int avail = c.width - kMarkerColumns - display_width(kSeparator);
  int left_need = widest(sides.box, kInsideTitle);
  int right_need = widest(sides.host, kHostTitle);
  bool wide_cuts = left_need + right_need > avail;
  bool stacked_whole = std::max(left_need, right_need) <= c.width - kMarkerColumns;
  return wide_cuts && stacked_whole ? render_stacked(sides, c) : render_wide(sides, c);
}

std::string styled(std::string_view text, std::string_view style, bool color) {
  if (!color || style.empty() || text.empty()) return std::string(text);
  return std::string(style) + std::string(text) + std::string(kReset);
}

std::string cell(std::string_view text, int width, std::string_view style, bool color) {
  std::string shown = fit(text, width);
  int used = display_width(shown);
  return styled(shown, style, color) + std::string(static_cast<size_t>(width - used), ' ');
}

}  // namespace nslab::lessons
