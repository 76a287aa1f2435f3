// Finding boxes in made-up process lists, choosing the one `nslab enter` means, a box's addresses
// in captured fib_trie text, the `nslab ps` table, and the pure parts of entering (which
// namespaces, which cgroups). No root needed.
#include <doctest/doctest.h>

#include <sched.h>

#include <sstream>

#include "boxes.h"
#include "ps.h"
// Two headers are called enter.h, libsandbox's and the command line's: the paths say which.
#include "../../lessons/cli/enter.h"
#include "../../sandbox/enter.h"

using sandbox::BoxInfo;
using sandbox::ProcessFacts;

namespace {

std::map<std::string, std::string> host_ns() {
  return {{"user", "user:[1]"}, {"mnt", "mnt:[2]"}, {"uts", "uts:[3]"},       {"ipc", "ipc:[4]"},
          {"pid", "pid:[5]"},   {"net", "net:[6]"}, {"cgroup", "cgroup:[7]"}, {"time", "time:[8]"}};
}

ProcessFacts runner(pid_t pid, std::vector<std::string> argv = {"nslab", "run", "--uts"}) {
  ProcessFacts p;
  p.pid = pid;
  p.ppid = 1;
  p.uid = 1000;
  p.exe = "/opt/nslab/bin/nslab";
  p.argv = std::move(argv);
  p.namespaces = host_ns();
  return p;
}

// The runner's child after exec, in new namespaces `own` ("uts" -> "uts:[99]").
ProcessFacts box_process(pid_t pid, pid_t parent, const std::vector<std::string>& own) {
  ProcessFacts p;
  p.pid = pid;
  p.ppid = parent;
  p.uid = 1000;
  p.exe = "/opt/nslab/bin/tinysh";
  p.argv = {"tinysh", "-c", "sleep 30"};
  p.namespaces = host_ns();
  for (const auto& name : own) p.namespaces[name] = name + ":[99]";
  p.start_ticks = 4200;
  return p;
}

BoxInfo box(pid_t runner_pid, pid_t pid) {
  BoxInfo b;
  b.id = "box-" + std::to_string(runner_pid);
  b.pid = pid;
  b.runner = runner_pid;
  b.uid = 0;
  b.command = {"tinysh"};
  return b;
}

size_t columns(const std::string& line) {
  size_t n = 0;
  for (char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

TEST_CASE("a runner is an nslab binary running the run subcommand") {
  CHECK(sandbox::is_runner(runner(10)));
  auto rebuilt = runner(10);
  rebuilt.exe = "/opt/nslab/bin/nslab (deleted)";
  CHECK(sandbox::is_runner(rebuilt));
  auto other_users = runner(10);
  other_users.exe.clear();  // /proc/PID/exe unreadable: argv[0] stands in
  other_users.argv = {"/usr/local/bin/nslab", "run"};
  CHECK(sandbox::is_runner(other_users));

  CHECK_FALSE(sandbox::is_runner(runner(10, {"nslab", "explain", "--uts"})));
  CHECK_FALSE(sandbox::is_runner(runner(10, {"nslab", "ps"})));
  CHECK_FALSE(sandbox::is_runner(runner(10, {"nslab"})));
  auto impostor = runner(10);
  impostor.exe = "/usr/bin/nslab-helper";
  CHECK_FALSE(sandbox::is_runner(impostor));
}

TEST_CASE("a box is a runner's child that has exec'd, with the namespaces it does not share") {
  std::vector<ProcessFacts> procs = {runner(10), box_process(11, 10, {"uts", "mnt", "pid"}),
                                     runner(20), box_process(21, 20, {})};
  auto boxes = sandbox::find_boxes(procs);
  REQUIRE(boxes.size() == 2);
  CHECK(boxes[0].id == "box-10");
  CHECK(boxes[0].pid == 11);
  CHECK(boxes[0].runner == 10);
  CHECK(boxes[0].uid == 1000u);
  CHECK(boxes[0].namespaces == std::vector<std::string>{"mnt", "uts", "pid"});
  CHECK(boxes[0].namespaces_known);
  CHECK(boxes[0].command == std::vector<std::string>{"tinysh", "-c", "sleep 30"});
  CHECK(boxes[0].start_ticks == 4200);
  // A box with no namespaces at all (`nslab run`, the baseline) is still a box.
  CHECK(boxes[1].id == "box-20");
  CHECK(boxes[1].namespaces.empty());
}

TEST_CASE("a runner's child that has not exec'd yet and other processes' children are no boxes") {
  auto setup_copy = runner(11);
  setup_copy.ppid = 10;  // the clone of the runner, still doing the box's setup
  auto not_a_runner = runner(30, {"nslab", "explain"});
  std::vector<ProcessFacts> procs = {runner(10), setup_copy, not_a_runner,
                                     box_process(31, 30, {"uts"}), box_process(41, 1, {"uts"})};
  CHECK(sandbox::find_boxes(procs).empty());
  // Negative control: the same child once it has exec'd tinysh is found.
  procs.push_back(box_process(12, 10, {"uts"}));
  CHECK(sandbox::find_boxes(procs).size() == 1);
}

TEST_CASE("namespaces that cannot be read are unknown, a kernel without time namespaces is not") {
  auto r = runner(10);
  auto child = box_process(11, 10, {"uts"});
  child.namespaces.clear();  // another user's box, seen by a non-root caller
  auto unknown = sandbox::find_boxes({r, child});
  REQUIRE(unknown.size() == 1);
  CHECK_FALSE(unknown[0].namespaces_known);
  CHECK(nslab::cli::namespace_letters(unknown[0]) == "????????");

  auto old_kernel_runner = runner(10);
  auto old_kernel_box = box_process(11, 10, {"uts"});
  old_kernel_runner.namespaces.erase("time");
  old_kernel_box.namespaces.erase("time");
  auto known = sandbox::find_boxes({old_kernel_runner, old_kernel_box});
  REQUIRE(known.size() == 1);
  CHECK(known[0].namespaces_known);
  CHECK(known[0].namespaces == std::vector<std::string>{"uts"});
}

TEST_CASE("enter without a box name takes the only box, and asks which one when there are two") {
  auto none = sandbox::choose_box({}, std::nullopt);
  REQUIRE_FALSE(none);
  CHECK(none.error().message().find("no boxes are running") != std::string::npos);

  auto only = sandbox::choose_box({box(10, 11)}, std::nullopt);
  REQUIRE(only);
  CHECK(only->id == "box-10");

  auto two = sandbox::choose_box({box(10, 11), box(20, 21)}, std::nullopt);
  REQUIRE_FALSE(two);
  CHECK(two.error().message().find("which one? nslab enter BOX") != std::string::npos);
}

TEST_CASE("enter finds a box by its id, its PID or its runner's PID, and refuses anything else") {
  std::vector<BoxInfo> boxes = {box(10, 11), box(20, 21)};
  CHECK(sandbox::choose_box(boxes, "box-20")->pid == 21);
  CHECK(sandbox::choose_box(boxes, "21")->id == "box-20");
  CHECK(sandbox::choose_box(boxes, "10")->id == "box-10");

  auto not_a_box = sandbox::choose_box(boxes, "12");
  REQUIRE_FALSE(not_a_box);
  CHECK(not_a_box.error().message().find("PID 12 is not a box") != std::string::npos);
  for (const char* garbage : {"box-99", "boxA", "", "-3", "11x"}) {
    CAPTURE(garbage);
    CHECK_FALSE(sandbox::choose_box(boxes, std::string(garbage)));
  }
}

TEST_CASE("the NS column uses nsenter's letters in a fixed order") {
  BoxInfo all = box(10, 11);
  all.namespaces = {"user", "mnt", "uts", "ipc", "pid", "cgroup", "time"};
  CHECK(nslab::cli::namespace_letters(all) == "Umuip-CT");
  BoxInfo some = box(10, 11);
  some.namespaces = {"mnt", "uts", "pid"};
  CHECK(nslab::cli::namespace_letters(some) == "-mu-p---");
  CHECK(nslab::cli::namespace_letters(box(10, 11)) == "--------");
}

namespace {

// /proc/BOX/net/fib_trie of a box started with `nslab run --veth` (as root, kernel 6.18): its end
// of the pair is 10.213.182.166/30; .164 is the subnet, .167 its broadcast address, and the
// host's end, .165, is in the host's trie, not here.
constexpr const char* kVethBoxFibTrie = R"(Main:
  +-- 0.0.0.0/1 2 0 2
     +-- 10.213.182.164/30 2 0 1
        |-- 10.213.182.164
           /30 link UNICAST
        |-- 10.213.182.166
           /32 host LOCAL
        |-- 10.213.182.167
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/1 2 0 2
     +-- 10.213.182.164/30 2 0 1
        |-- 10.213.182.164
           /30 link UNICAST
        |-- 10.213.182.166
           /32 host LOCAL
        |-- 10.213.182.167
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
)";

// A network namespace with two addresses on a /24, as a box on a bridge would have
// (10.213.1.37/24 and 10.213.1.9/24 on one link): the trie nests them under /26 and /28 nodes.
constexpr const char* kSlash24FibTrie = R"(Main:
  +-- 0.0.0.0/1 2 0 2
     +-- 10.213.1.0/24 2 1 2
        +-- 10.213.1.0/26 2 1 2
           +-- 10.213.1.0/28 2 0 2
              |-- 10.213.1.0
                 /24 link UNICAST
              |-- 10.213.1.9
                 /32 host LOCAL
           |-- 10.213.1.37
              /32 host LOCAL
        |-- 10.213.1.255
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/1 2 0 2
     +-- 10.213.1.0/24 2 1 2
        +-- 10.213.1.0/26 2 1 2
           +-- 10.213.1.0/28 2 0 2
              |-- 10.213.1.0
                 /24 link UNICAST
              |-- 10.213.1.9
                 /32 host LOCAL
           |-- 10.213.1.37
              /32 host LOCAL
        |-- 10.213.1.255
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
)";

// A namespace whose only address is loopback's (lo up). With lo down too the file is empty.
constexpr const char* kLoopbackOnlyFibTrie = R"(Main:
  +-- 127.0.0.0/8 2 0 2
     +-- 127.0.0.0/31 1 0 0
        |-- 127.0.0.0
           /8 host LOCAL
        |-- 127.0.0.1
           /32 host LOCAL
     |-- 127.255.255.255
        /32 link BROADCAST
Local:
  +-- 127.0.0.0/8 2 0 2
     +-- 127.0.0.0/31 1 0 0
        |-- 127.0.0.0
           /8 host LOCAL
        |-- 127.0.0.1
           /32 host LOCAL
     |-- 127.255.255.255
        /32 link BROADCAST
)";

size_t occurrences(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a box's addresses are the fib_trie leaves with a /32 host LOCAL route, each once") {
  CHECK(sandbox::local_ipv4_addresses(kVethBoxFibTrie) ==
        std::vector<std::string>{"10.213.182.166"});
  // Negative control: the trie lists the address twice (Main and Local), next to the subnet's
  // and broadcast's leaves that are not the box's.
  CHECK(occurrences(kVethBoxFibTrie, "|-- 10.213.182.166\n") == 2);
  CHECK(occurrences(kVethBoxFibTrie, "|-- 10.213.182.167\n") == 2);
}

TEST_CASE("addresses on a /24 are found too, in numeric order") {
  CHECK(sandbox::local_ipv4_addresses(kSlash24FibTrie) ==
        std::vector<std::string>{"10.213.1.9", "10.213.1.37"});
  // Negative control: as text, "10.213.1.37" sorts before "10.213.1.9".
  CHECK(std::string("10.213.1.37") < std::string("10.213.1.9"));
}

TEST_CASE("loopback is no address of the box's, and an empty trie has none") {
  CHECK(sandbox::local_ipv4_addresses(kLoopbackOnlyFibTrie).empty());
  // Negative control: 127.0.0.1 is there with the same /32 host LOCAL route as any other.
  CHECK(std::string_view(kLoopbackOnlyFibTrie).find("|-- 127.0.0.1\n           /32 host LOCAL") !=
        std::string_view::npos);
  CHECK(sandbox::local_ipv4_addresses("").empty());
  // A route line under no leaf, or under one that is no address, is skipped.
  CHECK(
      sandbox::local_ipv4_addresses("Local:\n  /32 host LOCAL\n  |-- 10.1.2\n     /32 host LOCAL\n")
          .empty());
  CHECK(sandbox::local_ipv4_addresses("Local:\n  |-- 10.1.2.3\n     /32 host LOCAL tos=8\n") ==
        std::vector<std::string>{"10.1.2.3"});
}

TEST_CASE("the ADDRESS column: the addresses, none, - for the runner's network, ? when unknown") {
  BoxInfo veth = box(10, 11);
  veth.namespaces = {"net"};
  veth.ipv4_addresses = std::vector<std::string>{"10.213.1.9", "10.213.1.37"};
  CHECK(nslab::cli::address_text(veth) == "10.213.1.9,10.213.1.37");
  BoxInfo empty_net = veth;
  empty_net.ipv4_addresses = std::vector<std::string>{};
  CHECK(nslab::cli::address_text(empty_net) == "none");
  BoxInfo unreadable = veth;
  unreadable.ipv4_addresses = std::nullopt;
  CHECK(nslab::cli::address_text(unreadable) == "?");
  // The runner's network: even addresses that were read are not the box's own.
  BoxInfo host_network = veth;
  host_network.namespaces = {"uts"};
  CHECK(nslab::cli::address_text(host_network) == "-");
  BoxInfo unknown = veth;
  unknown.namespaces.clear();
  unknown.namespaces_known = false;
  CHECK(nslab::cli::address_text(unknown) == "?");
}

TEST_CASE("uptime is shown in the two largest units") {
  CHECK(nslab::cli::format_uptime(0) == "0s");
  CHECK(nslab::cli::format_uptime(59.9) == "59s");
  CHECK(nslab::cli::format_uptime(60) == "1m00s");
  CHECK(nslab::cli::format_uptime(12 * 60 + 3) == "12m03s");
  CHECK(nslab::cli::format_uptime(3 * 3600 + 7 * 60 + 5) == "3h07m");
  CHECK(nslab::cli::format_uptime(2 * 86400 + 5 * 3600) == "2d05h");
  CHECK(nslab::cli::format_uptime(-4) == "0s");
}

TEST_CASE("ps says so when no box runs") {
  CHECK(nslab::cli::format_box_table({}) == "no boxes are running\n");
}

TEST_CASE("the ps table has a row per box with every column, in at most 80 columns") {
  nslab::cli::BoxRow row;
  row.box = box(4242, 4243);
  row.box.namespaces = {"mnt", "uts", "pid", "net"};
  row.box.ipv4_addresses = std::vector<std::string>{"10.213.0.2"};
  row.box.command = {"tinysh", "-c", "it's"};
  row.user = "root";
  row.hostname = "boxA";
  row.uptime_seconds = 75;
  auto table = nslab::cli::format_box_table({row});
  std::istringstream lines(table);
  std::string header, line, legend;
  std::getline(lines, header);
  std::getline(lines, line);
  std::getline(lines, legend);
  size_t at = 0;
  for (const char* column :
       {"BOX", "PID", "RUNNER", "USER", "NS", "HOSTNAME", "ADDRESS", "UP", "COMMAND"}) {
    CAPTURE(column);
    auto found = header.find(column, at);
    CHECK(found != std::string::npos);
    at = found;
  }
  std::istringstream cells(line);
  std::string id, pid, runner_pid, user, ns, hostname, address, up;
  cells >> id >> pid >> runner_pid >> user >> ns >> hostname >> address >> up;
  CHECK(id == "box-4242");
  CHECK(pid == "4243");
  CHECK(runner_pid == "4242");
  CHECK(user == "root");
  CHECK(ns == "-mu-pn--");
  CHECK(hostname == "boxA");
  CHECK(address == "10.213.0.2");
  CHECK(up == "1m15s");
  // The command as it would be typed: quoted where a shell would need it.
  CHECK(line.ends_with("tinysh -c 'it'\\''s'"));
  CHECK(legend.starts_with("NS: U user"));
  for (std::istringstream all(table); std::getline(all, line);) {
    CAPTURE(line);
    CHECK(columns(line) <= 80);
  }
}

TEST_CASE("long names and commands are cut to fit 80 columns, and an unknown hostname shows ?") {
  nslab::cli::BoxRow row;
  row.box = box(4194300, 4194301);
  row.box.command = {"tinysh", "-c", std::string(200, 'x')};
  row.user = "a-very-long-user-name-from-ldap";
  row.hostname = std::nullopt;
  row.uptime_seconds = 3 * 86400;
  nslab::cli::BoxRow wide = row;
  wide.hostname = "ünïcödé-höstnämé-that-is-long";
  wide.box.namespaces = {"net"};
  wide.box.ipv4_addresses = std::vector<std::string>{"10.213.1.9", "10.213.1.37", "10.213.2.200"};
  auto table = nslab::cli::format_box_table({row, wide});
  std::istringstream lines(table);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    CAPTURE(line);
    CHECK(columns(line) <= 80);
    if (line.starts_with("box-4194300")) {
      ++rows;
      CHECK(line.find("...") != std::string::npos);
    }
  }
  CHECK(rows == 2);
  CHECK(table.find(" ? ") != std::string::npos);
  // An address list is cut between addresses, saying how many more there are.
  CHECK(table.find(" 10.213.1.9,+2 ") != std::string::npos);
  CHECK(table.find("10.213.2.200") == std::string::npos);
  // Negative control: the width check measures columns, not bytes.
  CHECK(columns(wide.hostname.value()) < wide.hostname->size());
}

TEST_CASE("a wider terminal gives the command the room, and no limit (--wide) cuts nothing") {
  nslab::cli::BoxRow row;
  row.box = box(4194300, 4194301);
  row.box.command = {"tinysh", "-c", std::string(200, 'x')};
  row.user = "a-very-long-user-name-from-ldap";
  row.hostname = "a-box-with-a-long-name";
  row.box.namespaces = {"net"};
  row.box.ipv4_addresses = std::vector<std::string>{"10.213.1.9", "10.213.1.37", "10.213.2.200"};
  row.uptime_seconds = 3;
  auto longest_x_run = [](const std::string& text) {
    size_t best = 0, run = 0;
    for (char c : text) best = std::max(best, run = c == 'x' ? run + 1 : 0);
    return best;
  };
  auto at80 = nslab::cli::format_box_table({row});
  auto at200 = nslab::cli::format_box_table({row}, 200);
  std::istringstream lines(at200);
  std::string line;
  while (std::getline(lines, line)) {
    CAPTURE(line);
    CHECK(columns(line) <= 200);
  }
  CHECK(longest_x_run(at80) < 12);  // 80 columns leave the command a dozen
  CHECK(longest_x_run(at200) > 80);  // 200 give it the other 120, less the gaps
  CHECK(at200.find("...") != std::string::npos);  // 200 x's still do not fit
  // No limit: every cell whole.
  auto whole = nslab::cli::format_box_table({row}, 0);
  CHECK(longest_x_run(whole) == 200);
  CHECK(whole.find(row.user) != std::string::npos);
  CHECK(whole.find(" a-box-with-a-long-name ") != std::string::npos);
  CHECK(whole.find("10.213.1.9,10.213.1.37,10.213.2.200") != std::string::npos);
  CHECK(whole.find("...") == std::string::npos);
  // A terminal narrower than 80 columns gets the 80-column table (lines wrap, nothing is lost).
  CHECK(nslab::cli::format_box_table({row}, 40) == at80);
}

TEST_CASE("a box's address is shown whole, and names give way before it when room is short") {
  nslab::cli::BoxRow row;
  row.box = box(4194300, 4194301);
  row.box.namespaces = {"net"};
  row.box.ipv4_addresses = std::vector<std::string>{"10.213.188.134"};
  row.box.command = {"tinysh", "-c", "sleep 30"};
  row.user = "student";
  row.hostname = "a-box-with-a-long-name";
  row.uptime_seconds = 3;
  auto table = nslab::cli::format_box_table({row});
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    CAPTURE(line);
    CHECK(columns(line) <= 80);
  }
  CHECK(table.find(" 10.213.188.134 ") != std::string::npos);
  CHECK(table.find("a-box...") != std::string::npos);
  // With the usual 5-digit pids the command keeps some room.
  row.box.id = "box-12065";
  row.box.pid = 12073;
  row.box.runner = 12065;
  row.hostname = "boxA";
  auto usual = nslab::cli::format_box_table({row});
  CHECK(usual.find(" 10.213.188.134 ") != std::string::npos);
  CHECK(usual.find(" boxA ") != std::string::npos);
  CHECK(usual.find(" tinysh -c") != std::string::npos);
}

TEST_CASE("enter joins only the namespaces that differ, the user namespace first") {
  auto own = host_ns();
  auto theirs = host_ns();
  for (const char* name : {"pid", "uts", "user", "time", "mnt"})
    theirs[name] = std::string(name) + ":[99]";
  auto joins = sandbox::namespaces_to_join(theirs, own);
  std::vector<std::string> names;
  for (const auto& j : joins) names.push_back(j.name);
  CHECK(names == std::vector<std::string>{"user", "mnt", "uts", "pid", "time"});
  CHECK(joins.front().clone_flag == CLONE_NEWUSER);
  // The same namespaces everywhere: nothing to join (setns into one's own user namespace would
  // even fail with EINVAL).
  CHECK(sandbox::namespaces_to_join(own, own).empty());
}

namespace {

constexpr const char* kHybridMountinfo =
    "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "30 25 0:26 / /sys/fs/cgroup rw shared:2 - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw shared:3 - cgroup2 cgroup2 rw,nsdelegate\n"
    "35 30 0:31 / /sys/fs/cgroup/pids rw shared:7 - cgroup cgroup rw,pids\n"
    "36 30 0:32 / /sys/fs/cgroup/memory rw shared:8 - cgroup cgroup rw,memory\n"
    "37 30 0:33 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n";

constexpr const char* kRunnerCgroup =
    "8:pids:/user.slice\n4:memory:/user.slice\n2:cpu,cpuacct:/user.slice\n0::/user.slice\n";

}  // namespace

TEST_CASE("enter joins the box's own cgroups: where the box's line differs from its runner's") {
  std::string box_cgroup =
      "8:pids:/user.slice/nslab-box-42\n4:memory:/user.slice/nslab-box-42\n"
      "2:cpu,cpuacct:/user.slice\n0::/user.slice\n";
  auto dirs = sandbox::box_cgroup_dirs(box_cgroup, kRunnerCgroup, kHybridMountinfo);
  CHECK(dirs == std::vector<std::string>{"/sys/fs/cgroup/pids/user.slice/nslab-box-42",
                                         "/sys/fs/cgroup/memory/user.slice/nslab-box-42"});
  // Negative control: a box without limits shares every cgroup with its runner.
  CHECK(sandbox::box_cgroup_dirs(kRunnerCgroup, kRunnerCgroup, kHybridMountinfo).empty());
}

TEST_CASE("box cgroups on v2, under a mount that shows a subtree, or out of sight") {
  std::string v2_mountinfo =
      "40 1 0:40 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
  auto v2 = sandbox::box_cgroup_dirs("0::/user.slice/nslab/nslab-box-7\n", "0::/user.slice\n",
                                     v2_mountinfo);
  CHECK(v2 == std::vector<std::string>{"/sys/fs/cgroup/nslab/nslab-box-7"});
  // Outside the subtree the mount shows, or climbing with "..": not joined.
  CHECK(sandbox::box_cgroup_dirs("0::/system.slice/x\n", "0::/user.slice\n", v2_mountinfo).empty());
  CHECK(
      sandbox::box_cgroup_dirs("0::/user.slice/../x\n", "0::/user.slice\n", v2_mountinfo).empty());
  // A v1 controller with no mount here.
  CHECK(
      sandbox::box_cgroup_dirs("9:blkio:/nslab-box-1\n", "9:blkio:/\n", kHybridMountinfo).empty());
}

TEST_CASE("nslab enter takes everything after -- as the program, even with no BOX before it") {
  auto check = [](std::vector<std::string> args, int parsed, std::vector<std::string> program) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    nslab::cli::EnterOptions options;
    CHECK(nslab::cli::split_enter_program(static_cast<int>(argv.size()), argv.data(), options) ==
          parsed);
    CHECK(options.program == program);
  };
  check({"nslab", "enter", "--", "ls", "/"}, 2, {"ls", "/"});
  check({"nslab", "enter", "box-4", "--", "/bin/sh", "-c", "--"}, 3, {"/bin/sh", "-c", "--"});
  check({"nslab", "enter", "-c", "ps"}, 4, {});
  // Other subcommands keep CLI11's own handling of --.
  check({"nslab", "run", "--", "ls"}, 4, {});
}
