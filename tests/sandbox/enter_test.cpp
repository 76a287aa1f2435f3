// `nslab ps` and `nslab enter` against real boxes, checked from the host through /proc: the box
// is listed with its host PID and namespaces, and an entered shell is one more process of the box
// (its namespaces, root, hostname, a PID inside) that leaves nothing behind.
//
// Other boxes may be running on the machine while these tests run, so every test names its box
// (box-<runner pid>) except where "no BOX given" is the point.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "box_harness.h"
#include "pty_session.h"

using namespace boxtest;

namespace {

const std::vector<std::string> kNamespaces = {"cgroup", "ipc",  "mnt",  "net",
                                              "pid",    "time", "user", "uts"};

const std::vector<std::string> kBoxA = {"--uts", "--hostname", "boxA", "--mount", "--pivot",
                                        "--pid", "--proc",     "-c",   "sleep 30"};

testing::RunResult nslab(const std::vector<std::string>& args,
                         const std::vector<std::string>& prefix = {},
                         const std::string& binary = testing::bin("nslab")) {
  std::vector<std::string> argv = prefix;
  argv.push_back(binary);
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::run(argv);
}

std::string box_id(const LiveBox& box) {
  return fmt::format("box-{}", box.runner());
}

// The row of `nslab ps` for `id`, split into its cells; empty when it is not listed.
std::vector<std::string> ps_row(const std::string& ps_output, const std::string& id) {
  std::istringstream lines(ps_output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with(id + " ")) continue;
    std::istringstream cells(line);
    std::vector<std::string> row;
    std::string cell;
    while (cells >> cell) row.push_back(cell);
    return row;
  }
  return {};
}

std::string host_hostname() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {
  }, sb{};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// The process `nslab enter` (pid `enter`) started, once it runs `comm`; -1 on timeout.
pid_t entered_process(pid_t enter, const std::string& comm = "tinysh") {
  pid_t found = -1;
  testing::wait_until(
      [&] {
        for (pid_t child : children_of(enter))
          if (testing::read_file(fmt::format("/proc/{}/comm", child)) == comm + "\n") found = child;
        return found > 0;
      },
      10s);
  return found;
}

// A v1 pids cgroup made by the test beside its own (as the runner makes nslab-box-<pid> for
// --pids): killed empty and removed in the destructor.
class ScratchPidsCgroup {
 public:
  ScratchPidsCgroup() {
    std::istringstream lines(testing::read_file("/proc/self/cgroup"));
    for (std::string line; std::getline(lines, line);) {
      auto first = line.find(':'), second = line.find(':', first + 1);
      if (second == std::string::npos || line.substr(first + 1, second - first - 1) != "pids")
        continue;
      std::string own = line.substr(second + 1);
      dir_ = fmt::format("/sys/fs/cgroup/pids{}/nslab-enter-test-{}", own == "/" ? "" : own,
                         ::getpid());
    }
    if (!dir_.empty() && ::mkdir(dir_.c_str(), 0755) != 0) dir_.clear();
  }
  ~ScratchPidsCgroup() {
    if (dir_.empty()) return;
    testing::wait_until(
        [&] {
          std::istringstream procs(testing::read_file(dir_ + "/cgroup.procs"));
          bool empty = true;
          for (pid_t pid; procs >> pid; empty = false) ::kill(pid, SIGKILL);
          return empty && (::rmdir(dir_.c_str()) == 0 || errno == ENOENT);
        },
        10s);
  }
  ScratchPidsCgroup(const ScratchPidsCgroup&) = delete;
  ScratchPidsCgroup& operator=(const ScratchPidsCgroup&) = delete;
  bool ok() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  bool add(pid_t pid) const {
    std::ofstream procs(dir_ + "/cgroup.procs");
    procs << pid << std::flush;
    return static_cast<bool>(procs);
  }

 private:
  std::string dir_;
};

}  // namespace

TEST_CASE("nslab ps lists a running box with its host PID, runner, namespaces and hostname") {
  if (!have_root()) return;
  std::string id;
  {
    LiveBox box(kBoxA);
    pid_t pid = box.wait_for_box();
    REQUIRE_MESSAGE(pid > 0, box.output());
    id = box_id(box);
    auto ps = nslab({"ps"});
    REQUIRE(ps.status() == 0);
    auto row = ps_row(ps.out, id);
    REQUIRE_MESSAGE(row.size() >= 8, ps.out);
    CHECK(row[1] == std::to_string(pid));
    CHECK(row[2] == std::to_string(box.runner()));
    CHECK(row[3] == "root");
    CHECK(row[4] == "-mu-p---");
    CHECK(row[5] == "boxA");
    // The command, cut to what 80 columns leave: other boxes running meanwhile (a veth's address
    // in ADDRESS, longer pids) narrow it.
    CHECK(ps.out.find("tinysh -c") != std::string::npos);
    std::istringstream lines(ps.out);
    for (std::string line; std::getline(lines, line);) CHECK(line.size() <= 80);
  }
  // Negative control: once the box has ended, it is no longer listed.
  auto after = nslab({"ps"});
  CHECK_MESSAGE(ps_row(after.out, id).empty(), after.out);
}

TEST_CASE("a hostname changed inside the box is what nslab ps shows, not the host's") {
  if (!have_root()) return;
  // --user: a root box without one may not set its hostname (no CAP_SYS_ADMIN, caps.cpp).
  LiveBox box({"--user", "--map-root", "--uts", "--mount", "--pivot", "--pid", "--proc", "-c",
               "hostname renamed; echo changed; sleep 30"});
  REQUIRE(box.wait_for_box() > 0);
  REQUIRE(
      testing::wait_until([&] { return box.output().find("changed") != std::string::npos; }, 10s));
  auto row = ps_row(nslab({"ps"}).out, box_id(box));
  REQUIRE(row.size() >= 6);
  CHECK(row[5] == "renamed");
  CHECK(host_hostname() != "renamed");
}

TEST_CASE("nslab enter runs commands in the box: its hostname, a new PID, its ps and its root") {
  if (!have_root()) return;
  LiveBox box(kBoxA);
  REQUIRE_MESSAGE(box.wait_for_box() > 0, box.output());
  auto entered = nslab({"enter", box_id(box), "-c", "hostname; echo pid=$$; ps; ls /"});
  REQUIRE_MESSAGE(entered.status() == 0, entered.err);
  std::istringstream lines(entered.out);
  std::string hostname, pid_line;
  std::getline(lines, hostname);
  std::getline(lines, pid_line);
  CHECK(hostname == "boxA");
  CHECK(host_hostname() != "boxA");
  REQUIRE(pid_line.starts_with("pid="));
  int pid = std::stoi(pid_line.substr(4));
  CHECK(pid > 1);
  // The box's ps shows its PID 1 and the entered shell beside it.
  CHECK(entered.out.find("\n  1    0 ") != std::string::npos);
  CHECK(entered.out.find(fmt::format("\n{:>3} ", pid)) != std::string::npos);
  // The embedded rootfs, not the host's /.
  CHECK(entered.out.find("NSLAB-ROOTFS") != std::string::npos);
  CHECK(entered.out.find("\nusr\n") == std::string::npos);
}

TEST_CASE("an entered shell's namespaces, root and cgroups are the box's, seen from the host") {
  if (!have_root()) return;
  LiveBox box({"--all", "-c", "sleep 30"});
  pid_t box_pid = box.wait_for_box();
  REQUIRE_MESSAGE(box_pid > 0, box.output());
  testing::Background enter({testing::bin("nslab"), "enter", box_id(box), "-c", "sleep 30"});
  pid_t shell = entered_process(enter.pid());
  REQUIRE_MESSAGE(shell > 0, enter.output());
  for (const auto& ns : kNamespaces) {
    CAPTURE(ns);
    CHECK(ns_link(shell, ns) == ns_link(box_pid, ns));
  }
  // Negative control: the nslab that entered stays the host's PID namespace member it was.
  CHECK(ns_link(enter.pid(), "pid") == ns_link(::getpid(), "pid"));
  CHECK(same_file(fmt::format("/proc/{}/root/", shell), fmt::format("/proc/{}/root/", box_pid)));
  CHECK_FALSE(same_file(fmt::format("/proc/{}/root/", shell), "/"));
  CHECK(testing::read_file(fmt::format("/proc/{}/cgroup", shell)) ==
        testing::read_file(fmt::format("/proc/{}/cgroup", box_pid)));
  // --all maps the box's root to the caller; root itself is mapped to nobody (user.cpp).
  CHECK(real_uid_of(shell) == 65534u);
  CHECK(processes_in_pid_namespace_of(box_pid).count(shell) == 1);

  // The entered shell dies with the nslab that started it.
  ::kill(enter.pid(), SIGKILL);
  CHECK(enter.wait(10s) == 128 + SIGKILL);
  CHECK(testing::wait_until([&] { return testing::zombie_or_gone(shell); }, 10s));
}

TEST_CASE("the exit status of what runs in the box is nslab enter's") {
  if (!have_root()) return;
  LiveBox box(kBoxA);
  REQUIRE(box.wait_for_box() > 0);
  CHECK(nslab({"enter", box_id(box), "-c", "exit 7"}).status() == 7);
  CHECK(nslab({"enter", box_id(box), "-c", "true"}).status() == 0);
  auto program = nslab({"enter", box_id(box), "--", "/bin/tinysh", "-c", "echo from-program"});
  CHECK(program.status() == 0);
  CHECK(program.out == "from-program\n");
  auto missing = nslab({"enter", box_id(box), "--", "/no/such/program"});
  CHECK(missing.status() == 127);
  CHECK(missing.err.find("no such program inside the box") != std::string::npos);
}

TEST_CASE("a box is also found by its PID, and enter alone takes the only running box") {
  if (!have_root()) return;
  LiveBox box(kBoxA);
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  auto by_pid = nslab({"enter", std::to_string(pid), "-c", "hostname"});
  CHECK(by_pid.status() == 0);
  CHECK(by_pid.out == "boxA\n");
  auto ps = nslab({"ps"});
  if (ps.out.find("\nbox-", ps.out.find("\nbox-") + 1) != std::string::npos) {
    MESSAGE("skipped the default target: other boxes run on this machine\n" << ps.out);
    return;
  }
  auto only = nslab({"enter", "-c", "hostname"});
  if (only.status() == 2 && only.err.find("which one?") != std::string::npos) {
    MESSAGE("skipped the default target: another box started meanwhile\n" << only.err);
    return;
  }
  CHECK_MESSAGE(only.status() == 0, only.err);
  CHECK(only.out == "boxA\n");
}

TEST_CASE("with two boxes, enter without BOX refuses and lists them") {
  if (!have_root()) return;
  LiveBox first(kBoxA);
  LiveBox second({"--uts", "--hostname", "boxB", "-c", "sleep 30"});
  REQUIRE(first.wait_for_box() > 0);
  REQUIRE(second.wait_for_box() > 0);
  auto refused = nslab({"enter", "-c", "echo entered"});
  CHECK(refused.status() == 2);
  CHECK(refused.out.find("entered") == std::string::npos);
  CHECK(refused.err.find("which one? nslab enter BOX") != std::string::npos);
  CHECK(refused.err.find(box_id(first)) != std::string::npos);
  CHECK(refused.err.find(box_id(second)) != std::string::npos);
  // Negative control: naming one works.
  auto named = nslab({"enter", box_id(second), "-c", "hostname"});
  CHECK(named.status() == 0);
  CHECK(named.out == "boxB\n");
}

TEST_CASE("enter refuses a pid that is not a box") {
  if (!have_root()) return;
  LiveBox box(kBoxA);
  REQUIRE(box.wait_for_box() > 0);
  pid_t host_process = ::getpid();  // this test: a process, but no box's
  auto refused = nslab({"enter", std::to_string(host_process), "-c", "echo entered"});
  CHECK(refused.status() == 2);
  CHECK(refused.out.empty());
  CHECK(refused.err.find(fmt::format("PID {} is not a box", host_process)) != std::string::npos);
  auto unknown = nslab({"enter", "box-0", "-c", "echo entered"});
  CHECK(unknown.status() == 2);
  CHECK(unknown.err.find("no box is called") != std::string::npos);
}

TEST_CASE("root enters a --user --map-root box as the box's root, in its user namespace") {
  if (!have_root()) return;
  LiveBox box({"--user", "--map-root", "--uts", "--hostname", "ubox", "--mount", "--pivot", "--pid",
               "--proc", "-c", "sleep 30"});
  pid_t box_pid = box.wait_for_box();
  REQUIRE_MESSAGE(box_pid > 0, box.output());
  auto row = ps_row(nslab({"ps"}).out, box_id(box));
  REQUIRE(row.size() >= 6);
  CHECK(row[4] == "Umu-p---");
  testing::Background enter(
      {testing::bin("nslab"), "enter", box_id(box), "-c", "id; hostname; sleep 30"});
  pid_t shell = entered_process(enter.pid());
  REQUIRE_MESSAGE(shell > 0, enter.output());
  CHECK(ns_link(shell, "user") == ns_link(box_pid, "user"));
  CHECK(ns_link(shell, "user") != ns_link(::getpid(), "user"));
  CHECK(testing::wait_until([&] { return enter.output().find("ubox") != std::string::npos; }, 10s));
  CHECK(enter.output().find("uid=0(root) gid=0(root)") != std::string::npos);
}

TEST_CASE("a user enters their own --user box, and may not enter root's") {
  if (!have_root()) return;
  if (!testing::have_program("useradd") || !testing::have_program("setpriv")) {
    testing::skip("needs useradd and setpriv");
    return;
  }
  TempUser user;
  REQUIRE(user.ok());
  LiveBox own({"--user", "--map-root", "--uts", "--hostname", "mine", "--mount", "--pivot", "--pid",
               "--proc", "-c", "sleep 30"},
              user.prefix(), {}, user.nslab());
  REQUIRE_MESSAGE(own.wait_for_box() > 0, own.output());
  auto entered = nslab({"enter", box_id(own), "-c", "hostname; id"}, user.prefix(), user.nslab());
  CHECK_MESSAGE(entered.status() == 0, entered.err);
  CHECK(entered.out.find("mine\nuid=0(root)") != std::string::npos);

  LiveBox roots(kBoxA);
  REQUIRE(roots.wait_for_box() > 0);
  auto refused = nslab({"enter", box_id(roots), "-c", "echo entered"}, user.prefix(), user.nslab());
  CHECK(refused.status() != 0);
  CHECK(refused.out.find("entered") == std::string::npos);
  CHECK_MESSAGE(refused.err.find("only root, or the user who started the box") != std::string::npos,
                refused.err);
  // Negative control: root may.
  CHECK(nslab({"enter", box_id(roots), "-c", "echo entered"}).out == "entered\n");
}

TEST_CASE("an interactive entered shell takes the terminal and gives it back with its status") {
  if (!have_root()) return;
  LiveBox box(kBoxA);
  REQUIRE(box.wait_for_box() > 0);
  testing::PtySession shell({testing::bin("nslab"), "enter", box_id(box)});
  REQUIRE_MESSAGE(shell.expect("root@boxA:/"), shell.output());
  // The typed line echoes as "X=pid; echo $X=$$": only the shell's answer holds "pid=".
  shell.send("X=pid; echo $X=$$\n");
  REQUIRE(shell.expect("pid="));
  REQUIRE(shell.expect("\n"));
  const std::string& screen = shell.output();
  int pid = std::atoi(screen.c_str() + screen.rfind("pid=") + 4);
  CHECK(pid > 1);
  shell.send("exit 3\n");
  CHECK(shell.wait_exit() == 3);
}

TEST_CASE("an entered shell joins the box's own cgroup, not its runner's") {
  if (!have_root()) return;
  ScratchPidsCgroup cgroup;  // destroyed last: after every process in it is gone
  if (!cgroup.ok()) {
    testing::skip("no v1 pids hierarchy to make a scratch cgroup in");
    return;
  }
  LiveBox box(kBoxA);
  pid_t box_pid = box.wait_for_box();
  REQUIRE(box_pid > 0);
  // What `nslab run --pids` does to its box: its first process alone in a cgroup of its own.
  REQUIRE(cgroup.add(box_pid));
  std::string name = cgroup.dir().substr(cgroup.dir().rfind('/'));
  REQUIRE(testing::read_file(fmt::format("/proc/{}/cgroup", box_pid)).find(name) !=
          std::string::npos);
  // Negative control: the runner is not in it, so a shell that merely inherited nslab's cgroups
  // would not be either.
  REQUIRE(testing::read_file(fmt::format("/proc/{}/cgroup", box.runner())).find(name) ==
          std::string::npos);
  testing::Background enter({testing::bin("nslab"), "enter", box_id(box), "-c", "sleep 30"});
  pid_t shell = entered_process(enter.pid());
  REQUIRE_MESSAGE(shell > 0, enter.output());
  CHECK(testing::read_file(fmt::format("/proc/{}/cgroup", shell)) ==
        testing::read_file(fmt::format("/proc/{}/cgroup", box_pid)));
  CHECK(testing::read_file(fmt::format("/proc/{}/cgroup", enter.pid())).find(name) ==
        std::string::npos);
}

TEST_CASE("an entered shell on a terminal has a session and a pty of its own, named in the box") {
  if (!have_root()) return;
  LiveBox box(kBoxA);
  REQUIRE(box.wait_for_box() > 0);
  // The fields of its own /proc/self/stat (the box's /proc: pids as the box sees them).
  testing::PtySession shell({testing::bin("nslab"), "enter", box_id(box), "-c",
                             "ls -l /proc/self/fd; ls /dev/pts; cat /proc/self/stat"});
  REQUIRE_MESSAGE(shell.wait_exit() == 0, shell.output());
  const std::string& out = shell.output();
  // fd 0 is a pty of the box's own devpts instance, listed in the box's /dev/pts.
  auto at = out.find("0 -> /dev/pts/");
  REQUIRE_MESSAGE(at != std::string::npos, out);
  std::string number = out.substr(at + 14, out.find('\r', at) - at - 14);
  CHECK(out.find("\n" + number + "\r\n") != std::string::npos);
  std::istringstream stat(out.substr(out.rfind(") ") + 2));
  std::string state;
  long ppid, pgrp, session, tty_nr;
  stat >> state >> ppid >> pgrp >> session >> tty_nr;
  auto open = out.rfind(" (");
  auto line = out.rfind('\n', open);
  long pid = std::atol(out.c_str() + line + 1);
  CHECK(session == pid);
  CHECK(tty_nr != 0);
}

TEST_CASE("an entered process has a session of its own, without a terminal too") {
  if (!have_root()) return;
  LiveBox box(kBoxA);
  REQUIRE(box.wait_for_box() > 0);
  auto r = nslab({"enter", box_id(box), "-c", "cat /proc/self/stat"});
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  std::istringstream stat(r.out.substr(r.out.rfind(") ") + 2));
  std::string state;
  long ppid, pgrp, session, tty_nr;
  stat >> state >> ppid >> pgrp >> session >> tty_nr;
  CHECK(session == std::atol(r.out.c_str()));
  CHECK(tty_nr == 0);
}

TEST_CASE("what an entered process pushes with TIOCSTI stays in its own terminal") {
  if (!have_root()) return;
  // A box on the host's root, where the probe's path leads to the probe.
  LiveBox box({"--mount", "--pid", "-c", "sleep 30"});
  REQUIRE(box.wait_for_box() > 0);
  testing::PtyOptions keep;
  keep.keep_slave = true;
  const std::string line = "echo typed-by-an-entered-process\n";
  testing::PtySession entered({testing::bin("nslab"), "enter", box_id(box), "--",
                               testing::bin("terminal_probe"), "tiocsti", line},
                              keep);
  REQUIRE_MESSAGE(entered.wait_exit() == 0, entered.output());
  CHECK(entered.output().find(fmt::format("pushed {}", line.size())) != std::string::npos);
  CHECK(entered.pending_input().empty());
  // (The negative control, the probe pushing into the terminal it runs on, is in
  // terminal_test.cpp.)
}
