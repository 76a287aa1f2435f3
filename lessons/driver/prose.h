// A lesson's Markdown prose on a terminal: paragraphs and list items filled to the width,
// headings, fenced blocks indented as written, tables laid out in columns (or, too wide for
// the screen, one block per row), and inline `code`, **bold** and *emphasis* in color.
#pragma once

#include <string>
#include <string_view>

namespace nslab::lessons {

// The columns `text` takes (a code point each; no control characters expected).
int text_columns(std::string_view text);

// Markdown prose for a terminal `width` columns wide. With `color`, `code` is shown in color,
// **bold** in bold and *emphasis* in italics, without their marks; without, the words stay as
// written (a pipe or NO_COLOR reads Markdown as plain text).
std::string wrap_prose(std::string_view markdown, int width, bool color);

}  // namespace nslab::lessons
