// Helpers for the integration tests: start nslab boxes, find their processes from the host, and
// make a temporary non-root user. Every check of isolation is made from outside, through /proc.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "process.h"

namespace boxtest {

using namespace std::chrono_literals;

// Integration tests need root to create namespaces; CI runs them as root. Prints why when not.
bool have_root();

// `nslab run ARGS...` to the end; `prefix` runs it through another program (setpriv as a user).
// `nslab` is the binary to run (build/bin/nslab unless given).
testing::RunResult nslab_run(const std::vector<std::string>& args,
                             const std::vector<std::string>& prefix = {},
                             const testing::RunOptions& options = {},
                             const std::string& nslab = testing::bin("nslab"));

// A box that keeps running while the test looks at it from the host. The destructor kills the
// runner's process group and the box's (its first process leads one, in a session of its own)
// and reaps the runner: nothing is left behind.
class LiveBox {
 public:
  // Starts `prefix... nslab run args...` in a process group of its own, with its output in a temp
  // file and stdin from /dev/null; `keep_fds` are fds of this process handed to nslab as they are
  // (all others are closed).
  explicit LiveBox(const std::vector<std::string>& args,
                   const std::vector<std::string>& prefix = {},
                   const std::vector<int>& keep_fds = {},
                   const std::string& nslab = testing::bin("nslab"));
  ~LiveBox();
  LiveBox(const LiveBox&) = delete;
  LiveBox& operator=(const LiveBox&) = delete;

  pid_t runner() const { return runner_; }
  // The box's first process (the runner's child), once it has exec'd `comm`; -1 on timeout.
  pid_t wait_for_box(const std::string& comm = "tinysh", std::chrono::milliseconds timeout = 10s);
  // Waits for the runner to end; returns its status as a shell's $? or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout = 10s);
  // After wait_exit: whether the runner itself was killed by a signal (status 128+N), rather
  // than exiting with a status (such as the 138 of a box that ended on SIGUSR1).
  bool killed_by_signal() const { return killed_by_signal_; }
  std::string output() const;  // stdout and stderr of the runner so far

 private:
  pid_t runner_ = -1;
  pid_t box_ = -1;
  bool reaped_ = false;
  bool killed_by_signal_ = false;
  std::string log_path_;
};

// The children of `pid`, by scanning /proc/*/stat.
std::vector<pid_t> children_of(pid_t pid);
// Every process whose PID namespace is `pid`'s (the box's processes, seen from the host).
std::set<pid_t> processes_in_pid_namespace_of(pid_t pid);
// readlink /proc/PID/ns/NAME: "uts:[4026531838]", or "" when unreadable.
std::string ns_link(pid_t pid, const std::string& name);
// The uid in /proc/PID/status's "Uid:" line (real uid).
std::optional<uid_t> real_uid_of(pid_t pid);

// The host's mount table as lines "mount-point fstype source", without ids that change.
std::string mount_table();

// A temporary directory removed (with its contents) in the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A temporary user made with useradd and removed with userdel in the destructor.
class TempUser {
 public:
  TempUser();
  ~TempUser();
  TempUser(const TempUser&) = delete;
  TempUser& operator=(const TempUser&) = delete;
  bool ok() const { return uid_ != static_cast<uid_t>(-1); }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  const std::string& name() const { return name_; }
  // setpriv --reuid --regid --clear-groups --: run a program as this user.
  std::vector<std::string> prefix() const;
  // A copy of nslab (with tinysh beside it) in a directory the user can reach, whatever the
  // permissions of the build tree's parents are.
  const std::string& nslab() const { return nslab_; }

 private:
  TempDir bin_dir_;
  std::string nslab_;
  std::string name_;
  uid_t uid_ = static_cast<uid_t>(-1);
  gid_t gid_ = static_cast<gid_t>(-1);
};

}  // namespace boxtest
