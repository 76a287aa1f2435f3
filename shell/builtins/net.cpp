// The network lesson's two tools: `ifaces` shows what a network namespace holds, `tcp` proves
// whether two of them can talk. The kernel side of each is described in net_links.h and
// net_tcp.h.
#include <sys/utsname.h>

#include "../builtin.h"
#include "net_links.h"
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
};

}  // namespace

std::span<const Builtin> net_builtins() {
  return kNetBuiltins;
}

}  // namespace tinysh
