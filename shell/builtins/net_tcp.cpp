#include "net_tcp.h"

#include <arpa/inet.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "common/unique_fd.h"

namespace tinysh::net {

// ---- pure: arguments, addresses, explanations ----

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::optional<Endpoint> parse_endpoint(std::string_view address, uint16_t port) {
  if (address == "localhost") address = "127.0.0.1";
  if (address.size() > 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  std::string text(address);
  Endpoint endpoint;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
  if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    endpoint.length = sizeof(sockaddr_in);
    return endpoint;
  }
  endpoint = Endpoint();
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
  if (::inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    endpoint.length = sizeof(sockaddr_in6);
    return endpoint;
  }
  return std::nullopt;
}

std::string endpoint_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    return fmt::format("{}:{}", text, ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6) {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return fmt::format("[{}]:{}", text, ntohs(v6->sin6_port));
  }
  return "(not an IP address)";
}

namespace {

bool parse_seconds(std::string_view text, int& seconds) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && seconds >= 1 &&
         seconds <= 3600;
}

std::string no_such_address(std::string_view text) {
  return fmt::format(
      "'{}' is not a numeric IPv4 or IPv6 address (tinysh is static and has no DNS: write "
      "127.0.0.1 or ::1, not a name)",
      text);
}

std::string bad_port(std::string_view text) {
  return fmt::format("the port must be a number from 1 to 65535, not '{}'", text);
}

}  // namespace

std::optional<TcpOptions> parse_tcp_args(Args args, std::string_view hostname,
                                         std::string& problem) {
  problem.clear();
  if (args.size() < 2) return std::nullopt;
  TcpOptions options;
  if (args[1] == "listen") {
    options.mode = TcpMode::Listen;
    options.timeout_seconds = kListenTimeoutSeconds;
  } else if (args[1] == "connect") {
    options.mode = TcpMode::Connect;
    options.timeout_seconds = kConnectTimeoutSeconds;
  } else {
    problem = fmt::format("'{}' is neither listen nor connect", args[1]);
    return std::nullopt;
  }
  size_t next = 2;
  if (next < args.size() && args[next] == "-t") {
    if (next + 1 >= args.size() || !parse_seconds(args[next + 1], options.timeout_seconds)) {
      problem = fmt::format("-t needs a whole number of seconds from 1 to 3600, not '{}'",
                            next + 1 < args.size() ? args[next + 1] : "");
      return std::nullopt;
    }
    next += 2;
  }
  Args rest = args.subspan(next);

  if (options.mode == TcpMode::Listen) {
    if (rest.empty() || rest.size() > 2) return std::nullopt;
    auto port = parse_port(rest[0]);
    if (!port) {
      problem = bad_port(rest[0]);
      return std::nullopt;
    }
    // No address: every address of this network namespace.
    std::string_view address = rest.size() == 2 ? std::string_view(rest[1]) : "0.0.0.0";
    auto endpoint = parse_endpoint(address, *port);
    if (!endpoint) {
      problem = no_such_address(address);
      return std::nullopt;
    }
    options.endpoint = *endpoint;
    return options;
  }

  if (rest.size() < 2) return std::nullopt;
  auto port = parse_port(rest[1]);
  if (!port) {
    problem = bad_port(rest[1]);
    return std::nullopt;
  }
  auto endpoint = parse_endpoint(rest[0], *port);
  if (!endpoint) {
    problem = no_such_address(rest[0]);
    return std::nullopt;
  }
  options.endpoint = *endpoint;
  // The words after the port form the message, as echo would join them; one line on the wire.
  for (const std::string& word : rest.subspan(2)) {
    if (!options.message.empty()) options.message += ' ';
    options.message += word;
  }
  if (rest.size() == 2) options.message = fmt::format("hello from {}", hostname);
  for (char& c : options.message)
    if (c == '\n' || c == '\r') c = ' ';
  return options;
}

std::string explain_tcp_error(int err, TcpStep step, std::string_view endpoint) {
  switch (err) {
    case ECONNREFUSED:
      return fmt::format("nothing is listening on {}", endpoint);
    case ENETUNREACH:
    case EHOSTUNREACH:
      return "no route: no interface of this network namespace leads there (in an empty "
             "network namespace there is no interface with an address)";
    case ETIMEDOUT:
      return "no answer: no host has that address, or a firewall drops the packets";
    case EADDRINUSE:
      return fmt::format("something in this network namespace already listens on {}", endpoint);
    case EADDRNOTAVAIL:
      if (step == TcpStep::Bind)
        return "this address is not on any interface of this network namespace (see `ifaces`)";
      return "no local address or port is free to reach it";
    case EACCES:
    case EPERM:
      if (step == TcpStep::Bind)
        return "ports below 1024 need root (CAP_NET_BIND_SERVICE); pick a port from 1024 up";
      return "a firewall rule or a security policy forbids it";
    case ECONNRESET:
      return "the other side reset the connection";
    case EPIPE:
      return "the other side closed the connection";
    case EAFNOSUPPORT:
      return "this kernel has no support for that address family";
    default:
      return "";
  }
}

// ---- the sockets ----

namespace {

using Clock = std::chrono::steady_clock;

std::string seconds_text(int seconds) {
  return fmt::format("{} second{}", seconds, seconds == 1 ? "" : "s");
}

int report(Args args, std::string_view call, int err, TcpStep step, std::string_view endpoint) {
  std::string hint = explain_tcp_error(err, step, endpoint);
  if (hint.empty()) return fail(args, "{}: {}", call, errno_text(err));
  return fail(args, "{}: {} — {}", call, errno_text(err), hint);
}

// Waits until `fd` reports one of `events` or `deadline` passes. 1: ready, 0: timed out,
// -1: poll failed (errno set).
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return 0;
    pollfd p = {.fd = fd, .events = events, .revents = 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n > 0) return 1;
  }
}

enum class LineStatus { Line, Closed, TimedOut, Error };

struct LineResult {
  LineStatus status = LineStatus::Error;
  std::string line;  // without the newline (and without a "\r" from a telnet-like peer)
  int err = 0;
};

// Reads up to the first newline. Bytes after it are ignored: one line is all either side wants.
// A peer that closes after a last line without a newline still counts as a line.
LineResult read_line(int fd, Clock::time_point deadline) {
  constexpr size_t kMaxLine = 4096;
  LineResult result;
  std::string data;
  for (;;) {
    auto newline = data.find('\n');
    if (newline != std::string::npos || data.size() >= kMaxLine) {
      result.status = LineStatus::Line;
      result.line = data.substr(0, std::min(newline, kMaxLine));
      break;
    }
    int ready = wait_for(fd, POLLIN, deadline);
    if (ready <= 0) {
      result.status = ready == 0 ? LineStatus::TimedOut : LineStatus::Error;
      result.err = errno;
      return result;
    }
    char buffer[1024];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      result.status = LineStatus::Error;
      result.err = errno;
      return result;
    }
    if (n == 0) {
      result.status = data.empty() ? LineStatus::Closed : LineStatus::Line;
      result.line = data;
      break;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
  if (!result.line.empty() && result.line.back() == '\r') result.line.pop_back();
  return result;
}

// Sends all of `text`, waiting (bounded) when the socket buffer is full. 0 or an errno.
int send_all(int fd, std::string_view text, Clock::time_point deadline) {
  while (!text.empty()) {
    // MSG_NOSIGNAL: a peer that already left gives EPIPE here instead of killing us with SIGPIPE.
    ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      int ready = wait_for(fd, POLLOUT, deadline);
      if (ready == 0) return ETIMEDOUT;
      if (ready < 0) return errno;
      continue;
    }
    if (n < 0) return errno;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

std::string local_address(int fd) {
  sockaddr_storage local = {};
  socklen_t length = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return "?";
  return endpoint_text(reinterpret_cast<sockaddr*>(&local));
}

// A non-blocking TCP socket of the endpoint's family: every later wait goes through poll(2).
Fd tcp_socket(const Endpoint& endpoint) {
  return Fd(::socket(endpoint.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
}

// Reads the peer's line and reports what went wrong in words when there is none.
std::optional<std::string> receive_line(Args args, int fd, std::string_view peer, int seconds) {
  LineResult got = read_line(fd, Clock::now() + std::chrono::seconds(seconds));
  switch (got.status) {
    case LineStatus::Line:
      return got.line;
    case LineStatus::Closed:
      fail(args, "{} closed the connection without sending a line", peer);
      return std::nullopt;
    case LineStatus::TimedOut:
      fail(args, "no line from {} within {} (use -t to wait longer)", peer, seconds_text(seconds));
      return std::nullopt;
    case LineStatus::Error:
      report(args, fmt::format("recv({})", peer), got.err, TcpStep::Read, peer);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

int tcp_listen(Args args, const TcpOptions& options, std::string_view hostname) {
  const std::string where = endpoint_text(options.endpoint.get());
  Fd listener = tcp_socket(options.endpoint);
  if (!listener) return report(args, "socket(SOCK_STREAM)", errno, TcpStep::Socket, where);
  // SO_REUSEADDR: a port whose last connection is still in TIME_WAIT can be bound again at once,
  // so a lesson can run the same step twice in a row.
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener.get(), options.endpoint.get(), options.endpoint.length) != 0)
    return report(args, fmt::format("bind({})", where), errno, TcpStep::Bind, where);
  if (::listen(listener.get(), 1) != 0)
    return report(args, fmt::format("listen({})", where), errno, TcpStep::Listen, where);
  out("tcp: listening on {}\n", local_address(listener.get()));

  auto deadline = Clock::now() + std::chrono::seconds(options.timeout_seconds);
  int ready = wait_for(listener.get(), POLLIN, deadline);
  if (ready < 0) return report(args, "poll", errno, TcpStep::Accept, where);
  if (ready == 0)
    return fail(args, "no connection within {} (use -t to wait longer)",
                seconds_text(options.timeout_seconds));
  sockaddr_storage peer_address = {};
  socklen_t peer_length = sizeof peer_address;
  Fd connection(::accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer_address), &peer_length,
                          SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!connection)
    return report(args, fmt::format("accept({})", where), errno, TcpStep::Accept, where);
  // One connection is all we serve: stop listening now, so a second client is refused rather
  // than left waiting in the backlog.
  listener.reset();
  const std::string peer = endpoint_text(reinterpret_cast<sockaddr*>(&peer_address));
  out("tcp: connection from {}\n", peer);

  auto line = receive_line(args, connection.get(), peer, options.timeout_seconds);
  if (!line) return 1;
  out("tcp: received: {}\n", *line);
  // The reply names this side, so each end of the lesson sees who answered.
  std::string reply = fmt::format("echo from {}: {}", hostname, *line);
  int err = send_all(connection.get(), reply + "\n",
                     Clock::now() + std::chrono::seconds(options.timeout_seconds));
  if (err) return report(args, fmt::format("send({})", peer), err, TcpStep::Write, peer);
  out("tcp: replied: {}\n", reply);
  return 0;
}

int tcp_connect(Args args, const TcpOptions& options) {
  const std::string where = endpoint_text(options.endpoint.get());
  Fd sock = tcp_socket(options.endpoint);
  if (!sock) return report(args, "socket(SOCK_STREAM)", errno, TcpStep::Socket, where);
  auto deadline = Clock::now() + std::chrono::seconds(options.timeout_seconds);
  const std::string call = fmt::format("connect({})", where);
  // A non-blocking connect starts the handshake and returns EINPROGRESS; the socket becomes
  // writable when the handshake ends, and SO_ERROR then says how it ended.
  if (::connect(sock.get(), options.endpoint.get(), options.endpoint.length) != 0) {
    if (errno != EINPROGRESS) return report(args, call, errno, TcpStep::Connect, where);
    int ready = wait_for(sock.get(), POLLOUT, deadline);
    if (ready < 0) return report(args, "poll", errno, TcpStep::Connect, where);
    if (ready == 0)
      return fail(args,
                  "{}: no answer within {} — no host has that address, or a firewall "
                  "drops the packets",
                  call, seconds_text(options.timeout_seconds));
    int err = 0;
    socklen_t length = sizeof err;
    ::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &length);
    if (err) return report(args, call, err, TcpStep::Connect, where);
  }
  out("tcp: connected to {} from {}\n", where, local_address(sock.get()));

  int err = send_all(sock.get(), options.message + "\n", deadline);
  if (err) return report(args, fmt::format("send({})", where), err, TcpStep::Write, where);
  out("tcp: sent: {}\n", options.message);
  auto reply = receive_line(args, sock.get(), where, options.timeout_seconds);
  if (!reply) return 1;
  out("tcp: reply: {}\n", *reply);
  return 0;
}

}  // namespace tinysh::net
