// The cgroup path logic and limit readers, against fake cgroupfs trees: plain files in a
// temporary directory that look like the kernel's, and mountinfo text that points at them.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "builtins/cgroup_fs.h"
#include "builtins/cgroup_report.h"

using namespace tinysh::cgroup;
namespace fs = std::filesystem;

namespace {

// A temporary directory, removed with everything in it when the test ends.
class FakeCgroupfs {
 public:
  FakeCgroupfs() {
    std::string pattern = (fs::temp_directory_path() / "nslab-cgroup-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root_ = pattern;
  }
  ~FakeCgroupfs() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  FakeCgroupfs(const FakeCgroupfs&) = delete;
  FakeCgroupfs& operator=(const FakeCgroupfs&) = delete;

  const std::string& root() const { return root_; }
  std::string dir(const std::string& relative) const { return root_ + "/" + relative; }

  // Writes `content` to ROOT/RELATIVE, making the directories on the way.
  void write(const std::string& relative, const std::string& content) const {
    fs::path path = fs::path(root_) / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
  }

  // A mountinfo line for a cgroup filesystem mounted at ROOT/AT, showing `shown_root`.
  std::string mount_line(int id, const std::string& fstype, const std::string& at,
                         const std::string& options, const std::string& shown_root = "/") const {
    return std::to_string(id) + " 31 0:" + std::to_string(id) + " " + shown_root + " " + dir(at) +
           " rw,relatime shared:" + std::to_string(id) + " - " + fstype + " " + fstype + " " +
           options + "\n";
  }

 private:
  std::string root_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("/proc/self/cgroup lines give hierarchy, controllers and path for v1 and v2") {
  auto m = parse_proc_cgroup(
      "9:name=systemd:/\n8:pids:/nslab-box-1\n2:cpu,cpuacct:/a:b\n0::/user.slice\ngarbage\n");
  REQUIRE(m.size() == 4);
  CHECK(m[0].controllers == std::vector<std::string>{"name=systemd"});
  CHECK(m[1].hierarchy_id == 8);
  CHECK(m[1].path == "/nslab-box-1");
  CHECK(m[1].version() == Version::V1);
  CHECK(m[2].controllers == std::vector<std::string>{"cpu", "cpuacct"});
  CHECK(m[2].path == "/a:b");
  CHECK(m[3].version() == Version::V2);
  CHECK(m[3].controllers.empty());
  CHECK(m[3].path == "/user.slice");
}

TEST_CASE("mountinfo yields only cgroup mounts, with root, unescaped mount point and options") {
  std::string mountinfo =
      "23 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
      "41 31 0:38 /box /mnt/my\\040cgroups rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
  auto mounts = parse_cgroup_mounts(mountinfo);
  REQUIRE(mounts.size() == 2);
  CHECK(mounts[0].version == Version::V1);
  CHECK(mounts[0].mount_point == "/sys/fs/cgroup/memory");
  CHECK(mounts[0].options == std::vector<std::string>{"rw", "memory"});
  CHECK(mounts[1].version == Version::V2);
  CHECK(mounts[1].root == "/box");
  CHECK(mounts[1].mount_point == "/mnt/my cgroups");
}

TEST_CASE("paths with .. or . components, or not absolute, are unsafe") {
  CHECK_FALSE(unsafe_path("/"));
  CHECK_FALSE(unsafe_path("/process_api/b6a218ee"));
  CHECK_FALSE(unsafe_path("/a..b"));
  CHECK(unsafe_path("/.."));
  CHECK(unsafe_path("/../../host"));
  CHECK(unsafe_path("/a/../b"));
  CHECK(unsafe_path("/a/./b"));
  CHECK(unsafe_path("relative"));
  CHECK(unsafe_path(""));
}

TEST_CASE("pure v2: limits and usage of pids, memory and cpu are read and described") {
  FakeCgroupfs fake;
  fake.write("v2/cgroup.controllers", "cpuset cpu io memory pids\n");
  std::string box = "v2/nslab-box-7/";
  fake.write(box + "cgroup.controllers", "cpu memory pids\n");
  fake.write(box + "pids.max", "10\n");
  fake.write(box + "pids.current", "2\n");
  fake.write(box + "memory.max", "33554432\n");
  fake.write(box + "memory.current", "1258291\n");
  fake.write(box + "memory.peak", "3145728\n");
  fake.write(box + "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n");
  fake.write(box + "cpu.max", "50000 100000\n");
  fake.write(box + "cpu.stat", "usage_usec 900\nnr_periods 20\nnr_throttled 3\nthrottled_usec 5\n");

  auto places = locate(parse_proc_cgroup("0::/nslab-box-7\n"),
                       parse_cgroup_mounts(fake.mount_line(41, "cgroup2", "v2", "rw")));
  REQUIRE(places.size() == 1);
  CHECK(places[0].directory == fake.dir("v2/nslab-box-7"));
  CHECK(find_controller(places, "memory") == &places[0]);
  CHECK(find_controller(places, "hugetlb") == nullptr);

  std::string text = report("0::/nslab-box-7\n", places);
  INFO(text);
  CHECK(contains(text, "cgroup v2  pids    /nslab-box-7  pids 2 of max 10\n"));
  CHECK(contains(text,
                 "cgroup v2  memory  /nslab-box-7  memory 1.2 MiB of limit 32 MiB, "
                 "peak 3 MiB, oom kills 1\n"));
  CHECK(contains(text,
                 "cgroup v2  cpu     /nslab-box-7  cpu 0.5 CPU (50000 us every 100000 us), "
                 "throttled 3 of 20 periods\n"));
  CHECK_FALSE(contains(text, "not visible"));
}

TEST_CASE("pure v2: no limit is said as no limit, and a missing controller is said plainly") {
  FakeCgroupfs fake;
  fake.write("v2/a/cgroup.controllers", "memory cpu\n");
  fake.write("v2/a/memory.max", "max\n");
  fake.write("v2/a/memory.current", "4096\n");
  fake.write("v2/a/cpu.max", "max 100000\n");
  fake.write("v2/b/cgroup.controllers", "\n");
  auto mounts = parse_cgroup_mounts(fake.mount_line(41, "cgroup2", "v2", "rw"));
  std::string a = report("0::/a\n", locate(parse_proc_cgroup("0::/a\n"), mounts));
  INFO(a);
  CHECK(contains(a, "memory 4 KiB, no limit"));
  CHECK(contains(a, "cpu no limit"));
  CHECK_FALSE(contains(a, "pids"));
  std::string b = report("0::/b\n", locate(parse_proc_cgroup("0::/b\n"), mounts));
  CHECK(b == "cgroup v2  -       /b  (no pids, memory or cpu controller here)\n");
}

TEST_CASE("pure v1: one hierarchy per controller, cpu,cpuacct together, huge limit is no limit") {
  FakeCgroupfs fake;
  fake.write("pids/box/pids.max", "max\n");
  fake.write("pids/box/pids.current", "1\n");
  fake.write("memory/box/memory.limit_in_bytes", "9223372036854771712\n");
  fake.write("memory/box/memory.usage_in_bytes", "2097152\n");
  fake.write("memory/box/memory.max_usage_in_bytes", "4194304\n");
  fake.write("memory/box/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  fake.write("cpu,cpuacct/box/cpu.cfs_quota_us", "20000\n");
  fake.write("cpu,cpuacct/box/cpu.cfs_period_us", "100000\n");
  fake.write("cpu,cpuacct/box/cpu.stat", "nr_periods 11\nnr_throttled 10\nthrottled_time 9\n");
  std::string mountinfo = fake.mount_line(32, "cgroup", "cpu,cpuacct", "rw,cpu,cpuacct") +
                          fake.mount_line(35, "cgroup", "memory", "rw,memory") +
                          fake.mount_line(39, "cgroup", "pids", "rw,pids");
  std::string proc = "6:freezer:/\n5:pids:/box\n4:memory:/box\n3:cpu,cpuacct:/box\n";
  auto places = locate(parse_proc_cgroup(proc), parse_cgroup_mounts(mountinfo));
  REQUIRE(places.size() == 4);
  CHECK_FALSE(places[0].visible());  // freezer is not mounted
  CHECK(places[3].directory == fake.dir("cpu,cpuacct/box"));
  CHECK(read_oom_kills(places[2].directory, Version::V1) == 2u);

  std::string text = report(proc, places);
  INFO(text);
  CHECK(contains(text, "cgroup v1  pids    /box  pids 1, no limit\n"));
  CHECK(
      contains(text, "cgroup v1  memory  /box  memory 2 MiB, no limit, peak 4 MiB, oom kills 2\n"));
  CHECK(contains(text,
                 "cgroup v1  cpu     /box  cpu 0.2 CPU (20000 us every 100000 us), "
                 "throttled 10 of 11 periods\n"));
  CHECK(contains(text, "cgroup v1  other   /     freezer\n"));
}

TEST_CASE("hybrid host: v1 controllers with a nested path, cgroup2 holding none of ours") {
  FakeCgroupfs fake;
  std::string id = "b6a218ee9b00fb3e710f0b0c57408d3a";
  // The limit sits on the parent; the process's own cgroup has none of its own.
  fake.write("memory/memory.limit_in_bytes", "9223372036854771712\n");
  fake.write("memory/process_api/memory.limit_in_bytes", "268435456\n");
  fake.write("memory/process_api/" + id + "/memory.limit_in_bytes", "9223372036854771712\n");
  fake.write("memory/process_api/" + id + "/memory.usage_in_bytes", "1048576\n");
  fake.write("memory/process_api/" + id + "/memory.oom_control",
             "oom_kill_disable 0\noom_kill 0\n");
  fake.write("pids/cgroup.procs", "");
  fake.write("unified/cgroup.controllers", "hugetlb\n");
  std::string mountinfo = fake.mount_line(35, "cgroup", "memory", "rw,memory") +
                          fake.mount_line(39, "cgroup", "pids", "rw,pids") +
                          fake.mount_line(40, "cgroup", "systemd", "rw,xattr,name=systemd") +
                          fake.mount_line(41, "cgroup2", "unified", "rw");
  std::string proc =
      "9:name=systemd:/\n8:pids:/\n7:blkio:/\n4:memory:/process_api/" + id + "\n1:cpu:/\n0::/\n";
  auto places = locate(parse_proc_cgroup(proc), parse_cgroup_mounts(mountinfo));
  const Place* memory = find_controller(places, "memory");
  REQUIRE(memory != nullptr);
  CHECK(memory->version == Version::V1);
  CHECK(memory->directory == fake.dir("memory/process_api/" + id));
  auto usage = read_memory(memory->directory, Version::V1, memory->mount_point);
  CHECK(usage.limit == Limit::of(268435456));
  CHECK(usage.limit_levels_up == 1);

  std::string text = report(proc, places);
  INFO(text);
  CHECK(contains(text, "memory 1 MiB of limit 256 MiB (set on /process_api), oom kills 0"));
  CHECK(contains(text, "cgroup v1  pids    /  "));
  CHECK(contains(text, "pids (no pids.current or pids.max: the root cgroup has no limits)"));
  CHECK(contains(text, "cgroup v1  cpu     /  "));
  CHECK(contains(text, "(not mounted here)"));
  CHECK(contains(text, "cgroup v1  other   /  "));
  CHECK(contains(text, "blkio name=systemd\n"));
  CHECK(contains(text, "cgroup v2  -       /  "));
  CHECK(contains(text, "(no pids, memory or cpu controller here)\n"));
}

TEST_CASE("a cgroup namespace's root '/' maps to the mount point itself") {
  FakeCgroupfs fake;
  fake.write("ns/cgroup.controllers", "pids\n");
  fake.write("ns/pids.max", "10\n");
  fake.write("ns/pids.current", "3\n");
  auto places = locate(parse_proc_cgroup("0::/\n"),
                       parse_cgroup_mounts(fake.mount_line(50, "cgroup2", "ns", "rw")));
  REQUIRE(places.size() == 1);
  CHECK(places[0].directory == fake.dir("ns"));
  CHECK(contains(report("0::/\n", places), "pids 3 of max 10"));
}

TEST_CASE("a mount that shows a subtree maps paths inside it and refuses paths outside it") {
  FakeCgroupfs fake;
  std::string bind_of_box = fake.mount_line(60, "cgroup2", "boxview", "rw", "/box");
  auto inside = locate(parse_proc_cgroup("0::/box/sub\n"), parse_cgroup_mounts(bind_of_box));
  CHECK(inside[0].directory == fake.dir("boxview") + "/sub");
  auto exact = locate(parse_proc_cgroup("0::/box\n"), parse_cgroup_mounts(bind_of_box));
  CHECK(exact[0].directory == fake.dir("boxview"));
  // "/boxer" starts with "/box" but is not under it.
  auto outside = locate(parse_proc_cgroup("0::/boxer\n"), parse_cgroup_mounts(bind_of_box));
  CHECK_FALSE(outside[0].visible());
  CHECK(contains(outside[0].why_not_visible, "shows only /box"));
}

TEST_CASE("paths containing .. are refused, in /proc/self/cgroup and in a mount's root") {
  FakeCgroupfs fake;
  fake.write("v2/cgroup.controllers", "pids\n");
  auto mounts = parse_cgroup_mounts(fake.mount_line(41, "cgroup2", "v2", "rw"));
  auto escaped = locate(parse_proc_cgroup("0::/../../host\n"), mounts);
  REQUIRE(escaped.size() == 1);
  CHECK_FALSE(escaped[0].visible());
  CHECK(contains(escaped[0].why_not_visible, ".."));
  // A mount made outside a cgroup namespace shows its root as "/.." inside it.
  auto outer_mount = parse_cgroup_mounts(fake.mount_line(41, "cgroup2", "v2", "rw", "/.."));
  auto places = locate(parse_proc_cgroup("0::/\n"), outer_mount);
  CHECK_FALSE(places[0].visible());
  CHECK(contains(places[0].why_not_visible, "outside this cgroup namespace"));
  // Negative control: the same tree with a plain path is visible.
  CHECK(locate(parse_proc_cgroup("0::/\n"), mounts)[0].visible());
}

TEST_CASE(
    "without any cgroup filesystem mounted, the report repeats /proc/self/cgroup and says how to "
    "mount one") {
  std::string v2_only = "0::/nslab-box-3\n";
  std::string text = report(v2_only, locate(parse_proc_cgroup(v2_only), {}));
  CHECK(text ==
        "0::/nslab-box-3\n"
        "cgroup: limits are not visible without a cgroup filesystem mounted here; to mount one: "
        "mkdir -p /sys/fs/cgroup; mount -t cgroup2 cgroup2 /sys/fs/cgroup\n");
  std::string v1 = "4:memory:/box\n0::/\n";
  std::string v1_text = report(v1, locate(parse_proc_cgroup(v1), {}));
  CHECK(contains(v1_text, "4:memory:/box\n0::/\n"));
  CHECK(contains(v1_text, "mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids"));
}

TEST_CASE("keyed files give the value of their key, and nothing for a missing key") {
  CHECK(keyed_value("nr_periods 5\nnr_throttled 2\n", "nr_throttled") == 2u);
  CHECK_FALSE(keyed_value("nr_periods 5\n", "nr_throttled").has_value());
  CHECK_FALSE(keyed_value("oom_kill x\n", "oom_kill").has_value());
}

TEST_CASE("cpu shares print as short decimals") {
  CHECK(cpu_share(20000, 100000) == "0.2");
  CHECK(cpu_share(50000, 100000) == "0.5");
  CHECK(cpu_share(100000, 100000) == "1");
  CHECK(cpu_share(150000, 100000) == "1.5");
  CHECK(cpu_share(25000, 100000) == "0.25");
}

TEST_CASE("an allocator's SIGKILL is called OOM only when the oom_kill counter went up") {
  int sigkill = W_EXITCODE(0, SIGKILL);
  auto oom = judge_allocator(sigkill, 0, 1);
  CHECK(oom.end == AllocatorEnd::OutOfMemory);
  CHECK(oom.status() == 137);
  CHECK(describe_allocator_end(oom, 32u << 20, Limit::of(32u << 20)) ==
        "hog: killed by the OOM killer: memory limit 32 MiB reached (32 MiB touched)");

  // Negative controls: the same SIGKILL with the counter unchanged, or unreadable, is not OOM.
  auto plain_kill = judge_allocator(sigkill, 3, 3);
  CHECK(plain_kill.end == AllocatorEnd::Signal);
  CHECK(plain_kill.status() == 137);
  CHECK(describe_allocator_end(plain_kill, 8u << 20, Limit::of(32u << 20)) ==
        "hog: killed by signal 9 (SIGKILL) after 8 MiB touched");
  CHECK(judge_allocator(sigkill, std::nullopt, std::nullopt).end == AllocatorEnd::Signal);
  CHECK(judge_allocator(sigkill, std::nullopt, 5).end == AllocatorEnd::Signal);

  // A counter that moved for another process does not turn a clean end or another signal to OOM.
  CHECK(judge_allocator(W_EXITCODE(0, 0), 0, 1).end == AllocatorEnd::Done);
  auto term = judge_allocator(W_EXITCODE(0, SIGTERM), 0, 1);
  CHECK(term.end == AllocatorEnd::Signal);
  CHECK(term.status() == 128 + SIGTERM);
  auto failed = judge_allocator(W_EXITCODE(3, 0), 0, 0);
  CHECK(failed.end == AllocatorEnd::Failed);
  CHECK(failed.status() == 3);
}
