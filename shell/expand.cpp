// Word expansion: the parts of a parsed word, joined into the one argument it stands for.
//
// tinysh does only parameter expansion (POSIX 2.6.2, the plain $NAME / ${NAME} form and the
// special parameters $? and $$). It does no field splitting and no pathname expansion, so the
// result is always exactly one string and `quoted` does not change it; a student never meets
// the classic "$VAR with a space in it became two arguments" surprise.
#include "expand.h"

#include <string>

namespace tinysh {

std::string expand(const Word& word, const ExpandContext& ctx) {
  std::string result;
  for (const WordPart& part : word.parts) {
    switch (part.kind) {
      case WordPart::Kind::Literal:
        result += part.text;
        break;
      case WordPart::Kind::Variable:
        // Unset (or no lookup at all) is the empty string, as in every POSIX shell.
        if (ctx.lookup) {
          if (std::optional<std::string> value = ctx.lookup(part.text)) result += *value;
        }
        break;
      case WordPart::Kind::Status:
        result += std::to_string(ctx.last_status);
        break;
      case WordPart::Kind::ShellPid:
        result += std::to_string(ctx.shell_pid);
        break;
    }
  }
  return result;
}

}  // namespace tinysh
