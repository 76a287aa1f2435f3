// A lesson's Markdown prose on a terminal: paragraphs and list items filled to the width,
// headings, fenced blocks indented as written, tables laid out in columns (or, too wide for
// the screen, one block per row), and inline `code`, **bold** and *emphasis* in color.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::lessons {

// The columns `text` takes (a code point each; no control characters expected).
int text_columns(std::string_view text);

// Markdown prose for a terminal `width` columns wide. With `color`, `code` is shown in color,
// **bold** in bold and *emphasis* in italics, without their marks; without, the words stay as
// written (a pipe or NO_COLOR reads Markdown as plain text).
std::string wrap_prose(std::string_view markdown, int width, bool color);

// --- Pauses for a demo ---------------------------------------------------------------------------
// A lesson's author may hold a recording or an --auto demo at a point of the prose with a line
// `<!-- pause 4s -->` (seconds, 0.1 to 60, at speed 1): an HTML comment, so Markdown viewers
// hide it, and so does wrap_prose(). Guided mode, where the student presses the keys, ignores it.

// The pause a line asks for; nullopt when it is not a pause line. `problem` is set when the
// line starts like one but is malformed.
std::optional<std::chrono::milliseconds> pause_line(std::string_view line, std::string& problem);

// Prose cut at its pause lines: each piece's text, then how long to hold after it.
struct ProsePiece {
  std::string text;
  std::chrono::milliseconds pause{0};
};
std::vector<ProsePiece> prose_pieces(std::string_view markdown);

}  // namespace nslab::lessons
