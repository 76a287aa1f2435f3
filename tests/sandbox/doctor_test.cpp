// nslab doctor: the host probe read from fake /proc, /sys and cgroupfs trees (the layouts of the
// distributions a classroom meets), the readiness of each lesson they give, the report's shape,
// and one real run on this host cross-checked against the kernel's own files.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "process.h"
#include "../shell/capture.h"
#include "doctor.h"
#include "host_probe.h"

using namespace sandbox;
namespace fs = std::filesystem;

namespace {

constexpr Verdict W = Verdict::Works;
constexpr Verdict R = Verdict::WorksRootless;
constexpr Verdict X = Verdict::Wont;

// A uid that owns what this test creates (chown'd to it when the test runs as root), and one
// that owns nothing here.
uid_t own_uid() {
  return ::geteuid() == 0 ? 1000 : ::geteuid();
}
uid_t other_uid() {
  return ::geteuid() == 0 ? 1000 : ::geteuid() + 1;
}

// The kernel a fake host runs (its /proc/sys/kernel/osrelease).
constexpr std::string_view kFakeRelease = "6.1.0-18-amd64";

Caller as_root() {
  Caller who;
  who.privileged = true;
  return who;
}
Caller as_user(uid_t uid) {
  Caller who;
  who.uid = who.euid = who.invoking_uid = uid;
  return who;
}

// A directory that plays a host's /: files are written under it, and it is removed at the end.
class FakeHost {
 public:
  FakeHost() {
    char name[] = "/tmp/nslab-doctor-XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    root_ = name;
  }
  ~FakeHost() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }

  void file(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(root_ + path).parent_path());
    std::ofstream(root_ + path) << text;
  }
  // The directory and the two files that move processes, owned by `uid`.
  void cgroup_dir(const std::string& path, const std::string& controllers, uid_t owner = 0) {
    file(path + "/cgroup.controllers", controllers + "\n");
    file(path + "/cgroup.procs", "");
    file(path + "/cgroup.subtree_control", "");
    file(path + "/tasks", "");
    if (owner != 0) {
      for (std::string f : {"", "/cgroup.procs", "/cgroup.subtree_control", "/tasks"})
        own(path + f, owner);
    }
  }
  void own(const std::string& path, uid_t uid) {
    if (::geteuid() == 0) {
      REQUIRE(::chown((root_ + path).c_str(), uid, uid) == 0);
    } else {
      REQUIRE(uid == ::geteuid());  // files are ours already
    }
  }

  // A kernel with every namespace and a root process's capabilities (or none).
  void kernel(bool root_caps) {
    file("/proc/sys/kernel/osrelease", std::string(kFakeRelease) + "\n");
    for (std::string kind : {"uts", "mnt", "pid", "ipc", "user", "cgroup", "net", "time"}) {
      file("/proc/self/ns/" + kind, "");
      file("/proc/sys/user/max_" + kind + "_namespaces", "15000\n");
    }
    file("/proc/self/status", std::string("Name:\tnslab\nCapInh:\t0000000000000000\nCapEff:\t") +
                                  (root_caps ? "000001ffffffffff" : "0000000000000000") + "\n");
  }

 private:
  std::string root_;
};

const char* kRootShared = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
const char* kProcMount = "23 22 0:21 / /proc rw,nosuid,nodev,noexec shared:12 - proc proc rw\n";

// Debian 12 and Ubuntu 22.04 and later: cgroup v2 only, systemd's tree.
void pure_v2(FakeHost& host, const std::string& own, const std::string& own_controllers,
             uid_t owner = 0) {
  host.file("/proc/self/cgroup", "0::" + own + "\n");
  host.file("/proc/self/mountinfo",
            std::string(kRootShared) + kProcMount +
                "28 25 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
                "cgroup2 rw,nsdelegate,memory_recursiveprot\n");
  host.cgroup_dir("/sys/fs/cgroup", "cpuset cpu io memory hugetlb pids rdma misc");
  host.cgroup_dir("/sys/fs/cgroup" + own, own_controllers, owner);
}

// This build machine: v1 controllers, and a cgroup2 mount with none.
void hybrid(FakeHost& host) {
  host.file("/proc/self/cgroup",
            "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/27dd88fb\n2:cpuacct:/\n1:cpu:/\n"
            "0::/\n");
  std::string mounts = std::string("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n") +
                       "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n";
  int id = 32;
  for (std::string c : {"cpu", "cpuacct", "memory", "pids"})
    mounts += std::to_string(id++) + " 31 0:29 / /sys/fs/cgroup/" + c +
              " rw,relatime - cgroup cgroup rw," + c + "\n";
  mounts += "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n";
  mounts += "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  host.file("/proc/self/mountinfo", mounts);
  host.cgroup_dir("/sys/fs/cgroup/cpu", "");
  host.cgroup_dir("/sys/fs/cgroup/pids", "");
  host.cgroup_dir("/sys/fs/cgroup/memory/process_api/27dd88fb", "");
  host.cgroup_dir("/sys/fs/cgroup/unified", "");
}

// CentOS 7, Debian 9: v1 only, cpu and cpuacct share a hierarchy.
void pure_v1(FakeHost& host) {
  host.file("/proc/self/cgroup",
            "11:pids:/user.slice\n4:memory:/user.slice\n2:cpu,cpuacct:/user.slice\n"
            "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n");
  host.file("/proc/self/mountinfo",
            std::string(kRootShared) + kProcMount +
                "25 18 0:21 / /sys/fs/cgroup ro,nosuid shared:8 - tmpfs tmpfs ro,mode=755\n"
                "26 25 0:22 / /sys/fs/cgroup/systemd rw shared:9 - cgroup cgroup "
                "rw,xattr,name=systemd\n"
                "29 25 0:25 / /sys/fs/cgroup/pids rw shared:10 - cgroup cgroup rw,pids\n"
                "30 25 0:26 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory\n"
                "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:12 - cgroup cgroup "
                "rw,cpu,cpuacct\n");
  host.cgroup_dir("/sys/fs/cgroup/pids/user.slice", "");
  host.cgroup_dir("/sys/fs/cgroup/memory/user.slice", "");
  host.cgroup_dir("/sys/fs/cgroup/cpu,cpuacct/user.slice", "");
}

// A path through the kernel features in the lessons' order, as boxes that make their namespaces
// in a user namespace when the caller is not root would need them: these tests are about what
// the facts answer for each feature. What the real lessons need is read from their files (the
// tests at the end of this file).
std::vector<nslab::cli::LessonNeeds> feature_path() {
  std::vector<nslab::cli::LessonNeeds> path;
  for (int lesson = 0; lesson < 8; ++lesson) {
    std::vector<Need> needs;
    if (lesson >= 1) needs.push_back(Need::UtsNamespace);
    if (lesson >= 2) needs.insert(needs.end(), {Need::MountNamespace, Need::PivotRoot});
    if (lesson >= 3) needs.push_back(Need::PidNamespace);
    if (lesson == 4 || lesson == 7) needs.push_back(Need::UserNamespace);
    if (lesson == 5 || lesson == 7)
      needs.insert(needs.end(), {Need::PidsLimit, Need::MemoryLimit, Need::CpuLimit});
    if (lesson == 6 || lesson == 7) needs.insert(needs.end(), {Need::NetNamespace, Need::Veth});
    if (lesson == 7)
      needs.insert(needs.end(), {Need::IpcNamespace, Need::CgroupNamespace, Need::TimeNamespace});
    path.push_back({lesson, "Lesson " + std::to_string(lesson) + " · step", needs, ""});
  }
  return path;
}

std::vector<Answer> readiness(const HostFacts& facts) {
  std::vector<Answer> out;
  for (const auto& lesson : feature_path()) out.push_back(nslab::cli::judge(facts, lesson));
  return out;
}

std::vector<Verdict> verdicts(const HostFacts& facts) {
  std::vector<Verdict> out;
  for (const auto& answer : readiness(facts)) out.push_back(answer.verdict);
  return out;
}

std::string row_text(const HostFacts& facts, int lesson) {
  Answer a = readiness(facts).at(lesson);
  return "because " + a.because + " fix: " + a.fix;
}

nslab::cli::DoctorReport report_of(const HostFacts& facts, bool color) {
  return nslab::cli::doctor_report(facts, feature_path(), color);
}

// Does `text` hold `part`, once the report's line wrapping is undone?
bool has(const std::string& text, const std::string& part) {
  std::string flat;
  for (char c : text) {
    bool blank = c == ' ' || c == '\n';
    if (blank && !flat.empty() && flat.back() == ' ') continue;
    flat += blank ? ' ' : c;
  }
  return flat.find(part) != std::string::npos;
}

using Verdicts = std::vector<Verdict>;

}  // namespace

// --- Layouts -------------------------------------------------------------------------------------

TEST_CASE("pure cgroup v2 as root: every lesson works") {
  FakeHost host;
  host.kernel(true);
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.cgroup_layout == CgroupLayout::V2);
  CHECK(facts.cgroup2_mount == "/sys/fs/cgroup");
  REQUIRE(facts.controller("memory"));
  CHECK(facts.controller("memory")->home == ControllerHome::V2);
  CHECK(facts.controller("memory")->directory ==
        "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope");
  CHECK(verdicts(facts) == Verdicts{W, W, W, W, W, W, W, W});
}

TEST_CASE("pure cgroup v2, a normal user in a login session: namespaces rootless, no limits") {
  FakeHost host;
  host.kernel(false);
  host.file("/proc/sys/kernel/unprivileged_userns_clone", "1\n");  // Debian 12 has the switch, on
  // systemd gives a session scope to root, not to the user.
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  auto facts = probe_host(host.root(), as_user(other_uid()));
  CHECK_FALSE(facts.controller("pids")->delegated);
  CHECK(verdicts(facts) == Verdicts{W, R, R, R, R, X, X, X});
  CHECK(has(row_text(facts, 1), "--user --map-root"));
  CHECK(has(row_text(facts, 5), "systemd-run --user --scope -p Delegate=yes"));
  CHECK(has(row_text(facts, 6), "CAP_NET_ADMIN"));
}

TEST_CASE("pure cgroup v2, a user whose cgroup is delegated with pids, memory and cpu") {
  FakeHost host;
  host.kernel(false);
  std::string own = "/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope";
  pure_v2(host, own, "cpu memory pids", own_uid());
  auto facts = probe_host(host.root(), as_user(own_uid()));
  CHECK(facts.controller("cpu")->delegated);
  CHECK(verdicts(facts) == Verdicts{W, R, R, R, R, R, X, X});
  CHECK(has(row_text(facts, 5), "delegated to uid"));
}

TEST_CASE("Ubuntu 22.04's default delegation has no cpu: lesson 5 names cpu and the drop-in") {
  FakeHost host;
  host.kernel(false);
  std::string own = "/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope";
  pure_v2(host, own, "memory pids", own_uid());
  auto facts = probe_host(host.root(), as_user(own_uid()));
  CHECK(facts.controller("cpu")->on_host_only);
  CHECK(facts.controller("memory")->delegated);  // control: the others are fine
  CHECK(verdicts(facts)[5] == X);
  CHECK(has(row_text(facts, 5), "cpu"));
  CHECK(has(row_text(facts, 5), "Delegate="));
  CHECK_FALSE(has(row_text(facts, 5), "pids at its root"));
}

TEST_CASE("hybrid cgroups as on this build machine, as root: every lesson works") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.cgroup_layout == CgroupLayout::Hybrid);
  CHECK(facts.cgroup2_controllers.empty());
  CHECK(facts.controller("pids")->home == ControllerHome::V1);
  CHECK(facts.controller("memory")->directory == "/sys/fs/cgroup/memory/process_api/27dd88fb");
  CHECK(facts.controller("cpu")->directory == "/sys/fs/cgroup/cpu");
  CHECK_FALSE(facts.root_shared);
  CHECK(verdicts(facts) == Verdicts{W, W, W, W, W, W, W, W});
}

TEST_CASE("pure cgroup v1: root gets every lesson, a normal user no limits and a sudo fix") {
  FakeHost host;
  host.kernel(true);
  pure_v1(host);
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.cgroup_layout == CgroupLayout::V1);
  CHECK(facts.cgroup2_mount.empty());
  CHECK(facts.controller("cpu")->directory == "/sys/fs/cgroup/cpu,cpuacct/user.slice");
  CHECK(verdicts(facts) == Verdicts{W, W, W, W, W, W, W, W});

  FakeHost user_host;
  user_host.kernel(false);
  pure_v1(user_host);
  auto user = probe_host(user_host.root(), as_user(other_uid()));
  CHECK(verdicts(user) == Verdicts{W, R, R, R, R, X, X, X});
  CHECK(has(row_text(user, 5), "cgroup v1 is not delegated"));
}

// --- User namespaces switched off or restricted
// ---------------------------------------------------

TEST_CASE("Ubuntu 24.04's AppArmor restriction stops rootless lessons, not root") {
  FakeHost host;
  host.kernel(false);
  host.file("/proc/sys/kernel/unprivileged_userns_clone", "1\n");
  host.file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  auto user = probe_host(host.root(), as_user(other_uid()));
  CHECK(user.apparmor_restrict_unprivileged_userns == 1);
  CHECK(verdicts(user) == Verdicts{W, X, X, X, X, X, X, X});
  CHECK(has(row_text(user, 1), "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"));
  CHECK(has(row_text(user, 4), "AppArmor"));

  host.kernel(true);
  auto root = probe_host(host.root(), as_root());
  CHECK(verdicts(root) == Verdicts{W, W, W, W, W, W, W, W});
}

TEST_CASE("with the AppArmor switch at 0, the same user runs lessons 1 to 4 rootless") {
  FakeHost host;
  host.kernel(false);
  host.file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0\n");
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  auto user = probe_host(host.root(), as_user(other_uid()));
  CHECK(verdicts(user) == Verdicts{W, R, R, R, R, X, X, X});
}

TEST_CASE("max_user_namespaces 0 stops lesson 4 and 7 for root, and every namespace for a user") {
  FakeHost host;
  host.kernel(true);
  host.file("/proc/sys/user/max_user_namespaces", "0\n");
  hybrid(host);
  auto root = probe_host(host.root(), as_root());
  CHECK(root.max_namespaces.at("user") == 0);
  CHECK(verdicts(root) == Verdicts{W, W, W, W, X, W, W, X});
  CHECK(has(row_text(root, 4), "sudo sysctl -w user.max_user_namespaces="));

  host.kernel(false);
  host.file("/proc/sys/user/max_user_namespaces", "0\n");
  auto user = probe_host(host.root(), as_user(other_uid()));
  CHECK(verdicts(user) == Verdicts{W, X, X, X, X, X, X, X});
}

TEST_CASE("Debian's unprivileged_userns_clone 0 allows root only") {
  FakeHost host;
  host.kernel(false);
  host.file("/proc/sys/kernel/unprivileged_userns_clone", "0\n");
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  auto user = probe_host(host.root(), as_user(other_uid()));
  CHECK(verdicts(user)[1] == X);
  CHECK(has(row_text(user, 1), "kernel.unprivileged_userns_clone=1"));
}

TEST_CASE("root inside a container without CAP_SYS_ADMIN is treated as a normal user") {
  FakeHost host;
  host.kernel(false);  // euid 0, but CapEff is empty
  hybrid(host);
  auto facts = probe_host(host.root(), as_root());
  CHECK_FALSE(facts.privileged());
  CHECK(verdicts(facts)[1] == R);
  CHECK(verdicts(facts)[6] == X);
  CHECK(has(row_text(facts, 6), "without CAP_NET_ADMIN"));
}

// --- Other host quirks
// ------------------------------------------------------------------------------

TEST_CASE("a kernel without time namespaces fails lesson 7 only, and says 5.6") {
  FakeHost host;
  host.kernel(true);
  fs::remove(host.root() + "/proc/self/ns/time");
  hybrid(host);
  auto facts = probe_host(host.root(), as_root());
  CHECK_FALSE(facts.has_namespace("time"));
  CHECK(verdicts(facts) == Verdicts{W, W, W, W, W, W, W, X});
  CHECK(has(row_text(facts, 7), "5.6"));
}

TEST_CASE("a memory controller disabled at boot fails lesson 5 with the command-line fix") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  host.file("/proc/cgroups",
            "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\nmemory\t0\t1\t0\n"
            "pids\t8\t1\t1\n");
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.controller("memory")->disabled_at_boot);
  CHECK_FALSE(facts.controller("pids")->disabled_at_boot);
  CHECK(verdicts(facts)[5] == X);
  CHECK(has(row_text(facts, 5), "cgroup_enable=memory"));
}

TEST_CASE("a read-only cgroup filesystem fails lesson 5 even for root") {
  FakeHost host;
  host.kernel(true);
  host.file("/proc/self/cgroup", "0::/\n");
  host.file("/proc/self/mountinfo",
            std::string(kRootShared) +
                "28 25 0:25 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  host.cgroup_dir("/sys/fs/cgroup", "cpu memory pids");
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.controller("pids")->read_only);
  CHECK(verdicts(facts)[5] == X);
  CHECK(has(row_text(facts, 5), "read-only"));
}

TEST_CASE("a missing pids controller is named, with a way to mount it") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  // The same host with no pids hierarchy at all.
  host.file("/proc/self/cgroup", "4:memory:/process_api/27dd88fb\n1:cpu:/\n0::/\n");
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.controller("pids")->home == ControllerHome::Missing);
  CHECK(facts.controller("cpu")->home == ControllerHome::V1);
  CHECK(verdicts(facts)[5] == X);
  CHECK(has(row_text(facts, 5), "no pids controller"));
}

TEST_CASE("an initramfs root fails lesson 2 and what builds on it, with the reason") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  host.file("/proc/self/mountinfo", "1 1 0:2 / / rw - rootfs rootfs rw\n" +
                                        std::string("41 1 0:38 / /sys/fs/cgroup/unified rw - "
                                                    "cgroup2 cgroup2 rw\n"));
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.root_fstype == "rootfs");
  auto v = verdicts(facts);
  CHECK(v[1] == W);
  CHECK(v[2] == X);
  CHECK(has(row_text(facts, 2), "pivot_root"));
}

TEST_CASE("a shared / is found with its peer group, a private / is not called shared") {
  FakeHost host;
  host.kernel(true);
  pure_v2(host, "/init.scope", "cpu memory pids");
  auto shared = probe_host(host.root(), as_root());
  CHECK(shared.root_mount_found);
  CHECK(shared.root_shared);
  CHECK(shared.root_peer_group == "1");
  auto report = report_of(shared, false).text;
  CHECK(has(report, "shared (peer group 1)"));
  CHECK(has(report, "private in the box"));

  host.file("/proc/self/mountinfo", "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
  auto priv = probe_host(host.root(), as_root());
  CHECK(priv.root_mount_found);
  CHECK_FALSE(priv.root_shared);
}

TEST_CASE("the veth driver is looked for in sysfs and in the kernel's module lists") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  CHECK(probe_host(host.root(), as_root()).veth_driver == LinkDriver::Unknown);
  host.file("/lib/modules/6.1.0-18-amd64/modules.dep", "kernel/drivers/net/dummy.ko:\n");
  auto absent = probe_host(host.root(), as_root());
  CHECK(absent.veth_driver == LinkDriver::Absent);
  CHECK(verdicts(absent)[6] == X);
  CHECK(has(row_text(absent, 6), "modprobe veth"));
  host.file("/lib/modules/6.1.0-18-amd64/modules.dep",
            "kernel/drivers/net/dummy.ko:\nkernel/drivers/net/veth.ko:\n");
  auto present = probe_host(host.root(), as_root());
  CHECK(present.veth_driver == LinkDriver::Present);
  // The bridge driver, for lesson 9: missing from the lists, then loaded.
  nslab::cli::LessonNeeds bridged{9, "Lesson 9", {Need::NetNamespace, Need::Veth, Need::Bridge}, ""};
  CHECK(present.bridge_driver == LinkDriver::Absent);
  Answer without = nslab::cli::judge(present, bridged);
  CHECK(without.verdict == X);
  CHECK(has(without.fix, "modprobe bridge"));
  host.file("/sys/module/bridge/refcnt", "0\n");
  auto loaded = probe_host(host.root(), as_root());
  CHECK(loaded.bridge_driver == LinkDriver::Present);
  CHECK(nslab::cli::judge(loaded, bridged).verdict != X);
}

// --- The report ---------------------------------------------------------------------------------

TEST_CASE("the report fits 80 columns and its status follows the rows") {
  FakeHost host;
  host.kernel(false);
  host.file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n");
  pure_v2(host, "/user.slice/user-1000.slice/user@1000.service/app.slice/a-long-name.scope",
          "memory pids");
  auto facts = probe_host(host.root(), as_user(other_uid()));
  auto report = report_of(facts, false);
  CHECK(report.status == 1);
  std::istringstream lines(report.text);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) CHECK_MESSAGE(line.size() <= 80, line);
  CHECK(count > 20);
  CHECK(has(report.text, "won't"));
  CHECK(has(report.text, "fix: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"));
  CHECK_FALSE(has(report.text, "\x1b["));

  FakeHost good;
  good.kernel(true);
  hybrid(good);
  CHECK(report_of(probe_host(good.root(), as_root()), false).status == 0);
}

TEST_CASE("verdicts are colored only when asked, and rootless rows say so") {
  FakeHost host;
  host.kernel(false);
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  auto facts = probe_host(host.root(), as_user(other_uid()));
  auto colored = report_of(facts, true).text;
  CHECK(has(colored, "\x1b[31mwon't\x1b[0m"));
  CHECK(has(colored, "\x1b[33mworks rootless (via a user namespace)\x1b[0m"));
  CHECK_FALSE(has(report_of(facts, false).text, "\x1b["));
}

TEST_CASE(
    "colors: on a terminal unless NO_COLOR is set and not empty, and always or never override "
    "both") {
  using nslab::cli::use_color;
  CHECK(use_color("auto", true, nullptr));
  CHECK_FALSE(use_color("auto", true, "1"));
  CHECK(use_color("auto", true, ""));
  CHECK_FALSE(use_color("auto", false, nullptr));
  CHECK(use_color("always", false, "1"));
  CHECK_FALSE(use_color("never", true, nullptr));
}

TEST_CASE("doctor's command line takes --color and refuses an unknown mode") {
  CLI::App app;
  nslab::cli::DoctorOptions options;
  CLI::App* doctor = nslab::cli::setup_doctor(app, options);
  app.parse("doctor --color never");
  CHECK(doctor->parsed());
  CHECK(options.color == "never");

  CLI::App bad_app;
  nslab::cli::DoctorOptions bad;
  nslab::cli::setup_doctor(bad_app, bad);
  CHECK_THROWS_AS(bad_app.parse("doctor --color purple"), CLI::ValidationError);
}

TEST_CASE("run_doctor on a fake tree prints the report and exits 1 when a lesson won't run") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  host.file(
      "/lib/modules/" + std::string(kFakeRelease) + "/modules.dep",
      "kernel/drivers/net/dummy.ko:\n");  // no veth: lesson 6 fails whoever runs this
  nslab::cli::DoctorOptions options{.color = "never", .root = host.root()};
  auto run = testing::capture([&] { return nslab::cli::run_doctor(options); });
  CHECK(run.status == 1);
  CHECK(has(run.out, "Lessons"));
  CHECK(has(run.out, "modprobe veth"));
}

// --- This host, for real ------------------------------------------------------------------------

namespace {

// /proc/self/cgroup read here, independently: controller -> path, for the v1 lines.
std::map<std::string, std::string> v1_memberships() {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    std::stringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (!c.empty()) out[c] = path;
  }
  return out;
}

// The fstype column of /proc/self/mounts (not mountinfo, which the probe reads).
bool mounted(const std::string& fstype, const std::string& option = "") {
  std::ifstream in("/proc/self/mounts");
  for (std::string source, target, type, options, a, b;
       in >> source >> target >> type >> options >> a >> b;)
    if (type == fstype &&
        (option.empty() || ("," + options + ",").find("," + option + ",") != std::string::npos))
      return true;
  return false;
}

bool lists_pid(const std::string& procs_file, pid_t pid) {
  std::ifstream in(procs_file);
  for (pid_t p; in >> p;)
    if (p == pid) return true;
  return false;
}

}  // namespace

TEST_CASE("on this host the probe agrees with the kernel's own files") {
  auto facts = probe_host("/", current_caller());
  utsname u;
  REQUIRE(::uname(&u) == 0);
  CHECK(facts.kernel_release == u.release);
  CHECK(facts.privileged() == (::geteuid() == 0));
  for (std::string kind : {"uts", "mnt", "pid", "ipc", "user", "cgroup", "net", "time"})
    CHECK_MESSAGE(
        facts.has_namespace(kind) == (::access(("/proc/self/ns/" + kind).c_str(), F_OK) == 0),
        kind);

  bool v2 = mounted("cgroup2");
  bool v1 = mounted("cgroup", "pids") || mounted("cgroup", "memory") || mounted("cgroup", "cpu");
  CHECK(facts.cgroup_layout == (v1 && v2 ? CgroupLayout::Hybrid
                                : v1     ? CgroupLayout::V1
                                : v2     ? CgroupLayout::V2
                                         : CgroupLayout::None));
  auto memberships = v1_memberships();
  REQUIRE(facts.controllers.size() == 3);
  for (const auto& c : facts.controllers) {
    CAPTURE(c.name);
    bool in_v1 = memberships.count(c.name) && mounted("cgroup", c.name);
    CHECK((c.home == ControllerHome::V1) == in_v1);
    if (c.home == ControllerHome::Missing) continue;
    REQUIRE_FALSE(c.directory.empty());
    // The strongest check: the directory found is the one this very process is counted in.
    CHECK(lists_pid(c.directory + "/cgroup.procs", ::getpid()));
    if (in_v1 && memberships[c.name] != "/") {
      CHECK(c.directory.ends_with(memberships[c.name]));
      // Negative control: the parent of a nested cgroup does not list this process.
      CHECK_FALSE(
          lists_pid(fs::path(c.directory).parent_path().string() + "/cgroup.procs", ::getpid()));
    }
  }
}

TEST_CASE("on this host as root, every lesson works and nslab doctor exits 0") {
  if (::geteuid() != 0) {
    MESSAGE(
        "skipped: the real run expects root (CI runs as root); this host's rows are only "
        "all \"works\" for root");
    return;
  }
  auto facts = probe_host("/", current_caller());
  for (const auto& lesson : nslab::cli::needs_of_lessons(NSLAB_SOURCE_DIR "/lessons")) {
    Answer answer = nslab::cli::judge(facts, lesson);
    CHECK_MESSAGE(answer.verdict == Verdict::Works,
                  "lesson " << lesson.number << ": " << answer.because << " / " << answer.fix);
  }
  // This machine has each limit controller on v1 and cgroup2 with none (see the hybrid test).
  for (const auto& c : facts.controllers) CHECK(c.home == ControllerHome::V1);

  nslab::cli::DoctorOptions options{.color = "auto"};
  auto run = testing::capture([&] { return nslab::cli::run_doctor(options); });
  CHECK(run.status == 0);
  CHECK(has(run.out, "Every lesson can run here."));
  CHECK_FALSE(has(run.out, "\x1b["));  // stdout is a file here, not a terminal

  // Negative control: the same facts without CAP_NET_ADMIN fail lesson 6 and the status.
  facts.cap_net_admin = false;
  CHECK(nslab::cli::doctor_report(facts, nslab::cli::needs_of_lessons(NSLAB_SOURCE_DIR "/lessons"),
                                  false)
            .status == 1);
}

TEST_CASE("under sudo the invoking uid is read from SUDO_UID, and a malformed one is ignored") {
  const char* saved = std::getenv("SUDO_UID");
  std::string saved_value = saved ? saved : "";
  const char* saved_gid = std::getenv("SUDO_GID");
  std::string saved_gid_value = saved_gid ? saved_gid : "";
  ::setenv("SUDO_UID", "1234", 1);
  ::setenv("SUDO_GID", "1234", 1);
  // Only root's SUDO_UID counts: a user who sets it is still that user.
  CHECK(current_caller().invoking_uid == (::getuid() == 0 ? uid_t{1234} : ::getuid()));
  CHECK(current_caller().through_sudo() == (::getuid() == 0));
  ::setenv("SUDO_UID", "12x", 1);
  CHECK(current_caller().invoking_uid == ::getuid());
  CHECK_FALSE(current_caller().through_sudo());
  if (saved_gid) {
    ::setenv("SUDO_GID", saved_gid_value.c_str(), 1);
  } else {
    ::unsetenv("SUDO_GID");
  }
  if (saved) {
    ::setenv("SUDO_UID", saved_value.c_str(), 1);
  } else {
    ::unsetenv("SUDO_UID");
  }

  FakeHost host;
  host.kernel(true);
  hybrid(host);
  Caller who = as_root();
  who.invoking_uid = 1234;
  CHECK(has(report_of(probe_host(host.root(), who), false).text,
            "through sudo from uid 1234"));
}

// --- The pre-check of nslab run ------------------------------------------------------------------

namespace {

Spec spec_for(bool pivot, bool limits, bool veth) {
  Spec s;
  s.uts = s.mount = s.pid = s.proc = s.ipc = true;
  s.pivot = pivot;
  if (limits) {
    s.limits.pids_max = 64;
    s.limits.memory_bytes = 64u << 20;
    s.limits.cpu = cgroup::CpuQuota{50000, 100000};
  }
  s.net = s.veth = veth;
  return s;
}

}  // namespace

TEST_CASE("a box's flags map to what they need of the host, in the order of the lessons") {
  CHECK(box_needs(Spec{}).empty());
  CHECK(box_needs(spec_for(true, true, true)) ==
        std::vector<Need>{Need::UtsNamespace, Need::MountNamespace, Need::PivotRoot,
                          Need::PidNamespace, Need::PidsLimit, Need::MemoryLimit, Need::CpuLimit,
                          Need::NetNamespace, Need::Veth, Need::IpcNamespace,
                          Need::RootNamespaces});
  Spec all;
  all.user = all.cgroup = all.time = true;
  all.hostname = "tinyhost";
  all.rootfs_dir = "/srv/rootfs";
  CHECK(box_needs(all) == std::vector<Need>{Need::UtsNamespace, Need::PivotRoot,
                                            Need::UserNamespace, Need::CgroupNamespace,
                                            Need::TimeNamespace});
  CHECK(need_flag(Need::PidsLimit) == "--pids");
  CHECK(need_flag(Need::Veth) == "--veth");
  CHECK(need_flag(Need::Bridge) == "--bridge");
  // Who may make it: a range map is root's; a map of one id is anyone's (control).
  Spec ranges;
  ranges.user = true;
  ranges.uid_map = {{0, 100000, 65536}};
  CHECK(box_needs(ranges) == std::vector<Need>{Need::UserNamespace, Need::IdRanges});
  ranges.uid_map = {{0, 1000, 1}};
  CHECK(box_needs(ranges) == std::vector<Need>{Need::UserNamespace});
}

TEST_CASE("pre-check: a host without a pids controller refuses --pids, naming it and the fix") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  host.file("/proc/self/cgroup", "4:memory:/process_api/27dd88fb\n1:cpu:/\n0::/\n");
  Spec spec = spec_for(true, true, false);
  auto needs = box_needs(spec);
  auto refused = precheck(probe_host(host.root(), as_root(), needs), needs);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().step == "pre-check");
  CHECK(has(refused.error().call, "--pids cannot work on this host: no pids controller"));
  CHECK(has(refused.error().hint, "mount -t cgroup -o pids"));
  // Control: the same host takes a box without --pids.
  spec.limits.pids_max.reset();
  needs = box_needs(spec);
  auto met = precheck(probe_host(host.root(), as_root(), needs), needs);
  CHECK_MESSAGE(met.ok(), (met.ok() ? "" : met.error().message()));
}

TEST_CASE("pre-check: the facts read for a box give the verdicts the whole probe gives") {
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  host.file("/proc/sys/user/max_ipc_namespaces", "0\n");  // one namespace switched off
  auto full = probe_host(host.root(), as_user(other_uid()));
  for (Need need : box_needs(spec_for(true, true, true))) {
    CAPTURE(need_flag(need));
    auto part = probe_host(host.root(), as_user(other_uid()), {need});
    CHECK(meet(part, need).verdict == meet(full, need).verdict);
    CHECK(meet(part, need).because == meet(full, need).because);
  }
  auto needs = box_needs(spec_for(false, false, false));
  auto refused = precheck(probe_host(host.root(), as_root(), needs), needs);
  REQUIRE_FALSE(refused.ok());
  CHECK(has(refused.error().call, "--ipc cannot work on this host: user.max_ipc_namespaces is 0"));
}

TEST_CASE("pre-check: rootless namespaces pass, a veth as a normal user does not") {
  FakeHost host;
  host.kernel(false);
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  Spec spec;
  spec.user = spec.map_root = spec.uts = spec.mount = spec.pivot = true;
  auto needs = box_needs(spec);
  CHECK(precheck(probe_host(host.root(), as_user(other_uid()), needs), needs).ok());
  spec.veth = spec.net = true;
  needs = box_needs(spec);
  auto refused = precheck(probe_host(host.root(), as_user(other_uid()), needs), needs);
  REQUIRE_FALSE(refused.ok());
  CHECK(has(refused.error().call, "--veth cannot work on this host"));
  CHECK(has(refused.error().call, "CAP_NET_ADMIN"));
}

TEST_CASE("v2: a delegated cgroup shared with other processes won't take limits, one alone will") {
  FakeHost host;
  host.kernel(false);
  std::string own = "/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope";
  pure_v2(host, own, "cpu memory pids", own_uid());
  host.file("/sys/fs/cgroup" + own + "/cgroup.procs", "4242\n77\n");
  Caller who = as_user(own_uid());
  who.pid = 4242;
  auto shared = probe_host(host.root(), who);
  CHECK(shared.controller("pids")->sharing == std::vector<pid_t>{77});
  CHECK(meet(shared, Need::PidsLimit).verdict == X);
  CHECK(has(meet(shared, Need::PidsLimit).fix, "systemd-run --user --scope -p Delegate=yes"));
  // The judgement is the runner's own placement rule on the same three files.
  REQUIRE(shared.controller("pids")->v2_own);
  CHECK(cgroup::choose_v2(*shared.controller("pids")->v2_own, who) == cgroup::V2Choice::Shared);
  // Control: the runner alone in its delegated cgroup (the fix above) moves itself aside.
  host.file("/sys/fs/cgroup" + own + "/cgroup.procs", "4242\n");
  auto alone = probe_host(host.root(), who);
  CHECK(alone.controller("pids")->sharing.empty());
  CHECK(meet(alone, Need::PidsLimit).verdict == R);
  REQUIRE(alone.controller("pids")->v2_own);
  CHECK(cgroup::choose_v2(*alone.controller("pids")->v2_own, who) ==
        cgroup::V2Choice::MoveRunner);
  // The same shared cgroup judged for root: boxes go under the root cgroup.
  Caller root = who;
  root.euid = 0;
  root.privileged = true;
  CHECK(meet(probe_host(host.root(), root), Need::PidsLimit).verdict == W);
}

TEST_CASE("v2 as root: a controller not offered to the runner's cgroup works from the root") {
  FakeHost host;
  host.kernel(true);
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "memory pids");
  auto facts = probe_host(host.root(), as_root());
  CHECK(facts.controller("cpu")->on_host_only);
  CHECK(meet(facts, Need::CpuLimit).verdict == W);
}

TEST_CASE("pre-check: this host accepts every flag nslab has, as root") {
  if (::geteuid() != 0) {
    testing::skip("not root (CI runs as root); as a user the refusals are the point");
    return;
  }
  Spec spec = spec_for(true, true, true);
  spec.user = spec.map_root = spec.cgroup = spec.time = true;
  auto needs = box_needs(spec);
  auto met = precheck(probe_host("/", current_caller(), needs), needs);
  CHECK_MESSAGE(met.ok(), (met.ok() ? "" : met.error().message()));
}

// --- The real lessons' needs, read from their flags blocks -------------------------------------

namespace {

const nslab::cli::LessonNeeds& real_lesson(const std::vector<nslab::cli::LessonNeeds>& all, int n) {
  for (const auto& lesson : all)
    if (lesson.number == n) return lesson;
  FAIL("no lesson " << n << " in " << NSLAB_SOURCE_DIR "/lessons");
  return all.front();
}

bool needs(const nslab::cli::LessonNeeds& lesson, Need need) {
  return std::find(lesson.needs.begin(), lesson.needs.end(), need) != lesson.needs.end();
}

}  // namespace

TEST_CASE("a lesson's needs come from its own flags blocks, challenge included") {
  auto all = nslab::cli::needs_of_lessons(NSLAB_SOURCE_DIR "/lessons");
  REQUIRE(all.size() >= 8);
  for (const auto& lesson : all) CHECK_MESSAGE(lesson.problem.empty(), lesson.problem);
  CHECK(real_lesson(all, 0).needs.empty());
  CHECK(needs(real_lesson(all, 1), Need::UtsNamespace));
  CHECK(needs(real_lesson(all, 1), Need::UserNamespace));     // --user --map-root: no root
  CHECK_FALSE(needs(real_lesson(all, 1), Need::RootNamespaces));
  CHECK_FALSE(needs(real_lesson(all, 1), Need::PivotRoot));   // control: lesson 2's
  CHECK(needs(real_lesson(all, 4), Need::IdRanges));          // --map-range
  CHECK_FALSE(needs(real_lesson(all, 4), Need::RootNamespaces));  // every box has --user
  CHECK(needs(real_lesson(all, 7), Need::RootNamespaces));    // its box without --user
  // Lesson 5 puts the box in a cgroup namespace (its last step and challenge): the doctor must
  // judge that too, not only the limits.
  CHECK(needs(real_lesson(all, 5), Need::CgroupNamespace));
  CHECK(needs(real_lesson(all, 5), Need::PidsLimit));
  CHECK(needs(real_lesson(all, 6), Need::Veth));
  CHECK_FALSE(needs(real_lesson(all, 6), Need::Bridge));
  CHECK(needs(real_lesson(all, 9), Need::Bridge));
  CHECK(needs(real_lesson(all, 7), Need::TimeNamespace));
}

TEST_CASE("the real lessons on pure v2: root runs them all, a user in a session lessons 0 to 3") {
  auto all = nslab::cli::needs_of_lessons(NSLAB_SOURCE_DIR "/lessons");
  FakeHost host;
  host.kernel(true);
  pure_v2(host, "/user.slice/user-1000.slice/session-3.scope", "cpu memory pids");
  auto root = probe_host(host.root(), as_root());
  for (const auto& lesson : all)
    CHECK_MESSAGE(nslab::cli::judge(root, lesson).verdict == W, "lesson " << lesson.number);
  CHECK(nslab::cli::doctor_report(root, all, false).status == 0);

  host.kernel(false);
  auto user = probe_host(host.root(), as_user(other_uid()));
  for (int number : {0, 1, 2, 3})
    CHECK_MESSAGE(nslab::cli::judge(user, real_lesson(all, number)).verdict != X, "lesson " << number);
  // Lesson 4 maps a range: a user without one in /etc/subuid is sent to sudo, or to root for a
  // range of its own.
  Answer four = nslab::cli::judge(user, real_lesson(all, 4));
  CHECK(four.verdict == X);
  CHECK(has(four.because, "/etc/subuid"));
  CHECK(has(four.fix, "sudo"));
  CHECK(has(four.fix, "usermod --add-subuids"));
  Answer seven = nslab::cli::judge(user, real_lesson(all, 7));
  CHECK(seven.verdict == X);
  auto report = nslab::cli::doctor_report(user, all, false);
  CHECK(report.status == 1);

  // One answer to "does it need sudo here", asked of the same facts as the user and as root.
  CHECK(nslab::cli::lesson_here(user, real_lesson(all, 4)).needs_sudo);
  CHECK_FALSE(nslab::cli::lesson_here(user, real_lesson(all, 1)).needs_sudo);  // control
  CHECK(nslab::cli::root_only(user, real_lesson(all, 4)));
  CHECK(nslab::cli::root_only(root, real_lesson(all, 4)));  // root's facts seen as a user's
  CHECK_FALSE(nslab::cli::root_only(root, real_lesson(all, 3)));
  CHECK_FALSE(nslab::cli::lesson_here(root, real_lesson(all, 4)).needs_sudo);  // root is root

  // With a range of its own but no helpers: install uidmap. With both: lesson 4 is rootless.
  host.file("/etc/subuid", fmt::format("someone:100000:65536\n{}:165536:65536\n", other_uid()));
  host.file("/etc/subgid", fmt::format("someone:100000:65536\n{}:165536:65536\n", other_uid()));
  auto ranged = probe_host(host.root(), as_user(other_uid()));
  CHECK(has(nslab::cli::judge(ranged, real_lesson(all, 4)).fix, "uidmap"));
  for (const char* helper : {"/usr/bin/newuidmap", "/usr/bin/newgidmap"}) {
    host.file(helper, "");
    ::chmod((host.root() + helper).c_str(), 04755);
  }
  auto helped = probe_host(host.root(), as_user(other_uid()));
  CHECK(nslab::cli::judge(helped, real_lesson(all, 4)).verdict != X);
  CHECK_FALSE(nslab::cli::lesson_here(helped, real_lesson(all, 4)).needs_sudo);
  CHECK(nslab::cli::lesson_here(helped, real_lesson(all, 7)).needs_sudo);  // control
}

TEST_CASE("a lesson whose flags block is malformed is named as broken, not judged") {
  nslab::cli::LessonNeeds broken{3, "Lesson 3 · x", {}, "line 9: flags `--pids`: missing value"};
  FakeHost host;
  host.kernel(true);
  hybrid(host);
  Answer a = nslab::cli::judge(probe_host(host.root(), as_root()), broken);
  CHECK(a.verdict == X);
  CHECK(has(a.because, "line 9"));
  auto spec = nslab::cli::spec_from_words({"--uts", "--no-such-flag"});
  REQUIRE_FALSE(spec.ok());
  CHECK(has(spec.error().message(), "--no-such-flag"));
  CHECK(nslab::cli::spec_from_words({"--uts", "--hostname", "tinyhost"}).ok());  // control
}
