#include "repl.h"

#include <poll.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "builtin.h"
#include "builtins/file_io.h"
#include "exec.h"
#include "init.h"
#include "lineedit.h"
#include "parse.h"
#include "shell.h"

namespace tinysh {

std::string make_prompt() {
  uid_t uid = ::geteuid();
  // Read the current root's /etc/passwd each time: after pivot_root the same uid may have
  // another name, or none.
  std::string user = file_io::load_id_names().user_name(uid);
  utsname u;
  std::string host = ::uname(&u) == 0 ? u.nodename : "?";
  char cwd[4096];
  std::string dir = ::getcwd(cwd, sizeof cwd) ? cwd : "?";
  return fmt::format("{}@{}:{}{} ", user, host, dir, uid == 0 ? "#" : "$");
}

int run_interactive(Shell& sh) {
  take_terminal(sh);
  remember_terminal_modes(sh.terminal_fd);
  write_all(2, "tinysh: type 'help' for the commands, Ctrl-D or 'exit' to leave.\n");
  std::string pending;  // a line that needs more input (open quote, trailing |)
  while (!sh.exit_requested) {
    write_all(2, poll_children(sh));
    if (sh.exit_requested) break;
    std::string prompt = pending.empty() ? make_prompt() : "> ";
    LineRead line = read_line(sh.terminal_fd, prompt, sh.history, [&sh] {
      std::string finished = poll_children(sh);
      if (sh.exit_requested) return AfterSignal::Stop;
      if (finished.empty()) return AfterSignal::Continue;
      write_all(2, "\r\x1b[K" + finished);  // over the half-typed line, which is drawn again
      return AfterSignal::Redraw;
    });
    if (line.kind == LineRead::Kind::EndOfInput) {
      if (!pending.empty()) write_all(2, "tinysh: syntax error: the input ended inside a command\n");
      break;
    }
    if (line.kind == LineRead::Kind::Interrupted) {
      pending.clear();
      sh.last_status = 130;
      continue;
    }
    pending += line.text;
    if (parse(pending).needs_more_input) {
      pending += '\n';
      continue;
    }
    if (pending.find_first_not_of(" \t") != std::string::npos &&
        (sh.history.empty() || sh.history.back() != pending))
      sh.history.push_back(pending);
    run_text(sh, pending);
    pending.clear();
  }
  return sh.exit_requested.value_or(sh.last_status);
}

namespace {

// Waits until `fd` has input, reaping children and handling signals meanwhile, so orphans never
// pile up as zombies while PID 1 waits for its next command. False when the shell must stop.
bool wait_for_input(Shell& sh, int fd) {
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {signal_fd(), POLLIN, 0}};
    int n = ::poll(fds, signal_fd() >= 0 ? 2 : 1, -1);
    if (n < 0 && errno != EINTR) return true;  // let read() report the problem
    if (fds[1].revents & POLLIN) {
      poll_children(sh);
      if (sh.exit_requested) return false;
    }
    if (fds[0].revents) return true;
  }
}

}  // namespace

int run_stream(Shell& sh, int fd) {
  std::string buffer, pending;
  bool eof = false;
  while (!sh.exit_requested) {
    size_t nl = buffer.find('\n');
    if (nl == std::string::npos && !eof) {
      if (!wait_for_input(sh, fd)) break;
      char chunk[4096];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) eof = true;
      else buffer.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (nl == std::string::npos) {  // the last line, without a newline
      if (buffer.empty()) {
        // Input ended inside a command (an open quote, a trailing |): say so, status 2.
        if (!pending.empty()) run_text(sh, pending);
        break;
      }
      nl = buffer.size();
    }
    pending += buffer.substr(0, nl);
    buffer.erase(0, nl + 1);
    if (parse(pending).needs_more_input && !(eof && buffer.empty())) {
      pending += '\n';
      continue;
    }
    run_text(sh, pending);
    pending.clear();
    if (eof && buffer.empty()) break;
  }
  return sh.exit_requested.value_or(sh.last_status);
}

}  // namespace tinysh
