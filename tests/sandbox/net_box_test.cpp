// Networking for a box, as root: real veth pairs, checked from the host.
//
// This test process plays the runner. Each "box" is a forked child that unshares its own network
// namespace and waits; the test plugs a veth into it with plug_veth() and hands it its subnet over
// the handoff pipe; the child configures its side with configure_box_network() and then becomes
// tinysh reading commands from a pipe, so the test can run `ifaces` and `tcp` inside the box. The
// host side is checked with ip(8), /sys/class/net and /proc/PID/net (which shows the network
// namespace of PID). Only addresses in 10.213.0.0/16 of pairs made here are ever used.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "net.h"
#include "process.h"

using namespace sandbox;
using namespace std::chrono_literals;

namespace {

bool have_root() {
  if (::geteuid() == 0) return true;
  testing::skip("needs root to create network namespaces and veth pairs");
  return false;
}

bool link_exists(const std::string& name) {
  struct stat st;
  return ::stat(("/sys/class/net/" + name).c_str(), &st) == 0;
}

// Reads `fd` into `buffer` until `phrase` appears in it, EOF, or the deadline.
bool read_until(int fd, std::string& buffer, std::string_view phrase,
                std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (buffer.find(phrase) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(buf, static_cast<size_t>(n));
  }
  return true;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// Kills (if still running) and reaps a child of this process.
void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Waits for a child's end, bounded; its status as a shell's $?, or -1 on timeout.
int wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  bool done = testing::wait_until(
      [&] {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        return r == pid;
      },
      timeout);
  if (!done) return -1;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

// tinysh on the host, with its output on a pipe: for a listener the test must wait for.
class HostShell {
 public:
  explicit HostShell(const std::string& commands) {
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      std::string tinysh = testing::bin("tinysh");
      ::execl(tinysh.c_str(), "tinysh", "-c", commands.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
  }
  ~HostShell() {
    if (!reaped_) kill_and_reap(pid_);
    ::close(out_);
  }
  bool wait_for(std::string_view phrase) { return read_until(out_, output_, phrase); }
  int wait_exit() {
    int status = wait_for_exit(pid_, 10s);
    reaped_ = status >= 0;
    // Whatever it printed last.
    read_until(out_, output_, "\x01never\x01", 200ms);
    return status;
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  std::string output_;
};

// A stand-in for a box's first process: a child in a new network namespace that waits for its
// subnet, configures its side, then runs tinysh on commands the test writes to it.
class FakeBox {
 public:
  FakeBox() {
    int ready[2], status[2], in[2], out[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(status, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    auto handoff = NetworkHandoff::open();
    REQUIRE(handoff.ok());
    pid_t parent = ::getpid();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      handoff->runner_end.reset();
      ::close(ready[0]);
      ::close(status[0]);
      ::close(in[1]);
      ::close(out[0]);
      // Dies with the test, like a box with its runner.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(2);
      if (::write(ready[1], "r", 1) != 1) ::_exit(3);
      // The runner's part is done when the address arrives; EOF without one means "no veth".
      std::string report = "no veth\n";
      auto address = receive_box_address(handoff->box_end.get());
      if (address) {
        Status configured = configure_box_network(*address);
        report = configured ? "configured\n" : configured.error().message() + "\n";
      }
      [[maybe_unused]] ssize_t n = ::write(status[1], report.data(), report.size());
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      std::string tinysh = testing::bin("tinysh");
      ::execl(tinysh.c_str(), "tinysh", nullptr);
      ::_exit(127);
    }
    handoff->box_end.reset();
    handoff_ = std::move(handoff->runner_end);
    ::close(ready[1]);
    ::close(status[1]);
    ::close(in[0]);
    ::close(out[1]);
    status_ = status[0];
    in_ = in[1];
    out_ = out[0];
    std::string said;
    bool unshared = read_until(ready[0], said, "r");
    ::close(ready[0]);
    REQUIRE_MESSAGE(unshared, "the box never got its own network namespace");
  }

  ~FakeBox() {
    ::close(in_);
    ::close(out_);
    ::close(status_);
    kill_and_reap(pid_);
    // The kernel deletes the pair with the namespace; a test must not leave it behind even if
    // that took unusually long, so it is deleted here after a bounded wait.
    if (host_link_ && !testing::wait_until([&] { return !link_exists(*host_link_); }, 3s)) {
      auto socket = netlink::Socket::connect();
      if (socket) (void)socket->delete_link(*host_link_);
    }
  }
  FakeBox(const FakeBox&) = delete;
  FakeBox& operator=(const FakeBox&) = delete;

  pid_t pid() const { return pid_; }

  // The runner's part: the veth, then the subnet across the pipe.
  Result<BoxSubnet> plug(std::optional<std::vector<netlink::Ipv4Prefix>> assigned = {},
                         pid_t runner_pid = ::getpid()) {
    auto subnet = assigned ? plug_veth(pid_, runner_pid, *assigned) : plug_veth(pid_, runner_pid);
    if (subnet) host_link_ = subnet->host_link_name();
    return subnet;
  }
  // Sends the subnet and waits for the box to say how its side went.
  std::string release(const std::optional<BoxSubnet>& subnet) {
    if (subnet) REQUIRE(send_box_address(handoff_.get(), subnet->box_prefix()).ok());
    handoff_.reset();
    std::string report;
    read_until(status_, report, "\n");
    return report;
  }
  // Runs commands in the box's tinysh and returns what they printed.
  std::string run(const std::string& commands) {
    std::string marker = fmt::format("end-of-commands-{}", ++commands_run_);
    write_all(in_, commands + "; echo " + marker + "\n");
    std::string output;
    bool done = read_until(out_, output, marker);
    REQUIRE_MESSAGE(done, output);
    return output.substr(0, output.find(marker));
  }
  // Starts commands in the box's tinysh and waits for `phrase` in their output.
  std::string start(const std::string& commands, std::string_view phrase) {
    write_all(in_, commands + "\n");
    std::string output;
    REQUIRE_MESSAGE(read_until(out_, output, phrase), output);
    return output;
  }
  std::string read_more(std::string_view phrase) {
    std::string output;
    read_until(out_, output, phrase);
    return output;
  }
  // Ends the box's shell (EOF on its stdin) and waits for the process to end.
  int end() {
    ::close(in_);
    in_ = -1;
    int status = wait_for_exit(pid_, 10s);
    if (status >= 0) pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  Fd handoff_;
  int status_ = -1, in_ = -1, out_ = -1;
  int commands_run_ = 0;
  std::optional<std::string> host_link_;
};

std::string ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip", "-o"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = testing::run(argv);
  return result.out + result.err;
}

// "net:[4026531840]"
std::string namespace_of(pid_t pid) {
  char target[64] = {};
  ssize_t n = ::readlink(fmt::format("/proc/{}/ns/net", pid).c_str(), target, sizeof target - 1);
  REQUIRE(n > 0);
  return target;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::string host_address(const BoxSubnet& s) {
  return netlink::format_ipv4(s.host_address());
}
std::string box_address(const BoxSubnet& s) {
  return netlink::format_ipv4(s.box_address());
}

}  // namespace

TEST_CASE("a veth joins a box to the host: the host end has its address while the box lives") {
  if (!have_root()) return;
  FakeBox box;
  auto subnet = box.plug();
  REQUIRE_MESSAGE(subnet.ok(), subnet.error().message());
  CHECK(box.release(*subnet) == "configured\n");
  std::string name = subnet->host_link_name();
  MESSAGE(link_of(*subnet).summary());

  // The host end, seen from the host.
  CHECK(link_exists(name));
  std::string link = ip({"link", "show", "dev", name});
  CHECK(contains(link, "<BROADCAST,MULTICAST,UP,LOWER_UP>"));
  std::string addr = ip({"-4", "addr", "show", "dev", name});
  CHECK(contains(addr, "inet " + netlink::format_prefix(subnet->host_prefix())));
  // Nothing the box sends is forwarded on from the host end, whatever the host does for others;
  // no IPv6 on it. The control: lo, an interface nslab did not make, forwards as the host says.
  CHECK(testing::read_file(host_end_sysctl(name, kNoForwarding)) == "0\n");
  if (std::filesystem::exists("/proc/sys/net/ipv6/conf/" + name))
    CHECK(testing::read_file(host_end_sysctl(name, kNoIpv6)) == "1\n");
  CHECK(testing::read_file("/proc/sys/net/ipv4/conf/all/forwarding") ==
        testing::read_file("/proc/sys/net/ipv4/conf/lo/forwarding"));

  // The box's namespace, seen from the host through /proc/PID/net: lo and eth0, no default route.
  std::string devices = testing::read_file(fmt::format("/proc/{}/net/dev", box.pid()));
  CHECK(contains(devices, "lo:"));
  CHECK(contains(devices, "eth0:"));
  CHECK_FALSE(contains(devices, name));
  std::string routes = testing::read_file(fmt::format("/proc/{}/net/route", box.pid()));
  // Columns: Iface Destination Gateway ...; addresses in hex, in the kernel's byte order.
  std::vector<std::string> destinations;
  std::istringstream lines(routes);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string iface, destination;
    fields >> iface >> destination;
    destinations.push_back(iface + " " + destination);
  }
  // Exactly one route: the /30 through eth0 (10.213.x.y/30). No default route (destination 0).
  REQUIRE(destinations.size() == 1);
  CHECK(destinations[0].starts_with("eth0 "));
  CHECK_FALSE(destinations[0].ends_with(" 00000000"));

  // And from inside, with tinysh's ifaces: both interfaces up, the box's address on eth0.
  std::string inside = box.run("ifaces");
  CHECK(contains(inside, "eth0"));
  CHECK(contains(inside, "inet " + netlink::format_prefix(subnet->box_prefix())));
  CHECK(contains(inside, "inet 127.0.0.1/8"));
  CHECK_FALSE(contains(inside, std::string(kHostLinkPrefix)));
}

TEST_CASE("a TCP exchange works both ways between the box and the host end of its veth") {
  if (!have_root()) return;
  FakeBox box;
  auto subnet = box.plug();
  REQUIRE_MESSAGE(subnet.ok(), subnet.error().message());
  REQUIRE(box.release(*subnet) == "configured\n");

  // Box listens, host connects.
  box.start(fmt::format("tcp listen -t 10 5000 {}", box_address(*subnet)), "tcp: listening on");
  auto from_host =
      testing::run({testing::bin("tinysh"), "-c",
                    fmt::format("tcp connect {} 5000 hello-box", box_address(*subnet))});
  CHECK_MESSAGE(from_host.status() == 0, (from_host.out + from_host.err));
  CHECK(contains(from_host.out, "tcp: reply:"));
  std::string box_side = box.read_more("tcp: replied:");
  CHECK(contains(box_side, "tcp: received: hello-box"));
  CHECK(contains(box_side, "tcp: connection from " + host_address(*subnet)));

  // Host end listens, box connects.
  HostShell listener(fmt::format("tcp listen -t 10 5001 {}", host_address(*subnet)));
  REQUIRE_MESSAGE(listener.wait_for("tcp: listening on"), listener.output());
  std::string from_box =
      box.run(fmt::format("tcp connect {} 5001 hello-host", host_address(*subnet)));
  CHECK(contains(from_box, "tcp: connected to " + host_address(*subnet)));
  CHECK(contains(from_box, "tcp: reply:"));
  CHECK(listener.wait_exit() == 0);
  CHECK(contains(listener.output(), "tcp: received: hello-host"));
  CHECK(contains(listener.output(), "tcp: connection from " + box_address(*subnet)));
}

TEST_CASE("a box with an empty network namespace cannot reach the host, one with a veth can") {
  if (!have_root()) return;
  FakeBox with_veth;
  auto subnet = with_veth.plug();
  REQUIRE_MESSAGE(subnet.ok(), subnet.error().message());
  REQUIRE(with_veth.release(*subnet) == "configured\n");
  HostShell listener(fmt::format("tcp listen -t 10 5002 {}", host_address(*subnet)));
  REQUIRE_MESSAGE(listener.wait_for("tcp: listening on"), listener.output());

  // Without a veth: no route to the host end's address.
  FakeBox empty;
  REQUIRE(empty.release(std::nullopt) == "no veth\n");
  std::string refused = empty.run(
      fmt::format("tcp connect -t 2 {} 5002 nope; echo status=$?", host_address(*subnet)));
  CHECK(contains(refused, "status=1"));
  CHECK_FALSE(contains(refused, "tcp: connected"));

  // Negative control: the same command from the box with the veth connects.
  std::string connected = with_veth.run(
      fmt::format("tcp connect -t 2 {} 5002 yes; echo status=$?", host_address(*subnet)));
  CHECK(contains(connected, "tcp: connected"));
  CHECK(contains(connected, "status=0"));
  CHECK(listener.wait_exit() == 0);
}

TEST_CASE("the host end disappears by itself once the box's last process has exited") {
  if (!have_root()) return;
  FakeBox box;
  auto subnet = box.plug();
  REQUIRE_MESSAGE(subnet.ok(), subnet.error().message());
  REQUIRE(box.release(*subnet) == "configured\n");
  std::string name = subnet->host_link_name();
  // Negative control: it is there while the box lives.
  REQUIRE(link_exists(name));
  REQUIRE(box.end() == 0);
  // Nobody deletes it: the kernel does, with the namespace.
  bool gone = testing::wait_until([&] { return !link_exists(name); }, 2s);
  CHECK_MESSAGE(gone, name, " still exists 2 s after the box ended");
  CHECK_FALSE(contains(ip({"-4", "addr"}), host_address(*subnet) + "/30"));
}

TEST_CASE("two boxes alive at once get different subnets and different links") {
  if (!have_root()) return;
  FakeBox first, second;
  auto a = first.plug();
  REQUIRE_MESSAGE(a.ok(), a.error().message());
  // The same runner, the same first choice: the host end's address in the dump moves it on.
  auto b = second.plug();
  REQUIRE_MESSAGE(b.ok(), b.error().message());
  CHECK(a->index != b->index);
  CHECK(first.release(*a) == "configured\n");
  CHECK(second.release(*b) == "configured\n");
  CHECK(link_exists(a->host_link_name()));
  CHECK(link_exists(b->host_link_name()));
  std::string addresses = ip({"-4", "addr"});
  CHECK(contains(addresses, netlink::format_prefix(a->host_prefix())));
  CHECK(contains(addresses, netlink::format_prefix(b->host_prefix())));
  CHECK(contains(first.run("ifaces"), "inet " + netlink::format_prefix(a->box_prefix())));
  CHECK(contains(second.run("ifaces"), "inet " + netlink::format_prefix(b->box_prefix())));
}

TEST_CASE("a runner with a stale view of the host's addresses still gets its own subnet") {
  if (!have_root()) return;
  FakeBox first, second;
  auto a = first.plug();
  REQUIRE_MESSAGE(a.ok(), a.error().message());
  // As a concurrent runner would: it saw no addresses, and its pid points at the same subnet.
  // The kernel refuses the link name (EEXIST) and it moves on.
  auto b = second.plug(std::vector<netlink::Ipv4Prefix>{}, static_cast<pid_t>(a->index));
  REQUIRE_MESSAGE(b.ok(), b.error().message());
  CHECK(b->index != a->index);
  CHECK(link_exists(b->host_link_name()));
  // Negative control: the first choice really was a's subnet.
  CHECK(choose_subnet(static_cast<pid_t>(a->index), {})->index == a->index);
  first.release(*a);
  second.release(*b);
}

TEST_CASE("a veth whose host address cannot be set is deleted at once, both ends") {
  if (!have_root()) return;
  FakeBox box;
  netlink::inject_fault("RTM_NEWADDR", EADDRNOTAVAIL);
  auto failed = box.plug(std::vector<netlink::Ipv4Prefix>{});
  netlink::clear_faults();
  REQUIRE_FALSE(failed.ok());
  CHECK(contains(failed.error().message(), "RTM_NEWADDR"));
  CHECK(failed.error().err == EADDRNOTAVAIL);
  // The pair was made (the name was free) and is gone again, synchronously: no wait here.
  std::string would_be = choose_subnet(::getpid(), {})->host_link_name();
  CHECK_FALSE(link_exists(would_be));
  CHECK_FALSE(contains(testing::read_file(fmt::format("/proc/{}/net/dev", box.pid())), "eth0:"));
  // Negative control: the same box plugged again without the fault has both ends.
  auto plugged = box.plug(std::vector<netlink::Ipv4Prefix>{});
  REQUIRE_MESSAGE(plugged.ok(), plugged.error().message());
  CHECK(link_exists(plugged->host_link_name()));
  CHECK(contains(testing::read_file(fmt::format("/proc/{}/net/dev", box.pid())), "eth0:"));
  box.release(*plugged);
}

TEST_CASE("without CAP_NET_ADMIN a veth is refused before anything is created") {
  if (!have_root()) return;
  FakeBox box;
  int report[2];
  REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // An unprivileged user: setresuid away from 0 clears the effective capabilities.
    ::close(report[0]);
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) ::_exit(2);
    auto plugged = plug_veth(box.pid(), ::getpid(), {});
    std::string text = plugged ? "created" : plugged.error().message();
    [[maybe_unused]] ssize_t n = ::write(report[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(report[1]);
  std::string text;
  read_until(report[0], text, "\x01never\x01", 10s);
  ::close(report[0]);
  CHECK(wait_for_exit(child, 10s) == 0);
  CHECK(contains(text, "creating a host veth needs CAP_NET_ADMIN in the host network namespace"));
  CHECK(contains(text, "run as root, or use --net for an empty network namespace"));
  CHECK_FALSE(contains(testing::read_file(fmt::format("/proc/{}/net/dev", box.pid())), "eth0:"));
  // Negative control: as root, the same box gets its veth.
  auto plugged = box.plug();
  REQUIRE_MESSAGE(plugged.ok(), plugged.error().message());
  CHECK(contains(testing::read_file(fmt::format("/proc/{}/net/dev", box.pid())), "eth0:"));
  box.release(*plugged);
}

TEST_CASE("a process in the host's network namespace gets no veth: eth0 would land on the host") {
  if (!have_root()) return;
  auto plugged = plug_veth(::getpid(), ::getpid());
  REQUIRE_FALSE(plugged.ok());
  CHECK(contains(plugged.error().message(), "shares the host's network namespace"));
  CHECK(contains(plugged.error().message(), "CLONE_NEWNET"));
}

TEST_CASE("an empty network namespace shows only lo, down, to tinysh's ifaces") {
  if (!have_root()) return;
  FakeBox box;
  REQUIRE(box.release(std::nullopt) == "no veth\n");
  CHECK(namespace_of(box.pid()) != namespace_of(::getpid()));
  std::string inside = box.run("ifaces");
  CHECK(contains(inside, "only the loopback interface, and it is down"));
  CHECK(contains(inside, "lo"));
  CHECK_FALSE(contains(inside, "eth0"));
  CHECK_FALSE(contains(inside, "UP"));
  // Negative control: the host's own namespace is not empty.
  auto host = testing::run({testing::bin("tinysh"), "-c", "ifaces"});
  CHECK_FALSE(contains(host.out, "only the loopback interface, and it is down"));
}
