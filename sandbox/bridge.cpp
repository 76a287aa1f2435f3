// Boxes on a bridge: the names, the /24 and the seats (pure), the lock, joining and leaving.
// See bridge.h for what the kernel does and in which order.
#include "bridge.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "sys.h"

namespace sandbox {

namespace {

using netlink::Ipv4Prefix;

constexpr std::uint32_t kBridgeMask = ~std::uint32_t{0} << (32 - kBridgePrefixLen);

std::uint32_t subnet_base(unsigned index) {
  return kNslabRange.address + (index << (32 - kBridgePrefixLen));
}

bool in_nslab_range(std::uint32_t address) {
  return (address >> (32 - kNslabRange.prefix_len)) ==
         (kNslabRange.address >> (32 - kNslabRange.prefix_len));
}

// A link made by this runner (the bridge, the box's pair), deleted again unless the box got its
// seat: the undo of a half-made join. The lock is still held when it runs.
class LinkUndo {
 public:
  LinkUndo(netlink::Socket& socket, std::string name) : socket_(socket), name_(std::move(name)) {}
  ~LinkUndo() {
    if (armed_) (void)socket_.delete_link(name_);
  }
  LinkUndo(const LinkUndo&) = delete;
  LinkUndo& operator=(const LinkUndo&) = delete;
  void arm() { armed_ = true; }
  void finished() { armed_ = false; }

 private:
  netlink::Socket& socket_;
  std::string name_;
  bool armed_ = false;
};

// No IP forwarding of what comes in on `link`, no IPv6 on it: see net.cpp's plug_veth.
Status close_host_link(const std::string& link, bool forwarding_too) {
  if (forwarding_too) SANDBOX_TRY(sys::write_file(host_end_sysctl(link, kNoForwarding), "0"));
  if (Status v6 = sys::write_file(host_end_sysctl(link, kNoIpv6), "1");
      !v6 && v6.error().err != ENOENT)
    return v6.error();
  return ok();
}

// The bridge `name`, made if missing, with its /24. Returns the /24's index. `links` is this
// namespace's, dumped under the lock.
Result<unsigned> ensure_bridge(netlink::Socket& socket, const std::string& name,
                               const std::vector<netlink::LinkFacts>& links, LinkUndo& undo) {
  auto found = std::find_if(links.begin(), links.end(),
                            [&](const netlink::LinkFacts& l) { return l.name == name; });
  if (found != links.end()) {
    // Another box made it: use it only if it is a bridge with nslab's address.
    auto addresses = socket.ipv4_addresses(found->index);
    if (!addresses) return addresses.error();
    auto index = bridge_subnet_of(*addresses);
    if (found->kind != "bridge" || !index)
      return plain_error(
          fmt::format("the host has a link called {} that is not one of nslab's bridges (kind "
                      "\"{}\", no 10.213.x.1/24 address)",
                      name, found->kind),
          fmt::format("choose another name for --bridge, or delete the link (ip link del {})",
                      name));
    return *index;
  }
  auto assigned = socket.ipv4_addresses();
  if (!assigned) return assigned.error();
  auto index = choose_bridge_subnet(*assigned);
  if (!index)
    return plain_error("every /24 of 10.213.0.0/16 is in use on this host",
                       "end some boxes, or remove the addresses in 10.213.0.0/16 that are not "
                       "nslab's");
  SANDBOX_TRY(socket.create_bridge(name));
  undo.arm();
  SANDBOX_TRY(close_host_link(name, true));
  SANDBOX_TRY(socket.add_address(name, bridge_address(*index)));
  SANDBOX_TRY(socket.bring_up(name));
  return *index;
}

// Deletes every bridge of nslab's with no port (left by a runner killed with SIGKILL), except
// `keep`. Under the lock. Failures change nothing for the box that is starting.
void sweep_empty_bridges(netlink::Socket& socket, const std::vector<netlink::LinkFacts>& links,
                         const std::string& keep) {
  for (const auto& name : empty_bridges(links))
    if (name != keep) (void)socket.delete_link(name);
}

}  // namespace

// ---- pure ----

Result<std::string> bridge_link_name(std::string_view name) {
  auto refuse = [&](std::string why) {
    return plain_error(fmt::format("--bridge {}: {}", name, why),
                       fmt::format("use 1 to {} lowercase letters, digits or '-', starting with "
                                   "a letter or a digit (--bridge lab makes nslab-br-lab)",
                                   kMaxBridgeNameLength));
  };
  if (name.empty()) return refuse("the name is empty");
  if (name.size() > kMaxBridgeNameLength)
    return refuse(fmt::format("the link would be {}{}, longer than the {} bytes a link name can "
                              "have",
                              kBridgeLinkPrefix, name, kMaxLinkNameLength));
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return refuse(fmt::format("'{}' is not allowed in a link name of nslab's", c));
  if (name.front() == '-') return refuse("the name starts with '-'");
  return fmt::format("{}{}", kBridgeLinkPrefix, name);
}

std::string port_link_name(std::uint32_t address) {
  return fmt::format("{}{}", kPortLinkPrefix, address - kNslabRange.address);
}

std::optional<std::uint32_t> address_of_port(std::string_view link_name) {
  if (!link_name.starts_with(kPortLinkPrefix)) return std::nullopt;
  std::string_view digits = link_name.substr(kPortLinkPrefix.size());
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  unsigned offset = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (offset >= (1u << (32 - kNslabRange.prefix_len))) return std::nullopt;
  return kNslabRange.address + offset;
}

bool bridge_subnet_in_use(unsigned index, const Ipv4Prefix& assigned) {
  std::uint32_t base = subnet_base(index);
  if ((assigned.address & kBridgeMask) == base) return true;
  // A prefix wider than nslab's range (a LAN's 10.0.0.0/8) does not count: the /24 is more
  // specific and wins, as for a veth's /30.
  if (assigned.prefix_len < kNslabRange.prefix_len) return false;
  unsigned common = std::min(assigned.prefix_len, kBridgePrefixLen);
  std::uint32_t mask = common == 0 ? 0 : ~std::uint32_t{0} << (32 - common);
  return (assigned.address & mask) == (base & mask);
}

std::optional<unsigned> choose_bridge_subnet(const std::vector<Ipv4Prefix>& assigned) {
  for (unsigned index = kBridgeSubnetCount; index-- > 0;) {
    bool used = std::any_of(assigned.begin(), assigned.end(),
                            [&](const Ipv4Prefix& a) { return bridge_subnet_in_use(index, a); });
    if (!used) return index;
  }
  return std::nullopt;
}

Ipv4Prefix bridge_address(unsigned index) {
  return {subnet_base(index) + 1, kBridgePrefixLen};
}

std::optional<unsigned> bridge_subnet_of(const std::vector<Ipv4Prefix>& addresses) {
  for (const auto& a : addresses) {
    if (a.prefix_len != kBridgePrefixLen || !in_nslab_range(a.address)) continue;
    if ((a.address & ~kBridgeMask) != 1) continue;
    return ((a.address - kNslabRange.address) >> (32 - kBridgePrefixLen));
  }
  return std::nullopt;
}

std::optional<std::uint32_t> choose_seat(unsigned subnet_index,
                                         const std::set<std::uint32_t>& taken) {
  for (std::uint32_t host = 2; host <= 254; ++host) {
    std::uint32_t address = subnet_base(subnet_index) + host;
    if (!taken.contains(address)) return address;
  }
  return std::nullopt;
}

std::vector<std::string> empty_bridges(const std::vector<netlink::LinkFacts>& links) {
  std::vector<std::string> empty;
  for (const auto& link : links) {
    if (link.kind != "bridge" || !link.name.starts_with(kBridgeLinkPrefix)) continue;
    bool has_port = std::any_of(links.begin(), links.end(), [&](const netlink::LinkFacts& l) {
      return l.master == link.index;
    });
    if (!has_port) empty.push_back(link.name);
  }
  return empty;
}

std::vector<std::string> join_bridge_calls(const std::string& bridge,
                                           const std::optional<BoxLink>& seat) {
  std::string port = seat ? seat->host_link : std::string(kPortLinkPrefix) + "K";
  return {
      "flock(\"/sys/class/net\", LOCK_EX)",
      "RTM_GETLINK(dump): delete nslab's bridges with no port",
      fmt::format("RTM_NEWLINK(kind bridge, name \"{}\", NLM_F_CREATE|NLM_F_EXCL) if missing, "
                  "then forwarding 0, disable_ipv6 1, RTM_NEWADDR 10.213.x.1/24, IFF_UP",
                  bridge),
      fmt::format("RTM_NEWLINK(kind veth, name \"{}\", peer {{name \"{}\", IFLA_NET_NS_PID box}}, "
                  "NLM_F_CREATE|NLM_F_EXCL)",
                  port, kBoxLinkName),
      fmt::format("write(\"{}\", \"1\")", host_end_sysctl(port, kNoIpv6)),
      fmt::format("RTM_NEWLINK(name \"{}\", IFLA_MASTER \"{}\")", port, bridge),
      fmt::format("RTM_NEWLINK(name \"{}\", IFF_UP)", port),
      "flock(\"/sys/class/net\", LOCK_UN)"};
}

std::vector<std::string> leave_bridge_calls(const std::string& bridge,
                                            const std::optional<BoxLink>& seat) {
  std::string port = seat ? seat->host_link : std::string(kPortLinkPrefix) + "K";
  return {"flock(\"/sys/class/net\", LOCK_EX)", fmt::format("RTM_DELLINK(name \"{}\")", port),
          fmt::format("RTM_DELLINK(name \"{}\") if it has no port left", bridge),
          "flock(\"/sys/class/net\", LOCK_UN)"};
}

// ---- runner ----

Result<InterfacesLock> InterfacesLock::take() {
  auto fd = sys::open("/sys/class/net", O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.error();
  int rc;
  do rc = ::flock(fd->get(), LOCK_EX);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return make_error("flock(\"/sys/class/net\", LOCK_EX)", errno);
  return InterfacesLock(std::move(*fd));
}

Result<BoxLink> join_bridge(pid_t box_pid, const std::string& bridge) {
  auto lock = InterfacesLock::take();
  if (!lock) return lock.error();
  auto socket = netlink::Socket::connect();
  if (!socket) return socket.error();
  // One dump of the links serves the sweep and the search for the bridge.
  auto links = socket->links();
  if (!links) return links.error();
  sweep_empty_bridges(*socket, *links, bridge);
  LinkUndo bridge_undo(*socket, bridge);
  auto subnet = ensure_bridge(*socket, bridge, *links, bridge_undo);
  if (!subnet) return subnet.error();

  std::set<std::uint32_t> taken;
  for (;;) {
    auto address = choose_seat(*subnet, taken);
    if (!address)
      return plain_error(fmt::format("{} has no free address left: 253 boxes are on it", bridge),
                         "end some of its boxes, or use another --bridge");
    std::string port = port_link_name(*address);
    Status created = socket->create_veth(port, kBoxLinkName, box_pid);
    if (!created && created.error().err == EEXIST) {
      // A box holds this address (or its veth is still being reaped): the next one.
      taken.insert(*address);
      continue;
    }
    if (!created) return created.error();
    // From here a failure deletes the pair, then the bridge if this runner made it.
    LinkUndo port_undo(*socket, port);
    port_undo.arm();
    SANDBOX_TRY(close_host_link(port, false));
    SANDBOX_TRY(socket->set_master(port, bridge));
    SANDBOX_TRY(socket->bring_up(port));
    port_undo.finished();
    bridge_undo.finished();
    return BoxLink{port, {*address, kBridgePrefixLen}, bridge_address(*subnet).address, bridge};
  }
}

Status leave_bridge(const std::string& port, const std::string& bridge) {
  auto lock = InterfacesLock::take();
  if (!lock) return lock.error();
  auto socket = netlink::Socket::connect();
  if (!socket) return socket.error();
  // The port may be gone already (the kernel deletes the pair with the box's namespace).
  if (Status deleted = socket->delete_link(port); !deleted && deleted.error().err != ENODEV)
    return deleted.error();
  auto links = socket->links();
  if (!links) return links.error();
  auto empty = empty_bridges(*links);
  if (std::find(empty.begin(), empty.end(), bridge) != empty.end())
    SANDBOX_TRY(socket->delete_link(bridge));
  return ok();
}

BridgeSeat::~BridgeSeat() {
  // After the box: its failure to leave changes nothing for the box's status; the next bridged
  // box sweeps an empty bridge.
  if (owned_) (void)leave_bridge(link_.host_link, link_.bridge);
}

BridgeSeat::BridgeSeat(BridgeSeat&& other) noexcept
    : link_(std::move(other.link_)), owned_(std::exchange(other.owned_, false)) {}

}  // namespace sandbox
