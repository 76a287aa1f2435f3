// Sizes in bytes, as a person types them ("32M", "1.5G", "4096") and as a message shows them
// ("32 MiB"). The memory lesson, `hog`, and the sandbox's `--memory SIZE` flag share these, so a
// limit reads the same everywhere. Pure code: no system calls, unit-tested and fuzzed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tinysh {

struct ParsedSize {
  std::uint64_t bytes = 0;
  std::string error;  // empty when the text was a valid size; else which rule it broke
  explicit operator bool() const { return error.empty(); }
};

// Accepted: a decimal number of bytes ("4096"), optionally followed by a unit.
//   B                     bytes
//   K, KB, KiB            1024 bytes       (case does not matter: k, kb, kib, ...)
//   M, MB, MiB            1024^2
//   G, GB, GiB            1024^3
//   T, TB, TiB            1024^4
// KB/MB/GB/TB are binary here, like the cgroup files and most container tools (memparse() in the
// kernel also reads "32M" as 32 MiB): a memory limit is almost always meant in powers of two.
// A fraction is allowed when it comes to a whole number of bytes: "1.5G" and "0.5K" are exact,
// "1.1K" (1126.4 bytes) and "1.5" are rejected.
// Rejected with a message that names the rule: empty text, blanks anywhere, a sign ("-1", "+5"),
// exponents ("1e9"), unknown units ("123bogus"), and anything above 2^64-1 bytes. Zero is a valid
// size; whether it is a sensible limit is the caller's decision.
ParsedSize parse_size(std::string_view text);

// A size for a message: "512 B", "32 MiB" when exact, else one decimal: "1.5 GiB", "1.2 MiB".
std::string format_size(std::uint64_t bytes);

}  // namespace tinysh
