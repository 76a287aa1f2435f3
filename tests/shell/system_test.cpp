// hostname, uname, id, ps, mount, umount and ns: the pure parsers they use, and the builtins
// themselves. Tests that change the system (host name, mounts) run in a forked child inside new
// namespaces, so nothing they do reaches the machine running them.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "process.h"
#include "builtin.h"
#include "builtins/mount_options.h"
#include "builtins/proc_read.h"
#include "capture.h"
#include "temp_dir.h"
#include "shell.h"

namespace {

using testing::capture;
using testing::Captured;

Captured run(std::vector<std::string> words) {
  tinysh::Shell sh;
  const tinysh::Builtin* b = tinysh::find_builtin(words.at(0));
  if (!b) return Captured{-1, "", "no builtin " + words[0]};
  return capture([&] { return b->run(sh, words); });
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    result.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return result;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  size_t i = 0;
  while ((i = line.find_first_not_of(' ', i)) != std::string::npos) {
    size_t end = line.find(' ', i);
    words.push_back(line.substr(i, end - i));
    i = end;
  }
  return words;
}

using testing::TempDir;

// Runs `body` in a forked child and returns what it reported: "" when every expectation held,
// "SKIP: reason" when it could not set up, else the failed expectations, one per line. doctest's
// own macros would fail only in the child, so the child reports in text through a pipe.
std::string in_child(const std::function<std::string()>& body) {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    std::string report;
    try {
      report = body();
    } catch (...) {
      report = "an exception escaped the child";
    }
    tinysh::write_all(p[1], report);
    ::_exit(0);
  }
  ::close(p[1]);
  std::string report;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  return report;
}

// Collects failed expectations inside a child.
struct Expect {
  std::string failures;
  void operator()(bool ok, const std::string& what) {
    if (!ok) failures += what + "\n";
  }
};

// A child's report: a skip is printed with its reason; anything else must be empty.
void check_child_report(const std::string& report) {
  if (report.starts_with("SKIP: ")) {
    MESSAGE(report);
    return;
  }
  CHECK(report == "");
}

}  // namespace

// ---- mount option splitting -----------------------------------------------------------------

TEST_CASE("mount options split into MS_ flags and the filesystem's data string") {
  tinysh::MountOptions o = tinysh::split_mount_options("ro,nosuid,size=10m,nodev,mode=755");
  CHECK(o.flags == (MS_RDONLY | MS_NOSUID | MS_NODEV));
  CHECK(o.data == "size=10m,mode=755");
  CHECK(tinysh::mount_flags_text(o.flags) == "MS_RDONLY|MS_NOSUID|MS_NODEV");
}

TEST_CASE("a later mount option overrides an earlier one") {
  CHECK(tinysh::split_mount_options("ro,rw").flags == 0);
  CHECK(tinysh::split_mount_options("rw,ro").flags == MS_RDONLY);
  CHECK(tinysh::split_mount_options("noexec,exec,nodev").flags == MS_NODEV);
  // Only one propagation type reaches the kernel: the last one named.
  CHECK(tinysh::split_mount_options("shared,private").flags == MS_PRIVATE);
  CHECK(tinysh::split_mount_options("rslave,unbindable").flags == (MS_UNBINDABLE | MS_REC));
}

TEST_CASE("bind, rbind, remount and the recursive propagation words set their flags") {
  CHECK(tinysh::split_mount_options("bind").flags == MS_BIND);
  CHECK(tinysh::split_mount_options("rbind").flags == (MS_BIND | MS_REC));
  CHECK(tinysh::split_mount_options("remount,bind,ro").flags == (MS_REMOUNT | MS_BIND | MS_RDONLY));
  CHECK(tinysh::split_mount_options("rprivate").flags == (MS_PRIVATE | MS_REC));
  CHECK(tinysh::split_mount_options("rshared").flags == (MS_SHARED | MS_REC));
  CHECK(tinysh::split_mount_options("slave").flags == MS_SLAVE);
  CHECK(tinysh::split_mount_options("noatime,nodiratime,relatime").flags ==
        (MS_NOATIME | MS_NODIRATIME | MS_RELATIME));
}

TEST_CASE("empty mount option items and defaults add nothing") {
  tinysh::MountOptions o = tinysh::split_mount_options(",,defaults,,noexec,");
  CHECK(o.flags == MS_NOEXEC);
  CHECK(o.data.empty());
  CHECK(tinysh::split_mount_options("").flags == 0);
  CHECK(tinysh::mount_flags_text(0) == "0");
}

TEST_CASE("mount options accumulate across several -o") {
  tinysh::MountOptions first = tinysh::split_mount_options("nosuid,size=1m");
  tinysh::MountOptions both = tinysh::split_mount_options("ro,mode=700", first);
  CHECK(both.flags == (MS_NOSUID | MS_RDONLY));
  CHECK(both.data == "size=1m,mode=700");
}

// ---- mountinfo ------------------------------------------------------------------------------

TEST_CASE("a mountinfo line with propagation fields is parsed and printed like mount(8)") {
  auto m = tinysh::parse_mountinfo_line(
      "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue");
  REQUIRE(m.has_value());
  CHECK(m->id == 36);
  CHECK(m->parent == 35);
  CHECK(m->device == "98:0");
  CHECK(m->root == "/mnt1");
  CHECK(m->mount_point == "/mnt2");
  CHECK(m->propagation == std::vector<std::string>{"master:1", "shared:7"});
  CHECK(m->fstype == "ext3");
  CHECK(m->source == "/dev/root");
  CHECK(tinysh::format_mount(*m) ==
        "/dev/root[/mnt1] on /mnt2 type ext3 (rw,noatime,errors=continue) master:1 shared:7");
}

TEST_CASE("a mountinfo line without optional fields, with escaped spaces, is parsed") {
  auto m = tinysh::parse_mountinfo_line(
      "100 1 0:50 / /tmp/my\\040dir rw,nosuid,relatime - tmpfs a\\134b rw,size=1024k,mode=700");
  REQUIRE(m.has_value());
  CHECK(m->propagation.empty());
  CHECK(m->mount_point == "/tmp/my dir");
  CHECK(m->source == "a\\b");
  CHECK(tinysh::format_mount(*m) ==
        "a\\b on /tmp/my dir type tmpfs (rw,nosuid,relatime,size=1024k,mode=700)");
}

TEST_CASE("malformed mountinfo lines are skipped, good ones kept") {
  auto mounts = tinysh::parse_mountinfo(
      "garbage\n"
      "1 2 3:4 / /x rw shared:1 ext4 /dev/sda1 rw\n"  // no "-" separator
      "x 1 0:1 / /y rw - proc proc rw\n"              // id not a number
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "23 1 0:22 / /sys rw - sysfs sysfs\n");  // no superblock options: tolerated
  REQUIRE(mounts.size() == 2);
  CHECK(mounts[0].mount_point == "/proc");
  CHECK(mounts[1].fstype == "sysfs");
}

TEST_CASE("mount error hints name the usual reason for each errno") {
  CHECK(contains(std::string(tinysh::mount_error_hint(EPERM)), "CAP_SYS_ADMIN"));
  CHECK(contains(std::string(tinysh::mount_error_hint(ENODEV)), "/proc/filesystems"));
  CHECK(contains(std::string(tinysh::mount_error_hint(ENOENT)), "mkdir"));
  CHECK(contains(std::string(tinysh::umount_error_hint(EBUSY)), "umount -l"));
  CHECK(tinysh::mount_error_hint(0).empty());
}

// ---- /proc parsing --------------------------------------------------------------------------

TEST_CASE("a stat line's command name ends at the last parenthesis") {
  auto st = tinysh::parse_proc_stat("42 (a) b (c)) S 7 42 42 0 -1 4194560 ...");
  REQUIRE(st.has_value());
  CHECK(st->pid == 42);
  CHECK(st->comm == "a) b (c)");
  CHECK(st->state == 'S');
  CHECK(st->ppid == 7);
  CHECK(st->pgrp == 42);
  CHECK(st->session == 42);
  auto short_line = tinysh::parse_proc_stat("9 (x) S 1");
  REQUIRE(short_line.has_value());
  CHECK(short_line->session == 0);

  auto kthread = tinysh::parse_proc_stat("2 (kthreadd) S 0 0 0");
  REQUIRE(kthread.has_value());
  CHECK(kthread->ppid == 0);

  CHECK_FALSE(tinysh::parse_proc_stat("").has_value());
  CHECK_FALSE(tinysh::parse_proc_stat("42 (x").has_value());
  CHECK_FALSE(tinysh::parse_proc_stat("42 (x) S").has_value());
  CHECK_FALSE(tinysh::parse_proc_stat("abc (x) S 1").has_value());
}

TEST_CASE("the effective uid is the second field of the status Uid line") {
  CHECK(tinysh::parse_status_effective_uid("Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t1\t1\t1\t1\n") ==
        0u);
  CHECK(tinysh::parse_status_effective_uid("Uid:\t5\t6\t7\t8\n") == 6u);
  CHECK_FALSE(tinysh::parse_status_effective_uid("Name:\tx\n").has_value());
  CHECK_FALSE(tinysh::parse_status_effective_uid("Uid:\t5\n").has_value());
}

TEST_CASE("cmdline arguments are joined by spaces, an empty cmdline stays empty") {
  CHECK(tinysh::cmdline_text(std::string("sleep\0"
                                         "100\0",
                                         10)) == "sleep 100");
  CHECK(tinysh::cmdline_text("").empty());
}

TEST_CASE("control characters in a cmdline or a name become question marks, one process one row") {
  CHECK(tinysh::cmdline_text(std::string("bash\0-c\0a\nb\x1b[2J\0", 16)) == "bash -c a?b?[2J");
  auto st = tinysh::parse_proc_stat("7 (x\ty\nz) S 1 7 7 0 -1");
  REQUIRE(st.has_value());
  CHECK(st->comm == "x?y?z");
  CHECK(st->ppid == 1);
}

TEST_CASE("a namespace link's text gives its inode number") {
  CHECK(tinysh::parse_ns_link("uts:[4026531838]") == 4026531838ull);
  CHECK_FALSE(tinysh::parse_ns_link("uts:[]").has_value());
  CHECK_FALSE(tinysh::parse_ns_link("uts:4026531838").has_value());
  CHECK_FALSE(tinysh::parse_ns_link(":[1]").has_value());
}

// ---- hostname, uname, id --------------------------------------------------------------------

TEST_CASE("hostname and uname -n print the UTS namespace's node name") {
  struct utsname u {};
  REQUIRE(::uname(&u) == 0);
  Captured h = run({"hostname"});
  CHECK(h.status == 0);
  CHECK(h.out == std::string(u.nodename) + "\n");
  CHECK(run({"uname", "-n"}).out == h.out);
}

TEST_CASE("uname prints the kernel's fields in its own order whatever the flag order") {
  struct utsname u {};
  REQUIRE(::uname(&u) == 0);
  CHECK(run({"uname"}).out == "Linux\n");
  CHECK(run({"uname", "-r", "-s"}).out == fmt::format("Linux {}\n", u.release));
  CHECK(run({"uname", "-a"}).out ==
        fmt::format("{} {} {} {} {}\n", u.sysname, u.nodename, u.release, u.version, u.machine));
  CHECK(run({"uname", "-x"}).status == 2);
}

TEST_CASE("id shows this process's uid and gid with the names /etc/passwd gives them") {
  Captured c = run({"id"});
  CHECK(c.status == 0);
  const passwd* pw = ::getpwuid(::getuid());
  std::string name = pw ? pw->pw_name : std::to_string(::getuid());
  CHECK(c.out.starts_with(fmt::format("uid={}({}) gid={}(", ::getuid(), name, ::getgid())));
  CHECK(contains(c.out, fmt::format(" groups={}(", ::getegid())));
}

TEST_CASE("without a user namespace map, hostname, mount and id show what the kernel refuses") {
  std::string report = in_child([] {
    // A new user namespace with no uid_map: every id reads as the overflow id, and the UTS and
    // mount namespaces still belong to the parent user namespace, so changing them is refused.
    if (::unshare(CLONE_NEWUSER) != 0)
      return std::string("SKIP: unshare(CLONE_NEWUSER): ") + std::strerror(errno);
    Expect expect;
    Captured id = run({"id"});
    expect(id.out.starts_with("uid=65534("), "id in an unmapped user namespace: " + id.out);
    Captured h = run({"hostname", "nslab-refused"});
    expect(h.status == 1, "hostname set status " + std::to_string(h.status));
    expect(contains(h.err, "Operation not permitted"), "hostname err: " + h.err);
    expect(contains(h.err, "UTS namespace"), "hostname hint: " + h.err);
    Captured m = run({"mount", "-t", "tmpfs", "x", "/tmp"});
    expect(m.status == 1, "mount status " + std::to_string(m.status));
    expect(contains(m.err, "mount(\"x\", \"/tmp\", \"tmpfs\", 0, NULL): Operation not permitted"),
           "mount err: " + m.err);
    expect(contains(m.err, "CAP_SYS_ADMIN"), "mount hint: " + m.err);
    return expect.failures;
  });
  check_child_report(report);
}

TEST_CASE("hostname NAME changes the name in a new UTS namespace and not on the host") {
  if (::geteuid() != 0) {
    testing::skip("creating a UTS namespace needs root");
    return;
  }
  struct utsname before {};
  REQUIRE(::uname(&before) == 0);
  std::string report = in_child([] {
    if (::unshare(CLONE_NEWUTS) != 0)
      return std::string("SKIP: unshare(CLONE_NEWUTS): ") + std::strerror(errno);
    Expect expect;
    expect(run({"hostname", "nslab-box"}).status == 0, "hostname set failed");
    Captured h = run({"hostname"});
    expect(h.out == "nslab-box\n", "hostname inside: " + h.out);
    return expect.failures;
  });
  check_child_report(report);
  struct utsname after {};
  REQUIRE(::uname(&after) == 0);
  CHECK(std::string(after.nodename) == before.nodename);
  CHECK(std::string(after.nodename) != "nslab-box");
}

// ---- ps -------------------------------------------------------------------------------------

namespace {

// The ps row whose PID column is `pid`, split into words.
std::vector<std::string> ps_row(const std::string& output, pid_t pid) {
  for (const std::string& line : lines(output)) {
    std::vector<std::string> w = split_words(line);
    if (!w.empty() && w[0] == std::to_string(pid)) return w;
  }
  return {};
}

}  // namespace

TEST_CASE("ps lists this process and a child with the right parent, sorted by PID") {
  int gate[2];
  REQUIRE(::pipe2(gate, O_CLOEXEC) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Wait until the test closes the pipe, then leave.
    ::close(gate[1]);
    char c;
    while (::read(gate[0], &c, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(gate[0]);

  Captured c = run({"ps"});
  CHECK(c.status == 0);
  std::vector<std::string> header = split_words(lines(c.out).at(0));
  CHECK(header == std::vector<std::string>{"PID", "PPID", "USER", "STAT", "CMD"});

  std::vector<std::string> self = ps_row(c.out, ::getpid());
  REQUIRE(self.size() >= 5);
  CHECK(self[1] == std::to_string(::getppid()));
  std::vector<std::string> kid = ps_row(c.out, child);
  REQUIRE(kid.size() >= 5);
  CHECK(kid[1] == std::to_string(::getpid()));

  long previous = -1;
  bool sorted = true;
  for (size_t i = 1; i < lines(c.out).size(); ++i) {
    long pid = std::stol(split_words(lines(c.out)[i]).at(0));
    sorted = sorted && pid > previous;
    previous = pid;
  }
  CHECK(sorted);

  ::close(gate[1]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  // Negative control: once reaped, the child is no longer listed.
  CHECK(ps_row(run({"ps"}).out, child).empty());
}

// ---- ns -------------------------------------------------------------------------------------

TEST_CASE("ns prints the same namespace ids as the /proc/self/ns links, in a fixed order") {
  Captured c = run({"ns"});
  CHECK(c.status == 0);
  const std::vector<std::string> order{
      "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
      "user",   "uts"};
  std::vector<std::string> rows = lines(c.out);
  REQUIRE(rows.size() == order.size());
  std::vector<std::string> ids;
  for (size_t i = 0; i < order.size(); ++i) {
    std::vector<std::string> w = split_words(rows[i]);
    REQUIRE(w.size() >= 2);
    CHECK(w[0] == order[i]);
    char link[128] = {};
    std::string path = "/proc/self/ns/" + order[i];
    ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
    if (n < 0) {
      CHECK(contains(rows[i], "not in this kernel"));
      continue;
    }
    std::string text(link, static_cast<size_t>(n));  // "uts:[4026531838]"
    CHECK(text == order[i].substr(0, order[i].find("_for_children")) + ":[" + w[1] + "]");
    ids.push_back(w[1]);
  }
  // Negative control: the kinds have different ids, so a single number repeated would fail.
  REQUIRE(ids.size() >= 2);
  bool all_same = true;
  for (const std::string& id : ids) all_same = all_same && id == ids[0];
  CHECK_FALSE(all_same);
}

// ---- mount, umount (root, in a private mount namespace) -------------------------------------

TEST_CASE("mount lists this mount namespace's table with / in it") {
  Captured c = run({"mount"});
  CHECK(c.status == 0);
  CHECK(contains(c.out, " on / type "));
  Captured proc = run({"mount", "-t", "proc"});
  for (const std::string& line : lines(proc.out)) CHECK(contains(line, " type proc ("));
}

namespace {

// Enters a new mount namespace whose mounts do not propagate back to the host's: every mount
// the test makes dies with the child.
std::string enter_private_mount_namespace() {
  if (::unshare(CLONE_NEWNS) != 0)
    return std::string("SKIP: unshare(CLONE_NEWNS): ") + std::strerror(errno);
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return std::string("SKIP: making / rprivate: ") + std::strerror(errno);
  return {};
}

}  // namespace

TEST_CASE("mount -t tmpfs with options mounts it, mount shows it, umount removes it") {
  if (::geteuid() != 0) {
    testing::skip("mounting needs root");
    return;
  }
  TempDir t;
  REQUIRE(::mkdir((t / "m").c_str(), 0755) == 0);
  const std::string dir = t / "m";
  std::string report = in_child([&] {
    if (std::string skip = enter_private_mount_namespace(); !skip.empty()) return skip;
    Expect expect;
    std::string entry = "nslab-test on " + dir + " type tmpfs (";
    expect(!contains(run({"mount"}).out, entry), "mounted before the test mounted it");

    Captured m = run({"mount", "-t", "tmpfs", "-o", "size=1m,mode=700,nosuid", "nslab-test", dir});
    expect(m.status == 0, "mount tmpfs: " + m.err);
    std::string table = run({"mount"}).out;
    expect(contains(table, entry + "rw,nosuid,"), "mount table lacks the tmpfs: " + table);
    expect(contains(table, "size=1024k") && contains(table, "mode=700"), "tmpfs data: " + table);
    expect(contains(run({"mount", "-t", "tmpfs"}).out, entry), "mount -t tmpfs misses it");
    expect(!contains(run({"mount", "-t", "proc"}).out, entry), "mount -t proc shows tmpfs");

    // A private mount shows no propagation; after --make-shared it has a peer group.
    auto line_of = [&](const std::string& text) {
      for (const std::string& l : lines(text))
        if (contains(l, entry)) return l;
      return std::string();
    };
    expect(!contains(line_of(table), "shared:"), "private mount shows shared: " + table);
    Captured shared = run({"mount", "--make-shared", dir});
    expect(shared.status == 0, "make-shared: " + shared.err);
    expect(contains(line_of(run({"mount"}).out), " shared:"), "no shared:N after make-shared");

    // Read-only remount: writing fails afterwards.
    Captured ro = run({"mount", "-o", "remount,ro", dir});
    expect(ro.status == 0, "remount ro: " + ro.err);
    int fd = ::open((dir + "/f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    expect(fd < 0 && errno == EROFS, "write after remount,ro did not fail with EROFS");
    if (fd >= 0) ::close(fd);

    Captured u = run({"umount", dir});
    expect(u.status == 0, "umount: " + u.err);
    expect(!contains(run({"mount"}).out, entry), "still mounted after umount");

    Captured again = run({"umount", dir});
    expect(again.status == 1, "second umount status");
    expect(contains(again.err, "umount2(\"" + dir + "\", 0): Invalid argument"),
           "second umount err: " + again.err);
    expect(contains(again.err, "not a mount point"), "second umount hint: " + again.err);
    return expect.failures;
  });
  check_child_report(report);
}

TEST_CASE("mount --bind shows one directory's files under another, umount -l detaches it") {
  if (::geteuid() != 0) {
    testing::skip("mounting needs root");
    return;
  }
  TempDir t;
  REQUIRE(::mkdir((t / "src").c_str(), 0755) == 0);
  REQUIRE(::mkdir((t / "dst").c_str(), 0755) == 0);
  int fd = ::open((t / "src/marker").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::string report = in_child([&] {
    if (std::string skip = enter_private_mount_namespace(); !skip.empty()) return skip;
    Expect expect;
    struct stat st {};
    expect(::stat((t / "dst/marker").c_str(), &st) != 0, "marker visible before the bind");
    Captured b = run({"mount", "--bind", t / "src", t / "dst"});
    expect(b.status == 0, "bind: " + b.err);
    expect(::stat((t / "dst/marker").c_str(), &st) == 0, "marker not visible through the bind");
    // Keep the mount busy with an open directory: plain umount fails, -l detaches.
    int busy = ::open((t / "dst").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int cwd = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    expect(::chdir((t / "dst").c_str()) == 0, "chdir into the bind");
    Captured plain = run({"umount", t / "dst"});
    expect(plain.status == 1 && contains(plain.err, "umount -l"), "busy umount: " + plain.err);
    Captured lazy = run({"umount", "-l", t / "dst"});
    expect(lazy.status == 0, "umount -l: " + lazy.err);
    expect(::fchdir(cwd) == 0, "back to the old directory");
    ::close(cwd);
    ::close(busy);
    expect(::stat((t / "dst/marker").c_str(), &st) != 0, "marker still visible after umount -l");
    return expect.failures;
  });
  check_child_report(report);
}

TEST_CASE("mount explains an unknown filesystem type and a missing target") {
  if (::geteuid() != 0) {
    testing::skip("the kernel checks the privilege before the type");
    return;
  }
  TempDir t;
  std::string report = in_child([&] {
    if (std::string skip = enter_private_mount_namespace(); !skip.empty()) return skip;
    Expect expect;
    Captured type = run({"mount", "-t", "nslabfs", "x", t.path});
    expect(type.status == 1 && contains(type.err, "No such device"), "ENODEV: " + type.err);
    expect(contains(type.err, "/proc/filesystems"), "ENODEV hint: " + type.err);
    Captured target = run({"mount", "-t", "tmpfs", "x", t / "missing"});
    expect(target.status == 1 && contains(target.err, "mkdir it first"), "ENOENT: " + target.err);
    Captured no_type = run({"mount", "x", t.path});
    expect(no_type.status == 1 && contains(no_type.err, "-t TYPE"), "no type: " + no_type.err);
    return expect.failures;
  });
  check_child_report(report);
}

TEST_CASE("ps, ns and mount say how to mount /proc when it is empty") {
  if (::geteuid() != 0) {
    testing::skip("hiding /proc needs a mount, which needs root");
    return;
  }
  std::string report = in_child([] {
    if (std::string skip = enter_private_mount_namespace(); !skip.empty()) return skip;
    Expect expect;
    // Negative control first: with the real /proc, ps works.
    expect(run({"ps"}).status == 0, "ps fails with /proc mounted");
    // An empty tmpfs over /proc: the directory is there, the processes are not.
    if (::mount("none", "/proc", "tmpfs", 0, nullptr) != 0)
      return std::string("SKIP: mounting tmpfs on /proc: ") + std::strerror(errno);
    Captured ps = run({"ps"});
    expect(ps.status == 1, "ps status with an empty /proc");
    expect(contains(ps.err, "mount -t proc proc /proc"), "ps hint: " + ps.err);
    Captured ns = run({"ns"});
    expect(ns.status == 1 && contains(ns.err, "mount -t proc proc /proc"), "ns: " + ns.err);
    Captured mount = run({"mount"});
    expect(mount.status == 1 && contains(mount.err, "mount -t proc proc /proc"),
           "mount: " + mount.err);
    return expect.failures;
  });
  check_child_report(report);
}
