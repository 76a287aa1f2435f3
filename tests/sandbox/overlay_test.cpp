// --overlay and --overlay-dir: the box's root as an overlay of a --rootfs directory under a layer
// it writes to. Looked at from the host: the lower directory never changes, the upper one holds
// what the box changed (copied up) and what it deleted (a whiteout, a character device 0,0).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "box_harness.h"

using namespace boxtest;
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A small root: the directories a box mounts on, and two files in /etc, all owned by `owner`.
// In a user namespace the box's root may change only what belongs to an id its map names: a
// copy-up keeps the file's owner, and a lower file of an unmapped owner is refused (EACCES).
void make_lower(const std::string& root, uid_t owner = 0) {
  for (const char* sub : {"/bin", "/proc", "/dev", "/tmp", "/etc"})
    fs::create_directories(root + sub);
  std::ofstream(root + "/etc/motd") << "from the lower layer\n";
  std::ofstream(root + "/etc/gone") << "deleted in the box\n";
  ::chmod(root.c_str(), 0755);
  if (owner != 0)
    for (const auto& path : {root + "/etc", root + "/etc/motd", root + "/etc/gone"})
      REQUIRE(::chown(path.c_str(), owner, owner) == 0);
}

const std::string kChange = "echo changed > /etc/motd; rm /etc/gone; echo new > /etc/new; "
                            "cat /etc/motd; ls /etc";

bool is_whiteout(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

}  // namespace

TEST_CASE("--overlay-dir: copy-up and a whiteout in the kept layer, the lower directory as it was") {
  if (!have_root()) return;
  TempDir lower, layer;
  make_lower(lower.path());
  auto r = nslab_run({"--mount", "--pid", "--proc", "--rootfs", lower.path(), "--overlay-dir",
                      layer.path(), "-c", kChange});
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  CHECK(r.out.find("changed\n") != std::string::npos);
  CHECK(r.out.find("gone") == std::string::npos);
  // The lower layer is untouched.
  CHECK(read_all(lower.path() + "/etc/motd") == "from the lower layer\n");
  CHECK(fs::exists(lower.path() + "/etc/gone"));
  CHECK_FALSE(fs::exists(lower.path() + "/etc/new"));
  // The upper layer has the copy-up, the new file and the whiteout.
  CHECK(read_all(layer.path() + "/upper/etc/motd") == "changed\n");
  CHECK(read_all(layer.path() + "/upper/etc/new") == "new\n");
  CHECK(is_whiteout(layer.path() + "/upper/etc/gone"));
  CHECK(fs::is_directory(layer.path() + "/work"));
  // A second box over the same layer starts where the first left off.
  auto again = nslab_run({"--mount", "--rootfs", lower.path(), "--overlay-dir", layer.path(),
                          "-c", "cat /etc/motd /etc/new; ls /etc"});
  CHECK(again.out.find("changed\nnew\n") != std::string::npos);
  CHECK(again.out.find("gone") == std::string::npos);
  // Negative control: without a layer the same root is read-only and nothing is written.
  auto plain = nslab_run({"--mount", "--rootfs", lower.path(), "-c", "echo x > /etc/motd"});
  CHECK(plain.err.find("Read-only file system") != std::string::npos);
  CHECK(read_all(lower.path() + "/etc/motd") == "from the lower layer\n");
}

TEST_CASE("--overlay keeps the layer in memory: the box writes, the host keeps nothing") {
  if (!have_root()) return;
  TempDir lower;
  make_lower(lower.path());
  std::string before = mount_table();
  auto r = nslab_run({"--mount", "--pid", "--proc", "--rootfs", lower.path(), "--overlay", "-c",
                      kChange + "; cat /proc/self/mountinfo"});
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  CHECK(r.out.find("changed\n") != std::string::npos);
  CHECK(r.out.find("overlay") != std::string::npos);
  CHECK(r.out.find("upperdir=/tmp/layer/upper") != std::string::npos);
  CHECK(read_all(lower.path() + "/etc/motd") == "from the lower layer\n");
  CHECK(fs::exists(lower.path() + "/etc/gone"));
  CHECK_FALSE(fs::exists(lower.path() + "/etc/new"));
  CHECK(mount_table() == before);
}

TEST_CASE("two boxes share one lower layer, each with a layer of its own") {
  if (!have_root()) return;
  TempDir lower, a, b;
  make_lower(lower.path());
  auto first = nslab_run({"--mount", "--rootfs", lower.path(), "--overlay-dir", a.path(), "-c",
                          "echo box-a > /etc/motd"});
  auto second = nslab_run({"--mount", "--rootfs", lower.path(), "--overlay-dir", b.path(), "-c",
                           "cat /etc/motd"});
  REQUIRE(first.status() == 0);
  REQUIRE(second.status() == 0);
  CHECK(second.out == "from the lower layer\n");  // b's box never sees a's change
  CHECK(read_all(a.path() + "/upper/etc/motd") == "box-a\n");
  CHECK_FALSE(fs::exists(b.path() + "/upper/etc/motd"));
}

TEST_CASE("in a user namespace the layer belongs to the box's root outside") {
  if (!have_root()) return;
  TempDir lower, layer;
  make_lower(lower.path(), 65534);
  ::chmod(layer.path().c_str(), 0755);
  // Root's --map-root maps the box's root to nobody: the upper and work directories go to it.
  auto r = nslab_run({"--user", "--map-root", "--mount", "--rootfs", lower.path(),
                      "--overlay-dir", layer.path(), "-c", "echo mine > /etc/motd"});
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  CHECK(read_all(layer.path() + "/upper/etc/motd") == "mine\n");
  struct stat st {};
  REQUIRE(::stat((layer.path() + "/upper/etc/motd").c_str(), &st) == 0);
  CHECK(st.st_uid == 65534u);
  REQUIRE(::stat((layer.path() + "/upper").c_str(), &st) == 0);
  CHECK(st.st_uid == 65534u);

  // Negative control: a lower file of the host's root is not the box's to change.
  TempDir root_lower, root_layer;
  make_lower(root_lower.path());
  ::chmod(root_layer.path().c_str(), 0755);
  auto refused = nslab_run({"--user", "--map-root", "--mount", "--rootfs", root_lower.path(),
                            "--overlay-dir", root_layer.path(), "-c", "echo mine > /etc/motd"});
  CHECK(refused.err.find("/etc/motd: Permission denied") != std::string::npos);
  CHECK_FALSE(fs::exists(root_layer.path() + "/upper/etc/motd"));

  // A normal user's box: its root is the user, who owns the layer it made.
  TempUser user;
  REQUIRE(user.ok());
  TempDir user_lower, user_layer;
  make_lower(user_lower.path(), user.uid());
  ::chown(user_layer.path().c_str(), user.uid(), user.gid());
  auto rootless = nslab_run({"--user", "--map-root", "--mount", "--rootfs", user_lower.path(),
                             "--overlay-dir", user_layer.path(), "-c",
                             "echo user > /etc/motd; cat /etc/motd"},
                            user.prefix(), {}, user.nslab());
  REQUIRE_MESSAGE(rootless.status() == 0, rootless.err);
  CHECK(rootless.out == "user\n");
  REQUIRE(::stat((user_layer.path() + "/upper/etc/motd").c_str(), &st) == 0);
  CHECK(st.st_uid == user.uid());
  CHECK(read_all(user_lower.path() + "/etc/motd") == "from the lower layer\n");
}
