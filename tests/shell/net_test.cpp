// `ifaces` and `tcp`: the parsers from strings and hand-built netlink messages, the builtins over
// loopback (127.0.0.1 and ::1 only) in forked children, and — as root — inside a network
// namespace this test creates and that disappears with its child.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "builtin.h"
#include "builtins/net_links.h"
#include "builtins/net_tcp.h"
#include "capture.h"
#include "process.h"
#include "shell.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace net = tinysh::net;

// ---- running builtins in forked children ----

int run_builtin(std::vector<std::string> args) {
  const tinysh::Builtin* builtin = tinysh::find_builtin(args.at(0));
  REQUIRE(builtin != nullptr);
  tinysh::Shell shell;
  return builtin->run(shell, args);
}

// A child process whose fds 1 and 2 go to one pipe that the test reads. Killed and reaped by
// the destructor unless the test already collected it, so a failing check leaves nothing behind.
class Child {
 public:
  explicit Child(const std::function<int()>& body) {
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(pipe_fds[1], 1);
      ::dup2(pipe_fds[1], 2);
      ::close(pipe_fds[0]);
      ::close(pipe_fds[1]);
      ::_exit(body());
    }
    ::close(pipe_fds[1]);
    out_fd_ = pipe_fds[0];
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  // Reads until `text` appears in the output, the child closes its end, or `timeout` passes.
  bool wait_for_output(std::string_view text, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (output_.find(text) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }

  // Reads everything until the child closes its output, then reaps it. The exit status, or -1
  // when it had to be killed after `timeout`.
  int finish(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (read_some(deadline)) {
    }
    if (Clock::now() >= deadline) ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& output() const { return output_; }

 private:
  // false at end of output or at the deadline
  bool read_some(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return false;
    pollfd p = {.fd = out_fd_, .events = POLLIN, .revents = 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    char buffer[4096];
    ssize_t got = ::read(out_fd_, buffer, sizeof buffer);
    if (got <= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
      return false;
    }
    output_.append(buffer, static_cast<size_t>(got));
    return true;
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_;
};

Child start_builtin(std::vector<std::string> args) {
  return Child([args] { return run_builtin(args); });
}

std::string hostname() {
  utsname names;
  REQUIRE(::uname(&names) == 0);
  return names.nodename;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A TCP socket bound to ADDRESS with port 0: the kernel picks a free port. Kept open, nobody
// else can take that port; closed, it is very likely still free a moment later.
struct BoundSocket {
  int fd = -1;
  uint16_t port = 0;
  BoundSocket(const char* address, bool listening) {
    auto endpoint = net::parse_endpoint(address, 1);
    REQUIRE(endpoint.has_value());
    reinterpret_cast<sockaddr_in*>(&endpoint->storage)->sin_port = 0;  // same offset for v6
    fd = ::socket(endpoint->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    REQUIRE(::bind(fd, endpoint->get(), endpoint->length) == 0);
    if (listening) REQUIRE(::listen(fd, 1) == 0);
    sockaddr_storage bound = {};
    socklen_t length = sizeof bound;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0);
    port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  ~BoundSocket() { ::close(fd); }
};

bool ipv6_loopback_works() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a = {};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Starts `tcp listen PORT ADDRESS` on a port the kernel just called free, and waits until it
// says it listens. Another program may grab the port in between: then it tries another one.
struct Listener {
  std::unique_ptr<Child> child;
  uint16_t port = 0;
};

Listener start_listener(const char* address, std::vector<std::string> extra = {}) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    uint16_t port = BoundSocket(address, false).port;
    std::vector<std::string> args = {"tcp", "listen"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(std::to_string(port));
    args.push_back(address);
    auto child = std::make_unique<Child>([args] { return run_builtin(args); });
    if (child->wait_for_output("tcp: listening on", 10s)) return {std::move(child), port};
    if (!contains(child->output(), "Address already in use")) {
      FAIL_CHECK("tcp listen did not start: " << child->output());
      return {};
    }
  }
  FAIL_CHECK("no free port after 5 attempts");
  return {};
}

// ---- hand-built netlink messages, as the kernel sends them ----

struct MessageBuilder {
  std::string bytes;

  template <typename T>
  void append(const T& value) {
    bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void pad() { bytes.resize(NLMSG_ALIGN(bytes.size()), '\0'); }

  // Starts a message; returns where its header is, for end().
  size_t begin(uint16_t type) {
    size_t at = bytes.size();
    nlmsghdr header = {};
    header.nlmsg_type = type;
    append(header);
    return at;
  }
  template <typename T>
  void body(const T& value) {
    append(value);
    pad();
  }
  void attribute(uint16_t type, std::string_view payload) {
    rtattr header = {};
    header.rta_type = type;
    header.rta_len = static_cast<unsigned short>(RTA_LENGTH(payload.size()));
    append(header);
    bytes.append(payload);
    pad();
  }
  void u32_attribute(uint16_t type, uint32_t value) {
    attribute(type, std::string_view(reinterpret_cast<const char*>(&value), sizeof value));
  }
  void end(size_t at) {
    uint32_t length = static_cast<uint32_t>(bytes.size() - at);
    std::memcpy(bytes.data() + at, &length, sizeof length);  // nlmsg_len comes first
  }

  void link(int index, unsigned flags, std::string_view name, uint32_t mtu,
            std::string_view mac = {}) {
    size_t at = begin(RTM_NEWLINK);
    ifinfomsg info = {};
    info.ifi_index = index;
    info.ifi_flags = flags;
    body(info);
    attribute(IFLA_IFNAME, std::string(name) + '\0');
    u32_attribute(IFLA_MTU, mtu);
    if (!mac.empty()) attribute(IFLA_ADDRESS, mac);
    end(at);
  }
  void address(int index, int family, std::string_view raw, unsigned prefix, unsigned scope,
               uint32_t flags = 0) {
    size_t at = begin(RTM_NEWADDR);
    ifaddrmsg info = {};
    info.ifa_family = static_cast<unsigned char>(family);
    info.ifa_prefixlen = static_cast<unsigned char>(prefix);
    info.ifa_scope = static_cast<unsigned char>(scope);
    info.ifa_index = static_cast<unsigned>(index);
    body(info);
    attribute(IFA_ADDRESS, raw);
    if (family == AF_INET) attribute(IFA_LOCAL, raw);
    if (flags) u32_attribute(IFA_FLAGS, flags);
    end(at);
  }
  void done(int status = 0) {
    size_t at = begin(NLMSG_DONE);
    append(status);
    end(at);
  }
};

constexpr unsigned kLowerUp = 1u << 16;  // IFF_LOWER_UP

}  // namespace

// ---- ifaces: parsing and formatting ----

TEST_CASE("a new network namespace's dump reads as only lo, down, and the empty phrase") {
  MessageBuilder m;
  m.link(1, IFF_LOOPBACK, "lo", 65536, std::string(6, '\0'));
  m.done();
  std::vector<net::Interface> interfaces;
  auto progress = net::parse_netlink_messages(m.bytes, interfaces);
  CHECK(progress.done);
  CHECK(progress.error == 0);
  CHECK(net::format_interfaces(interfaces) ==
        "1: lo  DOWN  mtu 65536\n"
        "only the loopback interface, and it is down: this network namespace is empty\n");
}

TEST_CASE("links show their state, MAC and addresses with prefix lengths, in index order") {
  MessageBuilder m;
  m.link(7, IFF_UP | IFF_BROADCAST, "veth-box", 1500,
         std::string_view("\x02\x42\xac\x11\x00\x02", 6));
  m.link(1, IFF_UP | IFF_LOOPBACK | kLowerUp, "lo", 65536, std::string(6, '\0'));
  m.link(3, IFF_UP | IFF_BROADCAST | kLowerUp, "eth0", 1400,
         std::string_view("\x02\xfc\x00\x00\x00\x01", 6));
  m.address(1, AF_INET, std::string("\x7f\x00\x00\x01", 4), 8, RT_SCOPE_HOST);
  m.address(3, AF_INET, std::string("\x0a\x00\x00\x02", 4), 24, RT_SCOPE_UNIVERSE);
  in6_addr v6 = {};
  v6.s6_addr[0] = 0xfe;
  v6.s6_addr[1] = 0x80;
  v6.s6_addr[15] = 1;
  m.address(3, AF_INET6, std::string(reinterpret_cast<char*>(&v6), 16), 64, RT_SCOPE_LINK,
            IFA_F_TENTATIVE);
  m.address(99, AF_INET, std::string("\x0a\x00\x00\x09", 4), 24, 0);  // link already gone
  m.done();
  std::vector<net::Interface> interfaces;
  CHECK(net::parse_netlink_messages(m.bytes, interfaces).done);
  CHECK(net::format_interfaces(interfaces) ==
        "1: lo  UP  mtu 65536\n"
        "   inet 127.0.0.1/8\n"
        "3: eth0  UP LOWER_UP  mtu 1400  mac 02:fc:00:00:00:01\n"
        "   inet 10.0.0.2/24\n"
        "   inet6 fe80::1/64  link-local  tentative (duplicate address detection running: not "
        "usable yet)\n"
        "7: veth-box  UP no carrier  mtu 1500  mac 02:42:ac:11:00:02\n");
}

TEST_CASE("only lo, but up, does not claim the namespace is empty") {
  MessageBuilder m;
  m.link(1, IFF_UP | IFF_LOOPBACK | kLowerUp, "lo", 65536);
  m.address(1, AF_INET, std::string("\x7f\x00\x00\x01", 4), 8, RT_SCOPE_HOST);
  std::vector<net::Interface> interfaces;
  net::parse_netlink_messages(m.bytes, interfaces);
  std::string text = net::format_interfaces(interfaces);
  CHECK_FALSE(contains(text, net::kEmptyNamespacePhrase));
  CHECK(contains(text, "only the loopback interface: nothing outside"));
}

TEST_CASE("lo down next to another interface is not an empty namespace") {
  MessageBuilder m;
  m.link(1, IFF_LOOPBACK, "lo", 65536);
  m.link(2, IFF_BROADCAST, "veth-box", 1500, std::string_view("\x02\x00\x00\x00\x00\x07", 6));
  std::vector<net::Interface> interfaces;
  net::parse_netlink_messages(m.bytes, interfaces);
  CHECK(net::format_interfaces(interfaces) ==
        "1: lo  DOWN  mtu 65536\n"
        "2: veth-box  DOWN  mtu 1500  mac 02:00:00:00:00:07\n");
}

TEST_CASE("a kernel error in a dump is reported, not mistaken for an empty list") {
  MessageBuilder m;
  size_t at = m.begin(NLMSG_ERROR);
  nlmsgerr error = {};
  error.error = -EPERM;
  m.append(error);
  m.end(at);
  std::vector<net::Interface> interfaces;
  auto progress = net::parse_netlink_messages(m.bytes, interfaces);
  CHECK(progress.done);
  CHECK(progress.error == EPERM);

  MessageBuilder interrupted;
  interrupted.done(-EINTR);
  CHECK(net::parse_netlink_messages(interrupted.bytes, interfaces).error == EINTR);
}

TEST_CASE("truncated or lying netlink messages are skipped without reading past the buffer") {
  MessageBuilder m;
  m.link(2, IFF_UP, "eth0", 1500, std::string_view("\x02\x00\x00\x00\x00\x01", 6));
  m.done();
  // Every prefix of a valid buffer: never a crash, never an interface with a half-read name.
  for (size_t cut = 0; cut < m.bytes.size(); ++cut) {
    std::vector<net::Interface> interfaces;
    auto progress =
        net::parse_netlink_messages(std::string_view(m.bytes).substr(0, cut), interfaces);
    CHECK_FALSE(progress.done);
    for (const auto& link : interfaces) CHECK(link.name == "eth0");
  }
  // A header that claims more bytes than there are.
  std::string lying = m.bytes;
  uint32_t huge = 1u << 30;
  std::memcpy(lying.data(), &huge, sizeof huge);
  std::vector<net::Interface> interfaces;
  CHECK_FALSE(net::parse_netlink_messages(lying, interfaces).done);
  CHECK(interfaces.empty());
}

// ---- ifaces: the kernel ----

TEST_CASE("ifaces lists lo with 127.0.0.1/8 in this network namespace") {
  auto result = testing::capture([] { return run_builtin({"ifaces"}); });
  CHECK(result.status == 0);
  CHECK(result.err == "");
  // lo is always index 1: it is the first device every network namespace gets.
  CHECK(contains(result.out, "1: lo  UP  mtu "));
  CHECK(contains(result.out, "\n   inet 127.0.0.1/8\n"));

  // Every link sysfs knows is listed, down or up, with an address or without one.
  size_t links = 0;
  for (auto& entry : std::filesystem::directory_iterator("/sys/class/net")) {
    std::string name = entry.path().filename();
    CHECK_MESSAGE(contains(result.out, ": " + name + "  "), name);
    ++links;
  }
  // Negative control for the closing sentences: with other interfaces, neither may appear.
  if (links > 1)
    CHECK_FALSE(contains(result.out, "only the loopback interface"));
  else
    MESSAGE("this host has only lo: the no-phrase-when-not-empty check needs another interface");
}

TEST_CASE("ifaces takes no arguments") {
  auto result = testing::capture([] { return run_builtin({"ifaces", "eth0"}); });
  CHECK(result.status == 2);
  CHECK(contains(result.err, "usage: ifaces"));
}

// Brings lo up in the calling process's network namespace, as `ip link set lo up` would.
static bool bring_loopback_up() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq request = {};
  std::strcpy(request.ifr_name, "lo");
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags |= IFF_UP;
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  ::close(fd);
  return ok;
}

TEST_CASE(
    "in a new network namespace ifaces shows only lo, down, and says the namespace is empty") {
  if (!testing::is_root()) {
    testing::skip("creating a network namespace needs root (CAP_SYS_ADMIN)");
    return;
  }
  constexpr int kCannotUnshare = 77;
  // The child enters a namespace of its own; the kernel frees it when the child exits, so
  // nothing of it outlives this test.
  Child child([] {
    if (::unshare(CLONE_NEWNET) != 0) {
      tinysh::write_all(1, std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno) + "\n");
      return kCannotUnshare;
    }
    int status = run_builtin({"ifaces"});
    tinysh::write_all(1, "--- connect\n");
    run_builtin({"tcp", "connect", "127.0.0.1", "5000", "hi"});
    tinysh::write_all(1, "--- lo up\n");
    if (!bring_loopback_up()) return 3;
    status |= run_builtin({"ifaces"});
    tinysh::write_all(1, "--- bind elsewhere\n");
    // Not an address of this namespace (a documentation range); bind(2) sends no packet.
    run_builtin({"tcp", "listen", "-t", "1", "5000", "203.0.113.7"});
    return status;
  });
  int status = child.finish(20s);
  const std::string& text = child.output();
  if (status == kCannotUnshare) {
    MESSAGE("skipped: " << text);
    return;
  }
  REQUIRE(status == 0);
  auto section = [&](std::string_view from, std::string_view to) {
    size_t start = text.find(from);
    size_t stop = text.find(to);
    REQUIRE(start != std::string::npos);
    REQUIRE(stop != std::string::npos);
    start += from.size();
    return text.substr(start, stop - start);
  };
  std::string empty = text.substr(0, text.find("--- connect\n"));
  CHECK(empty ==
        "1: lo  DOWN  mtu 65536\n"
        "only the loopback interface, and it is down: this network namespace is empty\n");

  std::string connect = section("--- connect\n", "--- lo up\n");
  CHECK(contains(connect, "connect(127.0.0.1:5000): Network is unreachable — no route"));
  CHECK(contains(connect, "in an empty network namespace there is no interface with an address"));

  // Control in the same namespace: once lo is up it has 127.0.0.1 and the phrase goes away.
  std::string up = section("--- lo up\n", "--- bind elsewhere\n");
  CHECK(contains(up, "1: lo  UP  mtu 65536\n   inet 127.0.0.1/8\n"));
  CHECK_FALSE(contains(up, net::kEmptyNamespacePhrase));

  std::string bind = text.substr(text.find("--- bind elsewhere\n"));
  CHECK(contains(bind,
                 "bind(203.0.113.7:5000): Cannot assign requested address — this address "
                 "is not on any interface of this network namespace"));
}

// ---- tcp: arguments ----

TEST_CASE("ports are 1 to 65535, digits only") {
  CHECK(net::parse_port("1") == 1);
  CHECK(net::parse_port("65535") == 65535);
  for (const char* bad : {"0", "65536", "-1", "+80", " 80", "80 ", "8o", "", "99999999999"})
    CHECK_MESSAGE(!net::parse_port(bad), bad);
}

TEST_CASE("addresses are numeric IPv4 or IPv6, with localhost as 127.0.0.1") {
  auto v4 = net::parse_endpoint("127.0.0.1", 5000);
  REQUIRE(v4);
  CHECK(v4->family() == AF_INET);
  CHECK(net::endpoint_text(v4->get()) == "127.0.0.1:5000");
  auto local = net::parse_endpoint("localhost", 80);
  REQUIRE(local);
  CHECK(net::endpoint_text(local->get()) == "127.0.0.1:80");
  auto v6 = net::parse_endpoint("[::1]", 443);
  REQUIRE(v6);
  CHECK(v6->family() == AF_INET6);
  CHECK(net::endpoint_text(v6->get()) == "[::1]:443");
  for (const char* bad : {"example.com", "1.2.3", "256.0.0.1", "", "::g", "[127.0.0.1"})
    CHECK_MESSAGE(!net::parse_endpoint(bad, 1), bad);
}

TEST_CASE("tcp arguments: defaults, -t, and the message joined from words") {
  std::string problem;
  std::vector<std::string> listen = {"tcp", "listen", "7000"};
  auto l = net::parse_tcp_args(listen, "box", problem);
  REQUIRE(l);
  CHECK(l->mode == net::TcpMode::Listen);
  CHECK(l->timeout_seconds == net::kListenTimeoutSeconds);
  CHECK(net::endpoint_text(l->endpoint.get()) == "0.0.0.0:7000");

  std::vector<std::string> connect = {"tcp", "connect", "-t", "9", "::1", "7000", "two", "words"};
  auto c = net::parse_tcp_args(connect, "box", problem);
  REQUIRE(c);
  CHECK(c->mode == net::TcpMode::Connect);
  CHECK(c->timeout_seconds == 9);
  CHECK(c->message == "two words");

  std::vector<std::string> plain = {"tcp", "connect", "127.0.0.1", "7000"};
  auto p = net::parse_tcp_args(plain, "box", problem);
  REQUIRE(p);
  CHECK(p->message == "hello from box");
  CHECK(p->timeout_seconds == net::kConnectTimeoutSeconds);
}

TEST_CASE("bad ports, bad addresses and missing arguments are usage errors with status 2") {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"tcp"}, "usage: tcp listen"},
      {{"tcp", "serve", "80"}, "'serve' is neither listen nor connect"},
      {{"tcp", "listen"}, "usage: tcp listen"},
      {{"tcp", "listen", "0"}, "from 1 to 65535, not '0'"},
      {{"tcp", "listen", "65536"}, "from 1 to 65535, not '65536'"},
      {{"tcp", "listen", "http"}, "not 'http'"},
      {{"tcp", "listen", "8080", "example.com"}, "'example.com' is not a numeric IPv4 or IPv6"},
      {{"tcp", "listen", "-t", "0", "8080"}, "-t needs a whole number of seconds"},
      {{"tcp", "listen", "-t"}, "-t needs a whole number of seconds"},
      {{"tcp", "connect", "127.0.0.1"}, "usage: tcp listen"},
      {{"tcp", "connect", "localhost.localdomain", "80"}, "no DNS"},
      {{"tcp", "connect", "127.0.0.1", "-5"}, "not '-5'"},
  };
  for (const Case& c : cases) {
    auto result = testing::capture([&] { return run_builtin(c.args); });
    CAPTURE(c.args.size());
    CHECK_MESSAGE(result.status == 2, c.says);
    CHECK_MESSAGE(contains(result.err, c.says), result.err);
    CHECK(result.out == "");
  }
}

TEST_CASE("errno values from sockets are explained in the words of the lesson") {
  CHECK(net::explain_tcp_error(ECONNREFUSED, net::TcpStep::Connect, "10.0.0.2:80") ==
        "nothing is listening on 10.0.0.2:80");
  CHECK(contains(net::explain_tcp_error(ENETUNREACH, net::TcpStep::Connect, "x"),
                 "in an empty network namespace there is no interface with an address"));
  CHECK(net::explain_tcp_error(EHOSTUNREACH, net::TcpStep::Connect, "x") ==
        net::explain_tcp_error(ENETUNREACH, net::TcpStep::Connect, "x"));
  CHECK(contains(net::explain_tcp_error(EADDRNOTAVAIL, net::TcpStep::Bind, "x"),
                 "not on any interface of this network namespace"));
  CHECK(contains(net::explain_tcp_error(EACCES, net::TcpStep::Bind, "x"), "below 1024"));
  CHECK(contains(net::explain_tcp_error(EADDRINUSE, net::TcpStep::Bind, "127.0.0.1:80"),
                 "already listens on 127.0.0.1:80"));
  CHECK(net::explain_tcp_error(ENOMEM, net::TcpStep::Socket, "x") == "");
}

TEST_CASE("ifaces runs in the shell and tcp in a child the executor forks") {
  const tinysh::Builtin* ifaces = tinysh::find_builtin("ifaces");
  const tinysh::Builtin* tcp = tinysh::find_builtin("tcp");
  REQUIRE(ifaces);
  REQUIRE(tcp);
  CHECK(ifaces->runs_in == tinysh::RunsIn::Shell);
  CHECK(tcp->runs_in == tinysh::RunsIn::Child);
  CHECK(contains(ifaces->reads, "RTM_GETLINK"));
}

// ---- tcp: over loopback ----

TEST_CASE("tcp listen and tcp connect exchange one line over 127.0.0.1, each naming its side") {
  Listener listener = start_listener("127.0.0.1");
  REQUIRE(listener.child);
  std::string port = std::to_string(listener.port);
  CHECK(contains(listener.child->output(), "tcp: listening on 127.0.0.1:" + port + "\n"));

  Child client = start_builtin({"tcp", "connect", "127.0.0.1", port, "hi", "there"});
  int client_status = client.finish(15s);
  int server_status = listener.child->finish(15s);
  const std::string me = hostname();

  CHECK(client_status == 0);
  CHECK(contains(client.output(), "tcp: connected to 127.0.0.1:" + port + " from 127.0.0.1:"));
  CHECK(contains(client.output(), "tcp: sent: hi there\n"));
  CHECK(contains(client.output(), "tcp: reply: echo from " + me + ": hi there\n"));

  CHECK(server_status == 0);
  CHECK(contains(listener.child->output(), "tcp: connection from 127.0.0.1:"));
  CHECK(contains(listener.child->output(), "tcp: received: hi there\n"));
  CHECK(contains(listener.child->output(), "tcp: replied: echo from " + me + ": hi there\n"));
}

TEST_CASE("tcp works over ::1 and sends hello from the hostname by default") {
  if (!ipv6_loopback_works()) {
    testing::skip("IPv6 loopback (::1) is not available here");
    return;
  }
  Listener listener = start_listener("::1");
  REQUIRE(listener.child);
  std::string port = std::to_string(listener.port);
  Child client = start_builtin({"tcp", "connect", "::1", port});
  CHECK(client.finish(15s) == 0);
  CHECK(listener.child->finish(15s) == 0);
  CHECK(contains(listener.child->output(), "tcp: received: hello from " + hostname() + "\n"));
  CHECK(contains(client.output(), "tcp: connected to [::1]:" + port + " from [::1]:"));
}

TEST_CASE("tcp connect to a port nobody listens on says so and exits 1") {
  // Bound but not listening: the port is ours, and the kernel answers SYNs to it with a reset.
  BoundSocket holder("127.0.0.1", false);
  std::string port = std::to_string(holder.port);
  Child client = start_builtin({"tcp", "connect", "127.0.0.1", port});
  CHECK(client.finish(15s) == 1);
  CHECK(contains(client.output(), "connect(127.0.0.1:" + port +
                                      "): Connection refused — nothing is listening on "
                                      "127.0.0.1:" +
                                      port + "\n"));
}

TEST_CASE("tcp listen on a port already taken explains EADDRINUSE") {
  BoundSocket taken("127.0.0.1", true);
  std::string port = std::to_string(taken.port);
  Child server = start_builtin({"tcp", "listen", "-t", "1", port, "127.0.0.1"});
  CHECK(server.finish(15s) == 1);
  CHECK(contains(server.output(), "bind(127.0.0.1:" + port + "): Address already in use"));
  CHECK(contains(server.output(), "already listens on 127.0.0.1:" + port));
  CHECK_FALSE(contains(server.output(), "listening on"));
}

TEST_CASE("tcp listen gives up after -t seconds when nobody connects") {
  Listener listener = start_listener("127.0.0.1", {"-t", "1"});
  REQUIRE(listener.child);
  auto started = Clock::now();
  int status = listener.child->finish(15s);
  auto waited = Clock::now() - started;
  CHECK(status == 1);
  CHECK(contains(listener.child->output(), "tcp: no connection within 1 second (use -t"));
  CHECK(waited < 10s);
}

TEST_CASE("tcp listen gives up on a client that connects but never sends a line") {
  Listener listener = start_listener("127.0.0.1", {"-t", "1"});
  REQUIRE(listener.child);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto target = net::parse_endpoint("127.0.0.1", listener.port);
  REQUIRE(::connect(fd, target->get(), target->length) == 0);
  int status = listener.child->finish(15s);
  ::close(fd);
  CHECK(status == 1);
  CHECK(contains(listener.child->output(), "tcp: connection from 127.0.0.1:"));
  CHECK(contains(listener.child->output(), "no line from 127.0.0.1:"));
  CHECK(contains(listener.child->output(), "within 1 second"));
}
