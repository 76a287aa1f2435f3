// What nslab says when its command line is wrong: the word that is wrong, what was expected, and
// the closest thing that exists ("did you mean"), in place of the parser's own sentences
// ("Could not convert: number = abc", "Value 0 not in range 0.100000 to 50.000000").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"

namespace nslab::cli {

using common::closest;  // the "did you mean" of a command or a flag (common/text.h)

// What was being parsed when the error came.
struct ParseContext {
  std::string command;                // "nslab run", or "nslab" before any subcommand
  std::vector<std::string> commands;  // the subcommands nslab has
  std::vector<std::string> flags;     // the flags `command` takes ("--uts", "-c", ...)
};

// The message for a parse error of CLI11 (`what` is its text), in the student's words, with a
// suggestion and where to look. Pure.
std::string explain_parse_error(std::string_view what, const ParseContext& context);

}  // namespace nslab::cli
