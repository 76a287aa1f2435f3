// A thin layer over libnl-route-3 for the few rtnetlink messages a box's network needs: list the
// links and the IPv4 addresses, create a veth pair or a bridge, put a link on a bridge, add an
// address, bring a link up, delete a link.
//
// rtnetlink (rtnetlink(7), netlink(7)) is how the kernel's network configuration is read and
// changed: a request message (RTM_NEWLINK, RTM_NEWADDR, ...) goes down a NETLINK_ROUTE socket and
// the kernel answers with an acknowledgement or an error carrying an errno. A netlink socket
// belongs to the network namespace of the process that created it, for its whole life: a socket
// opened by the runner talks to the host's namespace, one opened inside the box to the box's.
//
// libnl reports its own error codes (NLE_*), which lose the kernel's errno (EEXIST and EBUSY are
// both "object exists"). Each Socket therefore keeps the errno of the kernel's last error reply,
// so an Error names the errno the kernel really sent and the hint table can explain it.
//
// Tests can make a message fail on purpose with inject_fault("RTM_NEWADDR", EADDRNOTAVAIL): the
// call then fails before anything is sent, as if the kernel had refused it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

struct nl_sock;

namespace sandbox::netlink {

// An IPv4 address with its prefix length, in host byte order: 10.213.4.1/30 is
// {0x0ad50401, 30}.
struct Ipv4Prefix {
  std::uint32_t address = 0;
  unsigned prefix_len = 32;
  bool operator==(const Ipv4Prefix&) const = default;
};

// One link of a namespace, as an RTM_GETLINK dump lists it.
struct LinkFacts {
  std::string name;
  int index = 0;
  int master = 0;    // the index of the bridge it is a port of; 0 for none
  std::string kind;  // IFLA_INFO_KIND: "veth", "bridge", ...; "" for a physical link or lo
};

// A NETLINK_ROUTE socket in the network namespace of the process that connects it. Closes itself.
class Socket {
 public:
  static Result<Socket> connect();
  ~Socket();
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&&) = delete;
  Socket(const Socket&) = delete;

  // Every IPv4 address of every link in this namespace (RTM_GETADDR dump), or of the link with
  // index `link_index` only.
  Result<std::vector<Ipv4Prefix>> ipv4_addresses(int link_index = 0);
  // Every link in this namespace (RTM_GETLINK dump).
  Result<std::vector<LinkFacts>> links();
  // RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL: a veth pair whose first end, `name`, stays in this
  // namespace and whose peer, `peer_name`, is created in the network namespace of `peer_pid`
  // (IFLA_NET_NS_PID inside VETH_INFO_PEER). EEXIST when `name` is taken here.
  Status create_veth(const std::string& name, const std::string& peer_name, pid_t peer_pid);
  // RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL: a bridge (IFLA_INFO_KIND "bridge") called `name`, with
  // the kernel's defaults: no STP, so a port forwards as soon as it is up. EEXIST when taken.
  Status create_bridge(const std::string& name);
  // RTM_NEWLINK with IFLA_MASTER: `link_name` becomes a port of the bridge `bridge_name`.
  Status set_master(const std::string& link_name, const std::string& bridge_name);
  // The interface index of the link called `name` (RTM_GETLINK).
  Result<int> link_index(const std::string& name);
  // RTM_NEWADDR, NLM_F_CREATE|NLM_F_EXCL: `address` on the link. The kernel adds the route to the
  // prefix through that link by itself.
  Status add_address(const std::string& link_name, const Ipv4Prefix& address);
  // RTM_NEWLINK with IFF_UP in ifi_flags and ifi_change (what `ip link set NAME up` sends).
  Status bring_up(const std::string& link_name);
  // RTM_DELLINK. Deleting either end of a veth pair deletes both.
  Status delete_link(const std::string& link_name);

 private:
  Socket(nl_sock* sock, std::unique_ptr<int> kernel_errno);
  // The Error for a libnl call that returned `nl_code` (< 0), named by `call`.
  Error failure(std::string call, int nl_code);

  nl_sock* sock_ = nullptr;
  // The errno of the kernel's last NLMSG_ERROR reply, filled in by libnl's error callback (hence
  // the stable address).
  std::unique_ptr<int> kernel_errno_;
};

// "10.213.4.1"
std::string format_ipv4(std::uint32_t address);
// "10.213.4.1/30"
std::string format_prefix(const Ipv4Prefix& prefix);

// Test hook: the next `count` messages named `message` ("RTM_NEWLINK", "RTM_NEWADDR", ...) fail
// with `err` without being sent.
void inject_fault(std::string_view message, int err, int count = 1);
void clear_faults();

}  // namespace sandbox::netlink
