#include <doctest/doctest.h>

#include "vars.h"

using tinysh::Vars;

TEST_CASE("variables imported from environ are exported, others are not") {
  char a[] = "HOME=/root", b[] = "not a var", c[] = "X=1=2";
  char* env[] = {a, b, c, nullptr};
  Vars v = Vars::from_environ(env);
  CHECK(v.get("HOME") == "/root");
  CHECK(v.get("X") == "1=2");
  v.set("LOCAL", "yes");
  CHECK(v.environment() == std::vector<std::string>{"HOME=/root", "X=1=2"});
  v.mark_exported("LOCAL");
  CHECK(v.environment().size() == 3);
}

TEST_CASE("unset removes a variable and its export mark") {
  Vars v;
  v.set_exported("A", "1");
  v.unset("A");
  CHECK_FALSE(v.get("A").has_value());
  CHECK(v.environment().empty());
  v.set("A", "2");
  CHECK(v.environment().empty());
}

TEST_CASE("variable names follow the POSIX rule") {
  CHECK(Vars::valid_name("_a1"));
  CHECK(Vars::valid_name("PATH"));
  CHECK_FALSE(Vars::valid_name(""));
  CHECK_FALSE(Vars::valid_name("1a"));
  CHECK_FALSE(Vars::valid_name("a-b"));
}
