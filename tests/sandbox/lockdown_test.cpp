// Lesson 10's flags on real boxes: --cap-drop, --no-new-privs and --seccomp, seen by tinysh's
// `caps` inside and by the calls they refuse, each against the same box without the flag; and
// `nslab enter`, which must not bring back to a box what it lost.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "box_harness.h"

using namespace boxtest;

namespace {

const std::vector<std::string> kRootless = {"--user", "--map-root", "--mount"};

std::vector<std::string> plus(std::vector<std::string> flags, std::vector<std::string> more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of `caps` that starts with `field` (CapEff, CapBnd, ...), with its wrapped rest.
std::string field(const std::string& caps, const std::string& name) {
  size_t at = caps.find(name + " ");
  if (at == std::string::npos) return "";
  size_t end = at;
  do end = caps.find('\n', end + 1);
  while (end != std::string::npos && end + 1 < caps.size() && caps[end + 1] == ' ');
  return caps.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// Whether capability `cap` is in the set a `caps` field shows (its 0x... mask).
bool holds(const std::string& field_text, int cap) {
  size_t at = field_text.find("0x");
  REQUIRE(at != std::string::npos);
  return (std::stoull(field_text.substr(at + 2, 16), nullptr, 16) >> cap) & 1;
}

// The box's mount of a tmpfs, which needs CAP_SYS_ADMIN in its user namespace and the mount call.
const std::string kMount = "mount -t tmpfs probe /tmp && echo mounted";

}  // namespace

TEST_CASE("--cap-drop takes a capability out of every set and the bounding set") {
  if (!have_root()) return;
  auto dropped = nslab_run(plus(kRootless, {"--cap-drop", "sys_admin,NET_RAW", "-c",
                                            "caps; " + kMount}));
  CAPTURE(dropped.out);
  CHECK_FALSE(holds(field(dropped.out, "CapBnd"), 13));  // CAP_NET_RAW
  CHECK_FALSE(holds(field(dropped.out, "CapBnd"), 21));  // CAP_SYS_ADMIN
  CHECK_FALSE(holds(field(dropped.out, "CapEff"), 21));
  CHECK(holds(field(dropped.out, "CapEff"), 0));
  CHECK(has(dropped.err, "Operation not permitted"));
  CHECK(has(dropped.err, "out of the box's bounding set"));  // tinysh names the cause
  CHECK_FALSE(has(dropped.out, "mounted"));
  // Control: the same box keeps them.
  auto full = nslab_run(plus(kRootless, {"-c", "caps; " + kMount}));
  CHECK(holds(field(full.out, "CapBnd"), 13));
  CHECK(holds(field(full.out, "CapBnd"), 21));
  CHECK(has(full.out, "mounted"));
  // A name nslab does not know is refused before anything runs.
  auto bogus = nslab_run(plus(kRootless, {"--cap-drop", "sys_admn", "-c", "true"}));
  CHECK(bogus.status() == 2);
  CHECK(has(bogus.err, "no capability is called 'sys_admn'"));
}

TEST_CASE("--seccomp: the box's mount and unshare fail with EPERM, with every capability kept") {
  if (!have_root()) return;
  auto filtered =
      nslab_run(plus(kRootless, {"--seccomp", "-c", "caps; " + kMount + "; cgroup"}));
  CHECK(has(filtered.out, "NoNewPrivs 1"));
  CHECK(has(filtered.out, "Seccomp    2 filter"));
  // Capabilities are not what refuses: the box has the same as without the filter.
  CHECK(field(filtered.out, "CapEff") ==
        field(nslab_run(plus(kRootless, {"-c", "caps"})).out, "CapEff"));
  CHECK(has(filtered.err, "Operation not permitted"));
  CHECK(has(filtered.err, "a seccomp filter refused the call"));
  CHECK_FALSE(has(filtered.out, "mounted"));
  // A program the box runs inherits the filter: unshare(2) for a namespace within the box.
  auto nested = nslab_run(plus(kRootless, {"--seccomp", "--", "unshare", "--user", "true"}));
  CHECK(nested.status() != 0);
  CHECK(has(nested.err, "Operation not permitted"));
  // Control: without the filter, the same calls work.
  CHECK(has(nslab_run(plus(kRootless, {"-c", kMount})).out, "mounted"));
  CHECK(nslab_run(plus(kRootless, {"--", "unshare", "--user", "true"})).status() == 0);
}

TEST_CASE("--no-new-privs alone: NoNewPrivs 1 and no filter") {
  if (!have_root()) return;
  auto r = nslab_run(plus(kRootless, {"--no-new-privs", "-c", "caps"}));
  CHECK(has(r.out, "NoNewPrivs 1"));
  CHECK(has(r.out, "Seccomp    0"));
  CHECK(has(nslab_run(plus(kRootless, {"-c", "caps"})).out, "NoNewPrivs 0"));
}

TEST_CASE("nslab enter gets no more than the box: its bounding set, no_new_privs and its filter") {
  if (!have_root()) return;
  LiveBox box(plus(kRootless, {"--pid", "--cap-drop", "net_raw", "--seccomp", "-c", "sleep 30"}));
  REQUIRE_MESSAGE(box.wait_for_box() > 0, box.output());
  auto entered = testing::run({testing::bin("nslab"), "enter", fmt::format("box-{}", box.runner()),
                               "-c", "caps; " + kMount});
  CHECK_FALSE(holds(field(entered.out, "CapBnd"), 13));
  CHECK(holds(field(entered.out, "CapBnd"), 21));  // what the box kept, the shell keeps
  CHECK(has(entered.out, "NoNewPrivs 1"));
  CHECK(has(entered.out, "Seccomp    2 filter"));
  CHECK_FALSE(has(entered.out, "mounted"));
}

TEST_CASE("nslab enter into root's box without --user keeps CAP_SYS_ADMIN away") {
  if (!have_root()) return;
  // Root's box without a user namespace loses the host-wide capabilities before exec; a shell
  // that enters it must lose them too, or `nslab enter` would hand them back.
  LiveBox box({"--uts", "--mount", "--pivot", "--pid", "--proc", "-c", "sleep 30"});
  REQUIRE_MESSAGE(box.wait_for_box() > 0, box.output());
  auto entered = testing::run({testing::bin("nslab"), "enter", fmt::format("box-{}", box.runner()),
                               "-c", "caps; mount -t tmpfs probe /tmp && echo mounted"});
  CAPTURE(entered.out);
  CHECK_FALSE(holds(field(entered.out, "CapBnd"), 21));  // CAP_SYS_ADMIN
  CHECK_FALSE(holds(field(entered.out, "CapEff"), 21));
  CHECK(holds(field(entered.out, "CapEff"), 0));  // control: CAP_CHOWN stays
  CHECK_FALSE(has(entered.out, "mounted"));
  CHECK(has(entered.err, "Operation not permitted"));
}
