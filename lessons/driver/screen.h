// What a person would read on the terminal, from the bytes a program wrote to it.
//
// tinysh's line editor redraws the line it edits ("\r", the prompt, the text, "\x1b[K" to clear
// the rest, "\x1b[NC" to put the cursor back), and the terminal turns "\n" into "\r\n". The
// driver compares what a student would see, so it replays those few controls on a grid of
// lines instead of matching raw bytes. Pure code.
#pragma once

#include <string>
#include <string_view>

namespace nslab::lessons {

// The text of the screen after `raw` was written to a blank one: lines joined by "\n", trailing
// spaces removed. Understands \r, \n, \b, \t, CSI K (erase right), CSI C/D (cursor right/left)
// and drops every other escape sequence (colors, clear screen) and OSC titles.
std::string screen_text(std::string_view raw);

}  // namespace nslab::lessons
