// libFuzzer entry for the id-map parsers of libsandbox (sandbox/id_map.h): the file format of
// /proc/PID/uid_map ("inside outside count" lines) and the INSIDE:OUTSIDE:COUNT of --map-uid and
// --map-gid. Any bytes must give a map or one clear error, never a crash or undefined behaviour
// (ASan and UBSan watch). Beyond "no crash" it checks what the plan and the runner rely on:
//   - an error has a message on one line, so `nslab: ...` stays one line however odd the input;
//   - a map passes validate_id_map(), so the kernel's rules hold: at least one and at most 340
//     lines, at most 4095 bytes of text, counts above 0, no range past 4294967294, no overlap;
//   - the text format_id_map() writes parses back to the same map;
//   - a range from --map-uid text is the one-line map with the same numbers.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "id_map.h"

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "idmap_fuzz: invariant broken: %s\n", what);
  std::abort();
}

void check_error(const sandbox::Error& error) {
  std::string message = error.message();
  require(!message.empty(), "an error without a message");
  require(message.find('\n') == std::string::npos, "an error message of several lines");
}

void check_map(const sandbox::IdMap& map) {
  require(!map.empty(), "an empty map accepted");
  require(map.size() <= sandbox::kMaxIdMapLines, "more lines than the kernel takes");
  std::string text = sandbox::format_id_map(map);
  require(text.size() <= sandbox::kMaxIdMapBytes, "more bytes than one write to the kernel");
  require(sandbox::validate_id_map(map).ok(), "a parsed map that does not validate");
  for (const auto& range : map) {
    require(range.count > 0, "a range of no ids");
    require(std::uint64_t{range.inside} + range.count < (std::uint64_t{1} << 32) &&
                std::uint64_t{range.outside} + range.count < (std::uint64_t{1} << 32),
            "a range past 4294967294");
  }
  auto again = sandbox::parse_id_map(text);
  require(again.ok() && *again == map, "format_id_map wrote text that parses to another map");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto map = sandbox::parse_id_map(input, "uid_map");
  if (map.ok())
    check_map(*map);
  else
    check_error(map.error());

  auto range = sandbox::parse_id_range(input);
  if (!range.ok()) {
    check_error(range.error());
    return 0;
  }
  check_map({*range});
  std::string as_flag = fmt::format("{}:{}:{}", range->inside, range->outside, range->count);
  auto again = sandbox::parse_id_range(as_flag);
  require(again.ok() && *again == *range, "a range written back as text parses differently");
  auto as_line =
      sandbox::parse_id_map(fmt::format("{} {} {}\n", range->inside, range->outside, range->count));
  require(as_line.ok() && *as_line == sandbox::IdMap{*range},
          "a range and its map line parse to different maps");
  return 0;
}
