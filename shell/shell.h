// The state of one tinysh process: its variables, the last status, its jobs, its mode.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "vars.h"

namespace tinysh {

struct Job {
  int id = 0;               // %1, %2, ... as `jobs` shows them
  pid_t pgid = 0;           // the job's process group (0 when it shares the shell's)
  std::vector<pid_t> pids;  // processes not yet reaped
  pid_t last_pid = 0;       // the pipeline's last command: its status is the job's status
  int last_wait_status = 0;  // raw status from waitpid(2) of last_pid
  std::string text;          // the command line, for "[1] Done  sleep 5"
  bool stopped = false;      // Ctrl-Z (SIGTSTP) or SIGSTOP
  bool background = false;
  bool done() const { return pids.empty(); }
};

struct Shell {
  Vars vars;
  int last_status = 0;
  pid_t pid = 0;             // getpid() at start: 1 when tinysh is a namespace's init
  bool interactive = false;  // reading commands from a terminal, with job control
  int terminal_fd = -1;      // the controlling terminal when interactive
  pid_t shell_pgid = 0;
  std::optional<int> exit_requested;  // set by `exit N`: the REPL ends with N
  std::vector<Job> jobs;              // running and stopped jobs, foreground one included
  int foreground_job = 0;             // id of the job the shell is waiting for, 0 when none
  std::vector<std::string> history;   // lines typed at the prompt, oldest first
};

}  // namespace tinysh
