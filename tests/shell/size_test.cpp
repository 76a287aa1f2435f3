#include <doctest/doctest.h>

#include <string>

#include "size.h"

using tinysh::format_size;
using tinysh::parse_size;

namespace {

std::uint64_t bytes_of(std::string_view text) {
  auto parsed = parse_size(text);
  INFO("parse_size(\"" << std::string(text) << "\") said: " << parsed.error);
  REQUIRE(parsed);
  return parsed.bytes;
}

std::string error_of(std::string_view text) {
  auto parsed = parse_size(text);
  INFO("parse_size(\"" << std::string(text) << "\") gave " << parsed.bytes);
  REQUIRE_FALSE(parsed);
  CHECK_FALSE(parsed.error.empty());
  return parsed.error;
}

}  // namespace

TEST_CASE("sizes with binary units give exact byte counts") {
  CHECK(bytes_of("32M") == 33554432);
  CHECK(bytes_of("32MiB") == 33554432);
  CHECK(bytes_of("32MB") == 33554432);
  CHECK(bytes_of("32m") == 33554432);
  CHECK(bytes_of("1G") == 1073741824);
  CHECK(bytes_of("1GiB") == 1073741824);
  CHECK(bytes_of("4k") == 4096);
  CHECK(bytes_of("4K") == 4096);
  CHECK(bytes_of("4KiB") == 4096);
  CHECK(bytes_of("4KB") == 4096);
  CHECK(bytes_of("2T") == 2199023255552ull);
  CHECK(bytes_of("512B") == 512);
  CHECK(bytes_of("4096") == 4096);
}

TEST_CASE("zero is a valid size, the caller decides whether it is a sensible limit") {
  CHECK(bytes_of("0") == 0);
  CHECK(bytes_of("0M") == 0);
}

TEST_CASE("a fraction is accepted only when it comes to whole bytes") {
  CHECK(bytes_of("1.5G") == 1610612736);
  CHECK(bytes_of("0.5K") == 512);
  CHECK(bytes_of("1.0") == 1);
  CHECK(error_of("1.1K").find("whole number of bytes") != std::string::npos);
  CHECK(error_of("1.5").find("whole number of bytes") != std::string::npos);
  CHECK(error_of("1.").find("decimal point") != std::string::npos);
  CHECK(error_of(".5M").find("starts with a digit") != std::string::npos);
}

TEST_CASE("negative sizes are rejected as negative") {
  CHECK(error_of("-1").find("negative") != std::string::npos);
  CHECK(error_of("-5M").find("negative") != std::string::npos);
  CHECK(error_of("+5").find("starts with a digit") != std::string::npos);
}

TEST_CASE("blanks around or inside a size are rejected") {
  CHECK(error_of(" -5").find("blank") != std::string::npos);
  CHECK(error_of(" 5").find("blank") != std::string::npos);
  CHECK(error_of("5 ").find("blank") != std::string::npos);
  CHECK(error_of("5\t").find("blank") != std::string::npos);
  CHECK(error_of("32 M").find("blank") != std::string::npos);
}

TEST_CASE("empty text, exponents and unknown units name the rule they break") {
  CHECK(error_of("").find("empty") != std::string::npos);
  CHECK(error_of("1e9").find("exponent") != std::string::npos);
  CHECK(error_of("1E+9").find("exponent") != std::string::npos);
  CHECK(error_of("123bogus").find("unknown unit 'bogus'") != std::string::npos);
  CHECK(error_of("32MiBs").find("unknown unit") != std::string::npos);
  CHECK(error_of("32Mi").find("unknown unit") != std::string::npos);
  CHECK(error_of("M").find("starts with a digit") != std::string::npos);
}

TEST_CASE("sizes past 2^64-1 bytes are rejected as too large, the largest one is not") {
  CHECK(bytes_of("18446744073709551615") == 18446744073709551615ull);              // 2^64-1
  CHECK(bytes_of("9223372036854775809") == 9223372036854775809ull);                // 2^63+1 fits
  CHECK(error_of("18446744073709551616").find("too large") != std::string::npos);  // 2^64
  CHECK(error_of("99999999999999999999").find("too large") != std::string::npos);
  CHECK(error_of("99999999T").find("too large") != std::string::npos);
  CHECK(error_of("16777216T").find("too large") != std::string::npos);  // exactly 2^64
  CHECK(bytes_of("16777215T") == 16777215ull << 40);
}

TEST_CASE("format_size shows exact sizes whole and others with one decimal") {
  CHECK(format_size(0) == "0 B");
  CHECK(format_size(512) == "512 B");
  CHECK(format_size(1023) == "1023 B");
  CHECK(format_size(1024) == "1 KiB");
  CHECK(format_size(33554432) == "32 MiB");
  CHECK(format_size(1610612736) == "1.5 GiB");
  CHECK(format_size(1258291) == "1.2 MiB");
  CHECK(format_size((1ull << 20) - 1) == "1.0 MiB");
  CHECK(format_size(18446744073709551615ull) == "16.0 EiB");
}

TEST_CASE("what format_size prints parses back to the same size when exact") {
  for (std::uint64_t bytes : {1ull, 1024ull, 33554432ull, 1ull << 40, 3ull << 30}) {
    std::string shown = format_size(bytes);
    shown.erase(shown.find(' '), 1);
    CHECK(bytes_of(shown) == bytes);
  }
}
