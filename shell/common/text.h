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

}  // namespace common
