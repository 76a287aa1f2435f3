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
// may use `needs_more_input` to ask for a continuation line instead, then parse the text so far
// + "\n" + the new line (inside quotes the newline is kept; after a backslash it vanishes).
struct ParseResult {
  std::variant<Script, SyntaxError> value;
  bool ok() const { return value.index() == 0; }
  const Script& script() const { return std::get<Script>(value); }
  const SyntaxError& error() const { return std::get<SyntaxError>(value); }
  bool needs_more_input = false;  // true when the error is only "the input ended too early"
};

ParseResult parse(std::string_view input);

// The largest fd number a redirection may name (`1023>f` is allowed, `1024>f` is an error):
// the usual soft limit on open files is 1024, so higher numbers would fail at dup2() anyway.
inline constexpr int kMaxRedirectFd = 1023;

// Shell text for a tree: parse(to_source(s)) gives back s. Words are quoted so that they read
// back the same; used to show a job's command line and to check the parser against itself.
std::string to_source(const Script& script);

}  // namespace tinysh
