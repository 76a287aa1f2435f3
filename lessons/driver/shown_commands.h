// How the lesson screen shows the commands it runs. Pure code, unit-tested: the prompt a box
// command was typed at, read back from what the box's terminal showed; which lines of a host
// script continue a command (shown after "> " instead of "host$ "); and whether a host script
// runs the box's own command, so that the two outputs stand side by side.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nslab::lessons {

// The prompt and the command of the newest typed command, from everything the box's terminal
// showed: the first screen line between the last two marker answers (box_pty.h). The prompt
// is empty when the line does not end with `command`.
struct PromptLine {
  std::string prompt;   // "root@tinyhost:/# "
  std::string command;  // as typed
};
PromptLine last_prompt_line(std::string_view raw, const std::string& command);

// For each line of a host script, whether it continues a command of the lines above (inside
// for/while/if/case/{ } or after a trailing \, | or &&): shown after "> " instead of "host$ ".
std::vector<bool> continuation_lines(std::string_view script);

// Whether a one-line host script runs the box's command on the host (`hostname`, or
// `"$TINYSH" -c hostname`): then the two outputs are the same probe, shown side by side.
bool runs_same_command(std::string_view box_command, std::string_view host_script);

}  // namespace nslab::lessons
