// The embedded rootfs, pivot_root, /dev, and the protection of /proc in a root box.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "box_harness.h"

using namespace boxtest;

namespace {

const std::vector<std::string> kPivot = {"--mount", "--pivot", "--pid", "--proc"};

std::vector<std::string> with(std::vector<std::string> flags, const std::string& commands) {
  flags.push_back("-c");
  flags.push_back(commands);
  return flags;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("after pivot_root, / holds only the rootfs and mountinfo shows no host mount") {
  if (!have_root()) return;
  auto listing = nslab_run(with(kPivot, "ls /"));
  REQUIRE(listing.status() == 0);
  CHECK(lines_of(listing.out) ==
        std::vector<std::string>{"NSLAB-ROOTFS", "bin", "dev", "etc", "proc", "root", "tmp"});

  auto mounts = nslab_run(with(kPivot, "cat /proc/self/mountinfo"));
  REQUIRE(mounts.status() == 0);
  for (const auto& line : lines_of(mounts.out)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    CAPTURE(line);
    bool box_path = point == "/" || point.starts_with("/bin/") || point.starts_with("/dev") ||
                    point.starts_with("/proc");
    CHECK(box_path);
    CHECK(point.find("old") == std::string::npos);
  }
  // Negative control: the same listing without --pivot is the host's root.
  auto host = nslab_run({"--mount", "-c", "ls /"});
  CHECK(host.out.find("NSLAB-ROOTFS") == std::string::npos);
  CHECK(host.out.find("usr") != std::string::npos);
}

TEST_CASE("no setup debris and no way up: /.old, /oldroot, /newroot absent, /.. is /") {
  if (!have_root()) return;
  auto r = nslab_run(with(kPivot,
                          "ls /.old; ls /oldroot; ls /newroot; ls /tmp; cd /..; cd ..; "
                          "pwd; ls /../../"));
  CHECK(r.err.find("/.old") != std::string::npos);
  CHECK(r.err.find("/oldroot") != std::string::npos);
  CHECK(r.err.find("/newroot") != std::string::npos);
  auto lines = lines_of(r.out);
  REQUIRE(!lines.empty());
  // ls /tmp printed nothing; pwd says /; ls /../../ is the box's root again.
  CHECK(lines.front() == "/");
  CHECK(r.out.find("NSLAB-ROOTFS") != std::string::npos);
}

TEST_CASE("no mount inside the box is shared with another namespace") {
  if (!have_root()) return;
  auto r = nslab_run(with(kPivot, "cat /proc/self/mountinfo"));
  REQUIRE(r.status() == 0);
  REQUIRE(!r.out.empty());
  CHECK(r.out.find("shared:") == std::string::npos);
  auto host_root = nslab_run({"--mount", "-c", "cat /proc/self/mountinfo"});
  CHECK(host_root.out.find("shared:") == std::string::npos);
}

TEST_CASE("the embedded /etc names root, nobody, and the box's hostname") {
  if (!have_root()) return;
  auto r = nslab_run(
      {"--mount", "--pivot", "--hostname", "tinyhost", "-c", "cat /etc/passwd /etc/hostname; id"});
  REQUIRE(r.status() == 0);
  CHECK(r.out.starts_with("root:x:0:0:"));
  CHECK(r.out.find("\nnobody:x:65534:") != std::string::npos);
  CHECK(r.out.find("\ntinyhost\n") != std::string::npos);
  CHECK(r.out.find("uid=0(root)") != std::string::npos);
}

TEST_CASE("tinysh in the box is a copy in the box's own root, not a mount of the host's file") {
  if (!have_root()) return;
  auto r = nslab_run(with(kPivot, "cat /proc/self/mountinfo; ls -l /bin/sh /bin/tinysh"));
  REQUIRE(r.status() == 0);
  bool root_seen = false;
  for (const auto& line : lines_of(r.out)) {
    CHECK_MESSAGE(line.find(" /bin/tinysh ") == std::string::npos, line);
    root_seen |= line.find(" / / ") != std::string::npos;
  }
  CHECK(root_seen);  // control: the mount table was read
  CHECK(r.out.find("/bin/sh -> tinysh") != std::string::npos);
}

TEST_CASE("the box's /dev has the standard nodes, symlinks and filesystems") {
  if (!have_root()) return;
  auto r = nslab_run(with(kPivot, "ls -l /dev; cat /proc/self/mountinfo"));
  REQUIRE(r.status() == 0);
  for (const char* node :
       {"1, 3 null", "1, 5 zero", "1, 7 full", "1, 8 random", "1, 9 urandom", "5, 0 tty"}) {
    CAPTURE(node);
    CHECK(r.out.find(node) != std::string::npos);
  }
  for (const char* link :
       {"fd -> /proc/self/fd", "stdin -> /proc/self/fd/0", "stdout -> /proc/self/fd/1",
        "stderr -> /proc/self/fd/2", "ptmx -> pts/ptmx"}) {
    CAPTURE(link);
    CHECK(r.out.find(link) != std::string::npos);
  }
  CHECK(r.out.find(" /proc rw,nosuid,nodev,noexec,relatime - proc ") != std::string::npos);
  CHECK(r.out.find(" /dev/pts ") != std::string::npos);
  CHECK(r.out.find("- devpts ") != std::string::npos);
  CHECK(r.out.find(" /dev/shm ") != std::string::npos);
  // A host disk node is not there.
  auto disks = nslab_run(with(kPivot, "ls /dev/vda /dev/sda"));
  CHECK(disks.status() != 0);
}

TEST_CASE("a root box cannot write /proc/sys and reads masked files as empty") {
  if (!have_root()) return;
  std::string value = testing::read_file("/proc/sys/vm/swappiness");
  value = value.substr(0, value.find('\n'));
  REQUIRE(!value.empty());
  auto r = nslab_run(with(kPivot, fmt::format("echo {} > /proc/sys/vm/swappiness; cat "
                                              "/proc/timer_list",
                                              value)));
  CHECK(r.err.find("Read-only file system") != std::string::npos);
  CHECK(r.out.empty());
  // Negative control: the same write outside a box succeeds (it writes the current value back,
  // which changes nothing), and timer_list has text.
  auto host = testing::run({testing::bin("tinysh"), "-c",
                            fmt::format("echo {} > /proc/sys/vm/swappiness; cat "
                                        "/proc/timer_list",
                                        value)});
  CHECK(host.status() == 0);
  CHECK(host.err.empty());
  CHECK(!host.out.empty());
}

TEST_CASE("--rootfs DIR becomes the read-only root, tinysh runs even if DIR has none") {
  if (!have_root()) return;
  TempDir dir;
  for (const char* sub : {"/bin", "/proc", "/dev", "/tmp"})
    std::filesystem::create_directory(dir.path() + sub);
  std::ofstream(dir.path() + "/MARKER") << "mine\n";
  auto r = nslab_run({"--mount", "--pid", "--proc", "--rootfs", dir.path(), "-c",
                      "ls /; cat /MARKER; ps; echo x > /new; echo ok > /tmp/t; cat /tmp/t"});
  CHECK(r.out.find("MARKER") != std::string::npos);
  CHECK(r.out.find("mine\n") != std::string::npos);
  CHECK(r.out.find("  1    0") != std::string::npos);
  CHECK(r.out.find("ok\n") != std::string::npos);
  CHECK(r.err.find("/new: Read-only file system") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/new"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/tmp/t"));  // /tmp was a tmpfs
}

TEST_CASE("a --rootfs whose /proc is a symlink out of it is refused, never followed") {
  if (!have_root()) return;
  TempDir dir;
  TempDir outside;
  std::filesystem::create_directory(dir.path() + "/dev");
  std::filesystem::create_directory_symlink(outside.path(), dir.path() + "/proc");
  std::string before = mount_table();
  auto r = nslab_run({"--mount", "--pid", "--proc", "--rootfs", dir.path(), "-c", "true"});
  CHECK(r.status() == 125);
  CHECK(r.err.find("/proc") != std::string::npos);
  CHECK(r.err.find("symlink") != std::string::npos);
  CHECK(mount_table() == before);
  CHECK(std::filesystem::is_empty(outside.path()));

  std::filesystem::remove(dir.path() + "/proc");
  std::filesystem::create_directory(dir.path() + "/proc");
  std::filesystem::remove(dir.path() + "/dev");
  std::filesystem::create_directory_symlink(outside.path(), dir.path() + "/dev");
  auto dev = nslab_run({"--mount", "--rootfs", dir.path(), "-c", "true"});
  CHECK(dev.status() == 125);
  CHECK(dev.err.find("/dev is a symlink") != std::string::npos);
}

TEST_CASE(
    "--rootfs errors name the directory as given: a file, a missing path, an unreadable one") {
  if (!have_root()) return;
  TempDir dir;
  std::string file = dir.path() + "/a-file";
  std::ofstream(file) << "not a directory\n";
  auto not_dir = nslab_run({"--mount", "--rootfs", file, "-c", "true"});
  CHECK(not_dir.status() == 125);
  CHECK(not_dir.err.find("--rootfs " + file + ": ") != std::string::npos);
  CHECK(not_dir.err.find("a rootfs is a directory") != std::string::npos);
  auto missing = nslab_run({"--mount", "--rootfs", dir.path() + "/none", "-c", "true"});
  CHECK(missing.err.find("--rootfs " + dir.path() + "/none: ") != std::string::npos);
  CHECK(missing.err.find("no such directory") != std::string::npos);
  // Root inside a user namespace is another uid outside: a 0700 directory of the host's root is
  // closed to it. The error names the directory, not the staging path it was bound at.
  std::string closed = dir.path() + "/closed";
  std::filesystem::create_directories(closed + "/proc");
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(closed.c_str(), 0700);
  auto refused = nslab_run({"--user", "--map-uid", "0:100000:65536", "--map-gid", "0:100000:65536",
                            "--mount", "--rootfs", closed, "-c", "true"});
  CHECK(refused.status() == 125);
  CHECK(refused.err.find("--rootfs " + closed + ": ") != std::string::npos);
  CHECK(refused.err.find("the box's root is uid 100000 outside") != std::string::npos);
  CHECK(refused.err.find("/tmp/root") == std::string::npos);
  // Control: opened to others (with the temporary directory above it), the same directory is
  // the box's root.
  ::chmod(dir.path().c_str(), 0755);
  ::chmod(closed.c_str(), 0755);
  CHECK(nslab_run({"--user", "--map-uid", "0:100000:65536", "--map-gid", "0:100000:65536",
                   "--mount", "--rootfs", closed, "-c", "true"})
            .status() == 0);
}

TEST_CASE("the host's root is refused as --rootfs, as / and by another name, and nothing runs") {
  if (!have_root()) return;
  std::string before = mount_table();
  auto slash = nslab_run({"--mount", "--rootfs", "/", "-c", "echo ran"});
  CHECK(slash.status() == 2);
  CHECK(slash.out.empty());
  CHECK(slash.err.find("--rootfs /: this is the host's own root") != std::string::npos);
  TempDir dir;
  std::string link = dir.path() + "/to-root";
  std::filesystem::create_directory_symlink("/", link);
  auto aliased = nslab_run({"--mount", "--rootfs", link, "-c", "echo ran"});
  CHECK(aliased.status() == 125);
  CHECK(aliased.out.empty());
  CHECK(aliased.err.find("--rootfs " + link + ": this directory is the host's own root") !=
        std::string::npos);
  // An empty value (an unset variable) is not "no --rootfs": refused before anything runs.
  auto empty = nslab_run({"--mount", "--rootfs", "", "-c", "echo ran"});
  CHECK(empty.status() == 2);
  CHECK(empty.out.empty());
  CHECK(empty.err.find("--rootfs: empty value") != std::string::npos);
  CHECK(mount_table() == before);
}

TEST_CASE("a script whose #! interpreter is missing in the box is told apart from a missing file") {
  if (!have_root()) return;
  TempDir dir;
  auto script = [&](const std::string& name, const std::string& text) {
    std::string path = dir.path() + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0755);
    return path;
  };
  std::string orphan = script("orphan", "#!/nslab-test/no-interpreter\necho ran\n");
  std::string fine = script("fine", "#!/bin/sh\necho ran\n");
  // The host's root: the interpreter is missing there too.
  auto r = nslab_run({"--mount", "--", orphan});
  CHECK(r.status() == 127);
  CHECK(r.err.find("the interpreter named in its #! line, /nslab-test/no-interpreter, is missing "
                   "inside the box") != std::string::npos);
  CHECK(r.err.find("no such program") == std::string::npos);
  // In a --rootfs, the hint says whose root it is.
  std::filesystem::create_directory(dir.path() + "/proc");
  auto in_rootfs = nslab_run({"--mount", "--rootfs", dir.path(), "--", "/fine"});
  CHECK(in_rootfs.status() == 127);
  CHECK(in_rootfs.err.find("the interpreter named in its #! line, /bin/sh, is missing inside the "
                           "box (its root is --rootfs " +
                           dir.path() + ")") != std::string::npos);
  // Controls: a missing file is still "no such program"; a script whose interpreter is there runs.
  auto none = nslab_run({"--mount", "--", dir.path() + "/none"});
  CHECK(none.status() == 127);
  CHECK(none.err.find("no such program inside the box") != std::string::npos);
  auto ran = nslab_run({"--mount", "--", fine});
  CHECK(ran.status() == 0);
  CHECK(ran.out == "ran\n");
}
