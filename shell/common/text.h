// Small text helpers that tinysh, libsandbox and nslab all use: one copy of each, with one
// meaning, in the library every program here links (nslab_common).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace common {

// Every field between separators, empty ones too: "a::b" is {"a", "", "b"}, "" is {""}.
std::vector<std::string_view> split(std::string_view text, char separator);
// The fields that are not empty: "a::b\n" split on ':' is {"a", "b\n"}, "" is {}.
std::vector<std::string_view> split_nonempty(std::string_view text, char separator);
// The words between blanks (spaces and tabs).
std::vector<std::string_view> words(std::string_view text);
// Without blanks and newlines at either end.
std::string_view trim(std::string_view text);
// The words with `separator` between each two.
std::string join(const std::vector<std::string>& words, std::string_view separator);
// One line of text broken at spaces into lines of at most `width` columns (UTF-8 code points),
// each ending in '\n'; the lines after the first start with `indent`. A word longer than a line
// stays whole on a line of its own; runs of spaces inside a line (padding that aligns columns)
// stay as they are. For builtins whose output must fit an 80-column projector.
std::string wrap_line(std::string_view text, size_t width, std::string_view indent);
// The candidate nearest to `word` by edit distance, if it is near enough to be a slip (at most
// 2 edits, and fewer than half the word's letters, leading dashes not counted); "" otherwise:
// the "did you mean" of a command, a flag, a capability's name.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace common
