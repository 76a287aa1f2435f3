// Each flag makes exactly the namespaces it says, verified from the host through /proc/PID/ns,
// and the box sees what the namespace promises (hostname, PID 1, only its own processes, clocks).
#include <doctest/doctest.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include <fmt/format.h>

#include "box_harness.h"

using namespace boxtest;

namespace {

const std::vector<std::string> kNamespaces = {"cgroup", "ipc",  "mnt",  "net",
                                              "pid",    "time", "user", "uts"};

std::string host_hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

double first_number(const std::string& text) {
  return std::stod(text.substr(0, text.find(' ')));
}

}  // namespace

TEST_CASE("each flag creates exactly the namespaces it names, and no others") {
  if (!have_root()) return;
  const std::vector<std::pair<std::vector<std::string>, std::set<std::string>>> cases = {
      {{}, {}},
      {{"--uts"}, {"uts"}},
      {{"--ipc"}, {"ipc"}},
      {{"--mount"}, {"mnt"}},
      {{"--pid"}, {"pid"}},
      {{"--user", "--map-root"}, {"user"}},
      {{"--cgroup"}, {"cgroup"}},
      {{"--time"}, {"time"}},
      {{"--net"}, {"net"}},
      {{"--all"}, {"user", "mnt", "uts", "ipc", "pid", "cgroup", "time", "net"}},
  };
  for (const auto& [flags, expected] : cases) {
    std::string label = fmt::format("nslab run {}", fmt::join(flags, " "));
    CAPTURE(label);
    auto args = flags;
    args.insert(args.end(), {"-c", "sleep 100"});
    LiveBox box(args);
    pid_t pid = box.wait_for_box();
    REQUIRE_MESSAGE(pid > 0, box.output());
    std::set<std::string> differing;
    for (const auto& ns : kNamespaces) {
      std::string inside = ns_link(pid, ns), host = ns_link(::getpid(), ns);
      REQUIRE(!inside.empty());
      if (inside != host) differing.insert(ns);
    }
    CHECK(differing == expected);
  }
}

TEST_CASE("the ns builtin inside agrees with /proc/PID/ns read from the host") {
  if (!have_root()) return;
  LiveBox box({"--all", "-c", "ns; sleep 100"});
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  REQUIRE(testing::wait_until([&] { return box.output().find("uts") != std::string::npos; }, 10s));
  std::istringstream lines(box.output());
  std::string name, id;
  int compared = 0;
  while (lines >> name >> id) {
    if (name.find("_for_children") != std::string::npos) continue;
    CAPTURE(name);
    CHECK(ns_link(pid, name) == fmt::format("{}:[{}]", name, id));
    ++compared;
  }
  CHECK(compared >= 7);
}

TEST_CASE("--hostname names the box and leaves the host's hostname alone") {
  if (!have_root()) return;
  std::string before = host_hostname();
  auto r = nslab_run(
      {"--uts", "--hostname", "foomachine", "-c", "hostname; cat /proc/sys/kernel/hostname"});
  CHECK(r.status() == 0);
  CHECK(r.out == "foomachine\nfoomachine\n");
  CHECK(host_hostname() == before);
}

TEST_CASE("`hostname NAME` inside a --uts box does not rename the host") {
  std::string before = host_hostname();
  // With --user (a root box without one may not set it at all: the capability test).
  auto r = nslab_run({"--user", "--map-root", "--uts", "-c", "hostname renamed-inside; hostname"});
  CHECK(r.out == "renamed-inside\n");
  CHECK(host_hostname() == before);
}

TEST_CASE("with --pid the box's first process is PID 1 with parent 0, without, it is not") {
  if (!have_root()) return;
  auto inside = nslab_run({"--mount", "--pid", "--proc", "-c", "cat /proc/self/status"});
  CHECK(inside.out.find("\nPid:\t1\n") != std::string::npos);
  CHECK(inside.out.find("\nPPid:\t0\n") != std::string::npos);
  auto control = nslab_run({"--mount", "--proc", "-c", "cat /proc/self/status"});
  CHECK(control.status() == 0);
  CHECK(control.out.find("\nPid:\t1\n") == std::string::npos);
}

TEST_CASE("ps in a --pid --proc box lists only the box, and host pids do not exist there") {
  if (!have_root()) return;
  auto r = nslab_run(
      {"--mount", "--pid", "--proc", "-c", fmt::format("ps; cat /proc/{}/status", ::getpid())});
  std::istringstream lines(r.out);
  std::string header, line;
  std::getline(lines, header);
  std::vector<std::string> rows;
  while (std::getline(lines, line) && !line.empty() && line.find("PID") == std::string::npos &&
         line.find("Name:") == std::string::npos)
    rows.push_back(line);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].find("1    0") != std::string::npos);
  CHECK(r.out.find("Name:") == std::string::npos);  // the test's own pid is not there
  CHECK(r.status() != 0);
}

TEST_CASE("a box's PID namespace holds exactly its own processes, seen from the host") {
  if (!have_root()) return;
  LiveBox box({"--mount", "--pid", "--proc", "-c", "sleep 100"});
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  REQUIRE(testing::wait_until([&] { return children_of(pid).size() == 1; }, 10s));
  std::set<pid_t> expected = {pid, children_of(pid).front()};
  CHECK(processes_in_pid_namespace_of(pid) == expected);
  CHECK(processes_in_pid_namespace_of(::getpid()).count(pid) == 0);
}

TEST_CASE("--time moves the box's uptime 1000 days ahead, without it the clocks agree") {
  if (!have_root()) return;
  auto r = nslab_run({"--time", "-c", "cat /proc/uptime"});
  REQUIRE(r.status() == 0);
  double host = first_number(testing::read_file("/proc/uptime"));
  double box = first_number(r.out);
  CHECK(box - host > 999.0 * 86400);
  auto control = nslab_run({"-c", "cat /proc/uptime"});
  CHECK(first_number(control.out) - host < 60.0);
}

TEST_CASE("--time works when the map leaves the host's root out") {
  if (!have_root()) return;
  // Root inside is uid 100000 outside: switching to it clears the dumpable flag, which would
  // leave the box's /proc/self files owned by the unmapped host root until exec, and the offsets
  // are written before exec (EACCES before nslab set the flag again).
  const std::vector<std::string> range = {"--user", "--map-uid", "0:100000:65536", "--map-gid",
                                          "0:100000:65536"};
  std::vector<std::string> flags = range;
  flags.insert(flags.end(), {"--mount", "--pid", "--time", "-c", "cat /proc/uptime"});
  auto r = nslab_run(flags);
  CAPTURE(r.err);
  REQUIRE(r.status() == 0);
  CHECK(first_number(r.out) - first_number(testing::read_file("/proc/uptime")) > 999.0 * 86400);
}

TEST_CASE("--cgroup makes the box's own cgroup the root of its view") {
  if (!have_root()) return;
  auto r = nslab_run({"--cgroup", "-c", "cat /proc/self/cgroup"});
  REQUIRE(r.status() == 0);
  std::istringstream lines(r.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    CAPTURE(line);
    CHECK(line.ends_with(":/"));
    ++count;
  }
  CHECK(count > 0);
  // Control: without --cgroup the box sees the same paths as the host does for its runner.
  auto control = nslab_run({"-c", "cat /proc/self/cgroup"});
  std::string host = testing::read_file("/proc/self/cgroup");
  CHECK(control.out == host);
}
