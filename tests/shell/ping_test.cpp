// `ping`'s pure parts: its arguments, the echo request it builds, the replies it accepts from
// each kind of socket, and the message when the kernel refuses both. No socket is opened here;
// tests/integration/tinysh_ping_test.cpp pings 127.0.0.1 as root.
#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "builtin.h"
#include "builtins/net_ping.h"
#include "capture.h"
#include "common/text.h"
#include "shell.h"

namespace {

namespace net = tinysh::net;
using net::IcmpSocketKind;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string address_text(const sockaddr_in& address) {
  char text[INET_ADDRSTRLEN] = "";
  ::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
  return text;
}

// An IPv4 header of `header_bytes` (20, or more with options) for an ICMP packet.
std::vector<uint8_t> ipv4_header(size_t header_bytes, uint8_t protocol = IPPROTO_ICMP) {
  std::vector<uint8_t> header(header_bytes, 0);
  header[0] = static_cast<uint8_t>(0x40 | header_bytes / 4);
  header[8] = 64;  // TTL
  header[9] = protocol;
  return header;
}

// An echo reply as the peer sends it: the request with type 0 and its checksum made again.
std::vector<uint8_t> echo_reply(uint16_t identifier, uint16_t sequence) {
  std::vector<uint8_t> packet = net::make_echo_request(identifier, sequence);
  packet[0] = 0;
  packet[2] = packet[3] = 0;
  uint16_t checksum = net::internet_checksum(packet);
  packet[2] = static_cast<uint8_t>(checksum >> 8);
  packet[3] = static_cast<uint8_t>(checksum);
  return packet;
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The message as one line: wrapping may break a phrase anywhere between words.
std::string unwrapped(std::string_view text) {
  std::string flat;
  for (std::string_view word : common::words(text)) {
    for (std::string_view part : common::split_nonempty(word, '\n')) {
      if (!flat.empty()) flat += ' ';
      flat += part;
    }
  }
  return flat;
}

void check_lines_fit(const std::string& text, size_t width) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    size_t columns = 0;
    for (char c : line)
      if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++columns;
    CHECK_MESSAGE(columns <= width, line);
    start = end + 1;
  }
}

int run_ping(std::vector<std::string> args) {
  tinysh::Shell shell;
  return tinysh::find_builtin("ping")->run(shell, args);
}

}  // namespace

TEST_CASE("ping arguments: 3 requests and 2 seconds by default, -c and -W before or after") {
  std::string problem;
  std::vector<std::string> plain = {"ping", "127.0.0.1"};
  auto p = net::parse_ping_args(plain, problem);
  REQUIRE(p);
  CHECK(p->count == 3);
  CHECK(p->timeout_seconds == 2);
  CHECK(p->address.sin_family == AF_INET);
  CHECK(address_text(p->address) == "127.0.0.1");

  std::vector<std::string> both = {"ping", "-W", "5", "127.0.0.1", "-c", "10"};
  auto b = net::parse_ping_args(both, problem);
  REQUIRE(b);
  CHECK(b->count == 10);
  CHECK(b->timeout_seconds == 5);
  CHECK(problem.empty());
}

TEST_CASE("names, IPv6 addresses, bad numbers and extra words are usage errors with status 2") {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"ping"}, "usage: ping [-c COUNT] [-W SECONDS] ADDRESS"},
      {{"ping", "example.com"}, "'example.com' is not a numeric IPv4 address"},
      {{"ping", "localhost"}, "no DNS"},
      {{"ping", "::1"}, "'::1' is an IPv6 address"},
      {{"ping", "256.1.1.1"}, "not a numeric IPv4 address"},
      {{"ping", "-c", "0", "127.0.0.1"}, "-c needs a count of requests from 1 to 1000, not '0'"},
      {{"ping", "-c", "-1", "127.0.0.1"}, "not '-1'"},
      {{"ping", "-c", "1001", "127.0.0.1"}, "not '1001'"},
      {{"ping", "-c", "3x", "127.0.0.1"}, "not '3x'"},
      {{"ping", "127.0.0.1", "-c"}, "-c needs a count"},
      {{"ping", "-W", "0", "127.0.0.1"}, "-W needs a whole number of seconds from 1 to 60"},
      {{"ping", "-W", "0.5", "127.0.0.1"}, "not '0.5'"},
      {{"ping", "-q", "127.0.0.1"}, "unknown option '-q'"},
      {{"ping", "127.0.0.1", "127.0.0.1"}, "usage: ping"},
  };
  for (const Case& c : cases) {
    auto result = testing::capture([&] { return run_ping(c.args); });
    CHECK_MESSAGE(result.status == 2, c.says);
    CHECK_MESSAGE(contains(result.err, c.says), result.err);
    CHECK_MESSAGE(contains(result.err, "usage: ping"), result.err);
    CHECK(result.out == "");
  }
}

TEST_CASE("ping runs in a child process, and help lists it") {
  const tinysh::Builtin* ping = tinysh::find_builtin("ping");
  REQUIRE(ping != nullptr);
  CHECK(ping->runs_in == tinysh::RunsIn::Child);  // it waits, so Ctrl-C must reach it alone
  tinysh::Shell shell;
  std::vector<std::string> help = {"help"};
  auto listing = testing::capture([&] { return tinysh::find_builtin("help")->run(shell, help); });
  CHECK(contains(listing.out, "\n  ping     "));
}

TEST_CASE("the Internet checksum of RFC 1071's example, odd lengths padded with a zero") {
  // RFC 1071, section 3: these bytes sum to 0xddf2, whose complement is 0x220d.
  std::vector<uint8_t> bytes = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(net::internet_checksum(bytes) == 0x220d);
  std::vector<uint8_t> odd = {0x01};  // 0x0100
  CHECK(net::internet_checksum(odd) == 0xfeff);
  CHECK(net::internet_checksum({}) == 0xffff);
}

TEST_CASE("an echo request is type 8 with the identifier and sequence in network order") {
  auto packet = net::make_echo_request(0x1234, 0x0102);
  REQUIRE(packet.size() == 64);
  CHECK(packet[0] == 8);
  CHECK(packet[1] == 0);
  CHECK(packet[4] == 0x12);
  CHECK(packet[5] == 0x34);
  CHECK(packet[6] == 0x01);
  CHECK(packet[7] == 0x02);
  // Its checksum is right: the whole message, checksum included, sums to zero.
  CHECK(net::internet_checksum(packet) == 0);
  // The control: one changed byte no longer sums to zero.
  packet[10] ^= 0xff;
  CHECK(net::internet_checksum(packet) != 0);
}

TEST_CASE("a raw socket's echo reply is read after the IPv4 header, with options too") {
  auto reply =
      net::parse_echo_reply(concat(ipv4_header(20), echo_reply(77, 3)), IcmpSocketKind::Raw);
  REQUIRE(reply);
  CHECK(reply->identifier == 77);
  CHECK(reply->sequence == 3);
  // A header with 8 bytes of options: IHL 7.
  auto longer =
      net::parse_echo_reply(concat(ipv4_header(28), echo_reply(77, 4)), IcmpSocketKind::Raw);
  REQUIRE(longer);
  CHECK(longer->sequence == 4);
}

TEST_CASE("the request itself, other protocols and cut packets are not replies on a raw socket") {
  // On lo a raw socket sees the request go out too: same identifier and sequence, type 8.
  CHECK_FALSE(net::parse_echo_reply(concat(ipv4_header(20), net::make_echo_request(77, 3)),
                                    IcmpSocketKind::Raw));
  CHECK_FALSE(net::parse_echo_reply(concat(ipv4_header(20, IPPROTO_UDP), echo_reply(77, 3)),
                                    IcmpSocketKind::Raw));
  auto whole = concat(ipv4_header(20), echo_reply(77, 3));
  CHECK_FALSE(net::parse_echo_reply(std::span(whole).first(27), IcmpSocketKind::Raw));
  CHECK_FALSE(net::parse_echo_reply(std::span(whole).first(10), IcmpSocketKind::Raw));
  auto ipv6_version = whole;
  ipv6_version[0] = 0x65;
  CHECK_FALSE(net::parse_echo_reply(ipv6_version, IcmpSocketKind::Raw));
  auto short_ihl = whole;
  short_ihl[0] = 0x44;  // a header of 16 bytes cannot be
  CHECK_FALSE(net::parse_echo_reply(short_ihl, IcmpSocketKind::Raw));
  // The control: the same bytes untouched are a reply.
  CHECK(net::parse_echo_reply(whole, IcmpSocketKind::Raw));
}

TEST_CASE("a datagram socket delivers the reply without an IP header") {
  auto reply = net::parse_echo_reply(echo_reply(4242, 1), IcmpSocketKind::Datagram);
  REQUIRE(reply);
  CHECK(reply->identifier == 4242);
  CHECK(reply->sequence == 1);
  // Read as if from a raw socket, the ICMP header is no IPv4 header (version 0).
  CHECK_FALSE(net::parse_echo_reply(echo_reply(4242, 1), IcmpSocketKind::Raw));
  CHECK_FALSE(net::parse_echo_reply(net::make_echo_request(4242, 1), IcmpSocketKind::Datagram));
  auto cut = echo_reply(4242, 1);
  CHECK_FALSE(net::parse_echo_reply(std::span(cut).first(7), IcmpSocketKind::Datagram));
}

TEST_CASE("each kind of socket is made by the call ping prints") {
  CHECK(net::icmp_socket_call(IcmpSocketKind::Datagram).type == SOCK_DGRAM);
  CHECK(net::icmp_socket_call(IcmpSocketKind::Datagram).call ==
        "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)");
  CHECK(net::icmp_socket_call(IcmpSocketKind::Raw).type == SOCK_RAW);
  CHECK(net::icmp_socket_call(IcmpSocketKind::Raw).call ==
        "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)");
}

TEST_CASE("both sockets refused: each reason and its fix, the command whole, in 80 columns") {
  std::string text = net::explain_icmp_refusal(
      {.datagram_error = EACCES, .raw_error = EPERM, .group_range = "1\t0\n", .gid = 1001});
  INFO(text);
  CHECK(text.starts_with("ping: the kernel refused both kinds of ICMP socket:\n"));
  CHECK(contains(text, "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): Permission denied — "));
  CHECK(contains(unwrapped(text), "(1 0 here: no group at all)"));
  CHECK(contains(text, "\n      echo \"1001 1001\" > /proc/sys/net/ipv4/ping_group_range\n"));
  CHECK(contains(text, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): Operation not permitted — "));
  CHECK(contains(text, "CAP_NET_RAW"));
  CHECK(text.ends_with("\n"));
  check_lines_fit(text, 80);
}

TEST_CASE("a gid inside ping_group_range is not blamed on the range, nor an unreadable one") {
  std::string inside = unwrapped(net::explain_icmp_refusal({.datagram_error = EACCES,
                                                            .raw_error = EPERM,
                                                            .group_range = "0\t2147483647\n",
                                                            .gid = 1001}));
  CHECK(contains(inside, "gid 1001 is in net.ipv4.ping_group_range"));
  CHECK(contains(inside, "security module or a seccomp filter"));
  CHECK_FALSE(contains(inside, "echo \""));
  std::string unreadable = unwrapped(net::explain_icmp_refusal(
      {.datagram_error = EACCES, .raw_error = EPERM, .group_range = std::nullopt, .gid = 1001}));
  CHECK(contains(unreadable, "is unreadable"));
  CHECK_FALSE(contains(unreadable, "echo \""));
  // Another errno gets no guess about groups or capabilities.
  std::string other = net::explain_icmp_refusal(
      {.datagram_error = EMFILE, .raw_error = EMFILE, .group_range = "1\t0\n", .gid = 0});
  CHECK(contains(other, "  socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): Too many open files\n"));
  CHECK_FALSE(contains(other, "ping_group_range"));
  CHECK_FALSE(contains(other, "CAP_NET_RAW"));
}
