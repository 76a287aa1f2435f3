// Signal names and numbers, both ways: "TERM", "SIGTERM", "term" and "15" all mean 15.
// Pure code, unit-tested and fuzzed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tinysh {

std::optional<int> parse_signal(std::string_view text);
std::string signal_name(int signo);  // "SIGTERM", or "SIGRTMIN+3", or "signal 99"

}  // namespace tinysh
