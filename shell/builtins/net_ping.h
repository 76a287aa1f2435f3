// `ping`: ICMP echo requests to an IPv4 address, and how long each reply took.
//
//   ping [-c COUNT] [-W SECONDS] ADDRESS
//
// An echo request is an ICMP message of type 8 carrying an identifier and a sequence number; the
// host that owns the address answers with type 0 and the same two numbers (RFC 792). Linux lets
// a program send one through two kinds of socket (icmp(7), raw(7)):
//   socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)  the "ping socket": no capability needed, but
//       only for a process whose group (or a supplementary one) lies in the range of
//       net.ipv4.ping_group_range, a setting of each network namespace ("1 0", no group at
//       all, in a new one). The kernel chooses the identifier itself, delivers only the replies
//       that carry it, and hands them over without their IP header.
//   socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)    a copy of every ICMP packet that reaches this
//       network namespace, IP header first; it needs CAP_NET_RAW in the user namespace that owns
//       the network namespace (root on the host, or root of a box with its own user and network
//       namespaces).
// ping tries the first, falls back to the second, and when the kernel refuses both it says why
// it refused each and what would change its mind.
//
// The address is numeric (inet_pton(3)): tinysh is static and has no resolver. Every wait is a
// poll(2) with a deadline: for each reply (-W), and the second between two requests.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../builtin.h"

namespace tinysh::net {

inline constexpr int kPingDefaultCount = 3;
inline constexpr int kPingMaxCount = 1000;
inline constexpr int kPingDefaultTimeoutSeconds = 2;
inline constexpr int kPingMaxTimeoutSeconds = 60;

struct PingOptions {
  sockaddr_in address = {};
  int count = kPingDefaultCount;                     // echo requests to send
  int timeout_seconds = kPingDefaultTimeoutSeconds;  // longest wait for each reply
};

// Parses args ("ping", ...). On misuse returns nullopt with `problem` set to one sentence (empty
// when the usage line alone says it all).
std::optional<PingOptions> parse_ping_args(Args args, std::string& problem);

enum class IcmpSocketKind { Datagram, Raw };

// The socket(2) call for each kind: ping makes it from `type` and prints `call`.
struct IcmpSocketCall {
  IcmpSocketKind kind;
  int type;               // SOCK_DGRAM or SOCK_RAW
  std::string_view call;  // "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)"
};
const IcmpSocketCall& icmp_socket_call(IcmpSocketKind kind);

// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the
// 16-bit words. A message that carries its own checksum sums to 0.
uint16_t internet_checksum(std::span<const uint8_t> bytes);

// An echo request: type 8, code 0, checksum, identifier, sequence number (network byte order),
// then a payload of 56 bytes, as ping(8) sends.
std::vector<uint8_t> make_echo_request(uint16_t identifier, uint16_t sequence);

struct EchoReply {
  uint16_t identifier = 0;
  uint16_t sequence = 0;
};

// The identifier and sequence number of an echo reply (type 0) as the socket of `kind` delivers
// it: after an IPv4 header on a raw socket, alone on a datagram socket. nullopt for anything
// else: a truncated packet, another ICMP type (a raw socket on lo also sees the request itself).
std::optional<EchoReply> parse_echo_reply(std::span<const uint8_t> packet, IcmpSocketKind kind);

// Why the kernel refused both sockets: the two errnos, the text of
// /proc/sys/net/ipv4/ping_group_range (nullopt when unreadable) and the caller's effective gid.
struct IcmpRefusal {
  int datagram_error = 0;
  int raw_error = 0;
  std::optional<std::string> group_range;
  gid_t gid = 0;
};

// The lines ping prints on stderr then, each within 80 columns, each ending in a newline:
//   ping: the kernel refused both kinds of ICMP socket:
//     socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP): Permission denied — neither gid 1001 nor
//       ...
std::string explain_icmp_refusal(const IcmpRefusal& refusal);

// Sends the requests, prints a line per reply and a summary on fd 1, errors on fd 2. Returns 0
// when at least one reply came, 1 when none did.
int ping(Args args, const PingOptions& options);

}  // namespace tinysh::net
