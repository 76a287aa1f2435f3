// Cgroup limits and networking end to end: `nslab run --pids/--memory/--cpus/--net/--veth`, checked
// from the host through cgroupfs, the kernel's counters and /sys/class/net while the box runs, and
// again after it ended (or after its runner was killed with SIGKILL).
//
// Boxes that the test must talk to while they run are driven through a pipe on tinysh's stdin
// (tinysh reads a line, runs it, reads the next), so each check waits for what the box printed,
// never for a time. Network traffic goes only between a box and the host end of its own veth.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "box_harness.h"
#include "cgroup.h"
#include "net.h"

using namespace boxtest;
using sandbox::cgroup::Controller;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// A value of a "key value" file such as cpu.stat; -1 when the key is missing.
long long keyed(const std::string& path, const std::string& key) {
  std::smatch m;
  std::string text = testing::read_file(path);
  if (!std::regex_search(text, m, std::regex("(^|\n)" + key + " (\\d+)"))) return -1;
  return std::stoll(m[2]);
}

// The box cgroup directory a runner with pid `runner` makes for `controller`: the test process
// and the runner it starts share their cgroups, so the layout seen from here is the runner's.
std::string box_cgroup_dir(Controller controller, pid_t runner) {
  auto layout = sandbox::cgroup::detect_layout({controller});
  REQUIRE_MESSAGE(layout.ok(), layout.error().message());
  return layout->find(controller)->parent_dir + "/" + sandbox::cgroup::box_name(runner);
}

// Whether this host can run the cgroup tests at all (a controller may be missing); says why not.
bool have_controller(Controller controller) {
  if (sandbox::cgroup::detect_layout({controller})) return true;
  testing::skip("no " + std::string(sandbox::cgroup::controller_name(controller)) +
                " controller here");
  return false;
}

// `nslab run ARGS` with tinysh reading its commands from a pipe this test writes to. The runner
// has a process group of its own; the destructor kills it and the box and reaps the runner.
class PipedBox {
 public:
  explicit PipedBox(const std::vector<std::string>& args) {
    char path[] = "/tmp/nslab-pipedbox-XXXXXX";
    int log = ::mkstemp(path);
    REQUIRE(log >= 0);
    log_path_ = path;
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    std::vector<std::string> argv = {testing::bin("nslab"), "run"};
    argv.insert(argv.end(), args.begin(), args.end());
    runner_ = ::fork();
    REQUIRE(runner_ >= 0);
    if (runner_ == 0) {
      ::setpgid(0, 0);
      ::dup2(fds[0], 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
      for (int fd = 3; fd < 1024; ++fd) ::close(fd);
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
    ::close(fds[0]);
    ::close(log);
    input_ = fds[1];
  }
  ~PipedBox() {
    if (input_ >= 0) ::close(input_);
    if (!reaped_) {
      pid_t box = box_pid();
      ::kill(-runner_, SIGKILL);
      ::kill(runner_, SIGKILL);
      if (box > 0) ::kill(box, SIGKILL);
      while (::waitpid(runner_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    ::unlink(log_path_.c_str());
  }
  PipedBox(const PipedBox&) = delete;
  PipedBox& operator=(const PipedBox&) = delete;

  pid_t runner() const { return runner_; }
  // The box's first process: the runner's child, once it runs tinysh.
  pid_t box_pid() const {
    for (pid_t child : testing::children_of(runner_))
      if (testing::read_file(fmt::format("/proc/{}/comm", child)) == "tinysh\n") return child;
    return -1;
  }
  void send(const std::string& line) {
    std::string text = line + "\n";
    REQUIRE(::write(input_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
  // Waits (bounded) until the output holds `text`.
  bool wait_for(const std::string& text, std::chrono::milliseconds limit = 15s) {
    return testing::wait_until([&] { return contains(output(), text); }, limit);
  }
  // Closes tinysh's stdin (it exits at EOF) and waits for the runner; its status, -1 on timeout.
  int finish(std::chrono::milliseconds limit = 15s) {
    ::close(input_);
    input_ = -1;
    return wait_exit(limit);
  }
  int wait_exit(std::chrono::milliseconds limit = 15s) {
    int status = 0;
    if (!testing::wait_until([&] { return ::waitpid(runner_, &status, WNOHANG) == runner_; },
                             limit))
      return -1;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string output() const { return testing::read_file(log_path_); }

 private:
  pid_t runner_ = -1;
  int input_ = -1;
  bool reaped_ = false;
  std::string log_path_;
};

struct Veth {
  std::string host_link, box_address, host_address;
};

// The line the runner prints when a --veth box starts: "nslab: veth nslab-N: box A, host B".
std::optional<Veth> veth_of(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m,
                         std::regex("nslab: veth (nslab-\\d+): box ([0-9.]+), host ([0-9.]+)")))
    return std::nullopt;
  return Veth{m[1], m[2], m[3]};
}

bool link_on_host(const std::string& name) {
  return exists("/sys/class/net/" + name);
}

}  // namespace

TEST_CASE("nslab run --pids 10: spawn 50 starts at most 9, names EAGAIN, the box lives on") {
  if (!have_root() || !have_controller(Controller::Pids)) return;
  PipedBox box({"--pid", "--mount", "--proc", "--pids", "10"});
  std::string dir = box_cgroup_dir(Controller::Pids, box.runner());
  box.send("spawn 50");
  box.send("echo alive");
  REQUIRE_MESSAGE(box.wait_for("alive\n"), box.output());
  // While the box runs: its cgroup, its limit, and the box's PID 1 in it — the runner is not.
  CHECK(trimmed(testing::read_file(dir + "/pids.max")) == "10");
  pid_t pid1 = box.box_pid();
  REQUIRE(pid1 > 0);
  CHECK(contains(testing::read_file(dir + "/cgroup.procs"), std::to_string(pid1)));
  CHECK_FALSE(contains(testing::read_file(fmt::format("/proc/{}/cgroup", box.runner())),
                       sandbox::cgroup::box_name(box.runner())));

  std::string out = box.output();
  std::smatch started;
  REQUIRE_MESSAGE(std::regex_search(out, started, std::regex("spawn: started (\\d+) of 50")), out);
  CHECK(std::stoi(started[1]) >= 1);
  CHECK(std::stoi(started[1]) <= 9);
  CHECK(contains(out, "(EAGAIN)"));

  CHECK(box.finish() == 0);
  CHECK_FALSE(exists(dir));  // removed before the runner exits
}

TEST_CASE("without --pids spawn 50 starts all 50 and no box cgroup is made (control for --pids)") {
  if (!have_root() || !have_controller(Controller::Pids)) return;
  PipedBox box({"--pid", "--mount", "--proc"});
  std::string dir = box_cgroup_dir(Controller::Pids, box.runner());
  box.send("spawn 50");
  box.send("echo alive");
  REQUIRE_MESSAGE(box.wait_for("alive\n"), box.output());
  CHECK(contains(box.output(), "spawn: started 50 of 50"));
  CHECK_FALSE(exists(dir));
  CHECK(box.finish() == 0);
}

TEST_CASE(
    "nslab run --memory 32M: hog 200M is OOM-killed and the runner says so from the counter") {
  if (!have_root() || !have_controller(Controller::Memory)) return;
  auto r = nslab_run({"--memory", "32M", "-c", "hog 200M; echo after=$?"});
  INFO(r.out << r.err);
  CHECK(r.status() == 0);  // the shell's last command ran: the shell itself was not the victim
  CHECK(contains(r.out, "after=137"));
  CHECK(contains(r.err, "nslab: the box's processes were killed by the OOM killer"));
  CHECK(contains(r.err, "(memory limit 32 MiB)"));
}

TEST_CASE("a box SIGKILLed from the host under --memory 32M is not called an OOM kill") {
  if (!have_root() || !have_controller(Controller::Memory)) return;
  PipedBox box({"--memory", "32M"});
  box.send("echo ready");
  REQUIRE_MESSAGE(box.wait_for("ready\n"), box.output());
  pid_t pid = box.box_pid();
  REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  CHECK(box.wait_exit() == 128 + SIGKILL);
  INFO(box.output());
  CHECK(contains(box.output(), "killed by SIGKILL"));
  CHECK_FALSE(contains(box.output(), "OOM"));
}

TEST_CASE("nslab run --cpus 0.2: burn 1 is throttled by the kernel (nr_throttled rises)") {
  if (!have_root() || !have_controller(Controller::Cpu)) return;
  PipedBox box({"--cpus", "0.2"});
  std::string stat = box_cgroup_dir(Controller::Cpu, box.runner()) + "/cpu.stat";
  box.send("echo started");
  REQUIRE_MESSAGE(box.wait_for("started\n"), box.output());
  CHECK(keyed(stat, "nr_throttled") == 0);  // control: an idle shell is not throttled
  box.send("burn 1");
  box.send("echo burned");
  REQUIRE_MESSAGE(box.wait_for("burned\n", 30s), box.output());
  CHECK(keyed(stat, "nr_throttled") > 0);
  CHECK(box.finish() == 0);
  CHECK_FALSE(exists(stat));
}

TEST_CASE("nslab run --net: the box has only lo, and it is down") {
  if (!have_root()) return;
  auto r = nslab_run({"--net", "-c", "ifaces"});
  INFO(r.out << r.err);
  CHECK(r.status() == 0);
  std::vector<std::string> names;
  std::smatch m;
  std::string text = r.out;
  // ifaces prints one line per interface: "1: lo  DOWN  mtu 65536".
  for (std::regex line("(^|\n)\\d+: ([^ ]+) "); std::regex_search(text, m, line); text = m.suffix())
    names.push_back(m[2]);
  CHECK(names == std::vector<std::string>{"lo"});
  CHECK(contains(r.out, "1: lo  DOWN"));
  // Control: without --net the box sees the host's interfaces, more than lo.
  auto host = nslab_run({"-c", "ifaces"});
  CHECK(contains(host.out, "UP"));
}

TEST_CASE("nslab run --veth: TCP both ways between host and box, the veth goes with the box") {
  if (!have_root()) return;
  PipedBox box({"--veth"});
  REQUIRE_MESSAGE(box.wait_for("nslab: veth "), box.output());
  auto veth = veth_of(box.output());
  REQUIRE_MESSAGE(veth, box.output());
  CHECK(link_on_host(veth->host_link));

  // The box listens, the host connects.
  box.send(fmt::format("tcp listen -t 15 5000 {}", veth->box_address));
  REQUIRE_MESSAGE(box.wait_for("tcp: listening on"), box.output());
  auto from_host = testing::run({testing::bin("tinysh"), "-c",
                                 fmt::format("tcp connect {} 5000 hello-box", veth->box_address)});
  CHECK_MESSAGE(from_host.status() == 0, from_host.out << from_host.err);
  CHECK(contains(from_host.out, "tcp: reply:"));
  REQUIRE_MESSAGE(box.wait_for("tcp: received: hello-box"), box.output());
  CHECK(contains(box.output(), "tcp: connection from " + veth->host_address));

  // The host end listens, the box connects.
  testing::Background listener(
      {testing::bin("tinysh"), "-c", fmt::format("tcp listen -t 15 5001 {}", veth->host_address)});
  REQUIRE(
      testing::wait_until([&] { return contains(listener.output(), "tcp: listening on"); }, 10s));
  box.send(fmt::format("tcp connect {} 5001 hello-host", veth->host_address));
  CHECK(listener.wait(15s) == 0);
  CHECK(contains(listener.output(), "tcp: received: hello-host"));
  CHECK(contains(listener.output(), "tcp: connection from " + veth->box_address));

  CHECK(box.finish() == 0);
  // The kernel deletes the pair with the box's namespace, shortly after the box's end.
  CHECK(testing::wait_until([&] { return !link_on_host(veth->host_link); }, 5s));
}

namespace {

// SIGKILLs a running box's runner. The box dies with it (PR_SET_PDEATHSIG); its cgroup `dir`
// stays behind, empty, for a sweep to remove.
void kill_runner_leaving(PipedBox& box, const std::string& dir) {
  box.send("echo up");
  REQUIRE_MESSAGE(box.wait_for("up\n"), box.output());
  pid_t pid1 = box.box_pid();
  REQUIRE(pid1 > 0);
  ::kill(box.runner(), SIGKILL);
  CHECK(box.wait_exit() == 128 + SIGKILL);
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(pid1); }, 10s));
  CHECK(testing::wait_until(
      [&] { return trimmed(testing::read_file(dir + "/cgroup.procs")).empty(); }, 10s));
  CHECK(exists(dir));  // control: nothing but a sweep removes it
}

}  // namespace

TEST_CASE("after a SIGKILL of the runner the next start sweeps its cgroup, and no veth is left") {
  if (!have_root() || !have_controller(Controller::Pids)) return;
  PipedBox box({"--pid", "--pids", "10", "--veth"});
  REQUIRE_MESSAGE(box.wait_for("nslab: veth "), box.output());
  auto veth = veth_of(box.output());
  REQUIRE(veth);
  std::string dir = box_cgroup_dir(Controller::Pids, box.runner());
  kill_runner_leaving(box, dir);

  auto next = nslab_run({"-c", "true"});
  CHECK_MESSAGE(next.status() == 0, next.err);
  CHECK_FALSE(exists(dir));
  CHECK(testing::wait_until([&] { return !link_on_host(veth->host_link); }, 5s));
}

TEST_CASE("a box with --pids alone sweeps what a killed box with --memory left") {
  if (!have_root() || !have_controller(Controller::Pids) || !have_controller(Controller::Memory))
    return;
  PipedBox box({"--pid", "--memory", "32M"});
  std::string dir = box_cgroup_dir(Controller::Memory, box.runner());
  kill_runner_leaving(box, dir);

  auto next = nslab_run({"--pids", "10", "-c", "true"});
  CHECK_MESSAGE(next.status() == 0, next.err);
  CHECK_FALSE(exists(dir));
}

TEST_CASE("nslab doctor says every lesson runs here, as root") {
  if (!have_root()) return;
  auto r = testing::run({testing::bin("nslab"), "doctor", "--color", "never"});
  INFO(r.out << r.err);
  CHECK(r.status() == 0);
  CHECK_FALSE(contains(r.out, "won't"));
}

TEST_CASE(
    "a normal user is refused --veth and --pids before anything is created, with the reason") {
  if (!have_root()) return;
  TempUser user;
  REQUIRE(user.ok());
  auto veth = nslab_run({"--user", "--map-root", "--veth", "-c", "echo started"}, user.prefix(), {},
                        user.nslab());
  // Refused by the pre-check, from the same facts as nslab doctor: the reason and the fix.
  CHECK(veth.status() == 2);
  CHECK(contains(veth.err, "--veth cannot work on this host"));
  CHECK(contains(veth.err, "CAP_NET_ADMIN"));
  CHECK(contains(veth.err, "sudo nslab"));
  CHECK(veth.out.empty());

  auto pids = nslab_run({"--pids", "10", "-c", "echo started"}, user.prefix(), {}, user.nslab());
  CHECK(pids.status() == 2);
  CHECK(contains(pids.err, "--pids cannot work on this host"));
  CHECK(contains(pids.err, "run as root"));
  CHECK(pids.out.empty());

  // Control: the same user may start a box with an empty network namespace of its own.
  auto net = nslab_run({"--user", "--map-root", "--net", "-c", "echo started"}, user.prefix(), {},
                       user.nslab());
  CHECK_MESSAGE(net.status() == 0, net.err);
  CHECK(contains(net.out, "started"));
}

// --- The box's view of its own cgroup ------------------------------------------------------------

TEST_CASE("a pivoted box with --pids 20 sees pids.max 20 in its cgroup view, read-only") {
  if (!have_root() || !have_controller(Controller::Pids)) return;
  std::string before = mount_table();
  auto r = nslab_run({"--mount", "--pivot", "--pid", "--proc", "--pids", "20", "-c",
                      "cgroup; echo 5 > /sys/fs/cgroup/pids/pids.max; echo write=$?; "
                      "cat /sys/fs/cgroup/pids/pids.max; mount"});
  INFO(r.out << r.err);
  CHECK(r.status() == 0);
  // The box's own path, as /proc/self/cgroup names it, with its limit.
  CHECK(std::regex_search(r.out, std::regex("pids +/\\S*nslab-box-\\d+ +pids \\d+ of max 20")));
  CHECK(contains(r.err, "Read-only file system"));
  CHECK(contains(r.out, "write=1"));
  CHECK(contains(r.out, "\n20\n"));  // the limit is unchanged
  CHECK(contains(r.out, " on /sys/fs/cgroup"));
  CHECK(mount_table() == before);  // the view lived in the box's mount namespace only
}

TEST_CASE("without limits or --cgroup a pivoted box has no cgroup view (control for the view)") {
  if (!have_root()) return;
  auto r = nslab_run({"--mount", "--pivot", "--pid", "--proc", "-c", "mount; cgroup"});
  INFO(r.out << r.err);
  CHECK(r.status() == 0);
  CHECK_FALSE(contains(r.out, "/sys/fs/cgroup "));
  CHECK_FALSE(contains(r.out, " type cgroup"));
  CHECK(contains(r.out, "limits are not visible without a cgroup filesystem"));
}

TEST_CASE("nslab run --all --pids 20 --memory 32M: cgroup inside shows both limits") {
  if (!have_root() || !have_controller(Controller::Pids) || !have_controller(Controller::Memory))
    return;
  auto r = nslab_run({"--all", "--pids", "20", "--memory", "32M", "-c",
                      "cgroup; echo 5 > /sys/fs/cgroup/pids/pids.max; echo write=$?"});
  INFO(r.out << r.err);
  CHECK(r.status() == 0);
  CHECK(contains(r.out, "of max 20"));
  CHECK(contains(r.out, "of limit 32 MiB"));
  CHECK_FALSE(contains(r.out, "write=0"));
}

TEST_CASE("in a pivoted box hog 200M under --memory 32M reads the OOM count from the view") {
  if (!have_root() || !have_controller(Controller::Memory)) return;
  auto r =
      nslab_run({"--mount", "--pivot", "--pid", "--proc", "--memory", "32M", "-c", "hog 200M"});
  INFO(r.out << r.err);
  CHECK(r.status() == 137);
  CHECK(contains(r.out, "hog: killed by the OOM killer: memory limit 32 MiB reached"));
  CHECK_FALSE(contains(r.out, "killed by signal"));
}

namespace {

// The line of a box on a bridge: "nslab: veth nslab-pK: box A, host B, bridge nslab-br-NAME".
struct Seat {
  std::string port, box_address, host_address, bridge;
};
std::optional<Seat> seat_of(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m,
                         std::regex("nslab: veth (nslab-p\\d+): box ([0-9.]+), host ([0-9.]+), "
                                    "bridge (nslab-br-[a-z0-9-]+)")))
    return std::nullopt;
  return Seat{m[1], m[2], m[3], m[4]};
}

// A bridge name of this test's own ("t" and a number from its pid), so that nothing else's
// bridge is ever touched; `n` tells a test's bridges apart.
std::string own_bridge_name(int n) {
  return fmt::format("t{}{}", ::getpid() % 10000, n);
}

std::string prefix24(const std::string& address) {
  return address.substr(0, address.rfind('.'));
}

}  // namespace

TEST_CASE("nslab run --bridge: two boxes on one bridge reach each other, it goes with the last") {
  if (!have_root()) return;
  std::string name = own_bridge_name(1);
  PipedBox a({"--pid", "--bridge", name});
  REQUIRE_MESSAGE(a.wait_for("nslab: veth "), a.output());
  PipedBox b({"--pid", "--bridge", name});
  REQUIRE_MESSAGE(b.wait_for("nslab: veth "), b.output());
  auto seat_a = seat_of(a.output()), seat_b = seat_of(b.output());
  REQUIRE_MESSAGE(seat_a, a.output());
  REQUIRE_MESSAGE(seat_b, b.output());
  std::string bridge = "nslab-br-" + name;
  CHECK(seat_a->bridge == bridge);
  // One /24: the bridge holds its first address, the boxes two others, each its own.
  CHECK(prefix24(seat_a->box_address) == prefix24(seat_b->box_address));
  CHECK(seat_a->host_address == seat_b->host_address);
  CHECK(seat_a->host_address == prefix24(seat_a->box_address) + ".1");
  CHECK(seat_a->box_address != seat_b->box_address);
  // The host sees both boxes' ports on the bridge, and the bridge forwards nothing at the IP
  // level and has no IPv6; the control: a port is no bridge, so it has no brif directory.
  CHECK(link_on_host(bridge + "/brif/" + seat_a->port));
  CHECK(link_on_host(bridge + "/brif/" + seat_b->port));
  CHECK_FALSE(link_on_host(seat_a->port + "/brif"));
  CHECK(testing::read_file(sandbox::host_end_sysctl(bridge, sandbox::kNoForwarding)) == "0\n");
  if (exists("/proc/sys/net/ipv6/conf/" + bridge))
    CHECK(testing::read_file(sandbox::host_end_sysctl(bridge, sandbox::kNoIpv6)) == "1\n");

  // B pings A; A listens and B calls it; the host reaches A at the bridge's address.
  b.send("ping -c 1 " + seat_a->box_address);
  REQUIRE_MESSAGE(b.wait_for("1 sent, 1 received"), b.output());
  a.send(fmt::format("tcp listen -t 15 5002 {}", seat_a->box_address));
  REQUIRE_MESSAGE(a.wait_for("tcp: listening on"), a.output());
  b.send(fmt::format("tcp connect {} 5002 hello-a", seat_a->box_address));
  REQUIRE_MESSAGE(a.wait_for("tcp: received: hello-a"), a.output());
  CHECK(contains(a.output(), "tcp: connection from " + seat_b->box_address));
  REQUIRE_MESSAGE(b.wait_for("tcp: reply:"), b.output());
  auto from_host = testing::run({testing::bin("tinysh"), "-c", "ping -c 1 " + seat_b->box_address});
  CHECK_MESSAGE(contains(from_host.out, "1 sent, 1 received"), from_host.out << from_host.err);

  // B's runner unplugs B before it exits: the port is gone at once, the bridge stays for A.
  CHECK(b.finish() == 0);
  CHECK_FALSE(link_on_host(seat_b->port));
  CHECK(link_on_host(bridge));
  // A was the last: the bridge goes with it.
  CHECK(a.finish() == 0);
  CHECK_FALSE(link_on_host(seat_a->port));
  CHECK_FALSE(link_on_host(bridge));
}

TEST_CASE("a bridge a SIGKILLed runner left is swept by the next bridged box, a stranger is not used") {
  if (!have_root()) return;
  std::string left = own_bridge_name(2), next = own_bridge_name(3), stranger = own_bridge_name(4);
  PipedBox a({"--pid", "--bridge", left});
  REQUIRE_MESSAGE(a.wait_for("nslab: veth "), a.output());
  auto seat = seat_of(a.output());
  REQUIRE(seat);
  pid_t pid1 = a.box_pid();
  ::kill(a.runner(), SIGKILL);
  CHECK(a.wait_exit() == 128 + SIGKILL);
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(pid1); }, 10s));
  // The kernel deletes the pair with the box's namespace; the bridge stays, empty (the control).
  CHECK(testing::wait_until([&] { return !link_on_host(seat->port); }, 5s));
  CHECK(link_on_host(seat->bridge));

  auto run = nslab_run({"--bridge", next, "-c", "true"});
  CHECK_MESSAGE(run.status() == 0, run.err);
  CHECK_FALSE(link_on_host(seat->bridge));
  CHECK_FALSE(link_on_host("nslab-br-" + next));

  // A link called nslab-br-NAME that nslab did not make (a bridge without nslab's address) is
  // refused by name, and left alone.
  std::string link = "nslab-br-" + stranger;
  REQUIRE(testing::run({"ip", "link", "add", link, "type", "bridge"}).status() == 0);
  auto refused = nslab_run({"--bridge", stranger, "-c", "echo inside"});
  CHECK(refused.status() != 0);
  CHECK(contains(refused.err, "not one of nslab's bridges"));
  CHECK_FALSE(contains(refused.out, "inside"));
  CHECK(link_on_host(link));
  testing::run({"ip", "link", "del", link});
}

TEST_CASE("nslab run --bridge with a name no link can have is refused before anything is made") {
  auto r = nslab_run({"--bridge", "much-too-long", "-c", "echo inside"});
  CHECK(r.status() == 2);
  CHECK(contains(r.err, "--bridge much-too-long: the link would be nslab-br-much-too-long"));
  CHECK_FALSE(contains(r.out, "inside"));
  CHECK_FALSE(link_on_host("nslab-br-much-too-long"));
}

namespace {

// `ip route get TO from FROM iif LINK`: what the host's kernel would do with a packet from FROM
// to TO that came in on LINK. Nothing is sent.
testing::RunResult route_get(const std::string& to, const std::string& from,
                             const std::string& link) {
  return testing::run({"ip", "route", "get", to, "from", from, "iif", link});
}

void write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream(path) << value;
}

// Sets a sysctl of a link for the life of the object, then puts the old value back.
class SysctlFor {
 public:
  SysctlFor(std::string path, const std::string& value)
      : path_(std::move(path)), old_(testing::read_file(path_)) {
    write_sysctl(path_, value);
  }
  ~SysctlFor() { write_sysctl(path_, old_); }
  SysctlFor(const SysctlFor&) = delete;
  SysctlFor& operator=(const SysctlFor&) = delete;

 private:
  std::string path_, old_;
};

}  // namespace

TEST_CASE("nothing from a box is forwarded beyond the host, the host's own addresses answer") {
  if (!have_root()) return;
  std::string name = own_bridge_name(5);
  PipedBox a({"--pid", "--bridge", name});
  REQUIRE_MESSAGE(a.wait_for("nslab: veth "), a.output());
  PipedBox c({"--pid", "--veth"});
  REQUIRE_MESSAGE(c.wait_for("nslab: veth "), c.output());
  auto seat = seat_of(a.output());
  auto veth = veth_of(c.output());
  REQUIRE(seat);
  REQUIRE(veth);

  // From box A's bridge to box C: no route, in either direction (C's cable forwards nothing too).
  auto to_c = route_get(veth->box_address, seat->box_address, seat->bridge);
  CHECK(to_c.status() != 0);
  CHECK_MESSAGE(contains(to_c.err, "No route to host"), to_c.out << to_c.err);
  auto to_a = route_get(seat->box_address, veth->box_address, veth->host_link);
  CHECK(to_a.status() != 0);
  // The host's own address at the end of C's cable is the host's: delivered, not forwarded.
  auto to_host = route_get(veth->host_address, seat->box_address, seat->bridge);
  CHECK_MESSAGE(contains(to_host.out, "local " + veth->host_address), to_host.out << to_host.err);

  // The control: with forwarding on for the bridge, the same packet would go out on C's cable.
  {
    SysctlFor forwarding(sandbox::host_end_sysctl(seat->bridge, sandbox::kNoForwarding), "1");
    auto forwarded = route_get(veth->box_address, seat->box_address, seat->bridge);
    CHECK_MESSAGE(contains(forwarded.out, "dev " + veth->host_link), forwarded.out << forwarded.err);
  }
  CHECK(testing::read_file(sandbox::host_end_sysctl(seat->bridge, sandbox::kNoForwarding)) == "0\n");
  CHECK(c.finish() == 0);
  CHECK(a.finish() == 0);
}
