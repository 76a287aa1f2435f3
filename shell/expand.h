// Word expansion: a parsed Word plus the shell's variables give one argument string.
// Pure code, unit-tested in tests/shell/expand_test.cpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ast.h"

namespace tinysh {

// What expansion needs to know about the shell: a lookup for $NAME, and the values of $? and $$.
struct ExpandContext {
  std::function<std::optional<std::string>(std::string_view)> lookup;
  int last_status = 0;
  long shell_pid = 0;
};

// Unset variables expand to the empty string, as in every POSIX shell.
std::string expand(const Word& word, const ExpandContext& ctx);

}  // namespace tinysh
