// The tinysh parser: text in, syntax tree (ast.h) out. Pure code: no system calls, no globals,
// unit-tested in tests/shell/parse_test.cpp and fuzzed by tests/fuzz/parse_fuzz.cpp.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "ast.h"

namespace tinysh {

struct SyntaxError {
  std::string message;  // one line, e.g. "unterminated single quote" or "expected a command after '|'"
  size_t offset = 0;    // byte offset in the input where the problem was found
};

// Parses one line (or several lines: a newline separates commands like ';').
// An empty or comment-only input gives an empty Script.
// Incomplete input (an open quote, a trailing '|', '&&' or '||') is a SyntaxError; the REPL
// may use `needs_more_input` to ask for a continuation line instead.
struct ParseResult {
  std::variant<Script, SyntaxError> value;
  bool ok() const { return value.index() == 0; }
  const Script& script() const { return std::get<Script>(value); }
  const SyntaxError& error() const { return std::get<SyntaxError>(value); }
  bool needs_more_input = false;  // true when the error is only "the input ended too early"
};

ParseResult parse(std::string_view input);

}  // namespace tinysh
