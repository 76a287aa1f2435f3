#include "netlink.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "hints.h"

namespace sandbox::netlink {

namespace {

struct Fault {
  std::string message;
  int err;
  int count;
};
std::vector<Fault>& faults() {
  static std::vector<Fault> list;
  return list;
}

// The injected errno for `message`, or 0 to go on and send it.
int injected(std::string_view message) {
  for (auto& fault : faults()) {
    if (fault.message == message && fault.count > 0) {
      --fault.count;
      return fault.err;
    }
  }
  return 0;
}

// The message's name starts the call's text ("RTM_NEWLINK(...)"), so hints.cpp's table finds
// what the errno usually means for it.
Error message_error(std::string call, int err) {
  return make_error(std::move(call), err);
}

// libnl calls this for every NLMSG_ERROR reply: keep the kernel's errno, then let libnl stop and
// return its own code as usual.
int remember_kernel_errno(sockaddr_nl*, nlmsgerr* reply, void* slot) {
  *static_cast<int*>(slot) = -reply->error;
  return NL_STOP;
}

// An owning pointer for libnl objects, released with their own put/free function.
template <typename T, void (*Release)(T*)>
struct Releaser {
  void operator()(T* p) const {
    if (p) Release(p);
  }
};
using LinkPtr = std::unique_ptr<rtnl_link, Releaser<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<rtnl_addr, Releaser<rtnl_addr, rtnl_addr_put>>;
using NlAddrPtr = std::unique_ptr<nl_addr, Releaser<nl_addr, nl_addr_put>>;
using CachePtr = std::unique_ptr<nl_cache, Releaser<nl_cache, nl_cache_free>>;

}  // namespace

void inject_fault(std::string_view message, int err, int count) {
  faults().push_back({std::string(message), err, count});
}
void clear_faults() {
  faults().clear();
}

std::string format_ipv4(std::uint32_t address) {
  return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff,
                     address & 0xff);
}

std::string format_prefix(const Ipv4Prefix& prefix) {
  return fmt::format("{}/{}", format_ipv4(prefix.address), prefix.prefix_len);
}

Socket::Socket(nl_sock* sock, std::unique_ptr<int> kernel_errno)
    : sock_(sock), kernel_errno_(std::move(kernel_errno)) {}

Socket::Socket(Socket&& other) noexcept
    : sock_(std::exchange(other.sock_, nullptr)), kernel_errno_(std::move(other.kernel_errno_)) {}

Socket::~Socket() {
  // nl_socket_free closes the socket; the namespace it pinned is then free to go.
  if (sock_) nl_socket_free(sock_);
}

Result<Socket> Socket::connect() {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return make_error("nl_socket_alloc()", ENOMEM);
  auto kernel_errno = std::make_unique<int>(0);
  nl_socket_modify_err_cb(sock, NL_CB_CUSTOM, remember_kernel_errno, kernel_errno.get());
  Socket socket(sock, std::move(kernel_errno));
  // libnl opens the socket with SOCK_CLOEXEC: it never reaches a program the box execs.
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0)
    return socket.failure("socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", err);
  // A reply is read in one recvmsg() into a buffer of this size. Without one, libnl peeks at
  // each message first to learn its size: two system calls a message. The kernel cuts a dump
  // into parts of at most 32 KiB (netlink_dump), and the links nslab asks about are far smaller.
  nl_socket_set_msg_buf_size(sock, 32768);
  return socket;
}

Error Socket::failure(std::string call, int nl_code) {
  int err = std::exchange(*kernel_errno_, 0);
  if (err) return message_error(std::move(call), err);
  // A failure of libnl's own (out of memory, a malformed reply): no errno to report.
  return plain_error(fmt::format("{}: {}", call, nl_geterror(nl_code)));
}

Result<std::vector<Ipv4Prefix>> Socket::ipv4_addresses(int link_index) {
  std::string call = "RTM_GETADDR(dump, AF_INET)";
  if (int err = injected("RTM_GETADDR")) return message_error(call, err);
  nl_cache* raw = nullptr;
  *kernel_errno_ = 0;
  if (int err = rtnl_addr_alloc_cache(sock_, &raw); err < 0) return failure(call, err);
  CachePtr cache(raw);
  std::vector<Ipv4Prefix> addresses;
  for (nl_object* object = nl_cache_get_first(cache.get()); object;
       object = nl_cache_get_next(object)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(object);
    if (rtnl_addr_get_family(addr) != AF_INET) continue;
    if (link_index != 0 && rtnl_addr_get_ifindex(addr) != link_index) continue;
    nl_addr* local = rtnl_addr_get_local(addr);
    if (!local || nl_addr_get_len(local) != 4) continue;
    std::uint32_t network_order;
    std::memcpy(&network_order, nl_addr_get_binary_addr(local), 4);
    addresses.push_back(
        {ntohl(network_order), static_cast<unsigned>(rtnl_addr_get_prefixlen(addr))});
  }
  return addresses;
}

Result<std::vector<LinkFacts>> Socket::links() {
  std::string call = "RTM_GETLINK(dump)";
  if (int err = injected("RTM_GETLINK")) return message_error(call, err);
  nl_cache* raw = nullptr;
  *kernel_errno_ = 0;
  if (int err = rtnl_link_alloc_cache(sock_, AF_UNSPEC, &raw); err < 0) return failure(call, err);
  CachePtr cache(raw);
  std::vector<LinkFacts> links;
  for (nl_object* object = nl_cache_get_first(cache.get()); object;
       object = nl_cache_get_next(object)) {
    auto* link = reinterpret_cast<rtnl_link*>(object);
    const char* name = rtnl_link_get_name(link);
    const char* kind = rtnl_link_get_type(link);
    links.push_back({name ? name : "", rtnl_link_get_ifindex(link), rtnl_link_get_master(link),
                     kind ? kind : ""});
  }
  return links;
}

Status Socket::create_bridge(const std::string& name) {
  std::string call =
      fmt::format("RTM_NEWLINK(kind bridge, name \"{}\", NLM_F_CREATE|NLM_F_EXCL)", name);
  if (int err = injected("RTM_NEWLINK")) return message_error(call, err);
  LinkPtr link(rtnl_link_alloc());
  if (!link) return make_error(call, ENOMEM);
  rtnl_link_set_name(link.get(), name.c_str());
  if (int err = rtnl_link_set_type(link.get(), "bridge"); err < 0) return failure(call, err);
  *kernel_errno_ = 0;
  if (int err = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return failure(call, err);
  return ok();
}

Status Socket::set_master(const std::string& link_name, const std::string& bridge_name) {
  std::string call =
      fmt::format("RTM_NEWLINK(name \"{}\", IFLA_MASTER \"{}\")", link_name, bridge_name);
  auto port = link_index(link_name);
  if (!port) return port.error();
  auto bridge = link_index(bridge_name);
  if (!bridge) return bridge.error();
  if (int err = injected("RTM_NEWLINK")) return message_error(call, err);
  LinkPtr change(rtnl_link_alloc());
  if (!change) return make_error(call, ENOMEM);
  rtnl_link_set_ifindex(change.get(), *port);
  rtnl_link_set_master(change.get(), *bridge);
  *kernel_errno_ = 0;
  if (int err = rtnl_link_change(sock_, change.get(), change.get(), 0); err < 0)
    return failure(call, err);
  return ok();
}

Status Socket::create_veth(const std::string& name, const std::string& peer_name, pid_t peer_pid) {
  std::string call = fmt::format(
      "RTM_NEWLINK(kind veth, name \"{}\", peer {{name \"{}\", IFLA_NET_NS_PID {}}}, "
      "NLM_F_CREATE|NLM_F_EXCL)",
      name, peer_name, peer_pid);
  if (int err = injected("RTM_NEWLINK")) return message_error(call, err);
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) return make_error(call, ENOMEM);
  LinkPtr peer(rtnl_link_veth_get_peer(link.get()));  // a new reference to the peer half
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link_set_name(peer.get(), peer_name.c_str());
  rtnl_link_set_ns_pid(peer.get(), peer_pid);
  *kernel_errno_ = 0;
  if (int err = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return failure(call, err);
  return ok();
}

Result<int> Socket::link_index(const std::string& name) {
  // SIOCGIFINDEX on a socket of this process's network namespace, the one this netlink socket
  // was opened in: a few bytes back, where RTM_GETLINK would send the link's every attribute.
  std::string call = fmt::format("if_nametoindex(\"{}\")", name);
  if (int err = injected("if_nametoindex")) return message_error(call, err);
  unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) return message_error(call, errno);
  return static_cast<int>(index);
}

Status Socket::add_address(const std::string& link_name, const Ipv4Prefix& address) {
  std::string call = fmt::format("RTM_NEWADDR(dev \"{}\", {}, NLM_F_CREATE|NLM_F_EXCL)", link_name,
                                 format_prefix(address));
  auto index = link_index(link_name);
  if (!index) return index.error();
  if (int err = injected("RTM_NEWADDR")) return message_error(call, err);
  AddrPtr addr(rtnl_addr_alloc());
  std::uint32_t network_order = htonl(address.address);
  NlAddrPtr local(nl_addr_build(AF_INET, &network_order, sizeof network_order));
  if (!addr || !local) return make_error(call, ENOMEM);
  // The prefix length goes on the address itself: with it the kernel adds the route to the
  // subnet through this link (a "proto kernel scope link" route).
  nl_addr_set_prefixlen(local.get(), static_cast<int>(address.prefix_len));
  rtnl_addr_set_ifindex(addr.get(), *index);
  if (int err = rtnl_addr_set_local(addr.get(), local.get()); err < 0) return failure(call, err);
  rtnl_addr_set_prefixlen(addr.get(), static_cast<int>(address.prefix_len));
  *kernel_errno_ = 0;
  if (int err = rtnl_addr_add(sock_, addr.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return failure(call, err);
  return ok();
}

Status Socket::bring_up(const std::string& link_name) {
  std::string call = fmt::format("RTM_NEWLINK(name \"{}\", IFF_UP)", link_name);
  auto index = link_index(link_name);
  if (!index) return index.error();
  if (int err = injected("RTM_NEWLINK")) return message_error(call, err);
  // The link by its index alone: the change says which flag to set, and nothing else moves.
  LinkPtr current(rtnl_link_alloc());
  LinkPtr change(rtnl_link_alloc());
  if (!current || !change) return make_error(call, ENOMEM);
  rtnl_link_set_ifindex(current.get(), *index);
  rtnl_link_set_flags(change.get(), IFF_UP);
  *kernel_errno_ = 0;
  if (int err = rtnl_link_change(sock_, current.get(), change.get(), 0); err < 0)
    return failure(call, err);
  return ok();
}

Status Socket::delete_link(const std::string& link_name) {
  std::string call = fmt::format("RTM_DELLINK(name \"{}\")", link_name);
  if (int err = injected("RTM_DELLINK")) return message_error(call, err);
  LinkPtr link(rtnl_link_alloc());
  if (!link) return make_error(call, ENOMEM);
  rtnl_link_set_name(link.get(), link_name.c_str());
  *kernel_errno_ = 0;
  if (int err = rtnl_link_delete(sock_, link.get()); err < 0) return failure(call, err);
  return ok();
}

}  // namespace sandbox::netlink
