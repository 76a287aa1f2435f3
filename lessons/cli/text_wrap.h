// Fitting text to a terminal: long lines broken at spaces, the continuation indented under the
// line's own text, so numbered steps stay readable at 80 columns. Pure code.
#pragma once

#include <string>
#include <string_view>

namespace nslab::cli {

// Each line of `text` longer than `width` columns is broken at the last space that fits; a word
// longer than a whole line (a system call with its flags) breaks after a '|' or ',' that fits,
// else at the width. Continuation lines start under the first letter of the line's text: past
// its leading spaces and a "12. " step number. Columns are counted in UTF-8 code points. A width
// below 20 returns the text unchanged.
std::string wrap_text(std::string_view text, int width);

// The width of the terminal on `fd`, or 0 when it is not a terminal.
int terminal_width(int fd);

}  // namespace nslab::cli
