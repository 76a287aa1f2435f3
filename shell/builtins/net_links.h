// The interfaces of this network namespace, as `ifaces` shows them.
//
// Every network namespace has its own set of interfaces, addresses, routes and ports
// (network_namespaces(7)). A new one holds a single interface, `lo`, and it is down: no address,
// not even 127.0.0.1, until someone brings it up. We ask the kernel directly over rtnetlink
// (rtnetlink(7), netlink(7)): one RTM_GETLINK dump lists every link, down or up, with or without an
// address; one RTM_GETADDR dump lists the addresses. That is what `ip link` and `ip addr` do, and
// it needs no library and no file from the box's root.
//
// Parsing the kernel's answer and formatting it are pure functions (tested from hand-built
// messages); only list_interfaces() opens a socket.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tinysh::net {

struct IfaceAddress {
  int family = 0;           // AF_INET or AF_INET6
  std::string address;      // "127.0.0.1", "fe80::1"
  unsigned prefix_len = 0;  // the /N
  bool link_local = false;  // scope link: only meaningful on this one interface
  bool tentative = false;   // IPv6 duplicate address detection not done yet: cannot bind to it
};

struct Interface {
  int index = 0;       // ifindex: stable for the life of the link in this namespace
  std::string name;    // "lo", "eth0", "veth-box"
  unsigned flags = 0;  // IFF_UP, IFF_LOOPBACK, IFF_LOWER_UP, ... (netdevice(7))
  unsigned mtu = 0;    // bytes
  std::string mac;     // "02:42:ac:11:00:02"; empty when the link has none
  std::vector<IfaceAddress> addresses;

  bool up() const;
  bool loopback() const;
};

// What one buffer of a netlink dump said about the dump itself.
struct DumpProgress {
  bool done = false;  // NLMSG_DONE seen: the dump is complete
  int error = 0;      // errno the kernel reported (NLMSG_ERROR), 0 when none
};

// Reads the netlink messages in `bytes`: RTM_NEWLINK messages add interfaces, RTM_NEWADDR
// messages add addresses to the interface with their index. Malformed or truncated messages are
// skipped, never read past the end of `bytes`.
DumpProgress parse_netlink_messages(std::string_view bytes, std::vector<Interface>& interfaces);

// One line per interface, in index order, then one indented line per address:
//   1: lo  UP  mtu 65536
//      inet 127.0.0.1/8
// and a closing sentence when the namespace holds nothing but its loopback interface.
std::string format_interfaces(std::vector<Interface> interfaces);

// The stable phrase lessons look for when a network namespace is brand new.
inline constexpr std::string_view kEmptyNamespacePhrase =
    "only the loopback interface, and it is down: this network namespace is empty";

// Asks the kernel. On failure, `error` is the errno and `call` names the system call.
struct InterfaceList {
  std::vector<Interface> interfaces;
  int error = 0;
  std::string call;
};
InterfaceList list_interfaces();

}  // namespace tinysh::net
