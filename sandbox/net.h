// Network namespace and veth — network_namespaces(7), veth(4), rtnetlink(7).
//
// A network namespace has its own interfaces, addresses, routes, firewall and ports. A new one
// holds a single interface, lo, and it is down: the box cannot reach anything, not even
// 127.0.0.1. That is all --net does (CLONE_NEWNET in the clone flags).
//
// --veth adds a virtual cable. A veth pair is two interfaces joined back to back: what goes into
// one comes out of the other. The runner creates the pair with one rtnetlink message while the box
// waits on its sync pipe: the host end, nslab-N, stays in the host's namespace; the box end, eth0,
// is created directly in the box's namespace (IFLA_NET_NS_PID names it by the box's first
// process). Each box gets its own /30 out of 10.213.0.0/16, a range nslab keeps for itself: the
// host end takes the first address, the box end the second. The runner sets the host end's address
// and brings it up; after the release the box, from inside its own namespace, brings up lo and
// eth0 with its address. There is no default route, no NAT and no forwarding: the box can talk to
// the host end of its own cable and to nothing else.
//
// Choosing a subnet: the first free /30 from an index picked by the runner's pid, skipping every
// /30 that an address on the host already lies in. The host end's name carries the subnet's index
// (nslab-1037 holds 10.213.16.52/30), so the name is the claim: when two runners pick the same
// subnet at once, the kernel refuses the second link with EEXIST and that runner moves on.
//
// No named namespace (ip netns add leaves a bind mount in /run/netns). The veth lives exactly as
// long as the box's namespace: when the box's last process exits, the kernel deletes both ends by
// itself, within about a second. So nothing deletes it on the way out (that would cost ~34 ms a
// box); only a half-made veth, when setting it up fails, is deleted at once, since that box will
// never run.
//
// The order, in a box's life:
//   runner, before the clone   refuse without CAP_NET_ADMIN (nothing is created)
//   clone3                     CLONE_NEWNET: the box's empty namespace
//   runner, before release     plug_veth(): the pair, the host end's address, host end up;
//                              send_box_address() tells the box its address in the /30
//   box, after release         configure_box_network(): lo up, eth0's address, eth0 up
//   box exits                  the kernel deletes the pair with the namespace
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fd.h"
#include "netlink.h"
#include "plan.h"
#include "result.h"
#include "spec.h"

namespace sandbox {

// NetworkMode (Host, Empty, Veth, Bridge) is in spec.h: a Spec says which one the box gets.

// 10.213.0.0/16: the private range nslab takes its boxes' subnets from.
inline constexpr netlink::Ipv4Prefix kNslabRange{0x0ad50000, 16};
// Each box's subnet: a /30 holds a network address, the host end, the box end, a broadcast.
inline constexpr unsigned kBoxPrefixLen = 30;
inline constexpr unsigned kSubnetCount = 1u << (kBoxPrefixLen - kNslabRange.prefix_len);
// The host end is "nslab-<index>"; the box end, alone in its namespace, is always eth0.
inline constexpr std::string_view kHostLinkPrefix = "nslab-";
inline constexpr const char* kBoxLinkName = "eth0";
// Interface names are at most IFNAMSIZ - 1 = 15 bytes.
inline constexpr size_t kMaxLinkNameLength = 15;

// One box's /30 in nslab's range.
struct BoxSubnet {
  unsigned index = 0;  // 0 .. kSubnetCount - 1

  std::uint32_t network() const { return kNslabRange.address + index * 4; }
  std::uint32_t host_address() const { return network() + 1; }
  std::uint32_t box_address() const { return network() + 2; }
  netlink::Ipv4Prefix host_prefix() const { return {host_address(), kBoxPrefixLen}; }
  netlink::Ipv4Prefix box_prefix() const { return {box_address(), kBoxPrefixLen}; }
  std::string host_link_name() const;  // "nslab-1037"
  bool operator==(const BoxSubnet&) const = default;
};

// The subnet a host link name holds: "nslab-1037" → 1037; nullopt for any other name.
std::optional<BoxSubnet> subnet_of_link(std::string_view link_name);

// Whether an address assigned on the host makes `subnet` unusable: the address lies in the /30,
// or its own prefix (no wider than nslab's /16) overlaps it. A wide prefix such as a LAN's
// 10.0.0.0/8 does not count: the box's /30 route is more specific and wins.
bool subnet_in_use(const BoxSubnet& subnet, const netlink::Ipv4Prefix& assigned);

// The first subnet, counting up from the runner's pid (and wrapping), that no assigned address
// uses and that is not in `taken` (subnets whose link name was found taken). nullopt when none is
// free.
std::optional<BoxSubnet> choose_subnet(pid_t runner_pid,
                                       const std::vector<netlink::Ipv4Prefix>& assigned,
                                       const std::set<unsigned>& taken = {});

// Where a box's cable ends, as the runner made it: the host's link (nslab-N, or the port
// nslab-pK on a bridge), the box's address with its prefix, the address the box reaches the host
// at (the host end's, or the bridge's), and the bridge ("" for a /30 of the box's own).
struct BoxLink {
  std::string host_link;
  netlink::Ipv4Prefix box;
  std::uint32_t host_address = 0;
  std::string bridge;
  // "box 10.213.4.6, host 10.213.4.5", and ", bridge nslab-br-lab" on a bridge.
  std::string summary() const;
  bool operator==(const BoxLink&) const = default;
};
BoxLink link_of(const BoxSubnet& subnet);

// What the runner tells the box, its address: "address 10.213.4.6/30\n". Decoding accepts only
// an address of nslab's range with a box's prefix (/30 of its own, /24 on a bridge).
std::string encode_box_address(const netlink::Ipv4Prefix& box);
Result<netlink::Ipv4Prefix> decode_box_address(std::string_view text);

// ---- plan ----

// The refusal for --veth without CAP_NET_ADMIN, before anything is created.
inline constexpr std::string_view kVethNeedsNetAdmin =
    "creating a host veth needs CAP_NET_ADMIN in the host network namespace";
inline constexpr std::string_view kVethNeedsNetAdminFix =
    "run as root, or use --net for an empty network namespace";

// The steps of a box's network (op::EmptyNetwork, op::PlugVeth or op::JoinBridge,
// op::ConfigureBoxNetwork, op::LeaveBridge), for plan() and `nslab explain`. `subnet`, when known
// (after plug_veth), puts the real names and addresses in the text; otherwise they read nslab-N
// and 10.213.x.y. `bridge` is the bridge's link name for NetworkMode::Bridge. Refuses --veth and
// --bridge for a caller who is not privileged.
Result<std::vector<Step>> plan_network(NetworkMode mode, const Caller& caller,
                                       const std::optional<BoxSubnet>& subnet = {},
                                       const std::string& bridge = {});
// The host end's settings, /proc/sys/net/.../conf/LINK/...: no IPv4 forwarding of what comes in
// on it, no IPv6 on it at all.
inline constexpr std::string_view kNoForwarding = "/proc/sys/net/ipv4/conf/{}/forwarding";
inline constexpr std::string_view kNoIpv6 = "/proc/sys/net/ipv6/conf/{}/disable_ipv6";
std::string host_end_sysctl(std::string_view link, std::string_view setting);
// The netlink messages of each veth step, as text (operations.cpp renders the steps with them).
std::vector<std::string> plug_veth_calls(const std::optional<BoxSubnet>& subnet);
// `box` is the box's address with its prefix, when known.
std::vector<std::string> box_end_calls(const std::optional<netlink::Ipv4Prefix>& box,
                                       unsigned prefix_len);

// ---- runner ----

// CAP_NET_ADMIN in this process's effective capabilities (capget(2)).
bool have_net_admin();

// Creates the veth pair for the box whose first process is `box_pid` (already in its own network
// namespace, waiting), addresses the host end and brings it up. Returns the subnet it took. On
// failure nothing is left: a pair already made is deleted before returning.
Result<BoxSubnet> plug_veth(pid_t box_pid, pid_t runner_pid);
// The same with the host's addresses given instead of dumped: a snapshot that may be stale, as a
// concurrent runner's would be (the link name still keeps two boxes apart).
Result<BoxSubnet> plug_veth(pid_t box_pid, pid_t runner_pid,
                            const std::vector<netlink::Ipv4Prefix>& assigned);

// The pipe that carries the box's address from the runner to the box across the clone. Opened
// before the clone (close-on-exec); after it the runner closes box_end and the box runner_end.
struct NetworkHandoff {
  Fd box_end;     // read by the box
  Fd runner_end;  // written by the runner

  static Result<NetworkHandoff> open();
};
Status send_box_address(int fd, const netlink::Ipv4Prefix& box);
Result<netlink::Ipv4Prefix> receive_box_address(int fd);

// ---- box ----

// In the box, in its own network namespace: lo up, eth0 gets the box's address, eth0 up.
Status configure_box_network(const netlink::Ipv4Prefix& box);

}  // namespace sandbox
