// Id maps as text: the INSIDE:OUTSIDE:COUNT of --map-uid and --map-gid, the "inside outside
// count" lines of /proc/PID/uid_map and gid_map, and the rules the kernel applies when a map is
// written (user_namespaces(7), "User and group ID mappings: uid_map and gid_map"). Pure: the
// parsers take text and return values, so unit tests and a fuzz target run them without root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace sandbox {

// One line of /proc/PID/uid_map or gid_map: ids [inside, inside+count) in the box are ids
// [outside, outside+count) outside it.
struct IdRange {
  std::uint32_t inside = 0;
  std::uint32_t outside = 0;
  std::uint32_t count = 0;
  bool operator==(const IdRange&) const = default;
};
using IdMap = std::vector<IdRange>;

// The kernel reads a map from one write(2) at offset 0, and refuses it (EINVAL) when:
//   - it has more than 340 lines (since Linux 4.15; 5 before);
//   - the write is a page or more: at most 4095 bytes with 4 KiB pages, the smallest page Linux
//     has, so a map that fits here fits on every machine.
inline constexpr std::size_t kMaxIdMapLines = 340;
inline constexpr std::size_t kMaxIdMapBytes = 4095;

// "INSIDE:OUTSIDE:COUNT", as --map-uid and --map-gid take it.
Result<IdRange> parse_id_range(std::string_view text);
// The map file's own format: lines of "INSIDE OUTSIDE COUNT". `what` names the map in errors.
Result<IdMap> parse_id_map(std::string_view text, std::string_view what = "id map");
// The rules the kernel enforces when the map is written: count > 0, no range that wraps past
// 2^32-1, no two ranges overlapping inside or outside, at least one line, and at most 340 lines
// and 4095 bytes of text as format_id_map() writes it.
Status validate_id_map(const IdMap& map, std::string_view what = "id map");
// The text written to the map file: one "inside outside count" line per range.
std::string format_id_map(const IdMap& map);

// --- Subordinate ids (subuid(5), subgid(5)) -------------------------------------------------------
// An unprivileged user may write a map of one id, its own. Ranges of other ids are handed out
// per user in /etc/subuid and /etc/subgid ("alice:100000:65536"), and the setuid helpers
// newuidmap(1) and newgidmap(1) write a map for that user when every id it names outside is its
// own or within its ranges. That is how rootless engines (podman, rootless Docker) map 65536 ids.
struct SubordinateIds {
  std::uint32_t start = 0;
  std::uint32_t count = 0;
};
// The first range of `name` (or of the numeric `id`) in the text of /etc/subuid or /etc/subgid.
std::optional<SubordinateIds> find_subordinate_ids(std::string_view file, std::string_view name,
                                                   std::uint32_t id);
// Whether the helper lets this user write `map`: every range outside is `self` alone or lies
// within `sub`.
bool helper_may_write(const IdMap& map, std::uint32_t self,
                      const std::optional<SubordinateIds>& sub);

}  // namespace sandbox
