// Results instead of exceptions: every call into the kernel that can fail returns Result<T>.
//
// An Error says which step of the box's setup failed, the system call exactly as it was made
// (`mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC)`), errno, and a one-line hint
// from the table in hints.cpp that says what that errno usually means for that call. Only the
// command line turns an Error into a message and an exit status.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sandbox {

struct Error {
  std::string step;  // "mount the embedded rootfs" (filled in by the executor)
  std::string call;  // the call as text, with its arguments
  int err = 0;       // errno, or 0 for a failure that is not a system call's
  std::string hint;  // what it usually means; may be empty

  // "step: call: errno text — hint", on one line.
  std::string message() const;
};

// Builds an Error from a failed call: `call` names the system call first ("pivot_root(...)"),
// and its name picks the hint for `err` from the table.
Error make_error(std::string call, int err);
// A failure that no errno describes (a refused rootfs, a malformed child report, ...).
Error plain_error(std::string what, std::string hint = {});

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok() {
  return Ok{};
}

}  // namespace sandbox

// Returns early with the error of a failed Result; otherwise yields nothing.
#define SANDBOX_TRY(expr)                                         \
  do {                                                            \
    auto&& sandbox_try_result_ = (expr);                          \
    if (!sandbox_try_result_) return sandbox_try_result_.error(); \
  } while (0)
