// Cgroup limits, the pure part: flag values, v1/v2 per controller on fake cgroupfs trees, the
// writes that make a box's cgroup, names, the stale sweep's verdicts, the OOM sentence and the
// explain text. No root: the trees are plain files in a temporary directory, and the mountinfo
// and /proc/self/cgroup texts point into it.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cgroup.h"
#include "process.h"
#include "sys.h"

using namespace sandbox;
using namespace sandbox::cgroup;
using namespace std::chrono_literals;
namespace stdfs = std::filesystem;

namespace {

// The runner that looks for a place: root or not, and its pid.
Caller runner_as(bool privileged, pid_t pid) {
  Caller runner;
  runner.privileged = privileged;
  runner.euid = privileged ? 0 : 1000;
  runner.pid = pid;
  return runner;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A cgroupfs made of ordinary files: directories and the few files the decision reads.
class FakeTree {
 public:
  FakeTree() {
    char pattern[] = "/tmp/nslab-cgroup-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    root_ = pattern;
  }
  ~FakeTree() { stdfs::remove_all(root_); }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  const std::string& root() const { return root_; }
  std::string at(const std::string& relative) const { return root_ + "/" + relative; }
  void file(const std::string& relative, const std::string& text) const {
    stdfs::create_directories(stdfs::path(at(relative)).parent_path());
    std::ofstream(at(relative)) << text;
  }
  void dir(const std::string& relative) const { stdfs::create_directories(at(relative)); }
  // One mountinfo line for a cgroup mount at ROOT/relative.
  std::string mount(const std::string& relative, bool v2, const std::string& options,
                    const std::string& hierarchy_root = "/") const {
    dir(relative);
    return "40 31 0:40 " + hierarchy_root + " " + at(relative) + " rw,relatime - " +
           (v2 ? "cgroup2 cgroup2 " : "cgroup cgroup ") + options + "\n";
  }

 private:
  std::string root_;
};

// This build machine's layout: v1 pids, memory (nested under /process_api/<id>) and cpu,cpuacct;
// a cgroup2 mount whose root has only hugetlb.
struct HybridHost {
  FakeTree tree;
  std::string mountinfo, proc_cgroup;
  HybridHost() {
    mountinfo = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
                tree.mount("pids", false, "rw,pids") + tree.mount("memory", false, "rw,memory") +
                tree.mount("cpu,cpuacct", false, "rw,cpu,cpuacct") +
                tree.mount("systemd", false, "rw,name=systemd") + tree.mount("unified", true, "rw");
    tree.file("unified/cgroup.controllers", "hugetlb\n");
    tree.dir("memory/process_api/8ca7");
    proc_cgroup = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/8ca7\n2:cpu,cpuacct:/\n0::/\n";
  }
};

// A pure v2 host: the runner in a systemd session scope whose parents hand down cpu, memory and
// pids, with nothing enabled in the scope's own subtree_control.
struct V2Host {
  FakeTree tree;
  std::string mountinfo, proc_cgroup, own;
  explicit V2Host(const std::string& own_controllers = "cpu memory pids",
                  const std::string& own_subtree = "") {
    mountinfo = tree.mount("cg", true, "rw,nsdelegate,memory_recursiveprot");
    tree.file("cg/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    tree.file("cg/cgroup.subtree_control", "cpu io memory pids\n");
    own = tree.at("cg/user.slice/user-1000.slice/session-2.scope");
    tree.file("cg/user.slice/user-1000.slice/session-2.scope/cgroup.controllers",
              own_controllers + "\n");
    tree.file("cg/user.slice/user-1000.slice/session-2.scope/cgroup.subtree_control",
              own_subtree + "\n");
    proc_cgroup = "0::/user.slice/user-1000.slice/session-2.scope\n";
  }
};

Limits all_three() {
  Limits limits;
  limits.pids_max = 10;
  limits.memory_bytes = 32 << 20;
  limits.cpu = CpuQuota{50000, 100000};
  return limits;
}

std::vector<std::string> as_text(const std::vector<Write>& writes) {
  std::vector<std::string> lines;
  for (const Write& w : writes)
    lines.push_back(w.kind == Write::Kind::MakeDir
                        ? "mkdir " + w.path
                        : "write " + w.path + " " + w.text + (w.if_present ? " ?" : ""));
  return lines;
}

}  // namespace

// --- Flag values (test-cases 31, 34, 35) ---------------------------------------------------------

TEST_CASE("cgroup v2's rule below the runner's own cgroup: each case and who may take it") {
  Caller user = runner_as(false, 10);
  Caller root = runner_as(true, 10);
  // Handed down and handed on already, or an empty cgroup that may hand it on: below.
  CHECK(choose_v2({.handed_down = true, .enabled = true, .procs = {10, 11}}, user) ==
        V2Choice::Below);
  CHECK(choose_v2({.handed_down = true, .enabled = false, .procs = {}}, user) == V2Choice::Below);
  // Not handed down: root goes to the root cgroup, a user is refused.
  CHECK(choose_v2({.handed_down = false, .procs = {10}}, root) == V2Choice::AtRoot);
  CHECK(choose_v2({.handed_down = false, .procs = {10}}, user) == V2Choice::NotHandedDown);
  // Handed down but held by processes: the runner alone moves aside, others block a user.
  CHECK(choose_v2({.handed_down = true, .procs = {10}}, user) == V2Choice::MoveRunner);
  CHECK(choose_v2({.handed_down = true, .procs = {10, 11}}, user) == V2Choice::Shared);
  CHECK(choose_v2({.handed_down = true, .procs = {10, 11}}, root) == V2Choice::AtRoot);
  CHECK(others_in({.handed_down = true, .procs = {10, 11, 12}}, user) ==
        std::vector<pid_t>{11, 12});
}

TEST_CASE("--pids accepts whole numbers from 1 to 4194304") {
  CHECK(*parse_pids_limit("1") == 1);
  CHECK(*parse_pids_limit("10") == 10);
  CHECK(*parse_pids_limit("4194304") == 4194304);
}

TEST_CASE("--pids refuses 0, -1, max, junk and overflow, saying what is allowed") {
  for (const char* bad : {"0", "-1", "max", "10abc", "", "99999999999999999999", " 5", "5 ",
                          "4194305", "+5", "0x10", "1.5"}) {
    CAPTURE(bad);
    auto parsed = parse_pids_limit(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(contains(parsed.error().hint, "from 1 to 4194304"));
    CHECK(contains(parsed.error().call, "--pids"));
  }
  CHECK(contains(parse_pids_limit("0").error().call, "first process"));
  CHECK(contains(parse_pids_limit("max").error().call, "leaving --pids out"));
}

TEST_CASE("--memory takes shell sizes in binary units, exactly") {
  CHECK(*parse_memory_limit("32M") == 33554432);
  CHECK(*parse_memory_limit("32MiB") == 33554432);
  CHECK(*parse_memory_limit("1G") == 1073741824);
  CHECK(*parse_memory_limit("4M") == 4194304);
  CHECK(*parse_memory_limit("1.5G") == 1610612736);
}

TEST_CASE("--memory refuses signs, exponents, junk, overflow and limits below 4 MiB") {
  for (const char* bad : {"0", "-1", "1e9", "123bogus", "", " -5", "18446744073709551616",
                          "9223372036854775809", "99999999T", "3M", "4194303", "8E"}) {
    CAPTURE(bad);
    auto parsed = parse_memory_limit(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(contains(parsed.error().hint, "from 4M"));
  }
  CHECK(contains(parse_memory_limit("3M").error().call, "3 MiB is below the 4 MiB minimum"));
  CHECK(contains(parse_memory_limit("1e9").error().call, "--memory \"1e9\""));
}

TEST_CASE("a --memory just below 4 MiB says its exact size, not a rounded one") {
  // format_size() would print 4095 KiB as "4.0 MiB", which hides why it is refused.
  CHECK(contains(parse_memory_limit("4095k").error().call,
                 "\"4095k\": 4095 KiB is below the 4 MiB minimum"));
  CHECK(contains(parse_memory_limit("4194303").error().call, "4194303 bytes is below"));
  CHECK(contains(parse_memory_limit("3.5M").error().call, "3584 KiB is below"));
  CHECK(contains(parse_memory_limit("1").error().call, "1 byte is below"));
  // Control: 4096k is 4 MiB exactly, the smallest limit taken.
  CHECK(*parse_memory_limit("4096k") == 4194304);
}

TEST_CASE("--cpus becomes a CFS quota of a 100 ms period, exactly, without floating point") {
  CHECK(*parse_cpus("0.5", 2) == CpuQuota{50000, 100000});
  CHECK(*parse_cpus("0.2", 2) == CpuQuota{20000, 100000});
  CHECK(*parse_cpus(".5", 2) == CpuQuota{50000, 100000});
  CHECK(*parse_cpus("1", 2) == CpuQuota{100000, 100000});
  CHECK(*parse_cpus("2", 2) == CpuQuota{200000, 100000});
  CHECK(*parse_cpus("0.01", 2) == CpuQuota{1000, 100000});
  CHECK(*parse_cpus("1.23456", 2) == CpuQuota{123456, 100000});
}

TEST_CASE("--cpus refuses 0, more CPUs than the machine has, and anything but a decimal") {
  for (const char* bad : {"0", "0.0", "-1", "1e3", "", " 1", "abc", "0.5x", ".", "1.", "2.5", "3",
                          "0.009", "0.000001", "99999999999999999999"}) {
    CAPTURE(bad);
    auto parsed = parse_cpus(bad, 2);
    REQUIRE_FALSE(parsed.ok());
    CHECK(contains(parsed.error().hint, "from 0.01 to 2"));
  }
  CHECK(contains(parse_cpus("0", 2).error().call, "stop the box"));
  CHECK(contains(parse_cpus("3", 2).error().call, "2 CPUs"));
  CHECK(parse_cpus("3", 4).ok());  // control: the bound is the machine's, not a constant
}

TEST_CASE("a cpu quota reads as a number of CPUs") {
  CHECK(format_cpus({50000, 100000}) == "0.5 CPU");
  CHECK(format_cpus({100000, 100000}) == "1 CPU");
  CHECK(format_cpus({200000, 100000}) == "2 CPUs");
  CHECK(format_cpus({125000, 100000}) == "1.25 CPUs");
  CHECK(format_cpus({20000, 100000}) == "0.2 CPU");
}

// --- v1 or v2, per controller (test-case 38) -----------------------------------------------------

TEST_CASE(
    "on a hybrid host each controller goes to its v1 hierarchy, under the runner's own cgroup") {
  HybridHost host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo,
                              {Controller::Pids, Controller::Memory, Controller::Cpu});
  REQUIRE_MESSAGE(layout.ok(), layout.error().message());
  REQUIRE(layout->placements.size() == 3);
  const Placement* pids = layout->find(Controller::Pids);
  const Placement* memory = layout->find(Controller::Memory);
  const Placement* cpu = layout->find(Controller::Cpu);
  CHECK(pids->version == Version::V1);
  CHECK(pids->parent_dir == host.tree.at("pids"));
  CHECK(memory->version == Version::V1);
  CHECK(memory->parent_dir == host.tree.at("memory/process_api/8ca7"));
  CHECK(cpu->version == Version::V1);
  CHECK(cpu->parent_dir == host.tree.at("cpu,cpuacct"));
  CHECK(cpu->hierarchy == "cgroup v1 cpu,cpuacct at " + host.tree.at("cpu,cpuacct"));

  auto writes = as_text(creation_writes(*layout, all_three(), "nslab-box-7"));
  std::string p = host.tree.at("pids/nslab-box-7"),
              m = host.tree.at("memory/process_api/8ca7/nslab-box-7"),
              c = host.tree.at("cpu,cpuacct/nslab-box-7");
  CHECK(writes == std::vector<std::string>{
                      "mkdir " + p,
                      "write " + p + "/pids.max 10",
                      "mkdir " + m,
                      "write " + m + "/memory.limit_in_bytes 33554432",
                      "write " + m + "/memory.memsw.limit_in_bytes 33554432 ?",
                      "mkdir " + c,
                      "write " + c + "/cpu.cfs_period_us 100000",
                      "write " + c + "/cpu.cfs_quota_us 50000",
                  });
  auto joins = as_text(join_writes(box_dirs(*layout, "nslab-box-7"), 4242));
  CHECK(joins == std::vector<std::string>{"write " + p + "/cgroup.procs 4242",
                                          "write " + m + "/cgroup.procs 4242",
                                          "write " + c + "/cgroup.procs 4242"});
}

TEST_CASE(
    "on a pure v2 host the box goes under an nslab parent, with the controllers enabled down to "
    "it") {
  V2Host host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo,
                              {Controller::Pids, Controller::Memory, Controller::Cpu});
  REQUIRE_MESSAGE(layout.ok(), layout.error().message());
  for (const Placement& p : layout->placements) {
    CHECK(p.version == Version::V2);
    CHECK(p.own_dir == host.own);
    CHECK(p.parent_dir == host.own + "/nslab");
    CHECK(p.enable_above);
    CHECK_FALSE(p.own_is_root);
  }
  auto dirs = box_dirs(*layout, "nslab-box-7");
  REQUIRE(dirs.size() == 1);  // one directory holds every controller
  std::string box = host.own + "/nslab/nslab-box-7";
  CHECK(dirs[0].path == box);
  auto writes = as_text(creation_writes(*layout, all_three(), "nslab-box-7"));
  CHECK(writes == std::vector<std::string>{
                      "write " + host.own + "/cgroup.subtree_control +pids",
                      "write " + host.own + "/cgroup.subtree_control +memory",
                      "write " + host.own + "/cgroup.subtree_control +cpu",
                      "mkdir " + host.own + "/nslab",
                      "write " + host.own + "/nslab/cgroup.subtree_control +pids",
                      "write " + host.own + "/nslab/cgroup.subtree_control +memory",
                      "write " + host.own + "/nslab/cgroup.subtree_control +cpu",
                      "mkdir " + box,
                      "write " + box + "/pids.max 10",
                      "write " + box + "/memory.max 33554432",
                      "write " + box + "/memory.swap.max 0 ?",
                      "write " + box + "/cpu.max 50000 100000",
                  });
}

TEST_CASE("on v2, controllers the runner's cgroup already hands down are not enabled again") {
  V2Host host("cpu memory pids", "memory pids");
  Limits limits;
  limits.pids_max = 5;
  limits.memory_bytes = 8 << 20;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo, limits.controllers());
  REQUIRE(layout.ok());
  auto writes = as_text(creation_writes(*layout, limits, "nslab-box-7"));
  REQUIRE_FALSE(writes.empty());
  CHECK(writes.front() == "mkdir " + host.own + "/nslab");
  for (const std::string& w : writes)
    CHECK_FALSE(contains(w, host.own + "/cgroup.subtree_control"));
}

TEST_CASE("on v2, a runner in the root cgroup may enable controllers despite its own processes") {
  V2Host host;
  auto layout = decide_layout("0::/\n", host.mountinfo, {Controller::Pids});
  REQUIRE(layout.ok());
  CHECK(layout->placements[0].own_is_root);
  CHECK(layout->placements[0].own_dir == host.tree.at("cg"));
  CHECK_FALSE(layout->placements[0].enable_above);  // the root's subtree_control has pids
}

TEST_CASE("on v2, a controller the parents do not hand down is an error naming subtree_control") {
  V2Host host("cpu pids");  // memory enabled at the root, but not delegated to the scope
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Memory});
  REQUIRE_FALSE(layout.ok());
  CHECK(contains(layout.error().call, "memory controller is on cgroup v2"));
  CHECK(contains(layout.error().call, host.own));
  CHECK(contains(layout.error().hint, "cgroup.subtree_control"));
  // Control: a controller that is handed down is fine on the same host.
  CHECK(decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids}).ok());
}

TEST_CASE("on a pure v1 host each controller goes to its hierarchy") {
  FakeTree tree;
  std::string mountinfo = tree.mount("pids", false, "rw,pids") +
                          tree.mount("memory", false, "rw,memory") +
                          tree.mount("cpu,cpuacct", false, "rw,cpu,cpuacct");
  tree.dir("pids/docker/abc");
  auto layout = decide_layout("5:pids:/docker/abc\n4:memory:/\n3:cpu,cpuacct:/\n", mountinfo,
                              {Controller::Pids, Controller::Memory, Controller::Cpu});
  REQUIRE_MESSAGE(layout.ok(), layout.error().message());
  CHECK(layout->find(Controller::Pids)->parent_dir == tree.at("pids/docker/abc"));
  CHECK(layout->find(Controller::Memory)->parent_dir == tree.at("memory"));
  CHECK(box_dirs(*layout, "nslab-box-1").size() == 3);
}

TEST_CASE("a controller neither on v2 nor mounted as v1 is an error that says both") {
  HybridHost host;
  std::string without_pids;
  for (const std::string& line :
       {host.tree.mount("memory", false, "rw,memory"), host.tree.mount("unified", true, "rw")})
    without_pids += line;
  auto layout = decide_layout(host.proc_cgroup, without_pids, {Controller::Pids});
  REQUIRE_FALSE(layout.ok());
  CHECK(contains(layout.error().call, "no pids controller here"));
  CHECK(contains(layout.error().call, "cgroup.controllers: \"hugetlb\""));
  CHECK(contains(layout.error().hint, "nslab doctor"));
}

TEST_CASE("a cgroup path with .. is refused, on v2 and on v1") {
  V2Host v2;
  auto up = decide_layout("0::/../../elsewhere\n", v2.mountinfo, {Controller::Pids});
  REQUIRE_FALSE(up.ok());
  CHECK(contains(up.error().call, "\"..\""));
  HybridHost v1;
  auto up1 =
      decide_layout("4:memory:/process_api/../../x\n0::/\n", v1.mountinfo, {Controller::Memory});
  REQUIRE_FALSE(up1.ok());
  CHECK(contains(up1.error().call, "\"..\""));
  // Control: the same hosts without "..".
  CHECK(decide_layout(v2.proc_cgroup, v2.mountinfo, {Controller::Pids}).ok());
  CHECK(decide_layout(v1.proc_cgroup, v1.mountinfo, {Controller::Memory}).ok());
}

// --- v2 when the runner's own cgroup holds processes ---------------------------------------------

TEST_CASE("on v2 as root, a runner's cgroup with processes sends nslab's parent to the v2 root") {
  V2Host host;
  host.tree.file("cg/user.slice/user-1000.slice/session-2.scope/cgroup.procs", "100\n200\n");
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo,
                              {Controller::Pids, Controller::Memory}, runner_as(true, 100));
  REQUIRE_MESSAGE(layout.ok(), layout.error().message());
  for (const Placement& p : layout->placements) {
    CHECK(p.at_v2_root);
    CHECK(p.parent_dir == host.tree.at("cg/nslab"));
    CHECK(p.own_dir == host.own);
    CHECK_FALSE(p.enable_above);  // the root's subtree_control has them already
  }
  Limits limits;
  limits.pids_max = 10;
  limits.memory_bytes = 32 << 20;
  std::string box = host.tree.at("cg/nslab/nslab-box-7");
  CHECK(as_text(creation_writes(*layout, limits, "nslab-box-7")) ==
        std::vector<std::string>{
            "mkdir " + host.tree.at("cg/nslab"),
            "write " + host.tree.at("cg/nslab/cgroup.subtree_control") + " +pids",
            "write " + host.tree.at("cg/nslab/cgroup.subtree_control") + " +memory",
            "mkdir " + box,
            "write " + box + "/pids.max 10",
            "write " + box + "/memory.max 33554432",
            "write " + box + "/memory.swap.max 0 ?",
        });
  auto steps = describe_steps(*layout, limits, "nslab-box-<pid>");
  CHECK(contains(steps[1].why, "goes under the root cgroup"));

  // The root's subtree_control lacking one: it is enabled there, never in the busy scope.
  host.tree.file("cg/cgroup.subtree_control", "memory\n");
  auto lacking =
      decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids}, runner_as(true, 100));
  REQUIRE(lacking.ok());
  auto writes = as_text(creation_writes(*lacking, limits, "nslab-box-7"));
  CHECK(writes.front() == "write " + host.tree.at("cg/cgroup.subtree_control") + " +pids");
  for (const std::string& w : writes) CHECK_FALSE(contains(w, host.own));

  // Control: the same scope without processes keeps nslab's parent under it.
  V2Host empty;
  auto under_own =
      decide_layout(empty.proc_cgroup, empty.mountinfo, {Controller::Pids}, runner_as(true, 100));
  REQUIRE(under_own.ok());
  CHECK_FALSE(under_own->placements[0].at_v2_root);
  CHECK(under_own->placements[0].parent_dir == empty.own + "/nslab");
}

TEST_CASE(
    "on v2 as root, a controller not handed down to the runner's cgroup also goes to the root") {
  V2Host host("cpu pids");
  auto layout =
      decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Memory}, runner_as(true, 1));
  REQUIRE(layout.ok());
  CHECK(layout->placements[0].at_v2_root);
  // Control: not root, the same is an error naming subtree_control.
  CHECK_FALSE(
      decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Memory}, runner_as(false, 1)).ok());
}

TEST_CASE("on v2 a runner in its lesson driver's leaf puts the box beside the leaf, in nslab/") {
  V2Host host;
  // nslab lesson moved itself into <own>/nslab/nslab-runner-300 (DriverLeaf); its runner, 4242,
  // started there with it; <own> has no process left.
  std::string scope = "user.slice/user-1000.slice/session-2.scope";
  host.tree.file("cg/" + scope + "/cgroup.procs", "");
  host.tree.file("cg/" + scope + "/nslab/cgroup.controllers", "");
  host.tree.file("cg/" + scope + "/nslab/cgroup.subtree_control", "");
  host.tree.file("cg/" + scope + "/nslab/nslab-runner-300/cgroup.procs", "300\n4242\n");
  host.tree.file("cg/" + scope + "/nslab/nslab-runner-300/cgroup.controllers", "");
  std::string proc_cgroup = "0::/" + scope + "/nslab/nslab-runner-300\n";
  auto layout = decide_layout(proc_cgroup, host.mountinfo, {Controller::Pids}, runner_as(false, 4242));
  REQUIRE_MESSAGE(layout.ok(), layout.error().message());
  const Placement& p = layout->placements[0];
  CHECK_FALSE(p.move_runner);  // it is in a leaf already, with its driver
  CHECK(p.parent_dir == host.own + "/nslab");
  Limits limits;
  limits.pids_max = 10;
  std::string box = host.own + "/nslab/nslab-box-4242";
  CHECK(as_text(creation_writes(*layout, limits, box_name(4242))) ==
        std::vector<std::string>{
            "write " + host.own + "/cgroup.subtree_control +pids",
            "mkdir " + host.own + "/nslab",
            "write " + host.own + "/nslab/cgroup.subtree_control +pids",
            "mkdir " + box,
            "write " + box + "/pids.max 10",
        });
  // The control: the same two processes in a cgroup that is not such a leaf are refused.
  host.tree.file("cg/" + scope + "/cgroup.procs", "300\n4242\n");
  CHECK_FALSE(
      decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids}, runner_as(false, 4242)).ok());
}

TEST_CASE(
    "on v2 as a user alone in a delegated cgroup, the runner moves itself into a leaf first") {
  V2Host host;
  host.tree.file("cg/user.slice/user-1000.slice/session-2.scope/cgroup.procs", "4242\n");
  auto layout =
      decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids}, runner_as(false, 4242));
  REQUIRE_MESSAGE(layout.ok(), layout.error().message());
  const Placement& p = layout->placements[0];
  CHECK(p.move_runner);
  CHECK_FALSE(p.at_v2_root);
  CHECK(p.parent_dir == host.own + "/nslab");
  Limits limits;
  limits.pids_max = 10;
  std::string leaf = host.own + "/nslab/nslab-runner-4242";
  std::string box = host.own + "/nslab/nslab-box-4242";
  auto writes = creation_writes(*layout, limits, box_name(4242));
  CHECK(as_text(writes) == std::vector<std::string>{
                               "mkdir " + host.own + "/nslab",
                               "mkdir " + leaf,
                               "write " + leaf + "/cgroup.procs 4242",
                               "write " + host.own + "/cgroup.subtree_control +pids",
                               "write " + host.own + "/nslab/cgroup.subtree_control +pids",
                               "mkdir " + box,
                               "write " + box + "/pids.max 10",
                           });
  CHECK(writes[1].runner_leaf);  // never removed by the runner that lives in it
  CHECK(contains(describe_steps(*layout, limits, "nslab-box-<pid>")[1].why,
                 "moves itself into nslab/nslab-runner-<pid>"));
}

TEST_CASE(
    "on v2 as a user whose cgroup holds other processes, nslab refuses and says how to fix it") {
  V2Host host;
  host.tree.file("cg/user.slice/user-1000.slice/session-2.scope/cgroup.procs", "4242\n77\n");
  auto layout =
      decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids}, runner_as(false, 4242));
  REQUIRE_FALSE(layout.ok());
  CHECK(contains(layout.error().call, "holds other processes (pids 77)"));
  CHECK(contains(layout.error().call, "no-internal-processes rule"));
  CHECK(contains(layout.error().hint, "systemd-run --user --scope -p Delegate=yes nslab run"));
  // Control: the same user in a scope with no process at all is placed under it.
  V2Host empty;
  CHECK(decide_layout(empty.proc_cgroup, empty.mountinfo, {Controller::Pids}, runner_as(false, 4242))
            .ok());
}

TEST_CASE(
    "the sweep also looks in nslab's parent under the v2 root, and removes stale runner leaves") {
  V2Host host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids});
  REQUIRE(layout.ok());
  REQUIRE(layout->placements[0].parent_dir == host.own + "/nslab");
  host.tree.dir("cg/nslab/nslab-box-200");  // left by a SIGKILLed root runner
  host.tree.dir("cg/nslab/nslab-box-100");  // a live runner's
  host.tree.dir("cg/nslab/other");          // not nslab's
  host.tree.dir("cg/user.slice/user-1000.slice/session-2.scope/nslab/nslab-runner-300");
  auto report = sweep_stale(*layout, [](pid_t pid) { return pid == 100; });
  CHECK(report.removed == std::vector<std::string>{host.own + "/nslab/nslab-runner-300",
                                                   host.tree.at("cg/nslab/nslab-box-200")});
  CHECK(stdfs::exists(host.tree.at("cg/nslab/nslab-box-100")));
  CHECK(stdfs::exists(host.tree.at("cg/nslab/other")));
  CHECK(contains(describe_steps(*layout, Limits{10, {}, {}}, "nslab-box-<pid>")[0].calls,
                 host.tree.at("cg/nslab")));
}

// --- Applying the writes on a fake tree ----------------------------------------------------------

TEST_CASE(
    "EBUSY enabling controllers in the runner's own cgroup is explained, and nothing is left") {
  V2Host host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids});
  REQUIRE(layout.ok());
  sys::clear_faults();
  // What the kernel answers when the scope still holds processes (the runner, its shell).
  sys::inject_fault("cgroup.subtree_control", EBUSY);
  Limits limits;
  limits.pids_max = 10;
  auto box = BoxCgroup::create(*layout, limits, 4242);
  sys::clear_faults();
  REQUIRE_FALSE(box.ok());
  CHECK(box.error().call == "write " + host.own + "/cgroup.subtree_control");
  CHECK(box.error().err == EBUSY);
  CHECK(contains(box.error().hint, "no-internal-processes rule"));
  CHECK(contains(box.error().message(), "Device or resource busy"));
  CHECK_FALSE(stdfs::exists(host.own + "/nslab"));
}

TEST_CASE("a creation that fails halfway removes the directories it made") {
  // Enabled in the scope already: the first step is mkdir nslab. A fake tree has no
  // nslab/cgroup.subtree_control, so the next write fails with ENOENT, as on a kernel whose
  // parent does not hand the controller down.
  V2Host host("cpu memory pids", "pids");
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids});
  REQUIRE(layout.ok());
  Limits limits;
  limits.pids_max = 10;
  auto box = BoxCgroup::create(*layout, limits, 4242);
  REQUIRE_FALSE(box.ok());
  CHECK(box.error().err == ENOENT);
  CHECK(contains(box.error().hint, "cgroup.subtree_control"));
  CHECK_FALSE(stdfs::exists(host.own + "/nslab"));
  CHECK(stdfs::exists(host.own));  // control: only what nslab made is gone
}

// --- Names and the sweep (test-case 37) ----------------------------------------------------------

TEST_CASE("a box's cgroup is named after its runner, and only such names are nslab's") {
  CHECK(box_name(4242) == "nslab-box-4242");
  CHECK(runner_of("nslab-box-4242") == 4242);
  CHECK(runner_of(box_name(1)) == 1);
  CHECK(runner_of("nslab-runner-42") == 42);  // a v2 runner's leaf (cgroup_v2.cpp)
  CHECK(runner_leaf_name("nslab-box-42") == "nslab-runner-42");
  for (const char* other :
       {"nslab-box-", "nslab-box-12x", "nslab-box-012", "nslab-box--1", "nslab-bench", "nslab",
        "nslab-test-5", "xnslab-box-1", "nslab-box-99999999999", "user.slice"}) {
    CAPTURE(other);
    CHECK_FALSE(runner_of(other).has_value());
  }
}

TEST_CASE("the sweep removes only nslab's leftovers whose runner is gone and that hold nothing") {
  auto alive = [](pid_t pid) { return pid == 100; };
  CHECK(judge_leftover("nslab-box-100", {}, alive) == Leftover::RunnerAlive);
  CHECK(judge_leftover("nslab-box-100", {7}, alive) == Leftover::RunnerAlive);
  CHECK(judge_leftover("nslab-box-200", {}, alive) == Leftover::Remove);
  CHECK(judge_leftover("nslab-box-200", {7, 8}, alive) == Leftover::LeaveBusy);
  CHECK(judge_leftover("docker", {}, alive) == Leftover::NotOurs);
  CHECK(judge_leftover("nslab-bench", {}, alive) == Leftover::NotOurs);
}

TEST_CASE("the sweep on a tree: stale empty removed, busy reported, live and foreign untouched") {
  HybridHost host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids});
  REQUIRE(layout.ok());
  host.tree.dir("pids/nslab-box-200");                               // runner gone, empty
  host.tree.file("pids/nslab-box-300/cgroup.procs", "777\n");        // runner gone, a process left
  host.tree.dir("pids/nslab-box-100");                               // runner alive
  host.tree.dir("pids/not-nslab");                                   // someone else's
  host.tree.file("pids/nslab-box-400/inner/cgroup.procs", "888\n");  // busy in a sub-cgroup
  auto report = sweep_stale(*layout, [](pid_t pid) { return pid == 100; });
  CHECK(report.removed == std::vector<std::string>{host.tree.at("pids/nslab-box-200")});
  REQUIRE(report.busy.size() == 2);
  CHECK(contains(report.busy[0], "nslab-box-300 still holds pids 777"));
  CHECK(contains(report.busy[1], "nslab-box-400 still holds pids 888"));
  CHECK(report.errors.empty());
  CHECK_FALSE(stdfs::exists(host.tree.at("pids/nslab-box-200")));
  CHECK(stdfs::exists(host.tree.at("pids/nslab-box-300")));
  CHECK(stdfs::exists(host.tree.at("pids/nslab-box-100")));
  CHECK(stdfs::exists(host.tree.at("pids/not-nslab")));
}

TEST_CASE("a live runner is a running process other than this one, zombies and the dead are not") {
  CHECK_FALSE(live_runner(::getpid()));  // a dir with our own pid was left by an earlier process
  CHECK(live_runner(::getppid()));
  int gate[2];
  REQUIRE(::pipe(gate) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    char c;
    ::close(gate[1]);
    [[maybe_unused]] ssize_t n = ::read(gate[0], &c, 1);
    ::_exit(0);
  }
  ::close(gate[0]);
  CHECK(live_runner(child));
  ::close(gate[1]);  // the child reads EOF and exits: a zombie until reaped
  REQUIRE(testing::wait_until([&] { return testing::proc_state(child) == 'Z'; }, 5000ms));
  CHECK_FALSE(live_runner(child));
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK_FALSE(live_runner(child));
}

// --- Reports and explain -------------------------------------------------------------------------

TEST_CASE("the OOM sentence counts the kills and names the limit, no kill, no sentence") {
  CHECK(describe_oom(0, 32 << 20).empty());
  CHECK(describe_oom(1, 32 << 20) ==
        "the box's processes were killed by the OOM killer once (memory limit 32 MiB)");
  CHECK(describe_oom(3, 32 << 20) ==
        "the box's processes were killed by the OOM killer 3 times (memory limit 32 MiB)");
}

TEST_CASE(
    "explain names v1 or v2 per controller, the runner's steps and the rule behind v2's parent") {
  HybridHost hybrid;
  auto v1 =
      decide_layout(hybrid.proc_cgroup, hybrid.mountinfo, {Controller::Pids, Controller::Cpu});
  REQUIRE(v1.ok());
  Limits limits;
  limits.pids_max = 10;
  limits.cpu = CpuQuota{20000, 100000};
  auto steps = describe_steps(*v1, limits, "nslab-box-<pid>");
  REQUIRE(steps.size() == 4);
  CHECK(steps[0].phase == Phase::Sweep);
  // Every hierarchy's stale boxes are named whole: two parents, two box paths.
  size_t box_paths = 0;
  for (size_t at = steps[0].calls.find("/nslab-box-PID"); at != std::string::npos;
       at = steps[0].calls.find("/nslab-box-PID", at + 1))
    ++box_paths;
  CHECK(box_paths == 2);
  CHECK_FALSE(contains(steps[0].calls, "/,"));
  CHECK(steps[1].phase == Phase::Create);
  CHECK(steps[2].phase == Phase::Join);
  CHECK(steps[3].phase == Phase::Remove);
  for (const StepText& s : steps) CHECK(s.side == Side::Runner);
  CHECK(contains(steps[1].why, "pids on cgroup v1 pids at"));
  CHECK(contains(steps[1].why, "at most 10 tasks"));
  CHECK(contains(steps[1].why, "cpu on cgroup v1 cpu,cpuacct at"));
  CHECK(contains(steps[1].why, "0.2 CPU = 20000 µs"));
  CHECK(contains(steps[1].calls, "cpu.cfs_quota_us \"20000\""));
  CHECK(contains(steps[3].calls, "SIGKILL"));
  CHECK_FALSE(contains(steps[1].why, "no-internal-processes"));

  V2Host v2host;
  auto v2 = decide_layout(v2host.proc_cgroup, v2host.mountinfo, {Controller::Memory});
  REQUIRE(v2.ok());
  Limits memory;
  memory.memory_bytes = 32 << 20;
  auto v2steps = describe_steps(*v2, memory, "nslab-box-<pid>");
  CHECK(contains(v2steps[1].why, "memory on cgroup v2 at"));
  CHECK(contains(v2steps[1].why, "32 MiB"));
  CHECK(contains(v2steps[1].why, "no-internal-processes"));
  CHECK(contains(v2steps[3].calls, "cgroup.kill"));
}

// --- The box's view of its own cgroup ------------------------------------------------------------

TEST_CASE("the layout keeps each hierarchy's mount point and v1 mount options for the view") {
  HybridHost host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo,
                              {Controller::Pids, Controller::Memory, Controller::Cpu});
  REQUIRE(layout.ok());
  CHECK(layout->find(Controller::Pids)->mount_point == host.tree.at("pids"));
  CHECK(layout->find(Controller::Pids)->mount_options == "pids");
  CHECK(layout->find(Controller::Cpu)->mount_point == host.tree.at("cpu,cpuacct"));
  CHECK(layout->find(Controller::Cpu)->mount_options == "cpu,cpuacct");
  V2Host v2;
  auto unified = decide_layout(v2.proc_cgroup, v2.mountinfo, {Controller::Pids});
  REQUIRE(unified.ok());
  CHECK(unified->placements[0].mount_point == v2.tree.at("cg"));
  CHECK(unified->placements[0].mount_options.empty());
}

TEST_CASE("on a hybrid host the view is a tmpfs with one read-only mount per v1 hierarchy") {
  HybridHost host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo,
                              {Controller::Pids, Controller::Memory, Controller::Cpu});
  REQUIRE(layout.ok());
  // With a cgroup namespace: fresh mounts, rooted by the kernel at the box's cgroup.
  View fresh = plan_view(*layout, "nslab-box-7", true);
  CHECK(fresh.holder_tmpfs);
  REQUIRE(fresh.mounts.size() == 3);
  CHECK(fresh.mounts[0].target == "/sys/fs/cgroup/pids");
  CHECK(fresh.mounts[0].controllers == "pids");
  CHECK(fresh.mounts[1].target == "/sys/fs/cgroup/memory");
  CHECK(fresh.mounts[2].target == "/sys/fs/cgroup/cpu,cpuacct");
  CHECK(fresh.mounts[2].controllers == "cpu,cpuacct");
  for (const ViewMount& m : fresh.mounts) {
    CHECK(m.version == Version::V1);
    CHECK(m.bind_from.empty());
  }
  // Without one: binds of the box's own directories, nothing above them.
  View bound = plan_view(*layout, "nslab-box-7", false);
  REQUIRE(bound.mounts.size() == 3);
  CHECK(bound.mounts[0].bind_from == host.tree.at("pids/nslab-box-7"));
  CHECK(bound.mounts[1].bind_from == host.tree.at("memory/process_api/8ca7/nslab-box-7"));
  CHECK(bound.mounts[2].bind_from == host.tree.at("cpu,cpuacct/nslab-box-7"));
  // Control: no box cgroup and no cgroup namespace is nothing to show.
  CHECK(plan_view(*layout, "", false).mounts.empty());
}

TEST_CASE("on a pure v2 host the view is one cgroup2 mount at /sys/fs/cgroup, no tmpfs") {
  V2Host host;
  auto layout = decide_layout(host.proc_cgroup, host.mountinfo,
                              {Controller::Pids, Controller::Memory, Controller::Cpu});
  REQUIRE(layout.ok());
  View fresh = plan_view(*layout, "nslab-box-7", true);
  CHECK_FALSE(fresh.holder_tmpfs);
  REQUIRE(fresh.mounts.size() == 1);  // one hierarchy, however many controllers
  CHECK(fresh.mounts[0].version == Version::V2);
  CHECK(fresh.mounts[0].target == "/sys/fs/cgroup");
  CHECK(fresh.mounts[0].bind_from.empty());
  View bound = plan_view(*layout, "nslab-box-7", false);
  REQUIRE(bound.mounts.size() == 1);
  CHECK(bound.mounts[0].bind_from == box_dirs(*layout, "nslab-box-7")[0].path);
}

TEST_CASE("with v2 beside v1 hierarchies, v2 goes to /sys/fs/cgroup/unified in the tmpfs") {
  HybridHost host;
  host.tree.file("unified/cgroup.controllers", "memory\n");  // memory moved to v2
  auto layout =
      decide_layout(host.proc_cgroup, host.mountinfo, {Controller::Pids, Controller::Memory});
  REQUIRE(layout.ok());
  REQUIRE(layout->find(Controller::Memory)->version == Version::V2);
  View view = plan_view(*layout, "nslab-box-7", true);
  CHECK(view.holder_tmpfs);
  REQUIRE(view.mounts.size() == 2);
  CHECK(view.mounts[0].target == "/sys/fs/cgroup/pids");
  CHECK(view.mounts[1].target == "/sys/fs/cgroup/unified");
  CHECK(view.mounts[1].version == Version::V2);
}

// --- The system calls the cgroup code makes, through sys.h ---------------------------------------

TEST_CASE("the cgroup code's system calls name themselves in their errors, and faults reach them") {
  FakeTree tree;
  tree.dir("b");
  tree.dir("a");
  tree.file("not-a-dir", "");
  auto listed = sys::subdirectories(tree.root());
  REQUIRE(listed.ok());
  CHECK(*listed == std::vector<std::string>{"a", "b"});  // sorted, directories only

  auto again = sys::mkdir(tree.at("a"), 0755);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().err == EEXIST);
  CHECK(again.error().call == "mkdir(\"" + tree.at("a") + "\", 0755)");

  auto gone = sys::rmdir(tree.at("nothing"));
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().err == ENOENT);
  CHECK(gone.error().call == "rmdir(\"" + tree.at("nothing") + "\")");

  CHECK(sys::access(tree.at("a"), F_OK).ok());
  auto missing = sys::access(tree.at("nothing"), F_OK);
  REQUIRE_FALSE(missing.ok());
  CHECK(contains(missing.error().call, "faccessat(\"" + tree.at("nothing") + "\", F_OK"));

  // A child that has been reaped is no process at all.
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  auto nobody = sys::kill(child, SIGKILL);
  REQUIRE_FALSE(nobody.ok());
  CHECK(nobody.error().err == ESRCH);
  CHECK(nobody.error().call == "kill(" + std::to_string(child) + ", SIGKILL)");

  // Injected faults reach them, as they do the other wrappers; control: the call works after.
  sys::clear_faults();
  sys::inject_fault("rmdir", EBUSY);
  auto busy = sys::rmdir(tree.at("b"));
  sys::clear_faults();
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().err == EBUSY);
  CHECK(contains(busy.error().hint, "still has processes"));
  CHECK(stdfs::exists(tree.at("b")));
  CHECK(sys::rmdir(tree.at("b")).ok());
  CHECK_FALSE(stdfs::exists(tree.at("b")));
}
