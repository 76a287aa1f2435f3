// tinysh's caps, run as a program: root and an unprivileged user (setpriv) hold different
// effective sets under the same bounding set, and setpriv --no-new-privs shows. The lines are
// compared with this test's own /proc/self/status, not with a machine's usual values.
#include <doctest/doctest.h>
#include <pwd.h>

#include <string>

#include "process.h"

using testing::bin;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The value of a "KEY:\tvalue" line of this test's own status file.
std::string own_status(const std::string& key) {
  std::string status = testing::read_file("/proc/self/status");
  size_t at = status.find("\n" + key + ":\t");
  if (at == std::string::npos) return "";
  at += key.size() + 3;
  return status.substr(at, status.find('\n', at) - at);
}

// The report's line for `label` ("CapEff"), without its newline.
std::string line_of(const std::string& report, const std::string& label) {
  size_t at = report.find(label + " ");
  if (at == std::string::npos) return "";
  return report.substr(at, report.find('\n', at) - at);
}

std::vector<std::string> as_unprivileged_user() {
  uid_t uid = 65534;
  gid_t gid = 65534;
  if (const passwd* pw = ::getpwnam("student")) {
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  return {"setpriv", "--reuid=" + std::to_string(uid), "--regid=" + std::to_string(gid),
          "--clear-groups"};
}

}  // namespace

TEST_CASE("root's tinysh holds every capability of the bounding set, a user's none of them") {
  if (!testing::is_root() || !testing::have_program("setpriv")) {
    testing::skip("needs root to compare with another user, and setpriv (CI runs as root)");
    return;
  }
  // Root's execve(2) fills the permitted and effective sets from the bounding set.
  const std::string bounding = own_status("CapBnd");
  REQUIRE(bounding.size() == 16);
  if (bounding == "0000000000000000") {
    testing::skip("this test runs with an empty bounding set: root and a user hold the same");
    return;
  }
  auto root = testing::run({bin("tinysh"), "-c", "caps"});
  REQUIRE(root.status() == 0);

  std::vector<std::string> argv = as_unprivileged_user();
  argv.insert(argv.end(), {bin("tinysh"), "-c", "caps"});
  auto user = testing::run(argv);
  if (user.status() == 126 || user.status() == 127) {
    testing::skip("the unprivileged user cannot run " + bin("tinysh") + " here");
    return;
  }
  INFO(root.out, user.out, user.err);
  REQUIRE(user.status() == 0);
  CHECK(line_of(root.out, "CapEff").starts_with("CapEff     0x" + bounding + " = "));
  CHECK(line_of(user.out, "CapEff") == "CapEff     0x0000000000000000 = none");
  CHECK(line_of(user.out, "CapPrm") == "CapPrm     0x0000000000000000 = none");
  CHECK(line_of(root.out, "CapEff") != line_of(user.out, "CapEff"));
  // What setpriv changed is the user, not the bounding set: both print the same line for it.
  CHECK(line_of(user.out, "CapBnd").starts_with("CapBnd     0x" + bounding + " = "));
  CHECK(line_of(root.out, "CapBnd") == line_of(user.out, "CapBnd"));
}

TEST_CASE("setpriv --no-new-privs shows as NoNewPrivs 1, and tinysh alone inherits this test's") {
  if (!testing::have_program("setpriv")) {
    testing::skip("util-linux setpriv is not installed");
    return;
  }
  auto locked = testing::run({"setpriv", "--no-new-privs", bin("tinysh"), "-c", "caps"});
  INFO(locked.out, locked.err);
  CHECK(locked.status() == 0);
  CHECK(contains(locked.out,
                 "\nNoNewPrivs 1 on: execve ignores setuid bits and file capabilities\n"));
  // The control: without setpriv the flag is what this test runs with (0 but in a sandbox that
  // already set it, from which no child can clear it).
  const std::string own = own_status("NoNewPrivs");
  REQUIRE_FALSE(own.empty());
  auto plain = testing::run({bin("tinysh"), "-c", "caps"});
  CHECK(contains(plain.out, "\nNoNewPrivs " + own + " "));
  if (own == "0") CHECK(contains(plain.out, "\nNoNewPrivs 0 off: "));
}

TEST_CASE("caps PID reads that process's status file: caps $$ is the shell's own caps") {
  auto r = testing::run({bin("tinysh"), "-c", "caps; echo ---; caps $$"});
  CHECK(r.status() == 0);
  size_t split = r.out.find("---\n");
  REQUIRE(split != std::string::npos);
  CHECK(r.out.substr(0, split) == r.out.substr(split + 4));
  CHECK(r.out.starts_with("CapEff     0x"));
  CHECK(contains(r.out, "\nSeccomp    "));
}
