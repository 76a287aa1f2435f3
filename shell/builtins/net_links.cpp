#include "net_links.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>
// linux/if.h, not net/if.h: only the kernel's header has IFF_LOWER_UP, and the two collide.
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "common/unique_fd.h"

namespace tinysh::net {

bool Interface::up() const {
  return flags & IFF_UP;
}
bool Interface::loopback() const {
  return flags & IFF_LOOPBACK;
}

namespace {

// Copies a T out of `bytes` at `offset`. Netlink buffers are 4-byte aligned in practice, but a
// copy costs nothing here and keeps the parser safe on any buffer a test or a fuzzer hands it.
template <typename T>
bool read_at(std::string_view bytes, size_t offset, T& value) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return true;
}

// Calls visit(type, payload) for each route attribute (struct rtattr: length, type, payload,
// padded to 4 bytes) in `attrs`.
template <typename Visit>
void for_each_attribute(std::string_view attrs, Visit visit) {
  size_t offset = 0;
  rtattr header;
  while (read_at(attrs, offset, header)) {
    size_t length = header.rta_len;
    if (length < RTA_LENGTH(0) || length > attrs.size() - offset) return;
    visit(header.rta_type & NLA_TYPE_MASK,
          attrs.substr(offset + RTA_LENGTH(0), length - RTA_LENGTH(0)));
    offset += RTA_ALIGN(length);
  }
}

uint32_t as_u32(std::string_view payload) {
  uint32_t value = 0;
  read_at(payload, 0, value);
  return value;
}

std::string hardware_address(std::string_view payload) {
  std::string text;
  for (unsigned char byte : payload) {
    if (!text.empty()) text += ':';
    text += fmt::format("{:02x}", byte);
  }
  return text;
}

// RTM_NEWLINK: struct ifinfomsg, then attributes (IFLA_IFNAME, IFLA_MTU, IFLA_ADDRESS, ...).
void add_link(std::string_view payload, std::vector<Interface>& interfaces) {
  ifinfomsg info;
  if (!read_at(payload, 0, info)) return;
  Interface link;
  link.index = info.ifi_index;
  link.flags = info.ifi_flags;
  std::string_view attrs = payload.substr(std::min(payload.size(), NLMSG_ALIGN(sizeof info)));
  for_each_attribute(attrs, [&](unsigned type, std::string_view value) {
    if (type == IFLA_IFNAME) link.name = std::string(value.substr(0, value.find('\0')));
    if (type == IFLA_MTU) link.mtu = as_u32(value);
    if (type == IFLA_ADDRESS) link.mac = hardware_address(value);
  });
  interfaces.push_back(std::move(link));
}

// RTM_NEWADDR: struct ifaddrmsg, then attributes. For IPv4, IFA_LOCAL is this machine's address
// and IFA_ADDRESS the far end of a point-to-point link (the same on ordinary links); IPv6 only
// sends IFA_ADDRESS. IFA_FLAGS, when present, holds the full 32 bits of ifa_flags.
void add_address(std::string_view payload, std::vector<Interface>& interfaces) {
  ifaddrmsg info;
  if (!read_at(payload, 0, info)) return;
  if (info.ifa_family != AF_INET && info.ifa_family != AF_INET6) return;
  std::string_view local, address;
  uint32_t flags = info.ifa_flags;
  std::string_view attrs = payload.substr(std::min(payload.size(), NLMSG_ALIGN(sizeof info)));
  for_each_attribute(attrs, [&](unsigned type, std::string_view value) {
    if (type == IFA_LOCAL) local = value;
    if (type == IFA_ADDRESS) address = value;
    if (type == IFA_FLAGS) flags = as_u32(value);
  });
  std::string_view raw = local.empty() ? address : local;
  size_t expected = info.ifa_family == AF_INET ? 4 : 16;
  if (raw.size() != expected) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (!::inet_ntop(info.ifa_family, raw.data(), text, sizeof text)) return;

  auto owner = std::find_if(interfaces.begin(), interfaces.end(), [&](const Interface& i) {
    return i.index == static_cast<int>(info.ifa_index);
  });
  if (owner == interfaces.end()) return;  // the link went away between the two dumps
  owner->addresses.push_back({.family = info.ifa_family,
                              .address = text,
                              .prefix_len = info.ifa_prefixlen,
                              .link_local = info.ifa_scope == RT_SCOPE_LINK,
                              .tentative = (flags & IFA_F_TENTATIVE) != 0});
}

std::string state_text(const Interface& link) {
  if (!link.up()) return "DOWN";
  // A loopback device always "has a carrier"; saying so would only be noise.
  if (link.loopback()) return "UP";
  // Up but without LOWER_UP: administratively on, but nothing at the other end — for a veth,
  // the peer is still down.
  return (link.flags & IFF_LOWER_UP) ? "UP LOWER_UP" : "UP no carrier";
}

}  // namespace

DumpProgress parse_netlink_messages(std::string_view bytes, std::vector<Interface>& interfaces) {
  DumpProgress progress;
  size_t offset = 0;
  nlmsghdr header;
  while (read_at(bytes, offset, header)) {
    size_t length = header.nlmsg_len;
    if (length < NLMSG_HDRLEN || length > bytes.size() - offset) break;
    std::string_view payload = bytes.substr(offset + NLMSG_HDRLEN, length - NLMSG_HDRLEN);
    switch (header.nlmsg_type) {
      case NLMSG_DONE: {
        // A dump ends with NLMSG_DONE; its payload is an int, negative when the dump failed.
        int status = 0;
        if (read_at(payload, 0, status) && status < 0) progress.error = -status;
        progress.done = true;
        break;
      }
      case NLMSG_ERROR: {
        // An error of 0 is an acknowledgement; anything else ends the request.
        nlmsgerr error;
        if (read_at(payload, 0, error) && error.error != 0) {
          progress.error = -error.error;
          progress.done = true;
        }
        break;
      }
      case RTM_NEWLINK:
        add_link(payload, interfaces);
        break;
      case RTM_NEWADDR:
        add_address(payload, interfaces);
        break;
      default:
        break;
    }
    offset += NLMSG_ALIGN(length);
  }
  return progress;
}

std::string format_interfaces(std::vector<Interface> interfaces) {
  std::sort(interfaces.begin(), interfaces.end(),
            [](const Interface& a, const Interface& b) { return a.index < b.index; });
  std::string text;
  for (const Interface& link : interfaces) {
    text += fmt::format("{}: {}  {}  mtu {}", link.index, link.name, state_text(link), link.mtu);
    // A loopback device has an all-zero MAC: nothing ever travels on a wire from it.
    if (!link.loopback() && !link.mac.empty()) text += fmt::format("  mac {}", link.mac);
    text += '\n';
    for (const IfaceAddress& a : link.addresses) {
      text += fmt::format("   {} {}/{}", a.family == AF_INET6 ? "inet6" : "inet", a.address,
                          a.prefix_len);
      if (a.link_local) text += "  link-local";
      if (a.tentative) text += "  tentative (duplicate address detection running: not usable yet)";
      text += '\n';
    }
  }
  if (interfaces.size() == 1 && interfaces[0].loopback()) {
    text +=
        interfaces[0].up()
            ? "only the loopback interface: nothing outside this network namespace is reachable\n"
            : fmt::format("{}\n", kEmptyNamespacePhrase);
  }
  return text;
}

namespace {

// Sends one dump request (RTM_GETLINK or RTM_GETADDR for every family) and reads answers until
// NLMSG_DONE. Returns 0 or an errno.
int dump(int sock, uint16_t type, uint32_t sequence, std::vector<Interface>& interfaces,
         std::string& call) {
  struct {
    nlmsghdr header;
    ifinfomsg body;  // ifaddrmsg is smaller; both start with the family byte, AF_UNSPEC = all
  } request = {};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = type;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = sequence;
  request.body.ifi_family = AF_UNSPEC;

  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
  const char* what = type == RTM_GETLINK ? "RTM_GETLINK" : "RTM_GETADDR";
  if (::sendto(sock, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    call = fmt::format("sendto(NETLINK_ROUTE, {})", what);
    return errno;
  }
  // Dump answers come in buffers the kernel sizes to at most 32 KiB; 64 KiB is always enough.
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    ssize_t n = ::recv(sock, buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      call = fmt::format("recv(NETLINK_ROUTE, {})", what);
      return errno == EAGAIN ? ETIMEDOUT : errno;
    }
    if (static_cast<size_t>(n) > buffer.size()) {
      call = fmt::format("recv(NETLINK_ROUTE, {})", what);
      return EMSGSIZE;
    }
    DumpProgress progress =
        parse_netlink_messages(std::string_view(buffer.data(), static_cast<size_t>(n)), interfaces);
    if (progress.error) {
      call = fmt::format("netlink {} dump", what);
      return progress.error;
    }
    if (progress.done) return 0;
  }
}

}  // namespace

InterfaceList list_interfaces() {
  InterfaceList list;
  // A routing netlink socket talks to the network stack of the namespace this process is in:
  // the same call lists the host's interfaces outside a box and the box's inside it.
  Fd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) {
    list.error = errno;
    list.call = "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)";
    return list;
  }
  // The kernel answers at once; the timeout only guarantees `ifaces` can never hang.
  timeval timeout = {.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  // Links first, so that each address finds the interface it belongs to.
  if ((list.error = dump(sock.get(), RTM_GETLINK, 1, list.interfaces, list.call))) return list;
  list.error = dump(sock.get(), RTM_GETADDR, 2, list.interfaces, list.call);
  return list;
}

}  // namespace tinysh::net
