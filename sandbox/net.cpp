// Network namespace and veth: the subnet choice, the steps, the runner's part and the box's part.
// See net.h for what the kernel does and in which order.
#include "net.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "bridge.h"
#include "host_probe.h"
#include "isolation.h"

namespace sandbox {

namespace {

using netlink::Ipv4Prefix;

std::uint32_t mask_of(unsigned prefix_len) {
  return prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
}

bool parse_number(std::string_view text, unsigned max, unsigned& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size() && value <= max;
}

// "10.213.4.4/30", dotted quad and prefix length, nothing else.
std::optional<Ipv4Prefix> parse_prefix(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  Ipv4Prefix prefix;
  if (!parse_number(text.substr(slash + 1), 32, prefix.prefix_len)) return std::nullopt;
  std::string_view quad = text.substr(0, slash);
  std::uint32_t address = 0;
  for (int part = 0; part < 4; ++part) {
    auto dot = quad.find('.');
    if ((part < 3) == (dot == std::string_view::npos)) return std::nullopt;
    unsigned byte = 0;
    if (!parse_number(quad.substr(0, dot), 255, byte)) return std::nullopt;
    address = address << 8 | byte;
    quad = dot == std::string_view::npos ? std::string_view() : quad.substr(dot + 1);
  }
  prefix.address = address;
  return prefix;
}

// "net:[4026531840]": which network namespace a process is in.
std::string net_namespace_of(const std::string& pid) {
  char target[64] = {};
  ssize_t n = ::readlink(fmt::format("/proc/{}/ns/net", pid).c_str(), target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
}

// A veth pair that is deleted again unless it was finished: the undo of a half-made plug.
class HalfMadeLink {
 public:
  HalfMadeLink(netlink::Socket& socket, std::string name)
      : socket_(socket), name_(std::move(name)) {}
  ~HalfMadeLink() {
    // Deleting the host end deletes the box end too. Its own failure changes nothing for the
    // caller, who reports the error that brought us here.
    if (!finished_) (void)socket_.delete_link(name_);
  }
  HalfMadeLink(const HalfMadeLink&) = delete;
  HalfMadeLink& operator=(const HalfMadeLink&) = delete;
  void finished() { finished_ = true; }

 private:
  netlink::Socket& socket_;
  std::string name_;
  bool finished_ = false;
};

// How many links named after a taken subnet a runner skips before it gives up: far more than
// boxes start at the same moment.
constexpr int kMaxNameClashes = 64;

}  // namespace

// ---- pure ----

std::string BoxSubnet::host_link_name() const {
  return fmt::format("{}{}", kHostLinkPrefix, index);
}

std::optional<BoxSubnet> subnet_of_link(std::string_view link_name) {
  if (!link_name.starts_with(kHostLinkPrefix)) return std::nullopt;
  std::string_view digits = link_name.substr(kHostLinkPrefix.size());
  unsigned index = 0;
  // No leading zeros: exactly one name per subnet.
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  if (!parse_number(digits, kSubnetCount - 1, index)) return std::nullopt;
  return BoxSubnet{index};
}

bool subnet_in_use(const BoxSubnet& subnet, const Ipv4Prefix& assigned) {
  // The assigned address itself lies in the box's /30.
  if ((assigned.address & mask_of(kBoxPrefixLen)) == subnet.network()) return true;
  // A prefix carved out of nslab's range (or narrower): does it overlap the /30?
  if (assigned.prefix_len < kNslabRange.prefix_len) return false;
  unsigned common = std::min(assigned.prefix_len, kBoxPrefixLen);
  return (assigned.address & mask_of(common)) == (subnet.network() & mask_of(common));
}

std::optional<BoxSubnet> choose_subnet(pid_t runner_pid, const std::vector<Ipv4Prefix>& assigned,
                                       const std::set<unsigned>& taken) {
  unsigned start = static_cast<unsigned>(runner_pid) % kSubnetCount;
  for (unsigned step = 0; step < kSubnetCount; ++step) {
    BoxSubnet subnet{(start + step) % kSubnetCount};
    if (taken.contains(subnet.index)) continue;
    bool used = std::any_of(assigned.begin(), assigned.end(),
                            [&](const Ipv4Prefix& a) { return subnet_in_use(subnet, a); });
    if (!used) return subnet;
  }
  return std::nullopt;
}

std::string BoxLink::summary() const {
  std::string text = fmt::format("box {}, host {}", netlink::format_ipv4(box.address),
                                 netlink::format_ipv4(host_address));
  if (!bridge.empty()) text += fmt::format(", bridge {}", bridge);
  return text;
}

BoxLink link_of(const BoxSubnet& subnet) {
  return {subnet.host_link_name(), subnet.box_prefix(), subnet.host_address(), {}};
}

std::string encode_box_address(const Ipv4Prefix& box) {
  return fmt::format("address {}\n", netlink::format_prefix(box));
}

Result<Ipv4Prefix> decode_box_address(std::string_view text) {
  auto malformed = [&] {
    return plain_error(fmt::format("the runner sent a malformed address: \"{}\"", text));
  };
  constexpr std::string_view tag = "address ";
  if (!text.starts_with(tag) || !text.ends_with('\n')) return malformed();
  auto prefix = parse_prefix(text.substr(tag.size(), text.size() - tag.size() - 1));
  if (!prefix || (prefix->prefix_len != kBoxPrefixLen && prefix->prefix_len != 24))
    return malformed();
  if ((prefix->address & mask_of(kNslabRange.prefix_len)) != kNslabRange.address)
    return malformed();
  // Neither the subnet's own address nor its broadcast: those are no host's.
  std::uint32_t host_part = prefix->address & ~mask_of(prefix->prefix_len);
  if (host_part == 0 || host_part == ~mask_of(prefix->prefix_len)) return malformed();
  return *prefix;
}

// ---- plan ----

std::string host_end_sysctl(std::string_view link, std::string_view setting) {
  return fmt::format(fmt::runtime(setting), link);
}

std::vector<std::string> plug_veth_calls(const std::optional<BoxSubnet>& subnet) {
  std::string host_link = subnet ? subnet->host_link_name() : "nslab-N";
  std::string host_address =
      subnet ? netlink::format_prefix(subnet->host_prefix()) : "10.213.x.y/30";
  return {fmt::format("RTM_NEWLINK(kind veth, name \"{}\", peer {{name \"{}\", IFLA_NET_NS_PID "
                      "box}}, NLM_F_CREATE|NLM_F_EXCL)",
                      host_link, kBoxLinkName),
          fmt::format("write(\"{}\", \"0\")", host_end_sysctl(host_link, kNoForwarding)),
          fmt::format("write(\"{}\", \"1\")", host_end_sysctl(host_link, kNoIpv6)),
          fmt::format("RTM_NEWADDR(dev \"{}\", {})", host_link, host_address),
          fmt::format("RTM_NEWLINK(name \"{}\", IFF_UP)", host_link)};
}

std::vector<std::string> box_end_calls(const std::optional<Ipv4Prefix>& box,
                                       unsigned prefix_len) {
  std::string box_address =
      box ? netlink::format_prefix(*box)
          : fmt::format("{}/{}", prefix_len == kBoxPrefixLen ? "10.213.x.y+1" : "10.213.x.K",
                        prefix_len);
  return {"RTM_NEWLINK(name \"lo\", IFF_UP)",
          fmt::format("RTM_NEWADDR(dev \"{}\", {})", kBoxLinkName, box_address),
          fmt::format("RTM_NEWLINK(name \"{}\", IFF_UP)", kBoxLinkName)};
}

Result<std::vector<Step>> plan_network(NetworkMode mode, const Caller& caller,
                                       const std::optional<BoxSubnet>& subnet,
                                       const std::string& bridge) {
  std::vector<Step> steps;
  switch (mode) {
    case NetworkMode::Host:
      return steps;
    case NetworkMode::Empty:
      steps.push_back({op::EmptyNetwork{},
                       "a new network namespace holds only lo, and lo is down: no address, no "
                       "route, no port shared with the host, so the box reaches nothing"});
      return steps;
    case NetworkMode::Veth:
    case NetworkMode::Bridge:
      break;
  }
  if (!caller.privileged) {
    Error e = plain_error(std::string(kVethNeedsNetAdmin), std::string(kVethNeedsNetAdminFix));
    e.step = "plan";
    return e;
  }
  if (mode == NetworkMode::Bridge) {
    steps.push_back(
        {op::JoinBridge{.bridge = bridge},
         "a bridge is a switch on the host: made at the first box with the first address of a "
         "free /24 in 10.213.0.0/16 (forwarding nothing beyond the host, no IPv6), it takes each "
         "box's veth as a port; the box end is born in the box's namespace with the next free "
         "address of the /24 (the port's name claims it), all under a lock on /sys/class/net"});
    steps.push_back(
        {op::ConfigureBoxNetwork{.subnet = {}, .prefix_len = 24},
         "from inside its own namespace the box brings up lo and its end of the cable, with an "
         "address on the bridge's /24: every box on the bridge, and the host at the bridge's "
         "address, is one hop away; nothing beyond is"});
    steps.push_back(
        {op::LeaveBridge{.bridge = bridge},
         "after the box: delete its port, and the bridge with it when it was the last (a box "
         "whose runner was SIGKILLed leaves an empty bridge, which the next bridged box removes)"});
    return steps;
  }
  std::optional<unsigned> index;
  if (subnet) index = subnet->index;
  steps.push_back(
      {op::PlugVeth{.subnet = index},
       "a veth pair is a cable with two ends: the host end stays here with the first address of "
       "the box's own /30 (the first free one in 10.213.0.0/16; the link's name claims it), the "
       "box end is born inside the box's network namespace, named by its first process; the "
       "host end forwards nothing it receives and has no IPv6, so even a default route the "
       "box's root adds leads nowhere beyond the host"});
  steps.push_back(
      {op::ConfigureBoxNetwork{.subnet = index},
       "from inside its own namespace the box brings up lo and its end of the cable; with no "
       "default route it reaches the host end and nothing beyond (no NAT, no forwarding), and "
       "the kernel deletes the pair when the box's namespace goes"});
  return steps;
}

Result<std::vector<Step>> plan_box_network(const Spec& spec, const Caller& caller) {
  std::string bridge;
  if (spec.bridge) {
    auto name = bridge_link_name(*spec.bridge);
    if (!name) {
      Error e = name.error();
      e.step = "plan";
      return e;
    }
    bridge = *name;
  }
  return plan_network(spec.network(), caller, {}, bridge);
}

// ---- runner ----

bool have_net_admin() {
  return effective_capability("/", CAP_NET_ADMIN).value_or(::geteuid() == 0);
}

namespace {

// The veth itself, over a socket of the runner's network namespace.
Result<BoxSubnet> plug_veth_over(netlink::Socket& socket, pid_t box_pid, pid_t runner_pid,
                                 const std::vector<Ipv4Prefix>& assigned) {
  // A box without a network namespace of its own would get "eth0" on the host: refuse.
  std::string box_namespace = net_namespace_of(std::to_string(box_pid));
  if (box_namespace.empty())
    return make_error(fmt::format("readlink(\"/proc/{}/ns/net\")", box_pid), ESRCH);
  if (box_namespace == net_namespace_of("self"))
    return plain_error(fmt::format("process {} shares the host's network namespace: its end of "
                                   "the veth would land on the host",
                                   box_pid),
                       "clone the box with CLONE_NEWNET (--net)");

  std::set<unsigned> taken;
  Error last_clash = plain_error("no subnet tried");
  for (int attempt = 0; attempt < kMaxNameClashes; ++attempt) {
    auto subnet = choose_subnet(runner_pid, assigned, taken);
    if (!subnet)
      return plain_error("every /30 of 10.213.0.0/16 is in use on this host",
                         "end some boxes, or remove the addresses in 10.213.0.0/16 that are "
                         "not nslab's");
    std::string name = subnet->host_link_name();
    Status created = socket.create_veth(name, kBoxLinkName, box_pid);
    if (!created && created.error().err == EEXIST) {
      // Another box holds this subnet (or its veth is still being reaped): take the next.
      taken.insert(subnet->index);
      last_clash = created.error();
      continue;
    }
    if (!created) return created.error();
    HalfMadeLink undo(socket, name);
    // Nothing the box sends is routed on, even if its root adds a default route through the
    // host end and the host forwards for others (a Docker host has ip_forward=1): IPv4 decides
    // forwarding by the interface a packet came in on, and this one says no. IPv6 is off on it
    // altogether, so no link-local address or router solicitation leaves the cable either.
    SANDBOX_TRY(sys::write_file(host_end_sysctl(name, kNoForwarding), "0"));
    // A kernel without IPv6 (ipv6.disable=1) has no such file, and nothing to turn off.
    if (Status v6 = sys::write_file(host_end_sysctl(name, kNoIpv6), "1"); !v6 && v6.error().err != ENOENT)
      return v6.error();
    // The host end's address; the kernel adds the route to the /30 through nslab-N.
    SANDBOX_TRY(socket.add_address(name, subnet->host_prefix()));
    // Up: the link carries traffic as soon as the box brings its end up too.
    SANDBOX_TRY(socket.bring_up(name));
    undo.finished();
    return *subnet;
  }
  last_clash.hint = fmt::format(
      "{} subnets in a row were taken; is something else creating "
      "links named nslab-N?",
      kMaxNameClashes);
  return last_clash;
}

}  // namespace

Result<BoxSubnet> plug_veth(pid_t box_pid, pid_t runner_pid) {
  if (!have_net_admin())
    return plain_error(std::string(kVethNeedsNetAdmin), std::string(kVethNeedsNetAdminFix));
  auto socket = netlink::Socket::connect();
  if (!socket) return socket.error();
  auto assigned = socket->ipv4_addresses();
  if (!assigned) return assigned.error();
  return plug_veth_over(*socket, box_pid, runner_pid, *assigned);
}

Result<BoxSubnet> plug_veth(pid_t box_pid, pid_t runner_pid,
                            const std::vector<Ipv4Prefix>& assigned) {
  if (!have_net_admin())
    return plain_error(std::string(kVethNeedsNetAdmin), std::string(kVethNeedsNetAdminFix));
  auto socket = netlink::Socket::connect();
  if (!socket) return socket.error();
  return plug_veth_over(*socket, box_pid, runner_pid, assigned);
}

Result<NetworkHandoff> NetworkHandoff::open() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return make_error("pipe2(network_pipe, O_CLOEXEC)", errno);
  return NetworkHandoff{Fd(fds[0]), Fd(fds[1])};
}

Status send_box_address(int fd, const Ipv4Prefix& box) {
  std::string text = encode_box_address(box);
  ssize_t n;
  do n = ::write(fd, text.data(), text.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) return make_error("write(network_pipe)", errno);
  if (static_cast<size_t>(n) != text.size()) return make_error("write(network_pipe)", EIO);
  return ok();
}

Result<Ipv4Prefix> receive_box_address(int fd) {
  std::string text;
  char buf[64];
  while (text.size() < 64 && !text.ends_with('\n')) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("read(network_pipe)", errno);
    if (n == 0) break;  // the runner closed it without a word: decode says so
    text.append(buf, static_cast<size_t>(n));
  }
  return decode_box_address(text);
}

// ---- box ----

Status configure_box_network(const Ipv4Prefix& box) {
  // This socket is opened inside the box, so it talks to the box's namespace.
  auto socket = netlink::Socket::connect();
  if (!socket) return socket.error();
  SANDBOX_TRY(socket->bring_up("lo"));
  SANDBOX_TRY(socket->add_address(kBoxLinkName, box));
  SANDBOX_TRY(socket->bring_up(kBoxLinkName));
  return ok();
}

Status configure_network(const BoxSetup& box) {
  // The runner wrote the address before it released the box, so this read does not wait.
  auto address = receive_box_address(box.network_fd);
  if (!address) return address.error();
  return configure_box_network(*address);
}

}  // namespace sandbox
