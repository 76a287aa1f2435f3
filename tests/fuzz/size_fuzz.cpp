// libFuzzer entry for the size parser: any bytes must either parse or give an error message, never
// crash; a parsed size must print and, when it is exact, parse back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "size.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tinysh::ParsedSize parsed = tinysh::parse_size(text);
  if (!parsed) {
    if (parsed.error.empty()) std::abort();  // a rejection must say why
    return 0;
  }
  std::string shown = tinysh::format_size(parsed.bytes);
  if (shown.empty()) std::abort();
  // "32 MiB" -> "32MiB" must give the same bytes back; "1.2 MiB" is rounded and may not, and the
  // parser stops at TiB while messages go up to EiB.
  bool exact = shown.find('.') == std::string::npos;
  bool parser_unit =
      shown.find("PiB") == std::string::npos && shown.find("EiB") == std::string::npos;
  if (exact && parser_unit) {
    shown.erase(shown.find(' '), 1);
    tinysh::ParsedSize again = tinysh::parse_size(shown);
    if (!again || again.bytes != parsed.bytes) std::abort();
  }
  return 0;
}
