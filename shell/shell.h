// The state of one tinysh process: its variables, the last status, its jobs, its mode.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "vars.h"

namespace tinysh {

struct Job {
  int id = 0;          // %1, %2, ...
  pid_t pgid = 0;      // the job's process group
  std::vector<pid_t> pids;  // processes still running
  int last_status = 0;      // status of the pipeline's last command, once it ends
  std::string text;         // the command line, for "[1] Done  sleep 5"
  bool stopped = false;
};

struct Shell {
  Vars vars;
  int last_status = 0;
  pid_t pid = 0;             // getpid() at start: 1 when tinysh is a namespace's init
  bool interactive = false;  // reading commands from a terminal, with job control
  int terminal_fd = -1;      // the controlling terminal when interactive
  pid_t shell_pgid = 0;
  std::optional<int> exit_requested;  // set by `exit N`: the REPL ends with N
  std::vector<Job> jobs;              // background and stopped jobs
  std::vector<std::string> history;   // lines typed at the prompt, oldest first
};

}  // namespace tinysh
