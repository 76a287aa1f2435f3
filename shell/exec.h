// The executor: runs a parsed Script. Pipelines and external programs run in child processes
// (fork(2), then execve(2) after a PATH search); builtins that change the shell run inside it.
// Each job gets its own process group, so a signal for the job (Ctrl-C, the host's SIGTERM)
// reaches every process of its pipeline and never the shell.
#pragma once

#include <string>
#include <string_view>

#include "ast.h"

namespace tinysh {

struct Shell;

// Parses and runs one chunk of text; a syntax error prints one line and gives status 2.
int run_text(Shell& sh, std::string_view text);

// Runs a parsed script; returns (and stores in sh.last_status) the status of the last command.
int run_script(Shell& sh, const Script& script);

// Saves the terminal's modes, to restore after each foreground job (interactive mode).
void remember_terminal_modes(int fd);

// Reaps every child that has changed state (jobs and orphans alike) and handles pending signals,
// without blocking. Returns lines for the background jobs that finished ("[1] Done  sleep 5"),
// for an interactive shell to print.
std::string poll_children(Shell& sh);

// Waits for job `index` of sh.jobs to finish or stop, passing signals on to it meanwhile;
// gives the terminal to it first when `foreground`. Returns its status.
int wait_for_job(Shell& sh, size_t index);

// Continues a stopped or background job in the foreground (fg) or background (bg).
int continue_job(Shell& sh, size_t index, bool foreground);

// Finds a job from "%N", "N" or "" (the most recent); -1 if there is none.
int find_job(const Shell& sh, std::string_view spec);

// "killed by signal 9 (SIGKILL)" style text for a wait status, or "" for a normal exit.
std::string describe_death(int wait_status);

// Exit status in shell terms: the exit code, or 128+N after death by signal N.
int shell_status(int wait_status);

}  // namespace tinysh
