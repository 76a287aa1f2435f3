// A child process this process owns: reaped once (waitpid(2)), and killed and reaped if it is
// dropped while still running, so no path out of `nslab run` or `nslab enter` leaves a process
// behind. The box's first process (launch.h's Box) and an entered shell (enter.cpp) are both one.
#pragma once

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <utility>

namespace sandbox {

class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (owned()) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(Child&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), reaped_(std::exchange(other.reaped_, true)) {}
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Not yet reaped nor released.
  bool owned() const { return pid_ > 0 && !reaped_; }
  // waitpid() without blocking: the wait status once the process has ended, else -1.
  int poll() { return reap(WNOHANG); }
  // Blocks until the process ends: its wait status (-1 if it was not ours to wait for).
  int wait() {
    int status = reap(0);
    reaped_ = true;
    return status;
  }
  // Gives up ownership: the destructor leaves the process alone.
  pid_t release() {
    reaped_ = true;
    return pid_;
  }

 private:
  int reap(int flags) {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, flags);
    while (r < 0 && errno == EINTR);
    if (r != pid_) return -1;
    reaped_ = true;
    return status;
  }
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace sandbox
