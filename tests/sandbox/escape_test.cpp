// The classic ways out of a container, tried against nslab's boxes from the host's side, each
// beside a negative control that shows the same attack working where the protection is missing.
//
// CVE-2019-5736 (runc): a process of the box opens /proc/PID/exe of a program that came from the
// host (O_PATH, while it runs), waits for it to exit (until then the kernel answers ETXTBSY), then
// reopens that fd for writing through /proc/self/fd and rewrites the host's binary. nslab never
// runs the host's tinysh in a box: the box's first process and `nslab enter` run a sealed copy in
// memory, and the embedded root holds a copy of its own.
//
// A box that root makes without --user would keep root's capabilities in the host's user
// namespace: nslab takes away those that act on the whole machine, CAP_SYS_ADMIN first
// (sandbox/caps.cpp), and CVE-2022-0492's release_agent is tried from every kind of box.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "box_harness.h"
#include "isolation.h"

using namespace boxtest;
namespace fs = std::filesystem;

namespace {

// What the attacker gets: an O_PATH fd on /proc/PID/exe, taken while the process runs.
struct HeldExe {
  int fd = -1;
  std::string target;  // readlink of /proc/PID/exe at that moment
  ~HeldExe() {
    if (fd >= 0) ::close(fd);
  }
};

HeldExe hold_exe(pid_t pid) {
  HeldExe held;
  std::string link = fmt::format("/proc/{}/exe", pid);
  held.fd = ::open(link.c_str(), O_PATH | O_CLOEXEC);
  char buf[4096] = {};
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n > 0) held.target.assign(buf, static_cast<size_t>(n));
  return held;
}

// Once the process is gone: reopen the held file for writing and append to it. 0 when it
// worked, else the errno of the step that failed.
int write_once(const HeldExe& held) {
  std::string path = fmt::format("/proc/self/fd/{}", held.fd);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  if (::write(fd, "#", 1) != 1) err = errno;
  ::close(fd);
  return err;
}

// The kernel lets go of a program's file (ETXTBSY until then) when the last user of its memory
// does, which may be a moment after the process is reaped: ask again for a while.
int write_through(const HeldExe& held) {
  int err = ETXTBSY;
  testing::wait_until(
      [&] {
        err = write_once(held);
        return err != ETXTBSY;
      },
      5s);
  return err;
}

std::string contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

pid_t spawn(const std::vector<std::string>& argv) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::close_range(3, ~0U, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Kills every process that runs the file `held` names (a shell and the children it forked, even
// one forked while we looked), until none is left or 10 s passed: only then does the kernel let
// go of the file.
void kill_runners_of(const HeldExe& held) {
  struct stat file {};
  if (::fstat(held.fd, &file) != 0) return;
  testing::wait_until(
      [&] {
        bool any = false;
        for (const auto& entry : fs::directory_iterator("/proc")) {
          const std::string name = entry.path().filename();
          if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
          struct stat exe {};
          if (::stat((entry.path() / "exe").c_str(), &exe) != 0) continue;
          if (exe.st_dev != file.st_dev || exe.st_ino != file.st_ino) continue;
          pid_t pid = std::stoi(name);
          if (testing::zombie_or_gone(pid)) continue;
          ::kill(pid, SIGKILL);
          any = true;
        }
        return !any;
      },
      10s);
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string comm_of(pid_t pid) {
  std::string comm = testing::read_file(fmt::format("/proc/{}/comm", pid));
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

// The first process below `parent` (children, then theirs) named `comm`; -1 on timeout.
pid_t descendant_named(pid_t parent, const std::string& comm) {
  pid_t found = -1;
  testing::wait_until(
      [&] {
        std::vector<pid_t> level = {parent};
        while (!level.empty()) {
          std::vector<pid_t> next;
          for (pid_t p : level)
            for (pid_t c : testing::children_of(p)) {
              if (comm_of(c) == comm) {
                found = c;
                return true;
              }
              next.push_back(c);
            }
          level = next;
        }
        return false;
      },
      10s);
  return found;
}

}  // namespace

TEST_CASE("control: a program run from a plain file can be rewritten through its /proc/PID/exe") {
  if (!have_root()) return;
  TempDir dir;
  std::string copy = dir.path() + "/tinysh";
  fs::copy_file(testing::bin("tinysh"), copy);
  pid_t pid = spawn({copy, "-c", "sleep 30"});
  REQUIRE(testing::wait_until([&] { return comm_of(pid) == "tinysh"; }, 10s));
  HeldExe held = hold_exe(pid);
  REQUIRE(held.fd >= 0);
  CHECK(held.target == copy);
  CHECK(write_once(held) == ETXTBSY);  // not while it runs...
  kill_runners_of(held);
  reap(pid);
  auto before = fs::file_size(copy);
  CHECK(write_through(held) == 0);  // ...but once it has exited
  CHECK(fs::file_size(copy) == before + 1);
}

TEST_CASE("a box's first process on the host's root runs a sealed copy of tinysh") {
  if (!have_root()) return;
  std::string host_tinysh = contents(testing::bin("tinysh"));
  LiveBox box({"--mount", "--pid", "-c", "sleep 30"});
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  HeldExe held = hold_exe(pid);
  REQUIRE(held.fd >= 0);
  CHECK(held.target.starts_with("/memfd:tinysh"));
  ::kill(box.runner(), SIGTERM);
  box.wait_exit();
  CHECK(write_through(held) == EPERM);  // F_SEAL_WRITE
  CHECK(contents(testing::bin("tinysh")) == host_tinysh);
}

TEST_CASE("the embedded root holds a copy of tinysh: writing it leaves the host's alone") {
  if (!have_root()) return;
  std::string host_tinysh = contents(testing::bin("tinysh"));
  // Root without a user namespace, the strongest box: it may remount anything in its mount table.
  auto r = nslab_run({"--mount", "--pivot", "--pid", "--proc", "-c",
                      "mount -o remount,rw /; mount -o remount,rw /bin/tinysh; rm /bin/tinysh; "
                      "echo '#!/bin/sh' > /bin/tinysh; echo replaced"});
  CHECK(r.out.find("replaced") != std::string::npos);
  CHECK(contents(testing::bin("tinysh")) == host_tinysh);
  // The file the box's PID 1 ran lived in the box's own tmpfs.
  LiveBox live({"--mount", "--pivot", "--pid", "--proc", "-c", "sleep 30"});
  pid_t pid = live.wait_for_box();
  REQUIRE(pid > 0);
  HeldExe held = hold_exe(pid);
  CHECK(held.target == "/bin/tinysh");
  struct stat box_file {}, host_file{};
  REQUIRE(::fstat(held.fd, &box_file) == 0);
  REQUIRE(::stat(testing::bin("tinysh").c_str(), &host_file) == 0);
  CHECK_FALSE((box_file.st_dev == host_file.st_dev && box_file.st_ino == host_file.st_ino));
}

TEST_CASE("nslab enter runs a sealed copy of tinysh: the box cannot rewrite it after it exits") {
  if (!have_root()) return;
  std::string host_tinysh = contents(testing::bin("tinysh"));
  LiveBox box({"--uts", "--mount", "--pivot", "--pid", "--proc", "-c", "sleep 30"});
  REQUIRE(box.wait_for_box() > 0);
  pid_t enter = spawn({testing::bin("nslab"), "enter", fmt::format("box-{}", box.runner()), "-c",
                       "sleep 30"});
  pid_t shell = descendant_named(enter, "tinysh");
  REQUIRE(shell > 0);
  HeldExe held = hold_exe(shell);
  REQUIRE(held.fd >= 0);
  CHECK(held.target.starts_with("/memfd:tinysh"));
  kill_runners_of(held);
  reap(enter);
  CHECK(write_through(held) == EPERM);
  CHECK(contents(testing::bin("tinysh")) == host_tinysh);
}

namespace {

// The CapBnd line of /proc/PID/status, as a number.
std::uint64_t bounding_set_of(pid_t pid) {
  std::istringstream status(testing::read_file(fmt::format("/proc/{}/status", pid)));
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("CapBnd:")) return std::stoull(line.substr(7), nullptr, 16);
  return 0;
}

constexpr std::uint64_t bit(int cap) {
  return std::uint64_t{1} << cap;
}

}  // namespace

TEST_CASE("a root box without --user loses the capabilities that act on the whole machine") {
  if (!have_root()) return;
  const std::uint64_t host_wide = bit(CAP_SYS_MODULE) | bit(CAP_SYS_RAWIO) | bit(CAP_MKNOD) |
                                  bit(CAP_DAC_READ_SEARCH) | bit(CAP_SYS_PTRACE) |
                                  bit(CAP_SYS_TIME) | bit(CAP_BPF);
  {
    LiveBox box({"--uts", "--mount", "--pivot", "--pid", "--proc", "-c", "sleep 30"});
    pid_t pid = box.wait_for_box();
    REQUIRE(pid > 0);
    std::uint64_t bounding = bounding_set_of(pid);
    CHECK((bounding & host_wide) == 0);
    CHECK((bounding & bit(CAP_SYS_BOOT)) != 0);  // reboot(2) in its own PID namespace ends the box
    CHECK((bounding & bit(CAP_SYS_ADMIN)) == 0);  // mounts: CVE-2022-0492 below
    CHECK((bounding & bit(CAP_NET_ADMIN)) == 0);  // the host's network: no --net
    CHECK((bounding & bit(CAP_CHOWN)) != 0);      // root's ordinary powers stay
  }
  {
    LiveBox box({"--uts", "--mount", "--pivot", "--net", "-c", "sleep 30"});  // no PID namespace
    pid_t pid = box.wait_for_box();
    REQUIRE(pid > 0);
    CHECK((bounding_set_of(pid) & bit(CAP_SYS_BOOT)) == 0);
    CHECK((bounding_set_of(pid) & bit(CAP_NET_ADMIN)) != 0);  // its own network namespace
  }
  // nslab's own hostname and /proc are set before the drop; the box's own attempts are refused,
  // and the refusal says why and what to use instead.
  auto r = nslab_run({"--uts", "--hostname", "given", "--mount", "--pivot", "--pid", "--proc", "-c",
                      "hostname; hostname mine; mount -t proc proc /proc; echo mounted $?"});
  CHECK(r.out.find("given") != std::string::npos);
  CHECK(r.out.find("mounted 1") != std::string::npos);
  CHECK(r.err.find("no CAP_SYS_ADMIN") != std::string::npos);
  CHECK(r.err.find("--user --map-root") != std::string::npos);
  // The same box with its own user namespace may do both.
  auto u = nslab_run({"--user", "--map-root", "--uts", "--mount", "--pid", "-c",
                      "hostname mine; hostname; mount -t proc proc /proc; echo mounted $?"});
  CHECK(u.out.find("mine") != std::string::npos);
  CHECK(u.out.find("mounted 0") != std::string::npos);
}

TEST_CASE("a --user box without --cgroup is told that mounting cgroup2 needs a cgroup namespace") {
  // Any user: root in the box's own user namespace has CAP_SYS_ADMIN there, which is not enough.
  auto r = nslab_run({"--user", "--map-root", "--mount", "-c",
                      "mount -t cgroup2 none /mnt; echo mounted $?"});
  CHECK(r.out.find("mounted 1") != std::string::npos);
  CHECK(r.err.find("cgroup namespace") != std::string::npos);
  CHECK(r.err.find("--cgroup") != std::string::npos);
  // Control: with --cgroup the same mount works, so the hint names what was missing.
  auto c = nslab_run({"--user", "--map-root", "--mount", "--cgroup", "-c",
                      "mount -t cgroup2 none /mnt; echo mounted $?"});
  CHECK(c.out.find("mounted 0") != std::string::npos);
}

TEST_CASE("control: a box with no namespace, and a --user box, keep the caller's bounding set") {
  if (!have_root()) return;
  std::uint64_t mine = bounding_set_of(::getpid());
  REQUIRE((mine & bit(CAP_SYS_MODULE)) != 0);  // the test runs as full root
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"-c", "sleep 30"},
        std::vector<std::string>{"--user", "--map-root", "--uts", "-c", "sleep 30"}}) {
    LiveBox box(flags);
    pid_t pid = box.wait_for_box();
    REQUIRE(pid > 0);
    CHECK((bounding_set_of(pid) & bit(CAP_SYS_MODULE)) != 0);
  }
}

// --- A --rootfs directory: read-only all the way down -------------------------------------------

namespace {

// A root directory for --rootfs in a temporary directory: etc/file holds "original"; with
// `with_mount`, mnt has a tmpfs of the host's mounted on it (as a chroot's /proc or /sys would
// be), unmounted at the end.
struct RootfsDir {
  TempDir dir;
  std::string mnt;
  explicit RootfsDir(bool with_mount = false) {
    for (const char* sub : {"/etc", "/mnt", "/tmp", "/dev", "/proc", "/bin"})
      fs::create_directories(dir.path() + sub);
    std::ofstream(dir.path() + "/etc/file") << "original\n";
    ::chmod(dir.path().c_str(), 0755);
    if (!with_mount) return;
    mnt = dir.path() + "/mnt";
    if (::mount("host-sub", mnt.c_str(), "tmpfs", 0, "size=64k") == 0)
      std::ofstream(mnt + "/host-only") << "the host's\n";
    else
      mnt.clear();
  }
  ~RootfsDir() {
    if (!mnt.empty()) ::umount2(mnt.c_str(), MNT_DETACH);
  }
  std::string file() const { return contents(dir.path() + "/etc/file"); }
};

}  // namespace

// --- CVE-2022-0492: a cgroup v1 release_agent ---------------------------------------------------
//
// The root cgroup of a v1 hierarchy has a release_agent file: a path the kernel runs, as the
// host's root in the host's namespaces, when a cgroup with notify_on_release empties. A box that
// may mount a fresh hierarchy (`none,name=...` needs no controller) and write that file runs any
// program of its own on the host. Since 5.17 the kernel asks for CAP_SYS_ADMIN in the initial
// user namespace, and the opener's cgroup namespace must be the initial one: exactly what a root
// box without --user had. The probe opens the file for writing and writes nothing.

namespace {

// tinysh has no `test`: the write runs only once the mount worked, and fails on its own when
// the file may not be opened for writing.
std::string release_agent_probe(const std::string& dir) {
  return fmt::format(
      "mkdir {0}; mount -t cgroup -o none,name=nslab-probe none {0} && "
      "echo -n > {0}/release_agent && echo OPENED release_agent; umount {0}; echo done",
      dir);
}

}  // namespace

TEST_CASE("control: a process with root's CAP_SYS_ADMIN opens a fresh hierarchy's release_agent") {
  if (!have_root()) return;
  TempDir dir;
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // A mount namespace of its own, so nothing shows on the host; the hierarchy goes at umount.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ::_exit(2);
    if (::mount("none", dir.path().c_str(), "cgroup", 0, "none,name=nslab-probe") != 0) ::_exit(3);
    std::string agent = dir.path() + "/release_agent";
    int fd = ::open(agent.c_str(), O_WRONLY | O_CLOEXEC);
    ::umount2(dir.path().c_str(), MNT_DETACH);
    ::_exit(fd >= 0 ? 0 : 4);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // the attack's first half works for the host's root
  // The probe itself, run by nslab with no namespace (lesson 0: the caller's own powers).
  auto r = nslab_run({"-c", release_agent_probe(dir.path())});
  CAPTURE(r.err);
  CHECK(r.out.find("OPENED") != std::string::npos);
}

TEST_CASE("no box reaches a cgroup v1 release_agent: root without --user, --user, --user --cgroup") {
  if (!have_root()) return;
  RootfsDir root;
  for (const std::vector<std::string>& who :
       {std::vector<std::string>{"--rootfs", root.dir.path()},  // the issue's own case
        std::vector<std::string>{},
        std::vector<std::string>{"--user", "--map-root"},
        std::vector<std::string>{"--user", "--map-root", "--cgroup"},
        std::vector<std::string>{"--user", "--map-uid", "0:0:1", "--map-gid", "0:0:1", "--cgroup"}}) {
    std::vector<std::string> args = who;
    for (const char* a : {"--mount", "--pid", "--proc", "-c"}) args.emplace_back(a);
    args.push_back(release_agent_probe("/tmp/cg"));
    auto r = nslab_run(args);
    CAPTURE(r.out);
    CAPTURE(r.err);
    CHECK(r.out.find("done") != std::string::npos);  // the probe ran
    CHECK(r.out.find("OPENED") == std::string::npos);
  }
}

TEST_CASE("control: a read-only bind is made writable again by a process with CAP_SYS_ADMIN") {
  if (!have_root()) return;
  RootfsDir root;
  const std::string& d = root.dir.path();
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ::_exit(2);
    if (::mount(d.c_str(), d.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, d.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0 ||
        ::mount(nullptr, d.c_str(), nullptr, MS_BIND | MS_REMOUNT, nullptr) != 0)
      ::_exit(3);
    std::ofstream(d + "/etc/file") << "changed\n";
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(root.file() == "changed\n");  // the directory was written through the bind made ro
}

TEST_CASE("a --rootfs box cannot remount its root writable, even as root without --user") {
  if (!have_root()) return;
  RootfsDir root;
  for (const std::vector<std::string>& who :
       {std::vector<std::string>{}, std::vector<std::string>{"--user", "--map-root"}}) {
    std::vector<std::string> args = who;
    for (const char* a : {"--mount", "--pid", "--proc", "--rootfs"}) args.emplace_back(a);
    args.push_back(root.dir.path());
    args.insert(args.end(), {"-c", "mount -o remount,rw /; mount -o remount,bind,rw /; "
                                   "echo changed > /etc/file; echo done"});
    auto r = nslab_run(args);
    CAPTURE(r.out);
    CAPTURE(r.err);
    CHECK(r.out.find("done") != std::string::npos);  // control: the commands ran
    CHECK(root.file() == "original\n");
  }
}

TEST_CASE("a --rootfs directory with mounts under it is refused, naming them") {
  if (!have_root()) return;
  RootfsDir root(true);
  REQUIRE_FALSE(root.mnt.empty());
  auto r = nslab_run({"--mount", "--pid", "--proc", "--rootfs", root.dir.path(), "-c", "ls /mnt"});
  CHECK(r.status() != 0);
  CHECK(r.out.find("host-only") == std::string::npos);
  CHECK(r.err.find(root.mnt) != std::string::npos);
  CHECK(r.err.find("umount -R") != std::string::npos);
}

TEST_CASE("mount points below a directory are read from mountinfo, escapes undone") {
  std::string info =
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "30 22 0:40 / /srv/root/proc rw - proc proc rw\n"
      "31 22 0:41 / /srv/root\\040two/sys rw - sysfs sysfs rw\n"
      "32 22 0:42 / /srv/rootless rw - tmpfs t rw\n"
      "33 22 0:43 / /srv/root rw - tmpfs t rw\n";
  CHECK(sandbox::mounts_below(info, "/srv/root") == std::vector<std::string>{"/srv/root/proc"});
  CHECK(sandbox::mounts_below(info, "/srv/root two") ==
        std::vector<std::string>{"/srv/root two/sys"});
  CHECK(sandbox::mounts_below(info, "/srv/elsewhere").empty());
}

TEST_CASE("a --rootfs box's /tmp and /dev/shm have a size") {
  if (!have_root()) return;
  RootfsDir root;
  auto r = nslab_run({"--mount", "--pid", "--proc", "--rootfs", root.dir.path(), "-c",
                      "cat /proc/self/mountinfo"});
  CHECK(r.out.find(" /tmp rw,nosuid,nodev") != std::string::npos);
  CHECK(r.out.find("size=65536k") != std::string::npos);
  CHECK(r.out.find("size=16384k") != std::string::npos);
}
