// The builtins every shell has: moving around, variables, jobs, signals, leaving.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "../builtin.h"
#include "../exec.h"
#include "../init.h"
#include "../shell.h"
#include "../signals.h"

extern char** environ;

namespace tinysh {

namespace {

int cmd_cd(Shell& sh, Args args) {
  if (args.size() > 2) return usage_error(args);
  std::string target;
  if (args.size() == 1) {
    target = sh.vars.get("HOME").value_or("/");
  } else if (args[1] == "-") {
    auto old = sh.vars.get("OLDPWD");
    if (!old) return fail(args, "OLDPWD is not set: no previous directory yet");
    target = *old;
    out("{}\n", target);
  } else {
    target = args[1];
  }
  char before[4096];
  bool had_cwd = ::getcwd(before, sizeof before) != nullptr;
  if (::chdir(target.c_str()) != 0) return fail(args, "{}: {}", target, errno_text(errno));
  if (had_cwd) sh.vars.set("OLDPWD", before);
  char now[4096];
  if (::getcwd(now, sizeof now)) sh.vars.set("PWD", now);
  return 0;
}

int cmd_pwd(Shell&, Args args) {
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) {
    // After pivot_root or a rename the old directory may be unreachable from the root.
    return fail(args, "getcwd: {} (the current directory is outside this root or was removed)",
                errno_text(errno));
  }
  out("{}\n", cwd);
  return 0;
}

int cmd_echo(Shell&, Args args) {
  bool newline = true;
  size_t i = 1;
  if (i < args.size() && args[i] == "-n") {
    newline = false;
    ++i;
  }
  std::string text;
  for (; i < args.size(); ++i) {
    text += args[i];
    if (i + 1 < args.size()) text += ' ';
  }
  if (newline) text += '\n';
  write_all(1, text);
  return 0;
}

int cmd_env(Shell& sh, Args args) {
  if (args.size() > 1) return usage_error(args);
  std::string text;
  for (const std::string& e : sh.vars.environment()) text += e + "\n";
  write_all(1, text);
  return 0;
}

int cmd_export(Shell& sh, Args args) {
  if (args.size() == 1) {
    for (const std::string& e : sh.vars.environment()) out("export {}\n", e);
    return 0;
  }
  int status = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    auto eq = a.find('=');
    std::string_view name = a.substr(0, eq);
    if (!Vars::valid_name(name)) {
      status = fail(args, "'{}' is not a valid variable name (letters, digits, _; not first a digit)", name);
      continue;
    }
    if (eq == std::string_view::npos) sh.vars.mark_exported(name);
    else sh.vars.set_exported(name, std::string(a.substr(eq + 1)));
  }
  return status;
}

int cmd_unset(Shell& sh, Args args) {
  for (size_t i = 1; i < args.size(); ++i) sh.vars.unset(args[i]);
  return 0;
}

std::optional<int> parse_int(std::string_view s) {
  int n = 0;
  if (s.starts_with('+')) s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

int cmd_exit(Shell& sh, Args args) {
  if (args.size() > 2) return usage_error(args);
  int status = sh.last_status;
  if (args.size() == 2) {
    auto n = parse_int(args[1]);
    if (!n) return fail(args, "'{}' is not a number (an exit status is 0 to 255)", args[1]);
    status = *n;
  }
  sh.exit_requested = status & 0xff;
  return status & 0xff;
}

// What tinysh does with the signals sent to it, for `help kill`; init.h has the whole table.
void print_signal_rules() {
  out("  signals sent to tinysh itself (SIGTERM, SIGUSR1, SIGRTMIN+3, ...):\n"
      "    while a foreground job runs: passed on to the job\n"
      "    with none: from outside (the host, nslab) the shell ends with status 128+N\n"
      "      ({}: {}); from inside the box, PID 1 and a shell at its prompt\n"
      "      ignore them\n"
      "    Ctrl-C, Ctrl-\\, Ctrl-Z on the terminal: for the foreground job only\n"
      "    a window resize (SIGWINCH), SIGCONT, SIGURG: never end the shell\n"
      "    as PID 1: SIGKILL from the host ends the box; kill -9 1 inside does nothing\n"
      "  by number too: kill -USR1 1 is kill -{} 1; the real-time signals are {} to {}\n",
      signal_name(SIGUSR1), 128 + SIGUSR1, SIGUSR1, SIGRTMIN, SIGRTMAX);
}

int cmd_help(Shell&, Args args) {
  if (args.size() == 2) {
    const Builtin* b = find_builtin(args[1]);
    if (!b) return fail(args, "no builtin called '{}'; external programs have their own --help",
                        args[1]);
    out("{}\n  {}\n", b->usage, b->summary);
    if (!b->reads.empty()) out("  reads: {}\n", b->reads);
    if (b->runs_in == RunsIn::Child) out("  runs in a child process, so the shell is never harmed\n");
    if (b->name == "kill") print_signal_rules();
    return 0;
  }
  if (args.size() > 2) return usage_error(args);
  out("tinysh builtins (help NAME for more; other commands run from PATH):\n");
  for (const Builtin* b : all_builtins()) out("  {:<8} {}\n", b->name, b->summary);
  out("syntax: ; && || | & < > >> 2> 2>&1 'quotes' \"$VAR\" NAME=value # comments\n");
  out("signals: 'help kill' says what tinysh does with the signals sent to it\n");
  out("output: a write the kernel refuses (disk full, cgroup file) is status 1\n");
  return 0;
}

int cmd_true(Shell&, Args) { return 0; }
int cmd_false(Shell&, Args) { return 1; }

// Runs in a child process, so Ctrl-C ends the sleep with status 130 and never the shell.
int cmd_sleep(Shell&, Args args) {
  if (args.size() != 2) return usage_error(args);
  char* end = nullptr;
  double seconds = std::strtod(args[1].c_str(), &end);
  if (end == args[1].c_str() || *end != '\0' || !(seconds >= 0) || seconds > 1e9)
    return fail(args, "'{}' is not a number of seconds", args[1]);
  timespec ts;
  ts.tv_sec = static_cast<time_t>(seconds);
  ts.tv_nsec = static_cast<long>((seconds - std::floor(seconds)) * 1e9);
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return 0;
}

int cmd_kill(Shell& sh, Args args) {
  if (args.size() == 2 && args[1] == "-l") {
    std::string list;
    for (int s = 1; s < 32; ++s) list += fmt::format("{:2}) {}\n", s, signal_name(s));
    write_all(1, list);
    return 0;
  }
  int signo = SIGTERM;
  size_t i = 1;
  if (i < args.size() && args[i] == "-s" && i + 1 < args.size()) {
    auto s = parse_signal(args[i + 1]);
    if (!s) return fail(args, "unknown signal '{}' (kill -l lists them)", args[i + 1]);
    signo = *s;
    i += 2;
  } else if (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
    auto s = parse_signal(std::string_view(args[i]).substr(1));
    if (!s) return fail(args, "unknown signal '{}' (kill -l lists them)", args[i]);
    signo = *s;
    ++i;
  }
  if (i >= args.size()) return usage_error(args);
  int status = 0;
  for (; i < args.size(); ++i) {
    const std::string& target = args[i];
    if (target.starts_with('%')) {
      int j = find_job(sh, target);
      if (j < 0) {
        status = fail(args, "{}: no such job", target);
        continue;
      }
      const Job& job = sh.jobs[j];
      pid_t to = job.pgid > 0 ? -job.pgid : job.last_pid;
      if (::kill(to, signo) != 0) status = fail(args, "{}: {}", target, errno_text(errno));
      continue;
    }
    auto pid = parse_int(target);
    if (!pid) {
      status = fail(args, "'{}' is not a process id or %job", target);
      continue;
    }
    if (::kill(*pid, signo) != 0) {
      int err = errno;
      std::string hint = err == ESRCH ? " (no such process in this PID namespace)"
                         : err == EPERM ? " (not yours to signal)"
                                        : "";
      status = fail(args, "({}) - {}{}", *pid, errno_text(err), hint);
    }
  }
  return status;
}

int cmd_jobs(Shell& sh, Args) {
  write_all(1, poll_children(sh));  // jobs that ended since the last prompt
  for (const Job& j : sh.jobs)
    out("[{}] {}  {}\n", j.id, j.stopped ? "Stopped" : "Running", j.text);
  return 0;
}

int resume(Shell& sh, Args args, bool foreground) {
  int j = find_job(sh, args.size() > 1 ? std::string_view(args[1]) : std::string_view());
  if (j < 0) return fail(args, "no such job (jobs lists them)");
  return continue_job(sh, static_cast<size_t>(j), foreground);
}

int cmd_fg(Shell& sh, Args args) { return resume(sh, args, true); }
int cmd_bg(Shell& sh, Args args) { return resume(sh, args, false); }

int cmd_wait(Shell& sh, Args args) {
  int status = 0;
  if (args.size() == 1) {
    while (!sh.jobs.empty()) status = wait_for_job(sh, 0);
    return status;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    int j = find_job(sh, args[i]);
    if (j < 0) {
      status = fail(args, "{}: no such job", args[i]);
      continue;
    }
    status = wait_for_job(sh, static_cast<size_t>(j));
  }
  return status;
}

// Replaces the shell with a program: as PID 1, the program becomes the namespace's init.
int cmd_exec(Shell& sh, Args args) {
  if (args.size() < 2) return usage_error(args);
  std::vector<char*> argv;
  for (size_t i = 1; i < args.size(); ++i) argv.push_back(const_cast<char*>(args[i].c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env = sh.vars.environment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // execvpe searches the PATH of the process environment: make it the shell's for the call.
  char** old_environ = ::environ;
  ::environ = envp.data();
  reset_signals_for_child();
  ::execvpe(argv[0], argv.data(), envp.data());
  int err = errno;
  ::environ = old_environ;
  init_process(sh);  // still here: block our signals again
  fail(args, "{}: {}", args[1], errno_text(err));
  return err == ENOENT ? 127 : 126;
}

const Builtin kCore[] = {
    {"cd", "cd [DIR | -]", "change the current directory (default $HOME)", "chdir(2)",
     RunsIn::Shell, cmd_cd},
    {"pwd", "pwd", "print the current directory", "getcwd(3)", RunsIn::Shell, cmd_pwd},
    {"echo", "echo [-n] [WORD...]", "print words, separated by spaces", "", RunsIn::Shell,
     cmd_echo},
    {"env", "env", "print the exported variables: the environment programs receive", "",
     RunsIn::Shell, cmd_env},
    {"export", "export [NAME[=VALUE]...]", "put variables into the environment of programs", "",
     RunsIn::Shell, cmd_export},
    {"unset", "unset NAME...", "remove variables", "", RunsIn::Shell, cmd_unset},
    {"exit", "exit [N]", "leave the shell with status N (as PID 1, this ends the box)", "",
     RunsIn::Shell, cmd_exit},
    {"help", "help [NAME]", "list the builtins, or explain one", "", RunsIn::Shell, cmd_help},
    {"true", "true", "do nothing, successfully (status 0)", "", RunsIn::Shell, cmd_true},
    {"false", "false", "do nothing, unsuccessfully (status 1)", "", RunsIn::Shell, cmd_false},
    {"sleep", "sleep SECONDS", "wait (fractions allowed: sleep 0.5)", "nanosleep(2)",
     RunsIn::Child, cmd_sleep},
    {"kill", "kill [-SIGNAL | -s SIGNAL | -l] PID|%JOB...",
     "send a signal (default TERM) to processes or jobs", "kill(2)", RunsIn::Shell, cmd_kill},
    {"jobs", "jobs", "list background and stopped jobs", "", RunsIn::Shell, cmd_jobs},
    {"fg", "fg [%JOB]", "continue a job in the foreground", "kill(2) SIGCONT, tcsetpgrp(3)",
     RunsIn::Shell, cmd_fg},
    {"bg", "bg [%JOB]", "continue a stopped job in the background", "kill(2) SIGCONT",
     RunsIn::Shell, cmd_bg},
    {"wait", "wait [%JOB...]", "wait for background jobs to finish", "waitpid(2)", RunsIn::Shell,
     cmd_wait},
    {"exec", "exec PROGRAM [ARG...]", "replace the shell with a program (same PID)", "execve(2)",
     RunsIn::Shell, cmd_exec},
};

}  // namespace

std::span<const Builtin> core_builtins() { return kCore; }

}  // namespace tinysh
