#include "net_ping.h"

#include <arpa/inet.h>
#include <linux/icmp.h>  // ICMP_FILTER, struct icmp_filter: a raw socket's filter of ICMP types
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>

#include "common/files.h"
#include "common/text.h"
#include "common/unique_fd.h"
#include "net_tcp.h"

namespace tinysh::net {

namespace {

// RFC 792's message types.
constexpr uint8_t kEchoReply = 0;
constexpr uint8_t kEchoRequest = 8;

constexpr size_t kIcmpHeaderBytes = 8;  // type, code, checksum, identifier, sequence number
constexpr size_t kPayloadBytes = 56;    // ping(8)'s default: 64 bytes of ICMP in all
constexpr size_t kIpv4HeaderMinBytes = 20;

constexpr IcmpSocketCall kSocketCalls[] = {
    {IcmpSocketKind::Datagram, SOCK_DGRAM, "socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)"},
    {IcmpSocketKind::Raw, SOCK_RAW, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)"},
};

constexpr std::string_view kGroupRangeFile = "/proc/sys/net/ipv4/ping_group_range";

bool whole_number(std::string_view text, int low, int high, int& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && value >= low &&
         value <= high;
}

uint16_t big_endian_16(std::span<const uint8_t> bytes) {
  return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
}

}  // namespace

// ---- pure: arguments, packets, the refusal ----

std::optional<PingOptions> parse_ping_args(Args args, std::string& problem) {
  problem.clear();
  PingOptions options;
  std::optional<std::string_view> address;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "-c" || word == "-W") {
      std::string_view value = i + 1 < args.size() ? std::string_view(args[++i]) : "";
      if (word == "-c" && !whole_number(value, 1, kPingMaxCount, options.count)) {
        problem = fmt::format("-c needs a count of requests from 1 to {}, not '{}'", kPingMaxCount,
                              value);
        return std::nullopt;
      }
      if (word == "-W" &&
          !whole_number(value, 1, kPingMaxTimeoutSeconds, options.timeout_seconds)) {
        problem = fmt::format("-W needs a whole number of seconds from 1 to {}, not '{}'",
                              kPingMaxTimeoutSeconds, value);
        return std::nullopt;
      }
    } else if (word.size() > 1 && word[0] == '-') {
      problem = fmt::format("unknown option '{}'", word);
      return std::nullopt;
    } else if (address) {
      return std::nullopt;  // one address only
    } else {
      address = word;
    }
  }
  if (!address) return std::nullopt;

  const std::string text(*address);
  options.address.sin_family = AF_INET;
  if (::inet_pton(AF_INET, text.c_str(), &options.address.sin_addr) == 1) return options;
  in6_addr v6;
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1)
    problem = fmt::format("'{}' is an IPv6 address; tinysh's ping sends ICMP over IPv4 only", text);
  else
    problem = fmt::format(
        "'{}' is not a numeric IPv4 address (tinysh is static and has no DNS: write 127.0.0.1, "
        "not a name)",
        text);
  return std::nullopt;
}

const IcmpSocketCall& icmp_socket_call(IcmpSocketKind kind) {
  switch (kind) {
    case IcmpSocketKind::Datagram:
      return kSocketCalls[0];
    case IcmpSocketKind::Raw:
      return kSocketCalls[1];
  }
  return kSocketCalls[0];
}

uint16_t internet_checksum(std::span<const uint8_t> bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) sum += big_endian_16(bytes.subspan(i, 2));
  if (bytes.size() % 2) sum += static_cast<uint32_t>(bytes.back()) << 8;  // padded with a zero
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);                   // end-around carry
  return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> make_echo_request(uint16_t identifier, uint16_t sequence) {
  std::vector<uint8_t> packet(kIcmpHeaderBytes + kPayloadBytes);
  packet[0] = kEchoRequest;
  packet[1] = 0;  // code
  packet[4] = static_cast<uint8_t>(identifier >> 8);
  packet[5] = static_cast<uint8_t>(identifier);
  packet[6] = static_cast<uint8_t>(sequence >> 8);
  packet[7] = static_cast<uint8_t>(sequence);
  for (size_t i = 0; i < kPayloadBytes; ++i) packet[kIcmpHeaderBytes + i] = static_cast<uint8_t>(i);
  // Computed over the message with the checksum field at zero, as the receiver will check it.
  uint16_t checksum = internet_checksum(packet);
  packet[2] = static_cast<uint8_t>(checksum >> 8);
  packet[3] = static_cast<uint8_t>(checksum);
  return packet;
}

std::optional<EchoReply> parse_echo_reply(std::span<const uint8_t> packet, IcmpSocketKind kind) {
  std::span<const uint8_t> icmp = packet;
  if (kind == IcmpSocketKind::Raw) {
    // The IPv4 header: version in the high nibble of byte 0, its length in 32-bit words in the
    // low one (more than 5 when it carries options), the protocol in byte 9.
    if (packet.size() < kIpv4HeaderMinBytes || packet[0] >> 4 != 4) return std::nullopt;
    size_t header_bytes = static_cast<size_t>(packet[0] & 0x0f) * 4;
    if (header_bytes < kIpv4HeaderMinBytes || packet.size() < header_bytes) return std::nullopt;
    if (packet[9] != IPPROTO_ICMP) return std::nullopt;
    icmp = packet.subspan(header_bytes);
  }
  if (icmp.size() < kIcmpHeaderBytes) return std::nullopt;
  if (icmp[0] != kEchoReply || icmp[1] != 0) return std::nullopt;
  return EchoReply{.identifier = big_endian_16(icmp.subspan(4, 2)),
                   .sequence = big_endian_16(icmp.subspan(6, 2))};
}

namespace {

// "1 0 here: no group at all", "0 2147483647 here"; the kernel separates the two with a tab.
struct GroupRange {
  uint64_t low = 0, high = 0;
  bool contains(gid_t gid) const { return low <= gid && gid <= high; }
};

std::optional<GroupRange> parse_group_range(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto words = common::words(common::trim(*text));
  if (words.size() != 2) return std::nullopt;
  GroupRange range;
  for (auto [word, value] : {std::pair{words[0], &range.low}, std::pair{words[1], &range.high}}) {
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), *value);
    if (ec != std::errc() || end != word.data() + word.size()) return std::nullopt;
  }
  return range;
}

std::string datagram_hint(const IcmpRefusal& refusal) {
  switch (refusal.datagram_error) {
    case EACCES: {
      auto range = parse_group_range(refusal.group_range);
      if (!range)
        return fmt::format("net.ipv4.ping_group_range decides who may ({} is unreadable here)",
                           kGroupRangeFile);
      const std::string here = fmt::format("{} {} here{}", range->low, range->high,
                                           range->low > range->high ? ": no group at all" : "");
      if (range->contains(refusal.gid))
        return fmt::format(
            "gid {} is in net.ipv4.ping_group_range ({}), so something else refused it: a "
            "security module or a seccomp filter",
            refusal.gid, here);
      return fmt::format(
          "neither gid {} nor a supplementary group of this process is in "
          "net.ipv4.ping_group_range ({}); root in this network namespace can let gid {} in "
          "with:",
          refusal.gid, here, refusal.gid);
    }
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
    case ESOCKTNOSUPPORT:
      return "this kernel has no ICMP datagram sockets";
    default:
      return "";
  }
}

std::string raw_hint(int err) {
  if (err != EPERM && err != EACCES) return "";
  return "needs CAP_NET_RAW in the user namespace that owns this network namespace: root on "
         "the host, or root in a box with its own user and network namespaces (nslab run "
         "--user --map-root --net)";
}

// "  CALL: ERROR — HINT", wrapped with the continuation lines indented further.
std::string refusal_item(IcmpSocketKind kind, int err, std::string_view hint) {
  std::string text = fmt::format("{}: {}", icmp_socket_call(kind).call, errno_text(err));
  if (!hint.empty()) text += fmt::format(" — {}", hint);
  return common::wrap_line("  " + text, 80, "    ");
}

}  // namespace

std::string explain_icmp_refusal(const IcmpRefusal& refusal) {
  std::string text = "ping: the kernel refused both kinds of ICMP socket:\n";
  text += refusal_item(IcmpSocketKind::Datagram, refusal.datagram_error, datagram_hint(refusal));
  // The command on a line of its own, whole, to be copied.
  auto range = parse_group_range(refusal.group_range);
  if (refusal.datagram_error == EACCES && range && !range->contains(refusal.gid))
    text += fmt::format("      echo \"{0} {0}\" > {1}\n", refusal.gid, kGroupRangeFile);
  text += refusal_item(IcmpSocketKind::Raw, refusal.raw_error, raw_hint(refusal.raw_error));
  return text;
}

// ---- the socket ----

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kInterval = std::chrono::seconds(1);  // between two requests, as ping(8)

std::string seconds_text(int seconds) {
  return fmt::format("{} second{}", seconds, seconds == 1 ? "" : "s");
}

struct IcmpSocket {
  Fd fd;
  IcmpSocketKind kind = IcmpSocketKind::Datagram;
};

// The datagram socket when the kernel allows it, else the raw one; the refusal when neither.
std::optional<IcmpSocket> open_icmp_socket(IcmpRefusal& refusal) {
  const IcmpSocketCall& datagram = icmp_socket_call(IcmpSocketKind::Datagram);
  Fd fd(::socket(AF_INET, datagram.type | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP));
  if (fd) return IcmpSocket{std::move(fd), IcmpSocketKind::Datagram};
  refusal.datagram_error = errno;

  const IcmpSocketCall& raw = icmp_socket_call(IcmpSocketKind::Raw);
  fd = Fd(::socket(AF_INET, raw.type | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP));
  if (fd) {
    // A raw socket gets every ICMP packet of the namespace: let the kernel keep back all types
    // but echo replies (a set bit filters its type out). ping still checks what arrives.
    icmp_filter only_replies = {.data = ~(1u << kEchoReply)};
    ::setsockopt(fd.get(), SOL_RAW, ICMP_FILTER, &only_replies, sizeof only_replies);
    return IcmpSocket{std::move(fd), IcmpSocketKind::Raw};
  }
  refusal.raw_error = errno;
  refusal.group_range = common::read_file(std::string(kGroupRangeFile));
  refusal.gid = ::getegid();
  return std::nullopt;
}

// The identifier the kernel gave a datagram socket when it first sent: its "port".
std::optional<uint16_t> datagram_identifier(int fd) {
  sockaddr_in local = {};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return std::nullopt;
  return ntohs(local.sin_port);
}

class Pinger {
 public:
  Pinger(Args args, const PingOptions& options, IcmpSocket socket)
      : args_(args), options_(options), socket_(std::move(socket)) {
    char text[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &options.address.sin_addr, text, sizeof text);
    where_ = text;
    // On a raw socket the identifier is ours to choose, and replies to other pings of this
    // network namespace arrive too; on a datagram socket the kernel replaces it with its own.
    if (socket_.kind == IcmpSocketKind::Raw) identifier_ = static_cast<uint16_t>(::getpid());
  }

  int run() {
    out("PING {} via {}\n", where_, icmp_socket_call(socket_.kind).call);
    Clock::time_point next_send = Clock::now();
    for (int sequence = 1; sequence <= options_.count; ++sequence) {
      if (sequence > 1 && !receive_until(next_send, 0)) break;
      if (!send(static_cast<uint16_t>(sequence))) break;
      next_send = sent_at_.back() + kInterval;
      auto deadline = sent_at_.back() + std::chrono::seconds(options_.timeout_seconds);
      if (!receive_until(deadline, sequence)) break;
      if (!answered_[static_cast<size_t>(sequence - 1)])
        out("no reply to seq={} within {}\n", sequence, seconds_text(options_.timeout_seconds));
    }
    std::string summary =
        fmt::format("--- {}: {} sent, {} received", where_, sent_at_.size(), received_);
    if (!sent_at_.empty())
      summary += fmt::format(", {}% lost", 100 * (sent_at_.size() - received_) / sent_at_.size());
    out("{}\n", summary);
    return received_ > 0 ? 0 : 1;
  }

 private:
  // Sends echo request `sequence`; false (after saying why) when the kernel refuses. The rest
  // would meet the same refusal, so ping stops there.
  bool send(uint16_t sequence) {
    std::vector<uint8_t> packet = make_echo_request(identifier_.value_or(0), sequence);
    const auto* to = reinterpret_cast<const sockaddr*>(&options_.address);
    ssize_t n;
    do {
      n = ::sendto(socket_.fd.get(), packet.data(), packet.size(), 0, to, sizeof options_.address);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      std::string hint = explain_tcp_error(err, TcpStep::Write, where_);
      fail(args_, "sendto({}): {}{}{}", where_, errno_text(err), hint.empty() ? "" : " — ", hint);
      return false;
    }
    sent_at_.push_back(Clock::now());
    answered_.push_back(false);
    if (!identifier_) identifier_ = datagram_identifier(socket_.fd.get());
    return true;
  }

  // Reads replies until `deadline`, or until request `awaited` (1..) is answered when it is not
  // 0. false (after saying why) when poll(2) or recv(2) fails.
  bool receive_until(Clock::time_point deadline, int awaited) {
    for (;;) {
      if (awaited > 0 && answered_[static_cast<size_t>(awaited - 1)]) return true;
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return true;
      pollfd p = {.fd = socket_.fd.get(), .events = POLLIN, .revents = 0};
      int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) {
        fail(args_, "poll: {}", errno_text(errno));
        return false;
      }
      if (ready > 0 && !read_replies()) return false;
    }
  }

  // Everything the socket holds now, each packet checked and the echo replies to us counted.
  // A raw socket also gets the replies to other pings of this network namespace.
  bool read_replies() {
    for (;;) {
      uint8_t buffer[1500];
      sockaddr_in from = {};
      socklen_t from_length = sizeof from;
      ssize_t n = ::recvfrom(socket_.fd.get(), buffer, sizeof buffer, 0,
                             reinterpret_cast<sockaddr*>(&from), &from_length);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0) {
        fail(args_, "recv({}): {}", where_, errno_text(errno));
        return false;
      }
      // Only an echo reply from the address pinged, with our identifier, to a request sent.
      if (from.sin_addr.s_addr != options_.address.sin_addr.s_addr) continue;
      auto reply = parse_echo_reply(std::span(buffer, static_cast<size_t>(n)), socket_.kind);
      if (!reply || (identifier_ && reply->identifier != *identifier_)) continue;
      size_t index = static_cast<size_t>(reply->sequence) - 1;
      if (reply->sequence == 0 || index >= answered_.size() || answered_[index]) continue;
      answered_[index] = true;
      ++received_;
      auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - sent_at_[index]);
      out("reply from {}: seq={} time={:.3f} ms\n", where_, reply->sequence, elapsed.count());
    }
  }

  Args args_;
  const PingOptions& options_;
  IcmpSocket socket_;
  std::string where_;
  std::optional<uint16_t> identifier_;      // what a reply must carry; unknown before a send
  std::vector<Clock::time_point> sent_at_;  // by sequence number - 1
  std::vector<bool> answered_;
  size_t received_ = 0;
};

}  // namespace

int ping(Args args, const PingOptions& options) {
  IcmpRefusal refusal;
  auto socket = open_icmp_socket(refusal);
  if (!socket) {
    write_all(2, explain_icmp_refusal(refusal));
    return 1;
  }
  return Pinger(args, options, std::move(*socket)).run();
}

}  // namespace tinysh::net
