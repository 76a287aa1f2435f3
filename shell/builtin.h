// The builtin commands of tinysh. Each is a plain function `int run(Shell&, Args)` that reads its
// arguments (args[0] is its own name), writes to fd 1 and fd 2, and returns an exit status.
// Redirections are already in place when it runs.
//
// Builtins that must change the shell itself (cd, export, exit, hostname set, ...) run inside the
// shell process. Builtins that block or take risks (sleep, spawn, hog, burn, tcp, ping) run in a
// child process that the executor forks for them, exactly like an external program, so Ctrl-C
// stops them and an out-of-memory kill or a fork failure never hits the shell — which may be
// PID 1.
#pragma once

#include <fmt/format.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tinysh {

struct Shell;
using Args = std::span<const std::string>;

enum class RunsIn { Shell, Child };

struct Builtin {
  std::string_view name;
  std::string_view usage;    // "ls [-l] [-a] [PATH...]"
  std::string_view summary;  // one sentence: what it does
  std::string_view reads;    // the kernel interface it reads or calls: "/proc/self/mountinfo"
  RunsIn runs_in = RunsIn::Shell;
  int (*run)(Shell&, Args) = nullptr;
};

// Each group lives in its own file under shell/builtins/.
std::span<const Builtin> core_builtins();    // core.cpp: cd pwd echo env export unset exit help true false sleep kill
std::span<const Builtin> file_builtins();    // files.cpp: ls cat mkdir touch rm
std::span<const Builtin> system_builtins();  // system.cpp: hostname uname id caps ps mount umount ns
std::span<const Builtin> init_builtins();    // reboot.cpp: reboot
std::span<const Builtin> limit_builtins();   // limits.cpp: cgroup spawn hog burn
std::span<const Builtin> net_builtins();     // net.cpp: ifaces tcp ping

// Every builtin, in the order `help` lists them; nullptr when NAME is not a builtin.
std::vector<const Builtin*> all_builtins();
const Builtin* find_builtin(std::string_view name);

// Output helpers. Builtins write with write(2) on fds 1 and 2 (no stdio buffers to flush before a
// fork or lose on _exit). write_all retries partial writes and returns false when the kernel took
// only part of the text or none: a full disk, a closed pipe, or a cgroup file that refuses the
// value (kernfs checks it in write(2), after open(2) succeeded). The first such failure on fd 1
// is also kept for the executor, which turns it into status 1 and one line naming the file; so a
// builtin need not check each write, only stop a loop that would go on writing in vain.
bool write_all(int fd, std::string_view text);

// The errno of the first write to fd 1 that failed since the last call, or 0; clears it.
int take_output_error();

template <typename... T>
void out(fmt::format_string<T...> format, T&&... args) {
  write_all(1, fmt::format(format, std::forward<T>(args)...));
}

// Prints "NAME: message" on stderr and returns 1, so `return fail(args, "...")` reads naturally.
template <typename... T>
int fail(Args args, fmt::format_string<T...> format, T&&... values) {
  std::string line = args.empty() ? std::string("tinysh") : args[0];
  line += ": ";
  line += fmt::format(format, std::forward<T>(values)...);
  line += '\n';
  write_all(2, line);
  return 1;
}

// "NAME: usage: <usage>" on stderr; returns 2 like a shell's misuse status.
int usage_error(Args args);

// strerror(errno) in words, without the thread-unsafe static buffer.
std::string errno_text(int err);

}  // namespace tinysh
