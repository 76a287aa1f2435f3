// tinysh's builtins writing into files that refuse the write, checked through the real binary:
// /dev/full (ENOSPC at every write), and as root a cgroup's pids.max, which opens for writing and
// then rejects a value that is not a number in write(2) itself.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "process.h"
#include "temp_dir.h"

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

TEST_CASE("a write cut short by RLIMIT_FSIZE is reported, and its SIGXFSZ does not end the shell") {
  // The file may grow to the limit: the first write(2) stores that much and returns a short
  // count, the next fails with EFBIG and the kernel sends the writer SIGXFSZ, whose default
  // action would kill the shell.
  testing::TempDir dir;
  std::string file = dir / "big";
  std::string word(3000, 'x');
  auto r = testing::run({"sh", "-c", "ulimit -f 1 && exec \"$0\" -c \"$1\"", bin("tinysh"),
                         "echo " + word + " > " + file + "; echo status=$?"});
  CHECK(r.status() == 0);
  CHECK(r.out == "status=1\n");
  CHECK(r.err == "echo: write " + file + ": File too large\n");
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK(st.st_size > 0);  // a short write came first: part of the text is in the file
  CHECK(st.st_size < static_cast<off_t>(word.size()));
}

TEST_CASE("a builtin writing into a pipe nobody reads reports EPIPE, and the shell goes on") {
  // stdout is a pipe whose read end is closed before tinysh starts: every write fails with EPIPE
  // and makes a SIGPIPE for the shell, which is its own doing and must not end it — nor the
  // program `exec` puts in its place right after (`||`: no pause to read signals in between).
  int out[2], err[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
  ::close(out[0]);
  std::string tinysh = bin("tinysh");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execl(tinysh.c_str(), "tinysh", "-c",
            "echo a; echo status=$? >&2; echo b; echo status=$? >&2; "
            "echo c || exec sh -c 'echo exec-ran >&2'",
            nullptr);
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(err[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(err[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(text ==
        "echo: write stdout: Broken pipe\nstatus=1\n"
        "echo: write stdout: Broken pipe\nstatus=1\n"
        "echo: write stdout: Broken pipe\nexec-ran\n");
}

TEST_CASE("echo into a cgroup's pids.max: a value the kernel refuses is status 1, a number is 0") {
  if (!testing::is_root()) {
    testing::skip("making a cgroup needs root (CI runs as root)");
    return;
  }
  TempPidsCgroup cgroup;
  if (cgroup.path().empty()) {
    testing::skip("no pids cgroup could be made (no v1 pids hierarchy, no v2 pids controller)");
    return;
  }
  std::string file = cgroup.path() + "/pids.max";
  auto r = sh("echo many > " + file + "; echo status=$?; echo 5 > " + file +
              "; echo status=$?; cat " + file);
  CHECK(r.out == "status=1\nstatus=0\n5\n");
  CHECK(r.err == "echo: write " + file + ": Invalid argument\n");
  CHECK(testing::read_file(file) == "5\n");
}
