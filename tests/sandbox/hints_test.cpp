// The errors-with-hints table and the raw system-call layer's error capture.
#include <doctest/doctest.h>
#include <sched.h>
#include <sys/mount.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/mount_flags.h"
#include "hints.h"
#include "isolation.h"
#include "sys.h"
#include "temp_dir.h"

using namespace sandbox;

TEST_CASE("the hint table explains the classic pitfalls") {
  CHECK(std::string(hint_for("pivot_root", EINVAL)).find("mount point") != std::string::npos);
  CHECK(std::string(hint_for("gid_map", EPERM)).find("setgroups") != std::string::npos);
  CHECK(std::string(hint_for("clone", EPERM)).find("--user --map-root") != std::string::npos);
  CHECK(hint_for("pivot_root", ENOSPC).empty());  // no advice invented for unknown pairs
}

TEST_CASE("a mkdir that fails is told about cgroups only when it made a cgroup") {
  // A layer's directory the user may not write to (the error sys::make_dir makes): no word of
  // cgroups or root.
  Error layer = make_error("mkdir(\"/home/student/layer/upper\", 0755)", EACCES);
  CHECK(layer.hint == "this user may not write in the parent directory");
  CHECK(std::string(hint_for("mkdir", EACCES)).find("cgroup") == std::string::npos);
  // The cgroup's mkdir keeps its own advice (cgroup.cpp keys it "cgroup mkdir").
  CHECK(std::string(hint_for("cgroup mkdir", EACCES)).find("Delegate=yes") != std::string::npos);
  CHECK(std::string(hint_for("cgroup mkdir", EEXIST)).find("same pid") != std::string::npos);
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
  op::WriteGidMap step;
  step.map = {{0, 0, 1}};
  auto status = write_gid_map(1, step);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().call == "write /proc/1/gid_map");
  CHECK(status.error().hint.find("'deny'") != std::string::npos);
  sys::clear_faults();
}

TEST_CASE("a map the kernel refuses as invalid gets a hint with every reason and its own size") {
  IdMap map;
  for (std::uint32_t i = 0; i < 300; ++i) map.push_back({100000 + 2 * i, 200000 + 2 * i, 1});
  sys::clear_faults();
  sys::inject_fault("uid_map", EINVAL);
  op::WriteUidMap step;
  step.map = map;
  auto status = write_uid_map(1, step);
  REQUIRE_FALSE(status.ok());
  const std::string& hint = status.error().hint;
  // Not "more than 340 lines" alone, which a 300-line map of 4800 bytes would contradict.
  CHECK(hint.find("more than 340 lines") != std::string::npos);
  CHECK(hint.find("4096 bytes") != std::string::npos);
  CHECK(hint.ends_with("(this map: 300 lines, 4800 bytes)"));
  // Control: another errno keeps its own hint, without the size.
  sys::inject_fault("uid_map", EPERM);
  auto denied = write_uid_map(1, step);
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().hint.find("this map:") == std::string::npos);
  sys::clear_faults();
}

namespace {

Plan rootfs_plan(const std::string& given, const std::string& absolute) {
  Plan plan;
  plan.spec.mount = plan.spec.pivot = true;
  plan.spec.rootfs_dir = absolute;
  plan.spec.rootfs_as_given = given;
  return plan;
}

}  // namespace

TEST_CASE("an error about the rootfs names it as given, with what its errno means there") {
  Plan plan = rootfs_plan("./myroot", "/home/alice/myroot");
  Error missing =
      about_rootfs(plan, make_error("open(\"/home/alice/myroot\")", ENOENT), Side::Runner);
  CHECK(missing.call.starts_with("--rootfs ./myroot: open("));
  CHECK(missing.hint.find("no such directory") != std::string::npos);
  Error file = about_rootfs(plan, make_error("open(\"x\")", ENOTDIR), Side::Runner);
  CHECK(file.hint.find("not a directory") != std::string::npos);
  // Root refused: a filesystem that squashes root.
  Error squashed = about_rootfs(plan, make_error("open(\"x\")", EACCES), Side::Runner);
  CHECK(squashed.hint.find("even root is refused") != std::string::npos);
  // In a user namespace the box's root is the mapped uid outside, and that uid is refused.
  plan.spec.user = true;
  plan.uid_map = {{0, 1000, 1}};
  Error mapped = about_rootfs(
      plan, make_error("mount(\"/proc/self/fd/5\", \"/tmp/root\", NULL, MS_BIND|MS_REC)", EACCES),
      Side::Box);
  CHECK(mapped.call.starts_with("--rootfs ./myroot: mount("));
  CHECK(mapped.hint.find("the box's root is uid 1000 outside") != std::string::npos);
  // Control: an errno with nothing rootfs-specific to say keeps the call's own hint.
  Error other = about_rootfs(plan, make_error("mount(\"a\", \"b\")", ENODEV), Side::Box);
  CHECK(other.hint == hint_for("mount", ENODEV));
}

TEST_CASE("the host's root by another name is refused as a rootfs, naming it as given") {
  testing::TempDir dir;
  std::filesystem::create_directory_symlink("/", dir / "to-root");
  auto open_path = [](const std::string& path) {
    return Fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  };
  Plan plan = rootfs_plan("to-root", dir / "to-root");
  Fd root = open_path(dir / "to-root");
  REQUIRE(root.get() >= 0);
  auto refused = check_not_host_root(plan, root.get());
  REQUIRE_FALSE(refused.ok());
  CHECK(
      refused.error().call.starts_with("--rootfs to-root: this directory is the host's own root"));
  // Control: a directory of its own passes.
  Fd own = open_path(dir.path);
  CHECK(check_not_host_root(rootfs_plan(dir.path, dir.path), own.get()).ok());
}

TEST_CASE("the #! line's interpreter is read as the kernel reads it") {
  CHECK(shebang_interpreter("#!/bin/sh\necho hi\n") == "/bin/sh");
  CHECK(shebang_interpreter("#! /usr/bin/env python3\n") == "/usr/bin/env");
  CHECK(shebang_interpreter("#!\t/opt/x\targ") == "/opt/x");
  CHECK(shebang_interpreter("#!/bin/sh") == "/bin/sh");
  CHECK(shebang_interpreter("#!\n/bin/sh\n") == "");
  CHECK(shebang_interpreter("#!   ") == "");
  CHECK(shebang_interpreter("echo hi\n") == "");
  CHECK(shebang_interpreter("\177ELF\002\001") == "");
  CHECK(shebang_interpreter("") == "");
}

TEST_CASE("a program that execve says is missing: the file, its #! interpreter, or its loader") {
  testing::TempDir dir;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    std::filesystem::permissions(dir / name, std::filesystem::perms::owner_all);
  };
  write("script", "#!/nslab-test/no-such-interpreter -x\necho hi\n");
  write("binary", std::string("\177ELF\002\001\001", 7));
  std::vector<std::string> env = {"HOME=/root", "PATH=/nslab-test-none:" + dir.path};

  Error script = program_exec_error(dir / "script", ENOENT, env, "--rootfs ./r");
  CHECK(script.call == "execve(\"" + dir / "script" + "\")");
  CHECK(script.err == ENOENT);
  CHECK(script.hint.find("the interpreter named in its #! line, /nslab-test/no-such-interpreter, "
                         "is missing inside the box (its root is --rootfs ./r)") !=
        std::string::npos);
  // Found through PATH: the call names the file that was tried.
  Error by_name = program_exec_error("script", ENOENT, env, "");
  CHECK(by_name.call == "execve(\"" + dir / "script" + "\")");
  CHECK(by_name.hint.find("#! line") != std::string::npos);
  // A binary: its loader.
  CHECK(program_exec_error(dir / "binary", ENOENT, env, "").hint.find("loader") !=
        std::string::npos);
  // Control: no file at all is "no such program", named as given.
  Error missing = program_exec_error("no-such-program", ENOENT, env, "--rootfs ./r");
  CHECK(missing.call == "execve(\"no-such-program\")");
  CHECK(missing.hint.find("no such program inside the box") != std::string::npos);
  CHECK(missing.hint.ends_with("(its root is --rootfs ./r)"));
  // Another errno keeps the table's hint.
  CHECK(program_exec_error(dir / "script", EACCES, env, "").hint == hint_for("execve", EACCES));
}

TEST_CASE("mount and clone flags are spelled as in the man pages") {
  CHECK(common::mount_flags_text(MS_REC | MS_PRIVATE) == "MS_REC|MS_PRIVATE");
  CHECK(common::mount_flags_text(0) == "0");
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
