#include "size.h"

#include <fmt/format.h>

#include <array>

namespace tinysh {

namespace {

constexpr std::uint64_t kMax = ~std::uint64_t{0};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// The multiplier for a unit suffix, or 0 when the suffix is not a unit.
std::uint64_t unit_multiplier(std::string_view unit) {
  if (unit.empty() || equals_ignoring_case(unit, "b")) return 1;
  struct Unit {
    char letter;
    std::uint64_t bytes;
  };
  static constexpr std::array<Unit, 4> units{
      {{'k', 1ull << 10}, {'m', 1ull << 20}, {'g', 1ull << 30}, {'t', 1ull << 40}}};
  for (const Unit& u : units) {
    if (lower(unit[0]) != u.letter) continue;
    std::string_view rest = unit.substr(1);
    if (rest.empty() || equals_ignoring_case(rest, "b") || equals_ignoring_case(rest, "ib"))
      return u.bytes;
  }
  return 0;
}

ParsedSize failure(std::string message) {
  return ParsedSize{0, std::move(message)};
}

}  // namespace

ParsedSize parse_size(std::string_view text) {
  if (text.empty()) return failure("empty size: give a number of bytes, e.g. 32M or 1048576");
  for (char c : text)
    if (is_blank(c)) return failure("blanks are not allowed in a size");
  if (text[0] == '-') return failure("a size cannot be negative");
  if (!is_digit(text[0])) return failure("a size starts with a digit");

  // Whole part, with an overflow check at every digit.
  size_t i = 0;
  std::uint64_t whole = 0;
  bool too_large = false;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    unsigned digit = static_cast<unsigned>(text[i] - '0');
    if (whole > (kMax - digit) / 10)
      too_large = true;
    else
      whole = whole * 10 + digit;
  }

  // Optional fraction: kept as digits/10^n so the result stays exact.
  std::uint64_t fraction = 0, fraction_scale = 1;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (i >= text.size() || !is_digit(text[i]))
      return failure("a digit must follow the decimal point");
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (fraction_scale >= 1'000'000'000'000'000'000ull)
        return failure("too many digits after the decimal point");
      fraction = fraction * 10 + static_cast<unsigned>(text[i] - '0');
      fraction_scale *= 10;
    }
  }

  std::string_view unit = text.substr(i);
  if (!unit.empty() && lower(unit[0]) == 'e' && unit.size() > 1 &&
      (is_digit(unit[1]) || unit[1] == '+' || unit[1] == '-'))
    return failure(
        fmt::format("exponents like '{}' are not supported: write 1G or 1000000000", text));
  std::uint64_t multiplier = unit_multiplier(unit);
  if (multiplier == 0)
    return failure(
        fmt::format("unknown unit '{}': use B, K, M, G or T (KiB, MiB, ... also work)", unit));
  constexpr const char* kTooLarge = "too large: a size must be below 2^64 bytes (16 EiB)";
  if (too_large) return failure(kTooLarge);

  // bytes = whole * multiplier + fraction * multiplier / fraction_scale, computed in 128 bits.
  unsigned __int128 scaled_fraction = static_cast<unsigned __int128>(fraction) * multiplier;
  if (scaled_fraction % fraction_scale != 0)
    return failure(fmt::format("'{}' is not a whole number of bytes", text));
  unsigned __int128 bytes =
      static_cast<unsigned __int128>(whole) * multiplier + scaled_fraction / fraction_scale;
  if (bytes > kMax) return failure(kTooLarge);
  return ParsedSize{static_cast<std::uint64_t>(bytes), {}};
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<const char*, 7> names{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  size_t unit = 0;
  while (unit + 1 < names.size() && bytes >= (std::uint64_t{1} << (10 * (unit + 1)))) ++unit;
  if (unit == 0) return fmt::format("{} B", bytes);
  std::uint64_t unit_bytes = std::uint64_t{1} << (10 * unit);
  if (bytes % unit_bytes == 0) return fmt::format("{} {}", bytes / unit_bytes, names[unit]);
  double value = static_cast<double>(bytes) / static_cast<double>(unit_bytes);
  std::string text = fmt::format("{:.1f}", value);
  // 1023.96 KiB rounds to "1024.0": say "1.0 MiB" instead.
  if (text == "1024.0" && unit + 1 < names.size()) return fmt::format("1.0 {}", names[unit + 1]);
  return fmt::format("{} {}", text, names[unit]);
}

}  // namespace tinysh
