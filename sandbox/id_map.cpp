// Id maps as text, and the kernel's rules for them: see id_map.h.
#include "id_map.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace sandbox {

namespace {

// User text inside a message, in double quotes, kept on one line and short: a newline, a tab or
// another control byte shows as an escape (a value read with "$(cat map)" may hold newlines,
// and an escape sequence must not reach the terminal), and a long text is cut after 48 bytes.
std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 48;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '"' || c == '\\')
      out += fmt::format("\\{}", static_cast<char>(c));
    else if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  out += "\"";
  if (text.size() > kShown) out += fmt::format(" (cut: {} bytes in all)", text.size());
  return out;
}

// A decimal unsigned 32-bit number, the whole of `text`: no sign, no spaces, no overflow.
Result<std::uint32_t> parse_u32(std::string_view text, std::string_view field,
                                std::string_view what) {
  if (text.empty()) return plain_error(fmt::format("{}: '{}' is missing", what, field));
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return plain_error(fmt::format("{}: '{}' is not a number: {}", what, field, quoted(text)));
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return plain_error(
        fmt::format("{}: '{}' does not fit in 32 bits: {}", what, field, quoted(text)));
  return value;
}

// Splits on runs of `sep` characters, dropping empty pieces.
std::vector<std::string_view> split(std::string_view text, std::string_view seps) {
  std::vector<std::string_view> pieces;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = text.find_first_not_of(seps, i);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(seps, start);
    if (end == std::string_view::npos) end = text.size();
    pieces.push_back(text.substr(start, end - start));
    i = end;
  }
  return pieces;
}

Result<IdRange> range_from_fields(const std::vector<std::string_view>& fields,
                                  std::string_view what) {
  if (fields.size() != 3)
    return plain_error(
        fmt::format("{}: expected 3 fields (inside outside count), got {}", what, fields.size()));
  auto inside = parse_u32(fields[0], "inside", what);
  if (!inside) return inside.error();
  auto outside = parse_u32(fields[1], "outside", what);
  if (!outside) return outside.error();
  auto count = parse_u32(fields[2], "count", what);
  if (!count) return count.error();
  return IdRange{*inside, *outside, *count};
}

}  // namespace

Result<IdRange> parse_id_range(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (;;) {
    size_t colon = text.find(':', start);
    fields.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  std::string what = fmt::format("id range {}", quoted(text));
  if (fields.size() != 3)
    return plain_error(fmt::format("{}: expected INSIDE:OUTSIDE:COUNT", what));
  auto range = range_from_fields(fields, what);
  if (!range) return range;
  auto valid = validate_id_map({*range}, what);
  if (!valid) return valid.error();
  return range;
}

Result<IdMap> parse_id_map(std::string_view text, std::string_view what) {
  IdMap map;
  size_t line_no = 0;
  for (auto line : split(text, "\n")) {
    ++line_no;
    auto range = range_from_fields(split(line, " \t"), fmt::format("{} line {}", what, line_no));
    if (!range) return range.error();
    map.push_back(*range);
  }
  auto valid = validate_id_map(map, what);
  if (!valid) return valid.error();
  return map;
}

namespace {

// The kernel's size limits, in one message that says both, the map's own numbers and the fix.
Status check_map_size(const IdMap& map, std::string_view what) {
  std::size_t bytes = format_id_map(map).size();
  if (map.size() <= kMaxIdMapLines && bytes <= kMaxIdMapBytes) return ok();
  return plain_error(
      fmt::format("{}: the map is {} lines, {} bytes of text; the kernel takes one write of at "
                  "most {} lines (5 before Linux 4.15) and {} bytes (less than a 4 KiB page)",
                  what, map.size(), bytes, kMaxIdMapLines, kMaxIdMapBytes),
      "merge ranges that continue each other on both sides (0:1000:10 and 10:1010:5 are "
      "0:1000:15), or map fewer, larger ranges");
}

}  // namespace

Status validate_id_map(const IdMap& map, std::string_view what) {
  if (map.empty()) return plain_error(fmt::format("{}: is empty", what));
  SANDBOX_TRY(check_map_size(map, what));
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 32;
  for (size_t i = 0; i < map.size(); ++i) {
    const auto& r = map[i];
    if (r.count == 0) return plain_error(fmt::format("{}: range {}: 'count' is 0", what, i + 1));
    // The kernel refuses a range that wraps around 2^32, and id 4294967295 is (uid_t)-1, "no
    // id", which no map can cover.
    if (std::uint64_t{r.inside} + r.count >= kLimit)
      return plain_error(fmt::format("{}: range {}: 'inside' {} + 'count' {} passes 4294967294",
                                     what, i + 1, r.inside, r.count));
    if (std::uint64_t{r.outside} + r.count >= kLimit)
      return plain_error(fmt::format("{}: range {}: 'outside' {} + 'count' {} passes 4294967294",
                                     what, i + 1, r.outside, r.count));
    for (size_t j = 0; j < i; ++j) {
      const auto& o = map[j];
      auto overlaps = [](std::uint64_t a, std::uint64_t an, std::uint64_t b, std::uint64_t bn) {
        return a < b + bn && b < a + an;
      };
      if (overlaps(r.inside, r.count, o.inside, o.count))
        return plain_error(
            fmt::format("{}: ranges {} and {} overlap on the 'inside' ids", what, j + 1, i + 1));
      if (overlaps(r.outside, r.count, o.outside, o.count))
        return plain_error(
            fmt::format("{}: ranges {} and {} overlap on the 'outside' ids", what, j + 1, i + 1));
    }
  }
  return ok();
}

std::string format_id_map(const IdMap& map) {
  std::string text;
  for (const auto& r : map) text += fmt::format("{} {} {}\n", r.inside, r.outside, r.count);
  return text;
}

std::optional<SubordinateIds> find_subordinate_ids(std::string_view file, std::string_view name,
                                                   std::uint32_t id) {
  std::string id_text = std::to_string(id);
  while (!file.empty()) {
    size_t end = file.find('\n');
    std::string_view line = file.substr(0, end);
    file = end == std::string_view::npos ? std::string_view{} : file.substr(end + 1);
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;  // a comment, an empty or a broken line
    std::string_view who = line.substr(0, a);
    if (who != name && who != id_text) continue;
    std::string_view start_text = line.substr(a + 1, b - a - 1);
    std::string_view count_text = line.substr(b + 1);
    while (!count_text.empty() && (count_text.back() == ' ' || count_text.back() == '\r'))
      count_text.remove_suffix(1);
    SubordinateIds ids;
    auto s = std::from_chars(start_text.data(), start_text.data() + start_text.size(), ids.start);
    auto c = std::from_chars(count_text.data(), count_text.data() + count_text.size(), ids.count);
    if (s.ec != std::errc{} || s.ptr != start_text.data() + start_text.size()) continue;
    if (c.ec != std::errc{} || c.ptr != count_text.data() + count_text.size()) continue;
    if (ids.count == 0 || ids.start > UINT32_MAX - ids.count) continue;
    return ids;
  }
  return std::nullopt;
}

bool helper_may_write(const IdMap& map, std::uint32_t self,
                      const std::optional<SubordinateIds>& sub) {
  if (map.empty()) return false;
  for (const auto& r : map) {
    if (r.outside == self && r.count == 1) continue;
    if (!sub || r.outside < sub->start || r.count > sub->count ||
        r.outside - sub->start > sub->count - r.count)
      return false;
  }
  return true;
}

}  // namespace sandbox
