// The read-eval loop: prompt, read a line, run it, again — on a terminal with line editing, or
// from a pipe or file without any.
#pragma once

#include <string>

namespace tinysh {

struct Shell;

// The prompt, recomputed before every line so a new hostname or directory shows at once:
// "root@tinyhost:/# " for uid 0, "alice@laptop:/home/alice$ " for anyone else.
std::string make_prompt();

// Interactive: stdin is a terminal. Returns the shell's exit status.
int run_interactive(Shell& sh);

// Commands from a non-terminal fd (a pipe, a script file): no prompt, no editing. A line that
// ends inside quotes or after `|`, `&&` or `||` continues on the next line.
int run_stream(Shell& sh, int fd);

}  // namespace tinysh
