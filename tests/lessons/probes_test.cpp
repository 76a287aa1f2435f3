// The standard probes: each summary from real outputs of tinysh (and odd ones: errors, empty,
// no /proc), what counts as a difference and as a change, the table at 80 and 120 columns. Then,
// as root, real boxes: --uts --hostname tinyhost against a box with no flags at all (nothing may
// differ there), and a pivoted box without /proc.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "probes.h"
#include "process.h"
#include "text_lines.h"

using namespace nslab::lessons;

namespace {

using testing::line_with;
using testing::split_lines;
using testing::without_colors;

int widest_line(const std::string& text) {
  int w = 0;
  for (const auto& l : split_lines(without_colors(text))) w = std::max(w, display_width(l));
  return w;
}

const ProbeRow* row_of(const ProbeTable& t, const std::string& probe) {
  for (const auto& r : t.rows)
    if (r.probe == probe) return &r;
  return nullptr;
}

// Outputs as tinysh prints them on this kind of host.
const std::string kHostLs =
    "bin\nboot\ncontainer_info.json\ndev\netc\nhome\nlib\nlib64\nmedia\nmnt\nopt\nproc\nroot\n"
    "run\nsbin\nsrv\nsys\ntmp\nusr\nvar\n";
const std::string kBoxLs = "NSLAB-ROOTFS\nbin\ndev\netc\nproc\nroot\ntmp\n";
const std::string kHostPs =
    "  PID  PPID USER STAT CMD\n"
    "    1     0 root S    /sbin/init splash\n"
    "    2     0 root S    [kthreadd]\n"
    "    3     2 root I    [rcu_gp]\n"
    " 1021     1 root S    /usr/sbin/sshd -D\n"
    "20646 20641 root S    nslab run --uts\n";
const std::string kBoxPs =
    "PID PPID USER STAT CMD\n"
    "  1    0 root S    tinysh\n"
    "  7    1 root R    spawn 3\n";
const std::string kNoProcPs =
    "ps: /proc has no process directories: /proc is not mounted here; mount it with: mount -t "
    "proc proc /proc\n";
const std::string kNoProcDirPs =
    "ps: opendir(\"/proc\"): No such file or directory — there is no /proc directory; create it "
    "with mkdir /proc, then mount -t proc proc /proc\n";
const std::string kHostNs =
    "cgroup            4026531835\n"
    "ipc               4026531839\n"
    "mnt               4026531832\n"
    "net               4026531833\n"
    "pid               4026531836\n"
    "pid_for_children  4026531836\n"
    "time              4026531834\n"
    "time_for_children 4026531834\n"
    "user              4026531837\n"
    "uts               4026531838\n";
const std::string kUtsMntNs =
    "cgroup            4026531835\n"
    "ipc               4026531839\n"
    "mnt               4026532177\n"
    "net               4026531833\n"
    "pid               4026531836\n"
    "pid_for_children  4026531836\n"
    "time              4026531834\n"
    "time_for_children 4026531834\n"
    "user              4026531837\n"
    "uts               4026532178\n";
const std::string kAllButTimeNs =
    "cgroup            4026532322\n"
    "ipc               4026532251\n"
    "mnt               4026532249\n"
    "net               4026532253\n"
    "pid               4026532252\n"
    "pid_for_children  4026532252\n"
    "time              4026531834\n"
    "time_for_children 4026531834\n"
    "user              4026532182\n"
    "uts               4026532250\n";
const std::string kHostCgroupReport =
    "cgroup v1  pids    /user.slice/user-1000.slice          pids 41 of max 9000\n"
    "cgroup v1  memory  /user.slice/user-1000.slice/session-2.scope  memory 424.6 MiB, no "
    "limit\n"
    "cgroup v1  cpu     /                                     cpu no limit\n"
    "cgroup v1  other   /user.slice/user-1000.slice/session-2.scope/extra  name=systemd\n"
    "cgroup v2  -       /user.slice/user-1000.slice/session-2.scope/extra  (no pids, memory or "
    "cpu controller here)\n";
const std::string kBoxCgroupProcLines =
    "9:name=systemd:/user.slice/user-1000.slice/session-2.scope/extra\n"
    "8:pids:/nslab-box-21338\n"
    "7:blkio:/\n"
    "4:memory:/process_api/20159d1ff8f50d066a7e6ca6cce60e55/nslab-box-21338\n"
    "1:cpu,cpuacct:/nslab-box-21338\n"
    "0::/\n"
    "cgroup: limits are not visible without a cgroup filesystem mounted here; to mount one: "
    "mkdir -p /sys/fs/cgroup/pids; mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids\n";
const std::string kHostIfaces =
    "1: lo  UP  mtu 65536\n"
    "   inet 127.0.0.1/8\n"
    "   inet6 ::1/128\n"
    "2: ifb0  DOWN  mtu 1500  mac 16:77:9e:02:42:59\n"
    "3: ifb1  DOWN  mtu 1500  mac 32:bf:cc:3d:99:93\n"
    "4: eth0  UP LOWER_UP  mtu 1400  mac 02:fc:00:00:00:01\n"
    "   inet 192.0.2.2/24\n"
    "   inet6 fd00::2/64\n"
    "   inet6 fe80::fc:ff:fe00:1/64  link-local\n";
const std::string kEmptyNetIfaces =
    "1: lo  DOWN  mtu 65536\n"
    "only the loopback interface, and it is down: this network namespace is empty\n";
const std::string kVethIfaces =
    "1: lo  UP  mtu 65536\n"
    "   inet 127.0.0.1/8\n"
    "2: eth0  UP LOWER_UP  mtu 1500  mac 8a:66:39:9c:6d:24\n"
    "   inet 10.213.77.118/30\n"
    "   inet6 fe80::8866:39ff:fe9c:6d24/64  link-local  tentative (duplicate address detection "
    "running: not usable yet)\n";

// A table as a lesson would see it: rows set by hand.
ProbeTable table(std::vector<ProbeRow> rows) {
  return ProbeTable{std::move(rows)};
}

}  // namespace

// ---- summaries --------------------------------------------------------------------------------

TEST_CASE("hostname: the name, and the odd cases") {
  CHECK(summarise_hostname("tinyhost\n") == "tinyhost");
  CHECK(summarise_hostname("  vm \r\n") == "vm");
  CHECK(summarise_hostname("") == "(empty)");
  CHECK(summarise_hostname("tinysh: hostname: command not found\n") == "no such command");
  CHECK(display_width(summarise_hostname(std::string(100, 'h'))) <= kProbeCellColumns);
}

TEST_CASE("ls: a few entries and the count, within one cell") {
  CHECK(summarise_ls("bin\ndev\netc\n") == "bin dev etc (3 entries)");
  CHECK(summarise_ls("bin\n") == "bin (1 entry)");
  CHECK(summarise_ls(kHostLs) == "bin boot … (20 entries)");
  CHECK(summarise_ls(kBoxLs) == "NSLAB-ROOTFS bin … (7 entries)");
  CHECK(summarise_ls("") == "(empty)");
  CHECK(summarise_ls("ls: /: Permission denied\n") == "error: /: Permission denied");
  std::string long_first = std::string(40, 'x') + "\nbin\n";
  CHECK(summarise_ls(long_first) == "(2 entries)");
  CHECK(display_width(summarise_ls(kHostLs)) <= kProbeCellColumns);
}

TEST_CASE("ps: the number of processes and whose PID 1 it is, or no /proc") {
  CHECK(summarise_ps(kHostPs) == "5 processes, PID 1 init");
  CHECK(summarise_ps(kBoxPs) == "2 processes, PID 1 tinysh");
  CHECK(summarise_ps("PID PPID USER STAT CMD\n  1    0 root R    tinysh -c ps\n") ==
        "1 process, PID 1 tinysh");
  CHECK(summarise_ps(kNoProcPs) == "no /proc");
  CHECK(summarise_ps(kNoProcDirPs) == "no /proc");
  CHECK(summarise_ps("PID PPID USER STAT CMD\n") == "no processes listed");
  CHECK(summarise_ps("  PID PPID USER STAT CMD\n   12    0 root S [kthreadd]\n") ==
        "1 process, no PID 1");
  CHECK(summarise_ps("    1     0 root S    [kthread/0:1] x\n") ==
        "1 process, PID 1 [kthread/0:1]");
  // A long name is cut to the cell.
  CHECK(summarise_ps("    1     0 root S    /opt/a-very-long-program-name-for-pid-one --flag\n") ==
        "1 process, PID 1 a-very-long-pr…");
}

TEST_CASE("id: only the uid with its name") {
  CHECK(summarise_id("uid=0(root) gid=0(root) groups=0(root)\n") == "uid=0(root)");
  CHECK(summarise_id("uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n") ==
        "uid=65534(nobody)");
  CHECK(summarise_id("") == "(empty)");
}

TEST_CASE("ns: which namespaces are the box's own, compared id by id with the host's") {
  CHECK(summarise_ns(kHostNs, kHostNs) == "all the host's");
  CHECK(summarise_ns(kUtsMntNs, kHostNs) == "own: uts mnt");
  CHECK(summarise_ns(kAllButTimeNs, kHostNs) == "all its own but time");
  // Only pid_for_children new (after unshare(CLONE_NEWPID) the caller stays where it was).
  std::string for_children = kHostNs;
  for_children.replace(for_children.find("pid_for_children  4026531836"),
                       std::string("pid_for_children  4026531836").size(),
                       "pid_for_children  4026532999");
  CHECK(summarise_ns(for_children, kHostNs) == "own: pid");
  CHECK(summarise_ns(kHostNs, kAllButTimeNs) == "all its own but time");  // symmetric
  CHECK(summarise_ns("ns: /proc/self/ns/: No such file or directory — /proc is not mounted "
                     "here; mount it with: mount -t proc proc /proc\n",
                     kHostNs) == "no /proc");
  CHECK(summarise_ns("time              (not in this kernel)\nuts 4026532178\n",
                     "uts 4026531838\n") == "all its own");
  CHECK(summarise_ns(kHostNs, "") == "no host ids to compare");
}

TEST_CASE("cgroup: the deepest path of the limited controllers, shortened from the left") {
  CHECK(summarise_cgroup(kHostCgroupReport) == "…/session-2.scope");
  CHECK(summarise_cgroup(kBoxCgroupProcLines) == "…/nslab-box-21338");
  CHECK(summarise_cgroup("0::/\n") == "/");
  CHECK(summarise_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n") ==
        "…/session-2.scope");
  CHECK(summarise_cgroup("0::/user.slice/session-2.scope\n") == "/user.slice/session-2.scope");
  CHECK(summarise_cgroup("cgroup v2  pids    /nslab/nslab-box-7  pids 2 of max 10\n"
                         "cgroup v2  memory  /nslab/nslab-box-7  memory 1 MiB\n") ==
        "/nslab/nslab-box-7");
  CHECK(summarise_cgroup("cgroup: cannot read /proc/self/cgroup: No such file or directory — is "
                         "/proc mounted? (mount -t proc proc /proc)\n") == "no /proc");
  CHECK(summarise_cgroup("") == "(no cgroup listed)");
  // A last component longer than the cell keeps its end.
  std::string hashed = summarise_cgroup(
      "4:memory:/process_api/20159d1ff8f50d066a7e6ca6cce60e55"
      "aabbccdd\n");
  CHECK(hashed.starts_with("…"));
  CHECK(hashed.ends_with("aabbccdd"));
  CHECK(display_width(hashed) <= kProbeCellColumns);
}

TEST_CASE("ifaces: names and states, an address where there is one") {
  CHECK(summarise_ifaces(kEmptyNetIfaces) == "lo down");
  CHECK(summarise_ifaces(kVethIfaces) == "lo up, eth0 10.213.77.118/30");
  // Too many for the cell: the interfaces that are down and bare become a count.
  CHECK(summarise_ifaces(kHostIfaces) == "lo up, eth0 192.0.2.2/24, 2 down");
  CHECK(summarise_ifaces("1: lo  UP  mtu 65536\n2: eth0  UP no carrier  mtu 1500\n") ==
        "lo up, eth0 up");
  CHECK(summarise_ifaces("") == "no interfaces");
  CHECK(summarise_ifaces("ifaces: socket(AF_NETLINK): Permission denied\n") ==
        "error: socket(AF_NETLINK): Perm…");
}

TEST_CASE("summarise picks the probe's summary by name") {
  CHECK(summarise("hostname", "tinyhost\n") == "tinyhost");
  CHECK(summarise("ns", kUtsMntNs) == "all the host's");
  CHECK(summarise("ps", kNoProcPs) == "no /proc");
  CHECK(standard_probes().size() == 7);
  for (const auto& probe : standard_probes()) CHECK_FALSE(summarise(probe.name, "").empty());
}

TEST_CASE("comparable leaves out the number of processes and nothing else") {
  CHECK(comparable("ps", "97 processes, PID 1 init") == "PID 1 init");
  CHECK(comparable("ps", "1 process, PID 1 tinysh") == "PID 1 tinysh");
  CHECK(comparable("ps", "no /proc") == "no /proc");
  CHECK(comparable("ls /", "bin dev … (9 entries)") == "bin dev … (9 entries)");
  CHECK(comparable("ps", "97 processes, PID 1 init") !=
        comparable("ps", "1 process, PID 1 tinysh"));
}

// ---- changes and tables ---------------------------------------------------------------------

TEST_CASE("mark_changes: new differences and new values are changes, old ones are not") {
  ProbeTable lesson1 =
      table({{"hostname", "tinyhost", "vm", true},
             {"ls /", "bin … (20 entries)", "bin … (20 entries)", false},
             {"ps", "97 processes, PID 1 init", "98 processes, PID 1 init", false}});
  ProbeTable lesson3 = table({{"hostname", "tinyhost", "vm", true},
                              {"ls /", "NSLAB-ROOTFS … (7 entries)", "bin … (20 entries)", true},
                              {"ps", "1 process, PID 1 tinysh", "99 processes, PID 1 init", true}});
  ProbeTable lesson2 = lesson1;
  mark_changes(lesson1, nullptr);
  CHECK(row_of(lesson1, "hostname")->changed);  // no previous lesson: every difference is news
  CHECK_FALSE(row_of(lesson1, "ls /")->changed);
  mark_changes(lesson3, &lesson2);
  CHECK_FALSE(row_of(lesson3, "hostname")->changed);  // differed before, the same name
  CHECK(row_of(lesson3, "ls /")->changed);
  CHECK(row_of(lesson3, "ps")->changed);
  // Still differing, but the box sees something new: a change.
  ProbeTable renamed = table({{"hostname", "otherhost", "vm", true}});
  mark_changes(renamed, &lesson2);
  CHECK(row_of(renamed, "hostname")->changed);
  // A busy host's process count is not a change (negative control for ps).
  ProbeTable busier = table({{"ps", "1 process, PID 1 tinysh", "120 processes, PID 1 init", true}});
  ProbeTable before =
      table({{"ps", "3 processes, PID 1 tinysh", "99 processes, PID 1 init", true}});
  mark_changes(busier, &before);
  CHECK_FALSE(row_of(busier, "ps")->changed);
  // A row that no longer differs is not marked.
  ProbeTable back = table({{"hostname", "vm", "vm", false}});
  mark_changes(back, &lesson2);
  CHECK_FALSE(row_of(back, "hostname")->changed);
}

namespace {

ProbeTable lesson_two_table() {
  ProbeTable t = table({
      {"hostname", "tinyhost", "vm", true, false},
      {"ls /", "NSLAB-ROOTFS bin … (7 entries)", "bin boot … (20 entries)", true, true},
      {"ps", "no /proc", "97 processes, PID 1 init", true, true},
      {"id", "uid=0(root)", "uid=0(root)", false, false},
      {"ns", "own: uts mnt", "all the host's", true, true},
      {"cgroup", "…/session-2.scope", "…/session-2.scope", false, false},
      {"ifaces", "lo up, eth0 192.0.2.2/24, 2 down", "lo up, eth0 192.0.2.2/24, 2 down", false,
       false},
  });
  return t;
}

}  // namespace

TEST_CASE("the probe table fits 80 columns, marks changed rows and explains its marks") {
  std::string out = render_probe_table(lesson_two_table(), {80, false});
  INFO(out);
  CHECK(widest_line(out) <= 80);
  auto lines = split_lines(out);
  REQUIRE(lines.size() == 2 + 7 + 1);  // titles, rule, rows, legend
  CHECK(lines[0].find("probe") == 2);
  CHECK(lines[0].find("inside the box") != std::string::npos);
  CHECK(lines[0].find("on the host") != std::string::npos);
  CHECK(line_with(out, "NSLAB-ROOTFS").starts_with("» ls /"));
  CHECK(line_with(out, "tinyhost").starts_with("* hostname"));
  CHECK(line_with(out, "uid=0").starts_with("  id"));
  // Every cell whole at 80 columns: no summary was cut.
  CHECK(line_with(out, "NSLAB-ROOTFS").find("(7 entries)") != std::string::npos);
  CHECK(line_with(out, "NSLAB-ROOTFS").find("(20 entries)") != std::string::npos);
  CHECK(line_with(out, "lo up").find("2 down │") != std::string::npos);
  CHECK(lines.back() == "» changed in this lesson   * differs from the host");
  CHECK(out.find('\x1b') == std::string::npos);
}

TEST_CASE("the probe table at 120 columns and in color") {
  std::string wide = render_probe_table(lesson_two_table(), {120, false});
  CHECK(widest_line(wide) <= 120);
  std::string colored = render_probe_table(lesson_two_table(), {80, true});
  INFO(colored);
  CHECK(widest_line(colored) <= 80);
  CHECK(line_with(colored, "NSLAB-ROOTFS").find("\x1b[1;33m") != std::string::npos);
  CHECK(line_with(colored, "uid=0").find('\x1b') == std::string::npos);
  CHECK(without_colors(colored) == render_probe_table(lesson_two_table(), {80, false}));
}

TEST_CASE("a table where nothing differs says so, and narrow terminals still get whole lines") {
  ProbeTable same = table({{"hostname", "vm", "vm"}, {"id", "uid=0(root)", "uid=0(root)"}});
  std::string out = render_probe_table(same, {80, false});
  INFO(out);
  CHECK(split_lines(out).back() == "the box sees everything as the host does");
  CHECK(out.find("»") == std::string::npos);
  std::string narrow = render_probe_table(lesson_two_table(), {50, false});
  INFO(narrow);
  CHECK(widest_line(narrow) <= 50);
  CHECK(line_with(narrow, "» ls /").find("…") != std::string::npos);
}

// ---- real boxes (root) ------------------------------------------------------------------------

namespace {

DriverConfig config() {
  return DriverConfig{.nslab = testing::bin("nslab"), .tinysh = testing::bin("tinysh")};
}

}  // namespace

TEST_CASE("a box with its own hostname: the hostname row differs, ls / and id do not") {
  if (!testing::is_root()) {
    testing::skip("--uts needs root");
    return;
  }
  pid_t runner = -1;
  {
    auto box = BoxSession::start(config().nslab, {"--uts", "--hostname", "tinyhost"});
    if (!box) FAIL(box.error().message());
    runner = box->runner_pid();
    auto probes = collect_probes(*box, config());
    if (!probes) FAIL(probes.error().message());
    MESSAGE("\n" << render_probe_table(*probes, {80, false}));
    REQUIRE(probes->rows.size() == standard_probes().size());
    const ProbeRow* hostname = row_of(*probes, "hostname");
    CHECK(hostname->inside == "tinyhost");
    CHECK(hostname->outside != "tinyhost");
    CHECK(hostname->differs);
    CHECK(row_of(*probes, "ns")->inside == "own: uts");
    CHECK(row_of(*probes, "ns")->differs);
    CHECK_FALSE(row_of(*probes, "ls /")->differs);
    CHECK(row_of(*probes, "ls /")->inside.find("entries)") != std::string::npos);
    CHECK_FALSE(row_of(*probes, "id")->differs);
    CHECK_FALSE(row_of(*probes, "ps")->differs);
    CHECK(row_of(*probes, "ps")->inside.find("PID 1 ") != std::string::npos);
  }
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(runner); }, 10s));
}

TEST_CASE("a box with no flags: no probe differs, so nothing changed against it") {
  if (!testing::is_root()) {
    testing::skip("nslab run needs root");
    return;
  }
  auto plain = probes_for_flags({}, config());
  if (!plain) FAIL(plain.error().message());
  MESSAGE("\n" << render_probe_table(*plain, {80, false}));
  for (const auto& row : plain->rows) {
    INFO(row.probe, ": ", row.inside, " / ", row.outside);
    CHECK_FALSE(row.differs);
  }
  CHECK(row_of(*plain, "ns")->inside == "all the host's");
  // Lesson 1 against this: only the hostname and the UTS namespace changed.
  auto uts = probes_for_flags({"--uts", "--hostname", "tinyhost"}, config());
  if (!uts) FAIL(uts.error().message());
  mark_changes(*uts, &*plain);
  for (const auto& row : uts->rows) {
    INFO(row.probe, ": ", row.inside, " / ", row.outside);
    CHECK(row.changed == (row.probe == "hostname" || row.probe == "ns"));
  }
}

TEST_CASE("a pivoted box without /proc: ps says so and ns is read from the host") {
  if (!testing::is_root()) {
    testing::skip("--mount --pivot needs root");
    return;
  }
  auto pivoted =
      probes_for_flags({"--uts", "--hostname", "tinyhost", "--mount", "--pivot"}, config());
  if (!pivoted) FAIL(pivoted.error().message());
  MESSAGE("\n" << render_probe_table(*pivoted, {80, false}));
  CHECK(row_of(*pivoted, "ps")->inside == "no /proc");
  CHECK(row_of(*pivoted, "ns")->inside == "own: uts mnt");
  CHECK(row_of(*pivoted, "ls /")->differs);
  CHECK(row_of(*pivoted, "ls /")->inside.find("NSLAB-ROOTFS") != std::string::npos);
}
