#include "exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "builtin.h"
#include "expand.h"
#include "init.h"
#include "parse.h"
#include "shell.h"
#include "signals.h"

namespace tinysh {

namespace {

constexpr std::string_view kDefaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

// The terminal modes the shell had when it took the terminal; put back after every foreground
// job, so a program that left the terminal raw or without echo does not break the prompt.
std::optional<termios> g_shell_modes;

ExpandContext expand_context(const Shell& sh) {
  ExpandContext ctx;
  ctx.lookup = [&sh](std::string_view name) { return sh.vars.get(name); };
  ctx.last_status = sh.last_status;
  ctx.shell_pid = sh.pid;
  return ctx;
}

std::vector<std::string> expand_words(const Shell& sh, const std::vector<Word>& words) {
  ExpandContext ctx = expand_context(sh);
  std::vector<std::string> out;
  out.reserve(words.size());
  for (const Word& w : words) out.push_back(expand(w, ctx));
  return out;
}

// ---- redirections ---------------------------------------------------------------------------

// A command's redirections, applied in order. Besides moving fds it remembers what each one now
// leads to ("/mnt/pids.max"), so that a refused write can name the file, and which fds hold a
// file it opened for writing, so that the builtin's output can be closed with close(2) checked:
// some file systems (NFS, FUSE) report a failed write only there. For a builtin running inside
// the shell (Restore::Yes) it also keeps a copy of every fd it replaces and puts them back when
// it goes out of scope; a child (Restore::No) simply keeps what it was given.
class Redirections {
 public:
  enum class Restore { Yes, No };
  explicit Redirections(Restore restore) : restore_(restore) {}
  Redirections(const Redirections&) = delete;
  Redirections& operator=(const Redirections&) = delete;
  ~Redirections() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->copy >= 0) {
        ::dup2(it->copy, it->fd);
        ::close(it->copy);
      } else {
        ::close(it->fd);
      }
    }
  }

  bool apply(const Shell& sh, const std::vector<Redirect>& redirects);

  // What `fd` leads to, for messages: the redirection's target, or "stdout" for an fd 1 that the
  // command line left as the shell had it.
  std::string name_of(int fd) const {
    for (const Target& t : targets_)
      if (t.fd == fd) return t.name;
    if (fd == 0) return "stdin";
    if (fd == 1) return "stdout";
    if (fd == 2) return "stderr";
    return fmt::format("fd {}", fd);
  }

  // Closes `fd` when it holds a file these redirections opened for writing; returns close(2)'s
  // errno, or 0 (also when there was nothing of ours to close).
  int close_output(int fd) {
    for (Target& t : targets_) {
      if (t.fd != fd || !t.written) continue;
      t.written = false;
      return ::close(fd) == 0 || errno == EINTR ? 0 : errno;  // EINTR: Linux closed it anyway
    }
    return 0;
  }

 private:
  struct Saved {
    int fd;
    int copy;  // what fd was before, or -1 when it was closed
  };
  struct Target {
    int fd;
    std::string name;
    bool written;  // holds a file opened here for writing
  };

  void remember(int fd) {
    if (restore_ == Restore::No) return;
    for (const Saved& s : saved_)
      if (s.fd == fd) return;
    // A copy above the range users name in redirections, closed on exec.
    saved_.push_back({fd, ::fcntl(fd, F_DUPFD_CLOEXEC, 10)});
  }
  void set_target(int fd, std::string name, bool written) {
    for (Target& t : targets_)
      if (t.fd == fd) {
        t = {fd, std::move(name), written};
        return;
      }
    targets_.push_back({fd, std::move(name), written});
  }

  Restore restore_;
  std::vector<Saved> saved_;
  std::vector<Target> targets_;
};

bool Redirections::apply(const Shell& sh, const std::vector<Redirect>& redirects) {
  ExpandContext ctx = expand_context(sh);
  for (const Redirect& r : redirects) {
    std::string target = expand(r.target, ctx);
    if (r.kind == Redirect::Kind::Duplicate) {
      int from = -1;
      bool digits = !target.empty() && target.size() < 5 &&
                    std::all_of(target.begin(), target.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (digits) from = std::stoi(target);
      if (from < 0 || ::fcntl(from, F_GETFD) < 0) {
        write_all(2, fmt::format("tinysh: {}>&{}: bad file descriptor\n", r.fd, target));
        return false;
      }
      remember(r.fd);
      ::dup2(from, r.fd);
      bool written = false;
      for (const Target& t : targets_)
        if (t.fd == from) written = t.written;
      set_target(r.fd, name_of(from), written);
      continue;
    }
    int flags = O_CLOEXEC;
    switch (r.kind) {
      case Redirect::Kind::Input: flags |= O_RDONLY; break;
      case Redirect::Kind::Output: flags |= O_WRONLY | O_CREAT | O_TRUNC; break;
      case Redirect::Kind::Append: flags |= O_WRONLY | O_CREAT | O_APPEND; break;
      case Redirect::Kind::Duplicate: break;
    }
    int fd = ::open(target.c_str(), flags, 0666);
    if (fd < 0) {
      write_all(2, fmt::format("tinysh: {}: {}\n", target, errno_text(errno)));
      return false;
    }
    remember(r.fd);
    if (fd != r.fd) {
      ::dup2(fd, r.fd);  // dup2 clears close-on-exec on the new fd
      ::close(fd);
    } else {
      ::fcntl(fd, F_SETFD, 0);
    }
    set_target(r.fd, target, r.kind != Redirect::Kind::Input);
  }
  return true;
}

// After a builtin ran: a write to fd 1 that the kernel refused (write_all kept its errno), or a
// failed close(2) of the file fd 1 was redirected to, becomes one line naming the file and the
// reason — "echo: write /mnt/pids.max: Invalid argument" — and status 1 unless the builtin had
// failed already. A shell that stayed silent here would tell a student their limit was set.
int finish_output(std::string_view builtin, Redirections& redirections, int status) {
  int write_error = take_output_error();
  int close_error = redirections.close_output(1);
  int err = write_error ? write_error : close_error;
  if (!err) return status;
  write_all(2, fmt::format("{}: {} {}: {}\n", builtin, write_error ? "write" : "close",
                           redirections.name_of(1), errno_text(err)));
  return status ? status : 1;
}

// ---- starting programs ----------------------------------------------------------------------

struct Found {
  std::string path;
  int error = 0;  // ENOENT: nowhere on PATH; EACCES: found, but not executable
};

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Found find_program(const Shell& sh, const std::string& name) {
  if (name.find('/') != std::string::npos) return {name, 0};
  std::string path = sh.vars.get("PATH").value_or(std::string(kDefaultPath));
  Found not_executable{"", ENOENT};
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return {candidate, 0};
      if (not_executable.path.empty()) not_executable = {candidate, EACCES};
    }
    start = end + 1;
  }
  return not_executable;
}

// The first line of a script, to name a missing #! interpreter.
std::string interpreter_of(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n < 3 || buf[0] != '#' || buf[1] != '!') return "";
  std::string line(buf + 2, static_cast<size_t>(n - 2));
  line = line.substr(0, line.find('\n'));
  size_t b = line.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  line = line.substr(b);
  return line.substr(0, line.find_first_of(" \t"));
}

// Runs in the child: execve(2) the program, or print one line saying why not and exit with
// 127 (not found) or 126 (found but cannot run), as POSIX shells do.
[[noreturn]] void exec_program(const Shell& sh, const std::vector<std::string>& argv,
                               const std::vector<std::string>& env) {
  Found found = find_program(sh, argv[0]);
  if (found.path.empty()) {
    write_all(2, fmt::format("tinysh: {}: command not found\n", argv[0]));
    _exit(127);
  }
  if (found.error == EACCES) {
    write_all(2, fmt::format("tinysh: {}: permission denied (the file has no execute bit)\n",
                             found.path));
    _exit(126);
  }
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(found.path.c_str(), args.data(), envp.data());
  int err = errno;
  const std::string& p = found.path;
  if (err == ENOENT) {
    std::string interp = interpreter_of(p);
    if (!interp.empty()) {
      write_all(2, fmt::format("tinysh: {}: bad interpreter {}: {}\n", p, interp, errno_text(err)));
      _exit(126);
    }
    write_all(2, fmt::format("tinysh: {}: {}\n", p, errno_text(err)));
    _exit(127);
  }
  if (err == EACCES && is_directory(p)) {
    write_all(2, fmt::format("tinysh: {}: is a directory\n", p));
    _exit(126);
  }
  if (err == EACCES) {
    write_all(2, fmt::format("tinysh: {}: permission denied (no execute bit, or a noexec mount)\n", p));
    _exit(126);
  }
  if (err == ENOEXEC) {
    write_all(2, fmt::format("tinysh: {}: not an executable format (a script needs a #! line)\n", p));
    _exit(126);
  }
  write_all(2, fmt::format("tinysh: {}: cannot run it: {}\n", p, errno_text(err)));
  _exit(126);
}

std::vector<std::string> child_environment(const Shell& sh, const Command& cmd) {
  Vars env = sh.vars;
  ExpandContext ctx = expand_context(sh);
  for (const Assignment& a : cmd.assignments) env.set_exported(a.name, expand(a.value, ctx));
  return env.environment();
}

// Everything a child does between fork(2) and running its command.
struct ChildPlan {
  pid_t pgid = -1;  // -1: stay in the shell's group; 0: lead a new group; >0: join that group
  bool take_terminal = false;
  int stdin_fd = -1, stdout_fd = -1;
  bool stdin_null = false;  // a background job without job control reads /dev/null
};

[[noreturn]] void run_in_child(Shell& sh, const Command& cmd, const ChildPlan& plan) {
  if (plan.pgid >= 0) ::setpgid(0, plan.pgid);
  // The child asks for the terminal too: whichever of parent and child runs first, the job is
  // in the foreground before the program reads a key.
  if (plan.take_terminal) ::tcsetpgrp(sh.terminal_fd, ::getpgrp());
  reset_signals_for_child();
  if (plan.stdin_null) {
    int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0 && null != 0) {
      ::dup2(null, 0);
      ::close(null);
    }
  }
  if (plan.stdin_fd >= 0) ::dup2(plan.stdin_fd, 0);
  if (plan.stdout_fd >= 0) ::dup2(plan.stdout_fd, 1);
  Redirections redirections(Redirections::Restore::No);
  if (!redirections.apply(sh, cmd.redirects)) _exit(1);
  std::vector<std::string> words = expand_words(sh, cmd.words);
  if (words.empty()) _exit(0);
  sh.interactive = false;  // a builtin in a child must not act on the terminal or the jobs
  sh.jobs.clear();
  if (const Builtin* b = find_builtin(words[0])) {
    for (const Assignment& a : cmd.assignments)
      sh.vars.set_exported(a.name, expand(a.value, expand_context(sh)));
    take_output_error();
    int status = b->run(sh, words);
    _exit(finish_output(b->name, redirections, status) & 0xff);
  }
  exec_program(sh, words, child_environment(sh, cmd));
}

std::string fork_failure_hint(int err) {
  if (err == EAGAIN)
    return " — the process limit was reached (a cgroup's pids.max, or RLIMIT_NPROC)";
  if (err == ENOMEM) return " — not enough memory (a cgroup's memory limit?)";
  return "";
}

// ---- jobs -----------------------------------------------------------------------------------

// Job numbers restart from 1 when no job is left, as in other shells: the next is one more
// than the highest still in use.
int next_job_id(const Shell& sh) {
  int highest = 0;
  for (const Job& j : sh.jobs) highest = std::max(highest, j.id);
  return highest + 1;
}

Job* job_by_id(Shell& sh, int id) {
  for (Job& j : sh.jobs)
    if (j.id == id) return &j;
  return nullptr;
}

// Sends a signal to every process of a job: to its process group when it has one.
void signal_job(const Job& job, int signo) {
  if (job.pgid > 0) {
    ::kill(-job.pgid, signo);
  } else {
    for (pid_t p : job.pids) ::kill(p, signo);
  }
}

// Collects every child that changed state. A pid that belongs to no job is an orphan that the
// kernel re-parented to us (we are PID 1) or a process whose job is gone: waiting for it is all
// it needs, so it does not stay a zombie.
void reap(Shell& sh) {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG | WUNTRACED);
    if (pid <= 0) return;
    for (Job& job : sh.jobs) {
      auto it = std::find(job.pids.begin(), job.pids.end(), pid);
      if (it == job.pids.end()) continue;
      if (WIFSTOPPED(status)) {
        job.stopped = true;
      } else {
        job.pids.erase(it);
        if (pid == job.last_pid) job.last_wait_status = status;
      }
      break;
    }
  }
}

// What the shell does with a signal it read from its signalfd; the table in init.h says it in
// words.
void handle_signal(Shell& sh, const ReceivedSignal& sig) {
  switch (sig.signo) {
    case SIGCHLD:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return;  // reaping happens next; stops never apply to the shell itself
  }
  // The kernel's answer to a write of our own (a closed pipe, a file past RLIMIT_FSIZE): it is
  // addressed to the writer, and the failed write has been reported already.
  if ((sig.signo == SIGPIPE || sig.signo == SIGXFSZ) && sig.sender == sh.pid) return;
  if (Job* fg = job_by_id(sh, sh.foreground_job)) {
    // A terminal that changed size told its foreground process group itself: the job's group
    // when we are interactive, the group the job shares with us otherwise. Again would be twice.
    if (sig.signo == SIGWINCH && sig.code == SI_KERNEL) return;
    // The job gets what was meant for it: Ctrl-C in -c mode, or the host's SIGTERM or SIGUSR1.
    signal_job(*fg, sig.signo);
    return;
  }
  // No job: a signal whose default action ends nothing (a resize, SIGCONT) has nothing to do.
  if (!ends_process_by_default(sig.signo)) return;
  // Who sent it decides. A sender that has no PID here (0: a process outside our PID namespace,
  // such as the host, or the kernel on a terminal hang-up) or the process that started us (the
  // runner) means "stop". Anyone else — a `kill` typed in the box — cannot stop PID 1 or an
  // interactive shell: only an explicit `exit` ends those. SIGINT and SIGQUIT come from the
  // terminal's keys, which at the prompt the line editor reads as keys: ignored whoever sent them.
  bool from_outside = sig.sender == 0 || sig.sender == ::getppid();
  bool protected_shell = sh.interactive || sh.pid == 1;
  bool ignore = (sig.signo == SIGINT || sig.signo == SIGQUIT) ? protected_shell
                                                               : protected_shell && !from_outside;
  if (ignore || sh.exit_requested) return;
  if (sig.signo == SIGHUP)  // the terminal is gone: so are the jobs started from it
    for (const Job& j : sh.jobs) {
      signal_job(j, SIGHUP);
      signal_job(j, SIGCONT);
    }
  sh.exit_requested = 128 + sig.signo;
}

void handle_pending_signals(Shell& sh, bool block) {
  for (const ReceivedSignal& s : read_signals(block)) handle_signal(sh, s);
}

void give_terminal_back(Shell& sh) {
  if (!sh.interactive) return;
  ::tcsetpgrp(sh.terminal_fd, sh.shell_pgid);
  if (g_shell_modes) ::tcsetattr(sh.terminal_fd, TCSADRAIN, &*g_shell_modes);
}

void report_death(const Job& job) {
  std::string why = describe_death(job.last_wait_status);
  int sig = WIFSIGNALED(job.last_wait_status) ? WTERMSIG(job.last_wait_status) : 0;
  // Ctrl-C and a closed pipe are the usual, expected ends: no need to say them.
  if (!why.empty() && sig != SIGINT && sig != SIGPIPE)
    write_all(2, fmt::format("tinysh: {}: {}\n", job.text, why));
}

// How a job is named in `jobs` and in messages: its words, roughly as typed.
std::string word_text(const Word& w) {
  std::string t;
  for (const WordPart& p : w.parts) {
    switch (p.kind) {
      case WordPart::Kind::Literal: t += p.text; break;
      case WordPart::Kind::Variable: t += "$" + p.text; break;
      case WordPart::Kind::Status: t += "$?"; break;
      case WordPart::Kind::ShellPid: t += "$$"; break;
    }
  }
  return t;
}

std::string pipeline_text(const Pipeline& p) {
  std::string t;
  for (const Command& c : p.commands) {
    if (!t.empty()) t += " | ";
    std::string words;
    for (const Word& w : c.words) words += (words.empty() ? "" : " ") + word_text(w);
    t += words;
  }
  return t;
}

std::string and_or_text(const AndOr& item) {
  std::string t = pipeline_text(item.first);
  for (const auto& [op, p] : item.rest) t += (op == AndOr::Op::And ? " && " : " || ") + pipeline_text(p);
  return t;
}

// ---- running the tree -----------------------------------------------------------------------

int run_builtin_here(Shell& sh, const Builtin& b, const Command& cmd,
                     const std::vector<std::string>& words) {
  Redirections redirections(Redirections::Restore::Yes);
  if (!redirections.apply(sh, cmd.redirects)) return 1;
  // `NAME=value builtin`: the assignment holds while the builtin runs.
  std::vector<std::pair<std::string, std::optional<std::string>>> previous;
  ExpandContext ctx = expand_context(sh);
  for (const Assignment& a : cmd.assignments) {
    previous.emplace_back(a.name, sh.vars.get(a.name));
    sh.vars.set(a.name, expand(a.value, ctx));
  }
  take_output_error();
  int status = finish_output(b.name, redirections, b.run(sh, words));
  for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
    if (it->second) sh.vars.set(it->first, *it->second);
    else sh.vars.unset(it->first);
  }
  return status;
}

// A command with no words: `A=1 B=2` sets shell variables; `>file` alone creates the file.
int run_assignments(Shell& sh, const Command& cmd) {
  {
    Redirections redirections(Redirections::Restore::Yes);
    if (!redirections.apply(sh, cmd.redirects)) return 1;
  }
  ExpandContext ctx = expand_context(sh);
  for (const Assignment& a : cmd.assignments) sh.vars.set(a.name, expand(a.value, ctx));
  return 0;
}

int run_pipeline(Shell& sh, const Pipeline& pipeline, bool background) {
  std::string text = pipeline_text(pipeline);
  if (pipeline.commands.empty()) return 0;
  if (!background && pipeline.commands.size() == 1) {
    const Command& cmd = pipeline.commands.front();
    std::vector<std::string> words = expand_words(sh, cmd.words);
    if (words.empty()) return run_assignments(sh, cmd);
    const Builtin* b = find_builtin(words[0]);
    if (b && b->runs_in == RunsIn::Shell) return run_builtin_here(sh, *b, cmd, words);
  }

  Job job;
  job.id = next_job_id(sh);
  job.text = text;
  job.background = background;
  // With job control each job leads its own process group. Without it (-c, scripts), a
  // foreground job stays in the shell's group, so a program reading the terminal is not
  // stopped for reading from the background.
  bool own_group = sh.interactive || background;
  int prev_read = -1;
  int status = 0;
  size_t n = pipeline.commands.size();
  for (size_t i = 0; i < n; ++i) {
    int pipefd[2] = {-1, -1};
    if (i + 1 < n && ::pipe2(pipefd, O_CLOEXEC) != 0) {
      write_all(2, fmt::format("tinysh: pipe: {}\n", errno_text(errno)));
      status = 1;
      break;
    }
    ChildPlan plan;
    plan.pgid = own_group ? job.pgid : -1;
    plan.take_terminal = sh.interactive && !background;
    plan.stdin_fd = prev_read;
    plan.stdout_fd = pipefd[1];
    plan.stdin_null = background && !sh.interactive && i == 0;
    pid_t pid = ::fork();
    if (pid == 0) run_in_child(sh, pipeline.commands[i], plan);
    if (pid < 0) {
      int err = errno;
      write_all(2, fmt::format("tinysh: fork: {}{}\n", errno_text(err), fork_failure_hint(err)));
      if (pipefd[0] >= 0) ::close(pipefd[0]);
      if (pipefd[1] >= 0) ::close(pipefd[1]);
      status = 1;
      break;
    }
    if (own_group) {
      if (job.pgid == 0) job.pgid = pid;
      ::setpgid(pid, job.pgid);
    }
    job.pids.push_back(pid);
    job.last_pid = pid;
    if (prev_read >= 0) ::close(prev_read);
    if (pipefd[1] >= 0) ::close(pipefd[1]);
    prev_read = pipefd[0];
  }
  if (prev_read >= 0) ::close(prev_read);
  if (job.pids.empty()) return status ? status : 1;
  bool started_all = status == 0;
  sh.jobs.push_back(std::move(job));
  if (background) {
    const Job& j = sh.jobs.back();
    if (sh.interactive) write_all(2, fmt::format("[{}] {}\n", j.id, j.last_pid));
    sh.vars.set("!", std::to_string(j.last_pid));
    return started_all ? 0 : 1;
  }
  int job_status = wait_for_job(sh, sh.jobs.size() - 1);
  return started_all ? job_status : 1;
}

int run_and_or(Shell& sh, const AndOr& item) {
  if (item.background && !item.rest.empty()) {
    // `a && b &`: a copy of the shell runs the whole list as one background job.
    pid_t pid = ::fork();
    if (pid < 0) {
      int err = errno;
      write_all(2, fmt::format("tinysh: fork: {}{}\n", errno_text(err), fork_failure_hint(err)));
      return 1;
    }
    if (pid == 0) {
      ::setpgid(0, 0);
      sh.interactive = false;
      sh.jobs.clear();
      sh.pid = ::getpid();
      AndOr fg = item;
      fg.background = false;
      _exit(run_and_or(sh, fg) & 0xff);
    }
    ::setpgid(pid, pid);
    Job job;
    job.id = next_job_id(sh);
    job.pgid = pid;
    job.pids = {pid};
    job.last_pid = pid;
    job.text = and_or_text(item);
    job.background = true;
    sh.jobs.push_back(job);
    if (sh.interactive) write_all(2, fmt::format("[{}] {}\n", job.id, pid));
    return 0;
  }
  int status = run_pipeline(sh, item.first, item.background);
  sh.last_status = status;
  for (const auto& [op, pipeline] : item.rest) {
    if (sh.exit_requested) break;
    bool run = (op == AndOr::Op::And) ? status == 0 : status != 0;
    if (!run) continue;
    status = run_pipeline(sh, pipeline, false);
    sh.last_status = status;
  }
  return status;
}

}  // namespace

int shell_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  if (WIFSTOPPED(wait_status)) return 128 + WSTOPSIG(wait_status);
  return 1;
}

std::string describe_death(int wait_status) {
  if (!WIFSIGNALED(wait_status)) return "";
  int sig = WTERMSIG(wait_status);
  std::string text = fmt::format("killed by signal {} ({})", sig, signal_name(sig));
  if (WCOREDUMP(wait_status)) text += ", core dumped";
  return text;
}

std::string poll_children(Shell& sh) {
  handle_pending_signals(sh, false);
  reap(sh);
  std::string report;
  for (auto it = sh.jobs.begin(); it != sh.jobs.end();) {
    if (!it->background || !it->done()) {
      ++it;
      continue;
    }
    int st = it->last_wait_status;
    std::string how = WIFSIGNALED(st) ? describe_death(st)
                      : WEXITSTATUS(st) == 0 ? std::string("Done")
                                             : fmt::format("Exit {}", WEXITSTATUS(st));
    report += fmt::format("[{}] {}  {}\n", it->id, how, it->text);
    it = sh.jobs.erase(it);
  }
  return report;
}

int wait_for_job(Shell& sh, size_t index) {
  int id = sh.jobs[index].id;
  sh.foreground_job = id;
  Job* job = job_by_id(sh, id);
  if (sh.interactive && job->pgid > 0) ::tcsetpgrp(sh.terminal_fd, job->pgid);
  for (;;) {
    reap(sh);
    job = job_by_id(sh, id);
    if (job->done() || job->stopped) break;
    // Sleeps until a signal arrives: SIGCHLD when a child ends, or one to pass on.
    handle_pending_signals(sh, true);
  }
  sh.foreground_job = 0;
  give_terminal_back(sh);
  if (job->stopped) {
    job->background = true;
    write_all(2, fmt::format("\n[{}] Stopped  {}\n", job->id, job->text));
    return 128 + SIGTSTP;
  }
  int status = shell_status(job->last_wait_status);
  report_death(*job);
  sh.jobs.erase(sh.jobs.begin() + (job - sh.jobs.data()));
  return status;
}

int continue_job(Shell& sh, size_t index, bool foreground) {
  Job& job = sh.jobs[index];
  job.stopped = false;
  write_all(2, fmt::format("{}\n", job.text));
  if (foreground) {
    job.background = false;
    if (sh.interactive && job.pgid > 0) ::tcsetpgrp(sh.terminal_fd, job.pgid);
    signal_job(job, SIGCONT);
    return wait_for_job(sh, index);
  }
  job.background = true;
  signal_job(job, SIGCONT);
  return 0;
}

int find_job(const Shell& sh, std::string_view spec) {
  if (sh.jobs.empty()) return -1;
  if (spec.empty() || spec == "%" || spec == "%+") return static_cast<int>(sh.jobs.size()) - 1;
  if (spec.starts_with('%')) spec.remove_prefix(1);
  for (size_t i = 0; i < sh.jobs.size(); ++i)
    if (std::to_string(sh.jobs[i].id) == spec) return static_cast<int>(i);
  return -1;
}

int run_script(Shell& sh, const Script& script) {
  for (const AndOr& item : script.items) {
    if (sh.exit_requested) break;
    sh.last_status = run_and_or(sh, item);
    std::string finished = poll_children(sh);
    if (sh.interactive) write_all(2, finished);
  }
  return sh.last_status;
}

int run_text(Shell& sh, std::string_view text) {
  ParseResult parsed = parse(text);
  if (!parsed.ok()) {
    const SyntaxError& e = parsed.error();
    write_all(2, fmt::format("tinysh: syntax error: {} (at character {})\n", e.message,
                             e.offset + 1));
    sh.last_status = 2;
    return 2;
  }
  return run_script(sh, parsed.script());
}

void remember_terminal_modes(int fd) {
  termios t;
  if (::tcgetattr(fd, &t) == 0) g_shell_modes = t;
}

}  // namespace tinysh
