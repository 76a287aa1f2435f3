// Networking for a box, the pure part: which /30 a box gets, how addresses and link names read,
// what the runner tells the box, and the steps `nslab explain` shows. No root needed.
#include <doctest/doctest.h>
#include <net/if.h>
#include <unistd.h>

#include <set>

#include "net.h"

using namespace sandbox;
using netlink::Ipv4Prefix;

namespace {

Ipv4Prefix prefix(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d,
                  unsigned len) {
  return {a << 24 | b << 16 | c << 8 | d, len};
}

Caller root_caller() {
  Caller caller;
  caller.privileged = true;
  return caller;
}

Caller user_caller() {
  Caller caller;
  caller.uid = 1000;
  caller.privileged = false;
  return caller;
}

}  // namespace

TEST_CASE("addresses and prefixes read as dotted quads") {
  CHECK(netlink::format_ipv4(0x0ad50401) == "10.213.4.1");
  CHECK(netlink::format_ipv4(0) == "0.0.0.0");
  CHECK(netlink::format_ipv4(0xffffffff) == "255.255.255.255");
  CHECK(netlink::format_prefix(prefix(127, 0, 0, 1, 8)) == "127.0.0.1/8");
}

TEST_CASE("a box's /30 gives the host end its first address and the box its second") {
  BoxSubnet first{0};
  CHECK(netlink::format_ipv4(first.network()) == "10.213.0.0");
  CHECK(netlink::format_prefix(first.host_prefix()) == "10.213.0.1/30");
  CHECK(netlink::format_prefix(first.box_prefix()) == "10.213.0.2/30");
  BoxSubnet some{257};  // 257 * 4 = 1028 = 4 * 256 + 4
  CHECK(link_of(some).summary() == "box 10.213.4.6, host 10.213.4.5");
  CHECK(link_of(some).host_link == "nslab-257");
  BoxSubnet last{kSubnetCount - 1};
  CHECK(netlink::format_prefix(last.box_prefix()) == "10.213.255.254/30");
  CHECK(kSubnetCount == 16384);
}

TEST_CASE("every subnet has its own host link name, short enough for the kernel, and back") {
  std::set<std::string> names;
  for (unsigned index = 0; index < kSubnetCount; ++index) {
    BoxSubnet subnet{index};
    std::string name = subnet.host_link_name();
    REQUIRE(name.size() <= kMaxLinkNameLength);
    REQUIRE(name.size() < IFNAMSIZ);
    REQUIRE(name.starts_with("nslab-"));
    auto back = subnet_of_link(name);
    REQUIRE(back.has_value());
    REQUIRE(back->index == index);
    names.insert(name);
  }
  CHECK(names.size() == kSubnetCount);
  CHECK(BoxSubnet{1037}.host_link_name() == "nslab-1037");
}

TEST_CASE("names that are not a subnet's host link are not taken for one") {
  for (const char* name : {"eth0", "nslab-", "nslab-x", "nslab-01", "nslab-16384", "nslab--1",
                           "nslab-1 ", "veth-nslab-1", "nslab-99999999999"}) {
    CAPTURE(name);
    CHECK_FALSE(subnet_of_link(name).has_value());
  }
  // Negative control: the same shape with a valid index is one.
  CHECK(subnet_of_link("nslab-16383").has_value());
}

TEST_CASE("the first choice of subnet follows the runner's pid") {
  CHECK(choose_subnet(0, {})->index == 0);
  CHECK(choose_subnet(1037, {})->index == 1037);
  CHECK(choose_subnet(1037 + kSubnetCount, {})->index == 1037);
  CHECK(choose_subnet(4194303, {})->index == 4194303 % kSubnetCount);
  // Two runners alive at once have different pids; those close together differ in subnet too.
  CHECK(choose_subnet(4000, {})->index != choose_subnet(4001, {})->index);
}

TEST_CASE("a subnet with an address already on the host is skipped") {
  BoxSubnet want{1037};
  // Another box's host end, 10.213.16.53/30, holds 1037: the next is taken.
  std::vector<Ipv4Prefix> assigned = {want.host_prefix()};
  CHECK(choose_subnet(1037, assigned)->index == 1038);
  // Any address inside the /30 counts, whatever its prefix length.
  assigned = {{want.network() + 3, 32}};
  CHECK(choose_subnet(1037, assigned)->index == 1038);
  // A /24 carved out of 10.213.0.0/16 covers 64 subnets: all skipped.
  assigned = {prefix(10, 213, 16, 200, 24)};
  CHECK(choose_subnet(1037, assigned)->index == (17 * 256) / 4);
  // Negative control: unrelated addresses change nothing.
  assigned = {prefix(127, 0, 0, 1, 8), prefix(192, 168, 1, 20, 24), prefix(10, 214, 16, 53, 30)};
  CHECK(choose_subnet(1037, assigned)->index == 1037);
}

TEST_CASE("a wide prefix around nslab's range, such as a 10.0.0.0/8 LAN, does not block it") {
  Ipv4Prefix lan = prefix(10, 1, 2, 3, 8);
  CHECK_FALSE(subnet_in_use(BoxSubnet{1037}, lan));
  CHECK(choose_subnet(1037, {lan})->index == 1037);
  // But an address of that LAN inside the /30 does.
  CHECK(subnet_in_use(BoxSubnet{0}, prefix(10, 213, 0, 2, 8)));
}

TEST_CASE("subnets whose link name was taken are skipped, and the search wraps around") {
  CHECK(choose_subnet(1037, {}, {1037, 1038})->index == 1039);
  CHECK(choose_subnet(kSubnetCount - 1, {}, {kSubnetCount - 1})->index == 0);
}

TEST_CASE("no subnet is chosen when the whole range is in use") {
  CHECK_FALSE(choose_subnet(5, {prefix(10, 213, 0, 0, 16)}).has_value());
  std::set<unsigned> all;
  for (unsigned i = 0; i < kSubnetCount; ++i) all.insert(i);
  CHECK_FALSE(choose_subnet(5, {}, all).has_value());
  // Negative control: one left free is found.
  all.erase(9000);
  CHECK(choose_subnet(5, {}, all)->index == 9000);
}

TEST_CASE("the box's address crosses from the runner to the box and back unchanged") {
  for (unsigned index : {0u, 1u, 1037u, kSubnetCount - 1}) {
    BoxSubnet subnet{index};
    CAPTURE(index);
    std::string text = encode_box_address(subnet.box_prefix());
    auto back = decode_box_address(text);
    REQUIRE(back.ok());
    CHECK(*back == subnet.box_prefix());
  }
  CHECK(encode_box_address(BoxSubnet{1}.box_prefix()) == "address 10.213.0.6/30\n");
  // A seat on a bridge: a /24.
  auto bridged = decode_box_address("address 10.213.255.7/24\n");
  REQUIRE(bridged.ok());
  CHECK(*bridged == netlink::Ipv4Prefix{0x0ad5ff07, 24});
}

TEST_CASE("a malformed address message is refused, not guessed") {
  for (const char* text :
       {"", "address \n", "address 10.213.0.6/30", "address 10.213.0.4/30\n",
        "address 10.213.0.7/30\n", "address 10.214.0.6/30\n", "address 10.213.0.6/29\n",
        "address 10.213.0.6\n", "address 10.213.0/30\n", "address 10.213.0.4.1/30\n",
        "address 10.213.256.6/30\n", "addr 10.213.0.6/30\n", "address 10.213.0.6/30 \n",
        "address 10..0.6/30\n", "address 10.213.7.0/24\n", "address 10.213.7.255/24\n",
        "address 192.168.1.2/24\n"}) {
    CAPTURE(text);
    auto decoded = decode_box_address(text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().call.find("malformed address") != std::string::npos);
  }
}

TEST_CASE("the box's address goes through the handoff pipe") {
  auto handoff = NetworkHandoff::open();
  REQUIRE(handoff.ok());
  REQUIRE(send_box_address(handoff->runner_end.get(), BoxSubnet{4242}.box_prefix()).ok());
  handoff->runner_end.reset();
  auto received = receive_box_address(handoff->box_end.get());
  REQUIRE(received.ok());
  CHECK(*received == BoxSubnet{4242}.box_prefix());
}

TEST_CASE("a runner that closes the handoff pipe without a word leaves the box with an error") {
  auto handoff = NetworkHandoff::open();
  REQUIRE(handoff.ok());
  handoff->runner_end.reset();
  CHECK_FALSE(receive_box_address(handoff->box_end.get()).ok());
}

TEST_CASE("no network namespace plans no network step") {
  auto steps = plan_network(NetworkMode::Host, root_caller());
  REQUIRE(steps.ok());
  CHECK(steps->empty());
}

TEST_CASE("an empty network namespace is one step that says there is nothing to do") {
  auto steps = plan_network(NetworkMode::Empty, user_caller());
  REQUIRE(steps.ok());
  REQUIRE(steps->size() == 1);
  CHECK(steps->front().action() == Action::EmptyNetwork);
  CHECK(steps->front().calls().find("CLONE_NEWNET") != std::string::npos);
  CHECK(steps->front().why.find("only lo, and lo is down") != std::string::npos);
}

TEST_CASE("a veth is planned as the runner's messages before the box's own") {
  auto steps = plan_network(NetworkMode::Veth, root_caller());
  REQUIRE(steps.ok());
  REQUIRE(steps->size() == 2);
  const auto& runner = (*steps)[0];
  const auto& box = (*steps)[1];
  CHECK(runner.action() == Action::PlugVeth);
  CHECK(runner.side() == Side::Runner);
  CHECK(runner.calls().find("RTM_NEWLINK(kind veth") != std::string::npos);
  CHECK(runner.calls().find("IFLA_NET_NS_PID") != std::string::npos);
  CHECK(runner.calls().find("RTM_NEWADDR") != std::string::npos);
  CHECK(runner.calls().find("IFF_UP") != std::string::npos);
  CHECK(box.action() == Action::ConfigureBoxNetwork);
  CHECK(box.side() == Side::Box);
  CHECK(box.calls().find("RTM_NEWLINK(name \"lo\", IFF_UP)") != std::string::npos);
  CHECK(box.why.find("no default route") != std::string::npos);
  for (const auto& step : *steps) CHECK_FALSE(step.why.empty());
}

TEST_CASE("a veth step with a known subnet names the real link and addresses") {
  auto steps = plan_network(NetworkMode::Veth, root_caller(), BoxSubnet{1037});
  REQUIRE(steps.ok());
  CHECK((*steps)[0].calls().find("\"nslab-1037\"") != std::string::npos);
  CHECK((*steps)[0].calls().find("10.213.16.53/30") != std::string::npos);
  CHECK((*steps)[1].calls().find("10.213.16.54/30") != std::string::npos);
  // Negative control: without one, no address is made up.
  auto unknown = plan_network(NetworkMode::Veth, root_caller());
  CHECK((*unknown)[0].calls().find("10.213.16.53") == std::string::npos);
}

TEST_CASE("a veth is refused to a caller without root, with the reason and the way out") {
  auto steps = plan_network(NetworkMode::Veth, user_caller());
  REQUIRE_FALSE(steps.ok());
  std::string message = steps.error().message();
  CHECK(message.find("creating a host veth needs CAP_NET_ADMIN in the host network namespace") !=
        std::string::npos);
  CHECK(message.find("run as root, or use --net") != std::string::npos);
}

TEST_CASE("plugging a veth without CAP_NET_ADMIN is refused before anything is sent") {
  if (have_net_admin()) {
    // Not a skip: as root the refusal cannot happen, and the root suite covers what root gets.
    MESSAGE("not applicable: this process has CAP_NET_ADMIN (the root suite covers the refusal)");
    return;
  }
  auto plugged = plug_veth(::getpid(), ::getpid());
  REQUIRE_FALSE(plugged.ok());
  CHECK(plugged.error().call == kVethNeedsNetAdmin);
}
