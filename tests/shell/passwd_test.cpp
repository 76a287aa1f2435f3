#include <doctest/doctest.h>

#include "passwd.h"

using tinysh::GroupEntry;
using tinysh::IdNames;
using tinysh::parse_group;
using tinysh::parse_id;
using tinysh::parse_passwd;
using tinysh::PasswdEntry;

TEST_CASE("a passwd line gives name, ids, gecos, home and shell") {
  auto users = parse_passwd("root:x:0:0:root:/root:/bin/sh\n");
  REQUIRE(users.size() == 1);
  CHECK(users[0].name == "root");
  CHECK(users[0].uid == 0);
  CHECK(users[0].gid == 0);
  CHECK(users[0].gecos == "root");
  CHECK(users[0].home == "/root");
  CHECK(users[0].shell == "/bin/sh");
}

TEST_CASE("blank lines, comments and NIS lines in passwd are skipped") {
  auto users = parse_passwd(
      "\n"
      "# accounts of the box\n"
      "   \t\n"
      "root:x:0:0::/root:/bin/sh\n"
      "+nisuser::::::\n"
      "-:::::: \n"
      "  # an indented comment\n"
      "nobody:x:65534:65534:nobody:/:/bin/false\n");
  REQUIRE(users.size() == 2);
  CHECK(users[0].name == "root");
  CHECK(users[1].name == "nobody");
  CHECK(users[1].uid == 65534);
}

TEST_CASE("malformed passwd lines are skipped and the lines around them still count") {
  auto users = parse_passwd(
      "good1:x:1:1::/:/bin/sh\n"
      "nouid:x::1::/:/bin/sh\n"             // empty uid
      "letters:x:abc:1::/:/bin/sh\n"        // not a number
      "negative:x:-1:1::/:/bin/sh\n"        // sign
      "huge:x:99999999999:1::/:/bin/sh\n"   // does not fit 32 bits
      "minus1:x:4294967295:1::/:/bin/sh\n"  // (uid_t)-1 means "no id"
      ":x:5:5::/:/bin/sh\n"                 // empty name
      "short:x:7\n"                         // no gid
      "toomany:x:8:8:a:b:c:d\n"             // eight fields
      "space:x: 9:9::/:/bin/sh\n"           // a space inside the number
      "good2:x:2:2\n");                     // gecos, home and shell missing: still an account
  REQUIRE(users.size() == 2);
  CHECK(users[0].name == "good1");
  CHECK(users[1].name == "good2");
  CHECK(users[1].home.empty());
}

TEST_CASE("passwd without a final newline and with CRLF line ends is read") {
  auto users = parse_passwd("a:x:1:1::/home/a:/bin/sh\r\nb:x:2:2::/home/b:/bin/sh");
  REQUIRE(users.size() == 2);
  CHECK(users[0].shell == "/bin/sh");  // no '\r' left at the end
  CHECK(users[1].name == "b");
  CHECK(parse_passwd("").empty());
}

TEST_CASE("the largest valid id is accepted, the reserved one is not") {
  CHECK(parse_id("4294967294") == 4294967294u);
  CHECK_FALSE(parse_id("4294967295").has_value());
  CHECK(parse_id("0") == 0u);
  CHECK(parse_id("007") == 7u);
  CHECK_FALSE(parse_id("").has_value());
  CHECK_FALSE(parse_id("12a").has_value());
  CHECK_FALSE(parse_id("+1").has_value());
}

TEST_CASE("group lines give name, gid and members, with empty member items dropped") {
  auto groups = parse_group(
      "# groups\n"
      "root:x:0:\n"
      "wheel:x:10:alice,bob\n"
      "odd:x:11:,carol,,\n"
      "nomembers:x:12\n"
      "bad:x:zz:alice\n"
      "toomany:x:13:a:b\n");
  REQUIRE(groups.size() == 4);
  CHECK(groups[0].name == "root");
  CHECK(groups[0].members.empty());
  CHECK(groups[1].members == std::vector<std::string>{"alice", "bob"});
  CHECK(groups[2].members == std::vector<std::string>{"carol"});
  CHECK(groups[3].name == "nomembers");
  CHECK(groups[3].gid == 12);
}

TEST_CASE("lookups find users and groups by id and by name, first entry first") {
  IdNames names(parse_passwd("root:x:0:0::/root:/bin/sh\n"
                             "toor:x:0:0::/root:/bin/sh\n"
                             "alice:x:1000:100::/home/alice:/bin/sh\n"),
                parse_group("root:x:0:\nusers:x:100:alice\n"));
  REQUIRE(names.user(0u) != nullptr);
  CHECK(names.user(0u)->name == "root");  // a second name for uid 0 does not win
  REQUIRE(names.user("toor") != nullptr);
  CHECK(names.user("toor")->uid == 0);
  CHECK(names.user("nobody") == nullptr);
  CHECK(names.user(1234u) == nullptr);
  REQUIRE(names.group(100u) != nullptr);
  CHECK(names.group(100u)->name == "users");
  REQUIRE(names.group("users") != nullptr);
  CHECK(names.group("users")->gid == 100);
}

TEST_CASE("an id no file names is shown as its number") {
  IdNames names(parse_passwd("root:x:0:0::/root:/bin/sh\n"), parse_group("root:x:0:\n"));
  CHECK(names.user_name(0) == "root");
  CHECK(names.group_name(0) == "root");
  // In a user namespace without a map, every outside id reads as the overflow id.
  CHECK(names.user_name(65534) == "65534");
  CHECK(names.group_name(65534) == "65534");

  IdNames empty;  // an empty box: no /etc/passwd at all
  CHECK(empty.user_name(0) == "0");
  CHECK(empty.group_name(0) == "0");
}
