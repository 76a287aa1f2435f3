// A lesson on a screen smaller than a step: what keeps a step from scrolling away.
//
// Guided mode writes a step as it runs. On an 80x24 terminal a step of 40 lines would push its
// own heading, the probe table and the comparison the check is about off the top before the
// student has read them. So the screen counts the rows it has filled since the student last
// pressed a key, and when the next line would push the first one away it stops with a "more"
// line, as more(1) does. Every step's screen is also kept, so the student can go back to an
// earlier step or see this one again, paged the same way.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nslab::lessons {

// Counts the screen rows that text fills on a terminal `width` columns wide, as a terminal
// draws it: a line longer than the width wraps, "\r" goes back to the first column, SGR color
// sequences take no room, a UTF-8 sequence takes one column.
class RowCounter {
 public:
  explicit RowCounter(int width) : width_(width < 1 ? 1 : width) {}

  // Where in `text` the row number `limit` would be started (the position just past the
  // newline that ends row `limit`), or npos when `text` ends before. Counts what it passes.
  size_t feed_until(std::string_view text, int limit);
  // Counts all of `text`.
  void feed(std::string_view text) { feed_until(text, 1 << 30); }

  int rows() const { return rows_; }  // complete rows filled so far
  void reset(int rows = 0) {
    rows_ = rows;
    column_ = 0;
  }
  void set_width(int width) { width_ = width < 1 ? 1 : width; }

 private:
  int width_;
  int rows_ = 0;
  int column_ = 0;
  int escape_ = 0;  // 1 after ESC, 2 inside a CSI sequence
};

// A line of keys ("Enter: next · s: shell · q: quit") cut to fit `width` columns without
// wrapping (a wrapped hint could not be erased): the parts before the last go first, from the
// end; the last (quit) stays.
std::string fit_keys_line(std::string_view line, int width);

// The line a paused screen shows at its bottom, and what its keys do.
inline constexpr std::string_view kMoreLine = "-- more --  Space: next page · Enter: one line · q: quit";

}  // namespace nslab::lessons
