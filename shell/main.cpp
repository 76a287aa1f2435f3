// tinysh: a small shell, statically linked, that can run as PID 1 inside a box.
//
//   tinysh                  read commands: with editing on a terminal, plainly from a pipe
//   tinysh -c 'COMMANDS'    run COMMANDS and exit with the status of the last one
//   tinysh FILE             run the commands in FILE
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "builtin.h"
#include "exec.h"
#include "init.h"
#include "repl.h"
#include "shell.h"

extern char** environ;

// The C++ runtime's default "terminate" handler demangles the name of the uncaught exception's
// type, which links a whole C++ demangler (~60 KB) into a static binary. tinysh throws nothing on
// purpose; should the library ever throw past main, stopping at once is enough.
namespace __gnu_cxx {
void __verbose_terminate_handler() {
  tinysh::write_all(2, "tinysh: internal error: uncaught exception\n");
  std::abort();
}
}  // namespace __gnu_cxx

namespace {

constexpr std::string_view kUsage =
    "usage: tinysh [-c COMMANDS | FILE]\n"
    "  with no arguments, reads commands from stdin (a prompt and line editing on a terminal)\n"
    "  -c COMMANDS   run COMMANDS, exit with the status of the last one\n"
    "  FILE          run the commands in FILE\n"
    "  'help' inside the shell lists its builtins.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace tinysh;
  // nslab runs tinysh from a sealed copy in memory (execveat on a memfd), and the kernel then
  // names the process after that file ("memfd:tinysh" on 6.18) or after the fd's number ("3" on
  // 6.1). ps should show the name it was started as.
  if (argc >= 1 && argv[0] && *argv[0]) {
    std::string_view name = argv[0];
    if (size_t slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    char comm[16] = {};
    name.copy(comm, sizeof comm - 1);
    ::prctl(PR_SET_NAME, comm);
  }
  Shell sh;
  sh.vars = Vars::from_environ(environ);
  if (!sh.vars.get("PATH")) sh.vars.set_exported("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  init_process(sh);

  if (argc >= 2 && (std::string_view(argv[1]) == "-h" || std::string_view(argv[1]) == "--help")) {
    write_all(1, kUsage);
    return 0;
  }
  if (argc >= 2 && std::string_view(argv[1]) == "-c") {
    if (argc < 3) {
      write_all(2, "tinysh: -c needs a string of commands\n");
      write_all(2, kUsage);
      return 2;
    }
    run_text(sh, argv[2]);
    return sh.exit_requested.value_or(sh.last_status);
  }
  if (argc >= 2 && argv[1][0] == '-') {
    write_all(2, fmt::format("tinysh: unknown option '{}'\n", argv[1]));
    write_all(2, kUsage);
    return 2;
  }
  if (argc >= 2) {
    int fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      write_all(2, fmt::format("tinysh: {}: {}\n", argv[1], errno_text(errno)));
      return 127;
    }
    return run_stream(sh, fd);
  }
  if (::isatty(0)) {
    sh.interactive = true;
    return run_interactive(sh);
  }
  return run_stream(sh, 0);
}
