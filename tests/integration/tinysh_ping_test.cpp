// tinysh's ping, run as a program against 127.0.0.1 and nothing else. Each test that sends a
// packet runs in a network namespace of its own (util-linux unshare --net), so what it finds
// does not depend on the host: lo is down until the test brings it up, and
// net.ipv4.ping_group_range is "1 0" (no group at all) until the test widens it. Making one
// needs root; those tests say so when they skip.
#include <doctest/doctest.h>
#include <pwd.h>

#include <chrono>
#include <string>

#include "process.h"

using namespace std::chrono_literals;
using testing::bin;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The text with each line break and the indent after it made one space: the message is wrapped
// at 80 columns, and where a phrase breaks depends on the numbers in it.
std::string unwrapped(const std::string& text) {
  std::string flat;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') {
      flat += text[i];
      continue;
    }
    while (i + 1 < text.size() && text[i + 1] == ' ') ++i;
    flat += ' ';
  }
  return flat;
}

// A user with no capabilities: `student` where the machine has one, else nobody.
struct User {
  uid_t uid = 65534;
  gid_t gid = 65534;
};

User unprivileged_user() {
  if (const passwd* pw = ::getpwnam("student")) return {pw->pw_uid, pw->pw_gid};
  return {};
}

bool can_make_network_namespaces() {
  if (!testing::is_root()) {
    testing::skip("a new network namespace needs root (CI runs as root)");
    return false;
  }
  for (const char* program : {"unshare", "ip", "setpriv"})
    if (!testing::have_program(program)) {
      testing::skip(std::string(program) + " is not installed (util-linux, iproute2)");
      return false;
    }
  return true;
}

// Runs the sh `script` in a new network namespace. In it, $TINYSH is tinysh, and
// `setpriv $AS_USER "$TINYSH"` runs it as the unprivileged user, whose gid is $USER_GID.
testing::RunResult in_new_network_namespace(const std::string& script) {
  User user = unprivileged_user();
  return testing::run({"unshare", "--net", "sh", "-c", script},
                      {.env = {"TINYSH=" + bin("tinysh"),
                               "AS_USER=--reuid=" + std::to_string(user.uid) +
                                   " --regid=" + std::to_string(user.gid) + " --clear-groups",
                               "USER_GID=" + std::to_string(user.gid)}});
}

}  // namespace

TEST_CASE("ping without an address, with a name or with a bad count is a usage error, status 2") {
  for (const char* command :
       {"ping", "ping localhost", "ping -c 0 127.0.0.1", "ping -W soon 127.0.0.1", "ping ::1"}) {
    auto r = testing::run({bin("tinysh"), "-c", command});
    CHECK_MESSAGE(r.status() == 2, command);
    CHECK_MESSAGE(contains(r.err, "ping: usage: ping [-c COUNT] [-W SECONDS] ADDRESS\n"), r.err);
    CHECK(r.out.empty());
  }
}

TEST_CASE("as root with no group in ping_group_range, ping falls back to the raw socket") {
  if (!can_make_network_namespaces()) return;
  auto started = std::chrono::steady_clock::now();
  auto r = in_new_network_namespace(
      "ip link set lo up && exec \"$TINYSH\" -c 'ping -c 2 -W 1 127.0.0.1'");
  auto took = std::chrono::steady_clock::now() - started;
  INFO(r.out, r.err);
  CHECK(r.status() == 0);
  CHECK(r.out.starts_with("PING 127.0.0.1 via socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)\n"));
  CHECK(contains(r.out, "reply from 127.0.0.1: seq=1 time="));
  CHECK(contains(r.out, "reply from 127.0.0.1: seq=2 time="));
  CHECK(r.out.ends_with("--- 127.0.0.1: 2 sent, 2 received, 0% lost\n"));
  CHECK(r.err.empty());
  CHECK(took >= 900ms);  // the second request waited its second
}

TEST_CASE(
    "with its group in ping_group_range, a user without capabilities uses the datagram socket") {
  if (!can_make_network_namespaces()) return;
  auto r = in_new_network_namespace(
      "ip link set lo up && echo \"$USER_GID $USER_GID\" > /proc/sys/net/ipv4/ping_group_range "
      "&& exec setpriv $AS_USER \"$TINYSH\" -c 'ping -c 1 127.0.0.1'");
  if (r.status() == 126 || r.status() == 127) {
    testing::skip("the unprivileged user cannot run " + bin("tinysh") + " here");
    return;
  }
  INFO(r.out, r.err);
  CHECK(r.status() == 0);
  CHECK(r.out.starts_with("PING 127.0.0.1 via socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)\n"));
  CHECK(contains(r.out, "reply from 127.0.0.1: seq=1 time="));
  CHECK(r.out.ends_with("--- 127.0.0.1: 1 sent, 1 received, 0% lost\n"));
  // Root too takes the datagram socket first when its group is in the range.
  auto root = in_new_network_namespace(
      "ip link set lo up && echo '0 0' > /proc/sys/net/ipv4/ping_group_range "
      "&& exec \"$TINYSH\" -c 'ping -c 1 127.0.0.1'");
  CHECK(root.status() == 0);
  CHECK(root.out.starts_with("PING 127.0.0.1 via socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)\n"));
}

TEST_CASE(
    "a user outside ping_group_range and without CAP_NET_RAW is told both reasons and fixes") {
  if (!can_make_network_namespaces()) return;
  auto r = in_new_network_namespace(
      "ip link set lo up && exec setpriv $AS_USER \"$TINYSH\" -c 'ping -c 1 127.0.0.1'");
  if (r.status() == 126 || r.status() == 127) {
    testing::skip("the unprivileged user cannot run " + bin("tinysh") + " here");
    return;
  }
  INFO(r.err);
  const std::string gid = std::to_string(unprivileged_user().gid);
  const std::string said = unwrapped(r.err);
  CHECK(r.status() == 1);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("ping: the kernel refused both kinds of ICMP socket:\n"));
  CHECK(
      contains(said, "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): Permission denied — neither gid " +
                         gid + " nor"));
  CHECK(contains(said, "net.ipv4.ping_group_range (1 0 here: no group at all)"));
  // The fix on a line of its own, whole, to be copied.
  CHECK(contains(
      r.err, "\n      echo \"" + gid + " " + gid + "\" > /proc/sys/net/ipv4/ping_group_range\n"));
  CHECK(contains(said,
                 "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): Operation not permitted — needs "
                 "CAP_NET_RAW in the user namespace that owns this network namespace"));
}

TEST_CASE("with lo down nothing can be sent: 0 sent, 0 received, status 1") {
  if (!can_make_network_namespaces()) return;
  auto r = in_new_network_namespace("exec \"$TINYSH\" -c 'ping -c 2 -W 1 127.0.0.1'");
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(r.out.ends_with("--- 127.0.0.1: 0 sent, 0 received\n"));
  CHECK_FALSE(contains(r.out, "reply from"));
  CHECK(contains(r.err, "ping: sendto(127.0.0.1): Network is unreachable"));
}

TEST_CASE("when 127.0.0.1 ignores echo requests, each is sent and none answered, status 1") {
  if (!can_make_network_namespaces()) return;
  // net.ipv4.icmp_echo_ignore_all, this namespace's own: the kernel answers no echo request.
  auto r = in_new_network_namespace(
      "ip link set lo up && echo 1 > /proc/sys/net/ipv4/icmp_echo_ignore_all "
      "&& exec \"$TINYSH\" -c 'ping -c 1 -W 1 127.0.0.1'");
  INFO(r.out, r.err);
  CHECK(r.status() == 1);
  CHECK(contains(r.out, "no reply to seq=1 within 1 second\n"));
  CHECK_FALSE(contains(r.out, "reply from"));
  CHECK(r.out.ends_with("--- 127.0.0.1: 1 sent, 0 received, 100% lost\n"));
  CHECK(r.err.empty());
}
