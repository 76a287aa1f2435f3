// Two boxes on one network: a bridge on the host, and a veth from each box plugged into it —
// bridge(8), veth(4), rtnetlink(7).
//
// A bridge is a virtual switch: the links plugged into it (its ports) hear each other as if on one
// cable. `--bridge NAME` gives a box a veth as --veth does, but the host end, nslab-pK, has no
// address of its own; it becomes a port of the bridge nslab-br-NAME. The bridge itself holds the
// host's address on the boxes' network, the first of a /24 out of nslab's 10.213.0.0/16, and
// every box on it gets another address of that /24: box A reaches box B directly, through the
// bridge, and both reach the host at the bridge's address.
//
// Names are claims, as for --veth: the port's name carries the box's address (nslab-p1797 is the
// port of the box at 10.213.7.5: 7 * 256 + 5), so two runners cannot take the same address; the
// first box on a bridge gets .2, the next .3, and so on. The bridge's name is the one the user
// chose, behind nslab's prefix, so that --bridge can never plug a box into a bridge of the host's
// own (docker0, a LAN bridge): only links called nslab-br-* are used, and one that exists and is
// not a bridge with a 10.213.x.1/24 address is refused.
//
// Nothing beyond the host: like a veth's host end, the bridge forwards nothing it receives at the
// IP level (conf/nslab-br-NAME/forwarding = 0) and has no IPv6. Frames between its ports are
// switched, not routed, so boxes on it talk to each other; a packet a box addresses to anywhere
// else stops at the host. (On a host that loaded br_netfilter with bridge-nf-call-iptables = 1,
// as Docker hosts do, the frames between ports also pass the host's iptables FORWARD chain, and a
// DROP policy there keeps the boxes apart: nslab does not change the host's firewall.)
//
// The bridge goes with its last box. Every runner changes bridges only while it holds a lock on
// the host's list of interfaces, flock(2) on /sys/class/net, so that creating a bridge and
// plugging a port, or unplugging the last port and deleting the bridge, happen as one:
//   runner, before release   lock; sweep empty nslab bridges; the bridge if missing (address,
//                            up); the veth pair; the port on the bridge, up; unlock
//   box, after release       lo up, eth0 with its /24 address, up
//   runner, after the box    lock; delete the port; the bridge too if no port is left; unlock
// A runner killed by SIGKILL cannot unplug: the kernel deletes its veth with the box's namespace,
// and the bridge, empty, is removed by the next box that starts on any bridge.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "net.h"
#include "netlink.h"
#include "result.h"

namespace sandbox {

// The bridge is "nslab-br-NAME"; NAME fills what IFNAMSIZ leaves.
inline constexpr std::string_view kBridgeLinkPrefix = "nslab-br-";
inline constexpr size_t kMaxBridgeNameLength = kMaxLinkNameLength - kBridgeLinkPrefix.size();
// A box's port on a bridge is "nslab-p<offset of the box's address in 10.213.0.0/16>".
inline constexpr std::string_view kPortLinkPrefix = "nslab-p";
inline constexpr unsigned kBridgePrefixLen = 24;
inline constexpr unsigned kBridgeSubnetCount = 1u << (kBridgePrefixLen - kNslabRange.prefix_len);

// "lab" → "nslab-br-lab"; an error naming the rule for anything that would not make a link name
// of nslab's (too long, a character other than a-z, 0-9 and '-', not starting with a letter or a
// digit).
Result<std::string> bridge_link_name(std::string_view name);
// The port's name for the box at `address` ("nslab-p1797" for 10.213.7.5), and back: the address
// a port's name claims, nullopt for any other name.
std::string port_link_name(std::uint32_t address);
std::optional<std::uint32_t> address_of_port(std::string_view link_name);

// Whether an assigned address (a veth's /30, another bridge's /24, an address of the host's own
// in nslab's range) makes bridge subnet number `index` (10.213.<index>.0/24) unusable.
bool bridge_subnet_in_use(unsigned index, const netlink::Ipv4Prefix& assigned);
// The /24 for a new bridge: the highest one no assigned address uses (veths take /30s counting up
// from an index picked by pid, so bridges counting down from 10.213.255.0 rarely meet them).
std::optional<unsigned> choose_bridge_subnet(const std::vector<netlink::Ipv4Prefix>& assigned);
// The bridge's own address in bridge subnet `index`: 10.213.<index>.1/24.
netlink::Ipv4Prefix bridge_address(unsigned index);
// nslab's bridge subnet among a bridge's addresses: its x.1/24 in 10.213.0.0/16, if it has one.
std::optional<unsigned> bridge_subnet_of(const std::vector<netlink::Ipv4Prefix>& addresses);
// The box addresses of a bridge's /24, in order (.2 to .254), without those in `taken`.
std::optional<std::uint32_t> choose_seat(unsigned subnet_index, const std::set<std::uint32_t>& taken);

// The bridges to sweep: nslab's (by name) that have no port.
std::vector<std::string> empty_bridges(const std::vector<netlink::LinkFacts>& links);

// The netlink messages of joining and leaving, as text, for `nslab explain`. `seat`, when known,
// puts the real port and address in.
std::vector<std::string> join_bridge_calls(const std::string& bridge,
                                           const std::optional<BoxLink>& seat);
std::vector<std::string> leave_bridge_calls(const std::string& bridge,
                                            const std::optional<BoxLink>& seat);

// ---- runner ----

// flock(2) on /sys/class/net, exclusive, held for the object's life: one runner at a time
// changes nslab's bridges.
class InterfacesLock {
 public:
  static Result<InterfacesLock> take();

 private:
  explicit InterfacesLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

// Plugs the box whose first process is `box_pid` (in its own network namespace, waiting) into
// `bridge` (nslab-br-NAME), making the bridge if it is missing. Returns the box's link. On failure
// nothing new is left: a pair made is deleted, and a bridge made for it too.
Result<BoxLink> join_bridge(pid_t box_pid, const std::string& bridge);

// The box's seat on a bridge, given up when this goes: the port is deleted, and the bridge with
// it when no other port is left. Made by the runner once join_bridge() succeeded; Box owns it, so
// it goes after the box's processes.
class BridgeSeat {
 public:
  explicit BridgeSeat(BoxLink link) : link_(std::move(link)) {}
  ~BridgeSeat();
  BridgeSeat(BridgeSeat&& other) noexcept;
  BridgeSeat& operator=(BridgeSeat&&) = delete;
  BridgeSeat(const BridgeSeat&) = delete;
  const BoxLink& link() const { return link_; }

 private:
  BoxLink link_;
  bool owned_ = true;
};

// Deletes `link` (the box's port) and then `bridge` if it has no port left, under the lock.
Status leave_bridge(const std::string& port, const std::string& bridge);

}  // namespace sandbox
