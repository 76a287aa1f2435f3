// Starting programs from tests: run one to the end with a time limit and capture what it
// printed, and look at processes through /proc. Waits poll a condition with a deadline; no test
// sleeps for a fixed time and hopes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace testing {

using namespace std::chrono_literals;

struct RunResult {
  int exit_code = -1;  // set when the program exited
  int signal = 0;      // set when it was killed by a signal
  bool timed_out = false;
  std::string out, err;
  // 0..255 for an exit, 128+N for a signal, like a shell's $?.
  int status() const { return signal ? 128 + signal : exit_code; }
};

struct RunOptions {
  std::string input;                            // written to stdin, then stdin is closed
  std::chrono::milliseconds timeout = 20000ms;  // then the process group is killed
  std::vector<std::string> env;                 // extra NAME=value entries
  std::optional<std::string> cwd;
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// build/bin/NAME
std::string bin(const std::string& name);
std::string source_dir();

bool is_root();
bool have_program(const std::string& name);  // on PATH

// A test that cannot run here says why and is reported as skipped, never as passed: under ctest
// (which sets NSLAB_SKIP_STATUS) its process ends with status 77, which ctest counts as a skip
// (SKIP_RETURN_CODE 77). Run by hand, the message shows and the test returns. CI runs as root;
// with CI=true and no root, a skip fails instead, with its reason.
void skip(const std::string& why);

// The state letter of /proc/PID/stat ('R', 'S', 'Z', ...), or nullopt when the process is gone.
std::optional<char> proc_state(pid_t pid);
bool zombie_or_gone(pid_t pid);

// Whether `sig` is in the blocked mask (SigBlk) of /proc/PID/status. A test that signals a
// namespace's init waits for this first: before init blocks or handles a signal, the kernel
// drops it instead of queueing it (pid_namespaces(7)).
bool signal_blocked(pid_t pid, int sig);

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string read_file(const std::string& path);

// The parent pid from /proc/PID/stat, or nullopt when the process is gone.
std::optional<pid_t> parent_of(pid_t pid);

// Every live process whose parent is `pid`.
std::vector<pid_t> children_of(pid_t pid);

// Every process that shares `pid`'s PID namespace (compared by /proc/PID/ns/pid), itself included.
std::vector<pid_t> processes_in_pid_namespace_of(pid_t pid);

// A program started in the background with its stdout and stderr in a temporary file: for tests
// that look at a process from outside while it runs. Killed (whole process group) and reaped on
// destruction unless it was waited for.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  // Waits for the end; returns the status as a shell's $? (128+N for signal N), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string output() const;  // stdout and stderr so far

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string log_path_;
};

}  // namespace testing
