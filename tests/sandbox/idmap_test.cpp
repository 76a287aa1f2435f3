// Id-map parsing and validation: the rules the kernel applies when a map is written
// (user_namespaces(7)), checked before any system call so a bad map never makes a half-built box.
#include <doctest/doctest.h>

#include <string>

#include "plan.h"
#include "spec.h"

using namespace sandbox;

namespace {

std::string error_of(std::string_view text) {
  auto map = parse_id_map(text, "uid_map");
  REQUIRE_FALSE_MESSAGE(map.ok(), "accepted: " << text);
  return map.error().message();
}

std::string lines(size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i)
    text += std::to_string(i) + " " + std::to_string(1000 + i) + " 1\n";
  return text;
}

// One line of exactly `length` bytes (6 to 24): distinct small ids, `k` keeps two apart.
IdRange line_of_length(size_t length, std::uint32_t k) {
  size_t digits = length - 4;  // "I O 1\n": two blanks, count and newline
  size_t inside_digits = (digits + 1) / 2, outside_digits = digits / 2;
  auto number = [&](size_t n) -> std::uint32_t {
    if (n == 10) return 3000000000u + k;
    std::uint32_t value = 1;
    for (size_t i = 1; i < n; ++i) value *= 10;
    return value + k;
  };
  return {number(inside_digits), number(outside_digits), 1};
}

// A valid map whose text (format_id_map) is exactly `bytes` long, in lines of 24 bytes and two
// shorter ones.
IdMap map_of_bytes(size_t bytes) {
  IdMap map;
  size_t full = bytes / 24 - 1;
  for (std::uint32_t i = 0; i < full; ++i) map.push_back({1000000000u + i, 2000000000u + i, 1});
  size_t rest = bytes - full * 24;  // 24..47
  map.push_back(line_of_length(rest / 2, 0));
  map.push_back(line_of_length(rest - rest / 2, 1));
  return map;
}

// `count` ranges of one id each, 16 bytes a line ("100000 200000 1\n").
IdMap ranges(size_t count) {
  IdMap map;
  for (std::uint32_t i = 0; i < count; ++i) map.push_back({100000 + 2 * i, 200000 + 2 * i, 1});
  return map;
}

Caller root_caller() {
  Caller c;
  c.privileged = true;
  return c;
}

Spec user_spec(const IdMap& uid_map) {
  Spec s;
  s.tinysh_path = "/opt/nslab/bin/tinysh";
  s.user = true;
  s.uid_map = uid_map;
  s.gid_map = {{0, 0, 1}};
  return s;
}

}  // namespace

TEST_CASE("a map in the kernel's file format parses into ranges") {
  auto map = parse_id_map("0 100000 65536\n65536 165536 10\n");
  REQUIRE(map.ok());
  CHECK(*map == IdMap{{0, 100000, 65536}, {65536, 165536, 10}});
  CHECK(format_id_map(*map) == "0 100000 65536\n65536 165536 10\n");
}

TEST_CASE("tabs and repeated spaces separate fields like the kernel allows") {
  auto map = parse_id_map("  0\t1000   1  ");
  REQUIRE(map.ok());
  CHECK(*map == IdMap{{0, 1000, 1}});
}

TEST_CASE("garbage is rejected with the field it broke") {
  CHECK(error_of("abc").find("expected 3 fields") != std::string::npos);
  CHECK(error_of("a b c").find("'inside' is not a number") != std::string::npos);
  CHECK(error_of("0 x 1").find("'outside' is not a number") != std::string::npos);
  CHECK(error_of("0 0 1x").find("'count' is not a number") != std::string::npos);
}

TEST_CASE("negative ids are rejected") {
  CHECK(error_of("-1 0 1").find("'inside' is not a number") != std::string::npos);
  CHECK(error_of("0 -5 1").find("'outside'") != std::string::npos);
}

TEST_CASE("a count of 0 is rejected") {
  CHECK(error_of("0 0 0").find("'count' is 0") != std::string::npos);
}

TEST_CASE("a range that wraps past 2^32 is rejected, and so is id 4294967295") {
  CHECK(error_of("0 4294967295 2").find("'outside'") != std::string::npos);
  CHECK(error_of("4294967295 0 1").find("'inside'") != std::string::npos);
  CHECK(error_of("0 0 4294967296").find("does not fit in 32 bits") != std::string::npos);
  CHECK(error_of("99999999999999999999 0 1").find("does not fit") != std::string::npos);
  // The largest legal range: ids 0..4294967294.
  CHECK(parse_id_map("0 0 4294967295").ok());
}

TEST_CASE("overlapping ranges are rejected on either side") {
  CHECK(error_of("0 1000 10\n5 2000 10").find("overlap on the 'inside' ids") != std::string::npos);
  CHECK(error_of("0 1000 10\n100 1005 10").find("overlap on the 'outside' ids") !=
        std::string::npos);
  // Adjacent ranges touch but do not overlap.
  CHECK(parse_id_map("0 1000 10\n10 1010 10").ok());
}

TEST_CASE("340 lines are accepted, 341 are not") {
  CHECK(parse_id_map(lines(340)).ok());
  CHECK(error_of(lines(341)).find("341 lines") != std::string::npos);
}

TEST_CASE("a 300-line map of over 4095 bytes is refused at plan time, with its size and the fix") {
  IdMap map = ranges(300);
  REQUIRE(format_id_map(map).size() == 4800);
  auto planned = plan(user_spec(map), root_caller());
  REQUIRE_FALSE(planned.ok());
  std::string text = planned.error().message();
  CHECK(text.find("--map-uid: the map is 300 lines, 4800 bytes of text") != std::string::npos);
  CHECK(text.find("at most 340 lines (5 before Linux 4.15) and 4095 bytes") != std::string::npos);
  CHECK(text.find("merge ranges") != std::string::npos);
  // Control: the same number of lines in short ones fits, and is planned.
  IdMap short_lines;
  for (std::uint32_t i = 0; i < 300; ++i) short_lines.push_back({i, 1000 + i, 1});
  REQUIRE(format_id_map(short_lines).size() < 4095);
  CHECK(plan(user_spec(short_lines), root_caller()).ok());
}

TEST_CASE("a map of 4095 bytes is accepted, 4096 is not: the kernel wants less than a page") {
  // user_namespaces(7): the write must be smaller than the page size (4096 bytes on x86-64).
  IdMap largest = map_of_bytes(4095);
  REQUIRE(format_id_map(largest).size() == 4095);
  REQUIRE(largest.size() <= kMaxIdMapLines);
  CHECK(validate_id_map(largest).ok());
  CHECK(plan(user_spec(largest), root_caller()).ok());
  IdMap over = map_of_bytes(4096);
  REQUIRE(format_id_map(over).size() == 4096);
  auto refused = validate_id_map(over, "--map-uid");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find(", 4096 bytes of text") != std::string::npos);
  CHECK_FALSE(plan(user_spec(over), root_caller()).ok());
  CHECK_FALSE(validate_id_map(map_of_bytes(4097)).ok());
}

TEST_CASE("340 lines are planned, 341 are refused at plan time") {
  IdMap map;
  for (std::uint32_t i = 0; i < 341; ++i) map.push_back({i, 1000 + i, 1});
  auto refused = plan(user_spec(map), root_caller());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message().find("the map is 341 lines") != std::string::npos);
  map.pop_back();
  CHECK(plan(user_spec(map), root_caller()).ok());
}

TEST_CASE("an empty map is rejected") {
  CHECK(error_of("").find("is empty") != std::string::npos);
  CHECK(error_of("\n\n").find("is empty") != std::string::npos);
}

TEST_CASE("trailing garbage on a line is rejected") {
  CHECK(error_of("0 0 1 extra").find("expected 3 fields") != std::string::npos);
  CHECK(error_of("0 0 1junk").find("'count'") != std::string::npos);
}

TEST_CASE("--map-uid takes INSIDE:OUTSIDE:COUNT and nothing else") {
  auto range = parse_id_range("0:1000:1");
  REQUIRE(range.ok());
  CHECK(*range == IdRange{0, 1000, 1});
  for (const char* bad : {"", "0:1000", "0:1000:1:2", "a:b:c", "0:1000:", ":1000:1", "0:1000:0",
                          "0 1000 1", "-1:0:1", "4294967295:0:1", "0:+5:1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_id_range(bad).ok());
  }
}

TEST_CASE("an error about --map-uid text stays on one line and shows control bytes escaped") {
  // "$(cat map)" as a --map-uid value brings the file's newlines along.
  auto range = parse_id_range("0 100000 65536\n");
  REQUIRE_FALSE(range.ok());
  std::string text = range.error().message();
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.find("\"0 100000 65536\\n\"") != std::string::npos);
  // An escape sequence never reaches the terminal; a long value is cut.
  CHECK(parse_id_range("\x1b[2J:0:1").error().message().find("\\x1b[2J") != std::string::npos);
  std::string longer = parse_id_range(std::string(100, 'x')).error().message();
  CHECK(longer.find("(cut: 100 bytes in all)") != std::string::npos);
  CHECK(longer.size() < 160);
  // Control: plain text is shown as it is.
  CHECK(parse_id_range("0:x:1").error().message().find("\"x\"") != std::string::npos);
}

TEST_CASE("hostnames the kernel and a prompt accept") {
  CHECK(validate_hostname("tinyhost").ok());
  CHECK(validate_hostname("box-1.lab").ok());
  CHECK(validate_hostname(std::string(64, 'a')).ok());
  CHECK_FALSE(validate_hostname("").ok());
  CHECK_FALSE(validate_hostname(std::string(65, 'a')).ok());
  CHECK_FALSE(validate_hostname("-x").ok());
  CHECK_FALSE(validate_hostname("a b").ok());
  CHECK_FALSE(validate_hostname("a/b").ok());
}

TEST_CASE("a user's subordinate ids are found by name or uid, the first usable line wins") {
  std::string file =
      "# comment\n"
      "root:10:5\n"
      "alice:100000:65536\n"
      "alice:300000:10\n"
      "1001:165536:65536\n"
      "bob:notanumber:5\n"
      "bob:200000:0\n"
      "carol:4294967295:2\n";
  auto alice = find_subordinate_ids(file, "alice", 1000);
  REQUIRE(alice);
  CHECK(alice->start == 100000);
  CHECK(alice->count == 65536);
  auto by_uid = find_subordinate_ids(file, "dave", 1001);
  REQUIRE(by_uid);
  CHECK(by_uid->start == 165536);
  CHECK_FALSE(find_subordinate_ids(file, "bob", 2000));    // broken and empty lines skipped
  CHECK_FALSE(find_subordinate_ids(file, "carol", 2001));  // would wrap past 2^32-1
  CHECK_FALSE(find_subordinate_ids(file, "erin", 2002));   // control: not there at all
  CHECK_FALSE(find_subordinate_ids("", "alice", 1000));
}

TEST_CASE("the helper may write a map of the user's own id and ids within its range only") {
  std::optional<SubordinateIds> range = SubordinateIds{100000, 65536};
  CHECK(helper_may_write({{0, 100000, 65536}}, 1000, range));
  CHECK(helper_may_write({{0, 1000, 1}, {1, 100000, 65536}}, 1000, range));  // as podman maps
  CHECK(helper_may_write({{0, 165535, 1}}, 1000, range));                    // the last id
  CHECK_FALSE(helper_may_write({{0, 165535, 2}}, 1000, range));  // one past the end
  CHECK_FALSE(helper_may_write({{0, 99999, 1}}, 1000, range));   // one before the start
  CHECK_FALSE(helper_may_write({{0, 0, 1}}, 1000, range));       // root's id
  CHECK_FALSE(helper_may_write({{0, 1000, 2}}, 1000, range));    // its own id and the next
  CHECK_FALSE(helper_may_write({{0, 100000, 10}}, 1000, std::nullopt));  // no range at all
  CHECK_FALSE(helper_may_write({}, 1000, range));
}
