// tinysh's builtins writing into files that refuse the write, checked through the real binary:
// /dev/full (ENOSPC at every write), and as root a cgroup's pids.max, which opens for writing and
// then rejects a value that is not a number in write(2) itself.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "process.h"

using testing::bin;

namespace {

testing::RunResult sh(const std::string& commands) {
  return testing::run({bin("tinysh"), "-c", commands});
}

// A pids cgroup of the test's own, nslab-test-<pid>, removed when the test ends however it ends
// (doctest's REQUIRE throws, which runs this destructor). Cgroup v1's pids hierarchy where the
// host has one, else the v2 tree when its root hands the pids controller down.
class TempPidsCgroup {
 public:
  TempPidsCgroup() {
    std::string name = "/nslab-test-" + std::to_string(::getpid());
    for (const char* root : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup"}) {
      std::string dir = root + name;
      if (::mkdir(dir.c_str(), 0755) != 0) continue;
      if (::access((dir + "/pids.max").c_str(), W_OK) == 0) {
        path_ = dir;
        return;
      }
      ::rmdir(dir.c_str());  // a v2 root without the pids controller: no pids.max below it
    }
  }
  ~TempPidsCgroup() {
    if (!path_.empty()) ::rmdir(path_.c_str());
  }
  TempPidsCgroup(const TempPidsCgroup&) = delete;
  TempPidsCgroup& operator=(const TempPidsCgroup&) = delete;
  // Empty when no pids cgroup could be made.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("a builtin in a child process reports its refused write too") {
  // The last command of a pipeline runs in a child, and its status is the pipeline's.
  auto r =
      sh("true | echo hi > /dev/full; echo status=$?; true | cat /etc/passwd > /dev/full; "
         "echo status=$?");
  CHECK(r.out == "status=1\nstatus=1\n");
  CHECK(r.err ==
        "echo: write /dev/full: No space left on device\n"
        "cat: write /dev/full: No space left on device\n");
}

TEST_CASE("control: a builtin in a child process writing into /dev/null succeeds") {
  auto r = sh("true | echo hi > /dev/null; echo status=$?");
  CHECK(r.out == "status=0\n");
  CHECK(r.err.empty());
}

TEST_CASE("echo into a cgroup's pids.max: a value the kernel refuses is status 1, a number is 0") {
  if (!testing::is_root()) {
    MESSAGE("skipped: making a cgroup needs root (CI runs as root)");
    return;
  }
  TempPidsCgroup cgroup;
  if (cgroup.path().empty()) {
    MESSAGE("skipped: no pids cgroup could be made (no v1 pids hierarchy, no v2 pids controller)");
    return;
  }
  std::string file = cgroup.path() + "/pids.max";
  auto r = sh("echo many > " + file + "; echo status=$?; echo 5 > " + file +
              "; echo status=$?; cat " + file);
  CHECK(r.out == "status=1\nstatus=0\n5\n");
  CHECK(r.err == "echo: write " + file + ": Invalid argument\n");
  CHECK(testing::read_file(file) == "5\n");
}
