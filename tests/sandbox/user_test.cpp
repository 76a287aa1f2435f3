// User namespaces: a normal user (made with useradd for the test) runs boxes with --user
// --map-root; the maps, their writing order, and what root inside may not do outside.
#include <doctest/doctest.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "box_harness.h"
#include "id_map.h"
#include "isolation.h"
#include "spec.h"
#include "sys.h"

using namespace boxtest;

namespace {

// The user runs its own copy of nslab (see TempUser::nslab()).
bool user_can_run_nslab(const TempUser& user) {
  auto argv = user.prefix();
  argv.push_back(user.nslab());
  argv.push_back("--help");
  return testing::run(argv).status() == 0;
}

}  // namespace

TEST_CASE("a normal user gets root inside with --user --map-root, mapped to its own ids") {
  if (!have_root()) return;
  TempUser user;
  REQUIRE(user.ok());
  REQUIRE_MESSAGE(user_can_run_nslab(user), "the test user cannot execute " << user.nslab());
  auto r = nslab_run({"--user", "--map-root", "-c",
                      "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups"},
                     user.prefix(), {}, user.nslab());
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  CHECK(r.out.find("uid=0(root) gid=0(root)") != std::string::npos);
  CHECK(r.out.find(fmt::format("         0       {:>4}          1", user.uid())) !=
        std::string::npos);
  CHECK(r.out.find(fmt::format("         0       {:>4}          1", user.gid())) !=
        std::string::npos);
  CHECK(r.out.find("deny\n") != std::string::npos);

  // From the host, the box's processes belong to the user, not to root.
  LiveBox box({"--user", "--map-root", "-c", "sleep 100"}, user.prefix(), {}, user.nslab());
  pid_t pid = box.wait_for_box();
  REQUIRE(pid > 0);
  CHECK(real_uid_of(pid) == user.uid());
}

TEST_CASE("a normal user maps its /etc/subuid range with --map-range, written by newuidmap") {
  if (!have_root()) return;
  // ./nslab.sh test installs uidmap: without it this is a missing feature, not a skip.
  REQUIRE_MESSAGE(!sandbox::find_map_helper("newuidmap").empty(), "newuidmap is not installed (uidmap)");
  REQUIRE_MESSAGE(!sandbox::find_map_helper("newgidmap").empty(), "newgidmap is not installed (uidmap)");
  TempUser user;
  REQUIRE(user.ok());
  auto range_of = [&] {
    return sandbox::find_subordinate_ids(testing::read_file("/etc/subuid"), user.name(), user.uid());
  };
  if (!range_of()) {  // useradd gives one when /etc/subuid exists; make sure of it
    std::string ids = fmt::format("{}-{}", 3000000000u + user.uid() % 1000 * 65536u,
                                  3000000000u + user.uid() % 1000 * 65536u + 65535u);
    auto added = testing::run({"usermod", "--add-subuids", ids, "--add-subgids", ids, user.name()});
    REQUIRE_MESSAGE(added.status() == 0, added.err);
  }
  auto range = range_of();
  REQUIRE(range);
  auto sub_gid = sandbox::find_subordinate_ids(testing::read_file("/etc/subgid"), user.name(), user.uid());
  REQUIRE(sub_gid);
  auto r = nslab_run({"--user", "--map-range", "--uts", "--mount", "--pid", "-c",
                      "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups"},
                     user.prefix(), {}, user.nslab());
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  CHECK(r.out.find("uid=0(root) gid=0(root)") != std::string::npos);
  CHECK(r.out.find(fmt::format("{:>10} {:>10} {:>10}", 0, range->start, 65536)) !=
        std::string::npos);
  CHECK(r.out.find(fmt::format("{:>10} {:>10} {:>10}", 0, sub_gid->start, 65536)) !=
        std::string::npos);
  CHECK(r.out.find("allow\n") != std::string::npos);  // newgidmap wrote gid_map: no deny needed
  // From the host, the box's root is the first id of the range: neither root nor the user.
  {
    LiveBox box({"--user", "--map-range", "-c", "sleep 100"}, user.prefix(), {}, user.nslab());
    pid_t pid = box.wait_for_box();
    REQUIRE(pid > 0);
    CHECK(real_uid_of(pid) == range->start);
  }
  // The control: without a range the same command is refused before anything starts, with
  // the way to get one.
  std::string ids = fmt::format("{}-{}", range->start, range->start + range->count - 1);
  auto removed = testing::run({"usermod", "--del-subuids", ids, user.name()});
  REQUIRE_MESSAGE(removed.status() == 0, removed.err);
  REQUIRE_FALSE(range_of());
  auto refused = nslab_run({"--user", "--map-range", "-c", "echo started"}, user.prefix(), {},
                           user.nslab());
  CHECK(refused.status() == 2);
  CHECK(refused.err.find("usermod --add-subuids") != std::string::npos);
  CHECK(refused.out.empty());
}

TEST_CASE("without --user a normal user is told to add --user --map-root, and nothing starts") {
  if (!have_root()) return;
  TempUser user;
  REQUIRE(user.ok());
  auto r = nslab_run({"--uts", "-c", "hostname"}, user.prefix(), {}, user.nslab());
  CHECK(r.status() == 2);
  CHECK(r.err.find("--user --map-root") != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("a normal user cannot map foreign ids: refused before any box exists") {
  if (!have_root()) return;
  TempUser user;
  REQUIRE(user.ok());
  for (const std::string& map : {std::string("0:0:1"), fmt::format("0:{}:2", user.uid())}) {
    CAPTURE(map);
    auto r = nslab_run({"--user", "--map-uid", map, "--map-gid", fmt::format("0:{}:1", user.gid()),
                        "-c", "echo started"},
                       user.prefix(), {}, user.nslab());
    CHECK(r.status() == 2);
    CHECK(r.err.find("can map only its own uid") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("a normal user's full box: /proc for its own PID namespace, mounted before pivot") {
  if (!have_root()) return;
  TempUser user;
  REQUIRE(user.ok());
  auto r =
      nslab_run({"--user", "--map-root", "--mount", "--pivot", "--pid", "--proc", "-c", "ps; ls /"},
                user.prefix(), {}, user.nslab());
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  CHECK(r.out.find("  1    0 root") != std::string::npos);
  CHECK(r.out.find("NSLAB-ROOTFS") != std::string::npos);
  auto all = nslab_run({"--all", "-c", "hostname; id"}, user.prefix(), {}, user.nslab());
  CHECK(all.status() == 0);
  CHECK(all.out == "tinyhost\nuid=0(root) gid=0(root) groups=0(root)\n");
}

TEST_CASE("root inside a user namespace is not root over the host's files") {
  if (!have_root()) return;
  TempUser user;
  REQUIRE(user.ok());
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  std::string file = dir.path() + "/owned-by-root";
  std::ofstream(file) << "original\n";
  ::chmod(file.c_str(), 0644);
  auto r = nslab_run(
      {"--user", "--map-root", "-c", fmt::format("id; echo x >> {0}; rm {0}; cat {0}", file)},
      user.prefix(), {}, user.nslab());
  CHECK(r.out.find("uid=0(root)") != std::string::npos);
  CHECK(r.err.find("Permission denied") != std::string::npos);
  CHECK(testing::read_file(file) == "original\n");
  // Negative control: real root (no user namespace) can append to it.
  auto control = nslab_run({"-c", fmt::format("echo x >> {}", file)});
  CHECK(control.status() == 0);
  CHECK(testing::read_file(file) == "original\nx\n");
}

TEST_CASE("root may map ranges, the box's root then owns nothing of the host's root") {
  if (!have_root()) return;
  auto r = nslab_run({"--user", "--map-uid", "0:100000:65536", "--map-gid", "0:100000:65536",
                      "--mount", "--pivot", "--pid", "--proc", "-c", "id; cat /proc/self/uid_map"});
  REQUIRE_MESSAGE(r.status() == 0, r.err);
  CHECK(r.out.find("uid=0(root)") != std::string::npos);
  CHECK(r.out.find("         0     100000      65536") != std::string::npos);
}

TEST_CASE("gid_map written before setgroups=deny by a normal user fails with the order's hint") {
  if (!have_root()) return;
  TempUser user;
  REQUIRE(user.ok());
  // A forked process becomes the user, makes a child in a new user namespace (the same clone the
  // runner does), and writes its maps in the wrong order, then in the right one.
  int result_pipe[2];
  REQUIRE(::pipe(result_pipe) == 0);
  pid_t writer = ::fork();
  REQUIRE(writer >= 0);
  if (writer == 0) {
    ::close(result_pipe[0]);
    auto report = [&](const std::string& text) {
      [[maybe_unused]] ssize_t n = ::write(result_pipe[1], text.data(), text.size());
    };
    if (::setresgid(user.gid(), user.gid(), user.gid()) || ::setgroups(0, nullptr) ||
        ::setresuid(user.uid(), user.uid(), user.uid()))
      ::_exit(3);
    // Changing uid made this process (and its children) non-dumpable, which makes their /proc
    // files root's; a real unprivileged runner is dumpable.
    ::prctl(PR_SET_DUMPABLE, 1);
    for (bool right_order : {false, true}) {
      int hold[2];
      if (::pipe(hold)) ::_exit(4);
      auto child = sandbox::sys::clone_process(CLONE_NEWUSER);
      if (!child) ::_exit(5);
      if (*child == 0) {
        char c;
        ::close(hold[1]);
        [[maybe_unused]] ssize_t n = ::read(hold[0], &c, 1);  // waits until the writer is done
        ::_exit(0);
      }
      ::close(hold[0]);
      sandbox::op::WriteUidMap uid_map;
      uid_map.map = {{0, user.uid(), 1}};
      sandbox::op::WriteGidMap gid_map;
      gid_map.map = {{0, user.gid(), 1}};
      auto uid = sandbox::write_uid_map(*child, uid_map);
      sandbox::Status deny = sandbox::ok();
      if (right_order) deny = sandbox::deny_setgroups(*child);
      auto gid = sandbox::write_gid_map(*child, gid_map);
      report(fmt::format("{}|uid={} deny={} gid={} {}\n", right_order ? "right" : "wrong", uid.ok(),
                         deny.ok(), gid.ok(), gid.ok() ? "" : gid.error().message()));
      ::close(hold[1]);
      ::waitpid(*child, nullptr, 0);
    }
    ::_exit(0);
  }
  ::close(result_pipe[1]);
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(result_pipe[0], buf, sizeof buf)) > 0) text.append(buf, n);
  ::close(result_pipe[0]);
  int status = 0;
  ::waitpid(writer, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CAPTURE(text);
  CHECK(text.find("wrong|uid=true deny=true gid=false write /proc/") != std::string::npos);
  CHECK(text.find("gid_map: Operation not permitted — write 'deny' to /proc/PID/setgroups "
                  "first") != std::string::npos);
  CHECK(text.find("right|uid=true deny=true gid=true") != std::string::npos);
}
