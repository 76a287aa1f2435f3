// Id-map parsing and validation: the rules the kernel applies when a map is written
// (user_namespaces(7)), checked before any system call so a bad map never makes a half-built box.
#include <doctest/doctest.h>

#include <string>

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
