// The errors-with-hints table and the raw system-call layer's error capture.
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <string>

#include "hints.h"
#include "isolation.h"
#include "sys.h"

using namespace sandbox;

TEST_CASE("the hint table explains the classic pitfalls") {
  CHECK(std::string(hint_for("pivot_root", EINVAL)).find("mount point") != std::string::npos);
  CHECK(std::string(hint_for("gid_map", EPERM)).find("setgroups") != std::string::npos);
  CHECK(std::string(hint_for("clone", EPERM)).find("--user --map-root") != std::string::npos);
  CHECK(hint_for("pivot_root", ENOSPC).empty());  // no advice invented for unknown pairs
}

TEST_CASE("the hint key of a call is its name, or the file's name for a write") {
  CHECK(call_name("mount(\"proc\", \"/proc\", \"proc\", 0)") == "mount");
  CHECK(call_name("write /proc/42/gid_map") == "gid_map");
  CHECK(call_name("write /proc/self/timens_offsets") == "timens_offsets");
  CHECK(call_name("pivot_root(\".\", \".\")") == "pivot_root");
  CHECK(call_name("ioctl(0, TIOCSCTTY, 0)") == "TIOCSCTTY");
  CHECK(call_name("ioctl(master, TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC)") == "TIOCGPTPEER");
  CHECK(call_name("ioctl(3, TIOCGWINSZ)") == "TIOCGWINSZ");
}

TEST_CASE("a failed TIOCSCTTY and setsid say what the kernel requires") {
  sys::clear_faults();
  sys::inject_fault("TIOCSCTTY", EPERM);
  auto status = sys::set_controlling_terminal(0);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().call == "ioctl(0, TIOCSCTTY, 0)");
  CHECK(status.error().hint.find("session leader") != std::string::npos);
  sys::inject_fault("setsid", EPERM);
  auto session = sys::setsid();
  REQUIRE_FALSE(session.ok());
  CHECK(session.error().hint.find("process group") != std::string::npos);
  sys::clear_faults();
}

TEST_CASE("an error message names the step, the call, errno's text and the hint") {
  Error e = make_error("pivot_root(\".\", \".\")", EINVAL);
  e.step = "step 16 (pivot_root)";
  std::string text = e.message();
  CHECK(text.starts_with("step 16 (pivot_root): pivot_root(\".\", \".\"): Invalid argument — "));
  CHECK(text.find("mount point") != std::string::npos);
}

TEST_CASE("an injected fault fails the named call without reaching the kernel, then wears off") {
  sys::clear_faults();
  sys::inject_fault("unshare", EINVAL);
  auto failed = sys::unshare(0);  // unshare(0) changes nothing: safe to really call
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().err == EINVAL);
  CHECK(failed.error().call == "unshare(0)");
  CHECK(sys::unshare(0).ok());  // control: the fault was used up, the real call succeeds
  sys::clear_faults();
}

TEST_CASE("a write to a map file that fails gets the map's hint") {
  sys::clear_faults();
  sys::inject_fault("gid_map", EPERM);
  auto status = write_gid_map(1, {{0, 0, 1}});
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().call == "write /proc/1/gid_map");
  CHECK(status.error().hint.find("'deny'") != std::string::npos);
  sys::clear_faults();
}

TEST_CASE("mount and clone flags are spelled as in the man pages") {
  CHECK(sys::mount_flags_text(MS_REC | MS_PRIVATE) == "MS_REC|MS_PRIVATE");
  CHECK(sys::mount_flags_text(0) == "0");
  CHECK(sys::clone_flags_text(CLONE_NEWUTS | CLONE_NEWPID) == "CLONE_NEWUTS|CLONE_NEWPID");
}

TEST_CASE("the embedded rootfs's passwd has root, nobody and the invoking user") {
  Caller alice;
  alice.invoking_uid = 1000;
  alice.invoking_gid = 1000;
  alice.invoking_name = "alice";
  std::string passwd = rootfs_passwd(alice);
  CHECK(passwd.starts_with("root:x:0:0:"));
  CHECK(passwd.find("\nnobody:x:65534:65534:") != std::string::npos);
  CHECK(passwd.find("\nalice:x:1000:1000:") != std::string::npos);
  CHECK(rootfs_group(alice).find("\nalice:x:1000:") != std::string::npos);
  Caller root;  // root is not listed twice
  CHECK(rootfs_passwd(root).find("\nroot:") == std::string::npos);
}
