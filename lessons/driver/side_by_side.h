// The same probe inside the box and on the host, next to each other, so the one line that an
// isolation changed stands out. Pure code: text in, text out.
//
// Widths are display columns, not bytes: tinysh and the lessons print UTF-8 (…, ·, ✓). A code
// point takes one column, East Asian wide characters and most emoji two, combining marks none.
// Text is cut only between whole characters, with '…' where something was left out.
#pragma once

#include <string>
#include <string_view>

namespace nslab::lessons {

// The terminal the text is for: its width, and whether it may use colors and bold (the caller
// decides: NO_COLOR, not a terminal, a recording, ...).
struct Columns {
  int width = 80;
  bool color = false;
};

// Box output on the left, host output on the right, under the titles "inside the box" and "on
// the host". Line N of one side is compared with line N of the other; lines that differ (or
// have no counterpart) are highlighted when `color`, marked with '*' otherwise, and a legend
// line says so. Below 80 columns, or when side by side would cut a line that fits the whole
// width, the two outputs are shown one above the other. A line too long for its column is cut
// with '…'; nothing ever wraps.
std::string side_by_side(std::string_view box, std::string_view host, const Columns& columns);

// The columns `text` takes on a terminal (it should hold no control characters).
int display_width(std::string_view text);

// `text` if it fits in `width` columns; otherwise as much of it as fits followed by '…'.
std::string fit(std::string_view text, int width);

// `text` with spaces added up to `width` columns.
std::string pad(std::string_view text, int width);

// Splits `width` columns between two cells that would like `left` and `right` columns: each gets
// what it needs when both fit; otherwise the one that fits in half keeps its size and the other
// gets the rest; otherwise half each. Returns the left cell's width.
int split_width(int width, int left, int right);

// `text` between an escape sequence `style` and a reset, when `color` is on and there is a style.
std::string styled(std::string_view text, std::string_view style, bool color);

// A cell `width` columns wide holding `text` (cut to fit), styled without the padding.
std::string cell(std::string_view text, int width, std::string_view style, bool color);

}  // namespace nslab::lessons
