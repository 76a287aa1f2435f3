// Boxes on one bridge, the pure part: the bridge's name, its /24, the box's seat and its port's
// name, which bridges are empty, and the steps `nslab explain` shows. No root needed.
#include <doctest/doctest.h>

#include <set>

#include "bridge.h"
#include "plan.h"

using namespace sandbox;
using netlink::Ipv4Prefix;

namespace {

Ipv4Prefix prefix(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d,
                  unsigned len) {
  return {a << 24 | b << 16 | c << 8 | d, len};
}

const Step* find(const Plan& plan, Action action) {
  for (const auto& step : plan.steps)
    if (step.action() == action) return &step;
  return nullptr;
}

Caller root_caller() {
  Caller caller;
  caller.privileged = true;
  return caller;
}

}  // namespace

TEST_CASE("a bridge's name is nslab's prefix and what the user chose, if a link can have it") {
  CHECK(*bridge_link_name("lab") == "nslab-br-lab");
  CHECK(*bridge_link_name("a-b-12") == "nslab-br-a-b-12");
  CHECK(bridge_link_name("a-b-12")->size() == kMaxLinkNameLength);
  for (const char* bad : {"", "toolong", "Lab", "a b", "a/b", "-x", "lab.1", "docker0\n"}) {
    CAPTURE(bad);
    auto name = bridge_link_name(bad);
    REQUIRE_FALSE(name.ok());
    CHECK(name.error().call.starts_with("--bridge "));
    CHECK(name.error().hint.find("--bridge lab") != std::string::npos);
  }
  CHECK(bridge_link_name("toolong").error().call.find("longer than the 15 bytes") !=
        std::string::npos);
}

TEST_CASE("a port's name claims the box's address, and reads back to it") {
  std::uint32_t address = prefix(10, 213, 7, 5, 32).address;
  CHECK(port_link_name(address) == "nslab-p1797");
  CHECK(address_of_port("nslab-p1797") == address);
  CHECK(port_link_name(prefix(10, 213, 255, 254, 32).address).size() <= kMaxLinkNameLength);
  for (const char* other : {"nslab-p", "nslab-p01", "nslab-p65536", "nslab-px", "nslab-1797",
                            "nslab-br-lab", "eth0"}) {
    CAPTURE(other);
    CHECK_FALSE(address_of_port(other).has_value());
  }
}

TEST_CASE("a new bridge takes the highest /24 that nothing on the host uses") {
  CHECK(choose_bridge_subnet({}) == 255u);
  CHECK(netlink::format_prefix(bridge_address(255)) == "10.213.255.1/24");
  // A veth's /30 in 10.213.255.0/24, and a bridge already on 10.213.254.0/24.
  std::vector<Ipv4Prefix> assigned = {prefix(10, 213, 255, 9, 30), prefix(10, 213, 254, 1, 24)};
  CHECK(choose_bridge_subnet(assigned) == 253u);
  // A LAN's wide 10.0.0.0/8 takes nothing; the host's own 10.213.253.7/32 takes its /24.
  assigned.push_back(prefix(10, 1, 2, 3, 8));
  assigned.push_back(prefix(10, 213, 253, 7, 32));
  CHECK(choose_bridge_subnet(assigned) == 252u);
  // A /16 over nslab's whole range takes every /24.
  CHECK_FALSE(choose_bridge_subnet({prefix(10, 213, 0, 1, 16)}).has_value());
}

TEST_CASE("a bridge of nslab's is known by its x.1/24 address") {
  CHECK(bridge_subnet_of({prefix(10, 213, 200, 1, 24)}) == 200u);
  CHECK(bridge_subnet_of({prefix(192, 168, 1, 1, 24), prefix(10, 213, 3, 1, 24)}) == 3u);
  // Not the bridge's own address, not nslab's range, not a /24: not one of nslab's bridges.
  CHECK_FALSE(bridge_subnet_of({prefix(10, 213, 200, 2, 24)}).has_value());
  CHECK_FALSE(bridge_subnet_of({prefix(10, 214, 200, 1, 24)}).has_value());
  CHECK_FALSE(bridge_subnet_of({prefix(10, 213, 200, 1, 30)}).has_value());
  CHECK_FALSE(bridge_subnet_of({}).has_value());
}

TEST_CASE("boxes take the bridge's addresses in order, from .2, skipping those taken") {
  std::uint32_t base = prefix(10, 213, 9, 0, 32).address;
  CHECK(choose_seat(9, {}) == base + 2);
  CHECK(choose_seat(9, {base + 2, base + 3}) == base + 4);
  std::set<std::uint32_t> all;
  for (std::uint32_t host = 2; host <= 254; ++host) all.insert(base + host);
  CHECK_FALSE(choose_seat(9, all).has_value());  // .255 is the broadcast, never a box's
  all.erase(base + 200);
  CHECK(choose_seat(9, all) == base + 200);
}

TEST_CASE("an empty bridge is one of nslab's with no port, the host's own are never touched") {
  std::vector<netlink::LinkFacts> links = {
      {"lo", 1, 0, ""},
      {"docker0", 2, 0, "bridge"},          // the host's, empty: not nslab's
      {"nslab-br-lab", 3, 0, "bridge"},     // has a port
      {"nslab-p65282", 4, 3, "veth"},
      {"nslab-br-old", 5, 0, "bridge"},     // left by a killed runner
      {"nslab-br-odd", 6, 0, "dummy"},      // not a bridge
  };
  CHECK(empty_bridges(links) == std::vector<std::string>{"nslab-br-old"});
  // Negative control: without its port, lab is empty too.
  links.erase(links.begin() + 3);
  CHECK(empty_bridges(links) == std::vector<std::string>{"nslab-br-lab", "nslab-br-old"});
}

TEST_CASE("a bridged box plans joining, its /24 address, and leaving after its end") {
  Spec spec;
  spec.net = spec.veth = true;
  spec.bridge = "lab";
  spec.command.kind = CommandKind::ShellCommands;
  spec.command.shell_commands = "true";
  spec.tinysh_path = "/bin/tinysh";
  auto p = plan(spec, root_caller());
  REQUIRE(p.ok());
  CHECK_FALSE(p->has(Action::PlugVeth));
  const auto* join = find(*p, Action::JoinBridge);
  REQUIRE(join);
  CHECK(join->as<op::JoinBridge>()->bridge == "nslab-br-lab");
  CHECK(join->calls().find("RTM_NEWLINK(kind bridge, name \"nslab-br-lab\"") != std::string::npos);
  CHECK(join->calls().find("IFLA_MASTER \"nslab-br-lab\"") != std::string::npos);
  CHECK(join->calls().find("flock(\"/sys/class/net\", LOCK_EX)") != std::string::npos);
  const auto* box = find(*p, Action::ConfigureBoxNetwork);
  REQUIRE(box);
  CHECK(box->calls().find("/24") != std::string::npos);
  const auto* leave = find(*p, Action::LeaveBridge);
  REQUIRE(leave);
  CHECK(leave->calls().find("RTM_DELLINK(name \"nslab-br-lab\") if it has no port left") !=
        std::string::npos);
  // Leaving is the last thing of all, after the box's end.
  CHECK(&p->steps.back() == leave);

  // A bad name is refused before anything runs; without root, --bridge is refused like --veth.
  spec.bridge = "Lab!";
  auto bad = plan(spec, root_caller());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().call.starts_with("--bridge Lab!"));
  spec.bridge = "lab";
  spec.user = spec.map_root = true;
  Caller student;
  student.uid = student.invoking_uid = 1000;
  auto user = plan(spec, student);
  REQUIRE_FALSE(user.ok());
  CAPTURE(user.error().message());
  CHECK(user.error().call.find("CAP_NET_ADMIN") != std::string::npos);
}
