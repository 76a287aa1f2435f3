// `tcp`: one line each way over TCP, the smallest proof that two network namespaces are joined.
//
//   tcp listen [-t SECONDS] PORT [ADDRESS]      wait for one connection, read a line, answer it
//   tcp connect [-t SECONDS] ADDRESS PORT [MESSAGE...]
//
// Sockets belong to the network namespace of the process that creates them (socket(7),
// network_namespaces(7)): a port bound inside the box is invisible to the host, an address the
// box does not own cannot be bound, and without an interface that has an address there is no
// route anywhere. Each of those shows up as an errno, and explain_tcp_error() turns it into that
// sentence.
//
// Addresses are numeric only (inet_pton(3)): tinysh is static and has no resolver, no NSS, and
// usually no /etc/hosts. "localhost" is taken to mean 127.0.0.1. Every wait is bounded with
// poll(2), so neither side can hang a lesson.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "../builtin.h"

namespace tinysh::net {

// An IPv4 or IPv6 socket address, ready for bind(2) or connect(2).
struct Endpoint {
  sockaddr_storage storage = {};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// 1..65535; nullopt for anything else (0, signs, spaces, overflow).
std::optional<uint16_t> parse_port(std::string_view text);

// "127.0.0.1", "::1", "[::1]", "localhost" (= 127.0.0.1). Names are refused: no DNS here.
std::optional<Endpoint> parse_endpoint(std::string_view address, uint16_t port);

// "127.0.0.1:5000" or "[::1]:5000", as people write them.
std::string endpoint_text(const sockaddr* address);

enum class TcpMode { Listen, Connect };

struct TcpOptions {
  TcpMode mode = TcpMode::Connect;
  Endpoint endpoint;
  std::string message;      // connect: the line to send (no newline)
  int timeout_seconds = 0;  // listen: wait for the connection and its line; connect: for both ends
};

inline constexpr int kListenTimeoutSeconds = 30;
inline constexpr int kConnectTimeoutSeconds = 5;

// Parses args ("tcp", "listen"|"connect", ...). On misuse returns nullopt with `problem` set to
// one sentence (empty when the usage line alone says it all). `hostname` makes the default message.
std::optional<TcpOptions> parse_tcp_args(Args args, std::string_view hostname,
                                         std::string& problem);

// The system call a socket error came from: the same errno means different things in each.
enum class TcpStep { Socket, Bind, Listen, Accept, Connect, Read, Write };

// What an errno from `step` usually means, in one clause; empty when there is nothing to add.
std::string explain_tcp_error(int err, TcpStep step, std::string_view endpoint);

// The two sides. They print what happens on fd 1, errors on fd 2, and return an exit status.
int tcp_listen(Args args, const TcpOptions& options, std::string_view hostname);
int tcp_connect(Args args, const TcpOptions& options);

}  // namespace tinysh::net
