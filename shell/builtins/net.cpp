// The network lesson's tools: `ifaces` shows what a network namespace holds, `tcp` and `ping`
// prove whether two of them can talk. The kernel side of each is described in net_links.h,
// net_tcp.h and net_ping.h.
#include <sys/utsname.h>

#include "../builtin.h"
#include "net_links.h"
#include "net_ping.h"
#include "net_tcp.h"

namespace tinysh {

namespace {

// The UTS namespace's hostname (uname(2)): the box's own name inside a box with --uts.
std::string this_hostname() {
  utsname names;
  if (::uname(&names) != 0) return "?";
  return names.nodename;
}

int run_ifaces(Shell&, Args args) {
  if (args.size() != 1) return usage_error(args);
  net::InterfaceList list = net::list_interfaces();
  if (list.error) return fail(args, "{}: {}", list.call, errno_text(list.error));
  out("{}", net::format_interfaces(std::move(list.interfaces)));
  return 0;
}

int run_tcp(Shell&, Args args) {
  const std::string hostname = this_hostname();
  std::string problem;
  auto options = net::parse_tcp_args(args, hostname, problem);
  if (!options) {
    if (!problem.empty()) fail(args, "{}", problem);
    return usage_error(args);
  }
  if (options->mode == net::TcpMode::Listen) return net::tcp_listen(args, *options, hostname);
  return net::tcp_connect(args, *options);
}

int run_ping(Shell&, Args args) {
  std::string problem;
  auto options = net::parse_ping_args(args, problem);
  if (!options) {
    if (!problem.empty()) fail(args, "{}", problem);
    return usage_error(args);
  }
  return net::ping(args, *options);
}

const Builtin kNetBuiltins[] = {
    {.name = "ifaces",
     .usage = "ifaces",
     .summary = "list this network namespace's interfaces: state, MTU, addresses",
     .reads = "rtnetlink: RTM_GETLINK and RTM_GETADDR dumps on a NETLINK_ROUTE socket",
     .runs_in = RunsIn::Shell,
     .run = run_ifaces},
    {.name = "tcp",
     .usage = "tcp listen [-t SECONDS] PORT [ADDRESS] | tcp connect [-t SECONDS] ADDRESS PORT "
              "[MESSAGE...]",
     .summary = "send one line over TCP, get one back (-t: longest wait, 30 s / 5 s)",
     .reads = "socket(2), bind(2), listen(2), accept4(2), connect(2), poll(2), uname(2)",
     .runs_in = RunsIn::Child,
     .run = run_tcp},
    {.name = "ping",
     .usage = "ping [-c COUNT] [-W SECONDS] ADDRESS",
     .summary = "send ICMP echo requests (3), one a second; -W: wait per reply (2 s)",
     .reads = "ICMP sockets (icmp(7), raw(7)), poll(2), net.ipv4.ping_group_range",
     .runs_in = RunsIn::Child,
     .run = run_ping},
};

}  // namespace

std::span<const Builtin> net_builtins() {
  return kNetBuiltins;
}

}  // namespace tinysh
