// The box's first process, from clone to exec.
//
// The runner clone()s it straight into the new namespaces (clone(2): CLONE_NEWUSER, CLONE_NEWNS,
// CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID) — no re-exec of nslab inside the box, so the nslab
// binary never runs there. The child then:
//   1. asks for SIGKILL when the runner dies (PR_SET_PDEATHSIG, prctl(2)), and checks that the
//      runner did not die before the prctl took effect;
//   2. marks every inherited fd but 0-2 close-on-exec, so nothing the runner was handed (an open
//      directory, a socket, a secret file) reaches the program in the box;
//   3. waits on a pipe until the runner has done its part (id maps; later cgroups and veths);
//   4. runs its own setup, then execs tinysh or the program, which becomes the box's PID 1 when
//      there is a PID namespace.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "isolation.h"
#include "sys.h"

extern char** environ;

namespace sandbox {

std::vector<std::string> box_argv(const Command& command) {
  switch (command.kind) {
    case CommandKind::Shell:
      return {"tinysh"};
    case CommandKind::ShellCommands:
      return {"tinysh", "-c", command.shell_commands};
    case CommandKind::Program:
      return command.argv;
  }
  return {};
}

namespace {

// The box's PATH, from the environment its program gets.
std::string path_of(const std::vector<std::string>& env) {
  for (const auto& entry : env)
    if (entry.starts_with("PATH=")) return entry.substr(5);
  return "/bin:/usr/bin";
}

// The file execvp() ran into for `program`: the name itself when it has a '/', else the first
// PATH entry that holds it; "" when there is none. Read after pivot_root, so in the box's root.
std::string file_tried_for(const std::string& program, const std::string& path) {
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), F_OK) == 0 ? program : std::string();
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? colon : colon - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (::access(candidate.c_str(), F_OK) == 0) return candidate;
    if (colon == std::string::npos) return {};
    start = colon + 1;
  }
}

// The first bytes of a file: as many as the kernel reads to find a "#!" line.
std::string head_of(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[256];
  ssize_t n;
  do n = ::read(fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

std::vector<std::string> box_environment(bool own_root) {
  std::vector<std::string> env;
  if (!own_root) {
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    return env;
  }
  env.emplace_back("PATH=/bin:/sbin:/usr/bin:/usr/sbin");
  env.emplace_back("HOME=/root");
  if (const char* term = std::getenv("TERM")) env.push_back(std::string("TERM=") + term);
  return env;
}

std::string shebang_interpreter(std::string_view head) {
  if (!head.starts_with("#!")) return {};
  std::string_view line = head.substr(2);
  line = line.substr(0, line.find('\n'));
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  line = line.substr(start);
  return std::string(line.substr(0, line.find_first_of(std::string_view(" \t\0", 3))));
}

Error program_exec_error(const std::string& program, int err, const std::vector<std::string>& env,
                         std::string_view root) {
  std::string where = root.empty() ? std::string() : fmt::format(" (its root is {})", root);
  if (err != ENOENT) return make_error(fmt::format("execve(\"{}\")", program), err);
  // execve(2) says ENOENT both when the file is missing and when the interpreter it names is:
  // a script's #! line, or an ELF binary's dynamic loader. Look at the file to say which.
  std::string file = file_tried_for(program, path_of(env));
  if (file.empty()) {
    Error e = make_error(fmt::format("execve(\"{}\")", program), err);
    e.hint += where;
    return e;
  }
  Error e = make_error(fmt::format("execve(\"{}\")", file), err);
  std::string interpreter = shebang_interpreter(head_of(file));
  if (!interpreter.empty() && ::access(interpreter.c_str(), F_OK) == 0)
    e.hint = fmt::format(
        "the interpreter named in its #! line, {}, is there, but the loader it names in turn is "
        "missing inside the box{}",
        interpreter, where);
  else if (!interpreter.empty())
    e.hint = fmt::format(
        "the file is there, but the interpreter named in its #! line, {}, is missing inside the "
        "box{}: put it there, or change the #! line to one the box has",
        interpreter, where);
  else
    e.hint = fmt::format(
        "the file is there, but the loader it names is missing inside the box{}: a dynamically "
        "linked program needs its ELF interpreter (such as /lib64/ld-linux-x86-64.so.2) and "
        "libraries in the box; a static one needs none",
        where);
  return e;
}

Status plan_process(const Spec& spec, Plan& plan) {
  auto names = namespace_names(plan.clone_flags);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
  plan.steps.push_back({op::Clone{.flags = plan.clone_flags},
                        names.empty()
                            ? "start the box's first process; with no namespace flags it shares "
                              "everything with the host: this is the baseline"
                            : fmt::format("start the box's first process already inside new "
                                          "namespaces: {}",
                                          list)});
  plan.steps.push_back(
      {op::DieWithRunner{.own_pid_namespace = spec.pid},
       "the box dies with the runner; the check catches a runner that died before the prctl (in "
       "a new PID namespace getppid() reads 0, so the sync pipe's EOF tells instead)"});
  plan.steps.push_back({op::CloseInheritedFds{.first_fd = 3},
                        "no fd the runner inherited (an open directory, a socket) may reach the "
                        "box: everything but 0-2 closes at exec"});
  plan.steps.push_back({op::WaitForRelease{},
                        "wait until the runner has finished its part of the setup"});
  return ok();
}

Status plan_exec(const Spec& spec, Plan& plan) {
  op::Exec exec{.argv = box_argv(spec.command), .host_environment = spec.rootfs() == RootfsKind::Host};
  std::string why;
  if (spec.command.kind == CommandKind::Program) {
    exec.from = op::Exec::From::Path;
    exec.file = exec.argv[0];
    why = "run the program, looked up on PATH inside the box, in place of the setup code; signal "
          "mask restored";
  } else if (spec.rootfs() == RootfsKind::Embedded) {
    exec.from = op::Exec::From::File;
    exec.file = "/bin/tinysh";
    why = "become tinysh, from the box's own /bin; with --pid it is PID 1 and must reap orphans";
  } else if (spec.rootfs() == RootfsKind::Host) {
    exec.from = op::Exec::From::SealedCopy;
    exec.file = spec.tinysh_path.empty() ? "tinysh" : spec.tinysh_path;
    why = "become tinysh, run from a sealed copy in memory: its /proc/PID/exe is not the host's "
          "file, which a process of the box could otherwise write; with --pid it is PID 1 and "
          "must reap orphans";
  } else {
    exec.from = op::Exec::From::SealedCopy;
    exec.file = "the tinysh opened before pivot_root";
    why = "become tinysh from a sealed copy in memory, made from the fd opened before pivot_root: "
          "the rootfs directory need not contain it, and the box never gets a path to the host's "
          "file";
  }
  plan.steps.push_back({std::move(exec), why});
  return ok();
}

Status die_with_runner(const BoxSetup& box, const op::DieWithRunner& step) {
  SANDBOX_TRY(sys::set_parent_death_signal(SIGKILL));
  // The runner may have died between clone and prctl: then no signal will ever come. Outside a
  // new PID namespace, getppid() shows it (we were reparented). Inside one, getppid() is 0
  // either way, and wait_for_release() sees the sync pipe's EOF instead.
  if (!step.own_pid_namespace && ::getppid() != box.runner_pid)
    return plain_error("getppid() != runner: the runner exited before the box started");
  return ok();
}

Status close_inherited_fds(const op::CloseInheritedFds& step) {
  return sys::cloexec_from(step.first_fd);
}

Status wait_for_release(const BoxSetup& box) {
  char go = 0;
  ssize_t n;
  do n = ::read(box.release_fd, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) return make_error("read(sync_pipe)", errno);
  if (n == 0) return plain_error("read(sync_pipe): EOF, the runner is gone or gave up");
  return ok();
}

bool runner_alive(const BoxSetup& box) {
  // The runner keeps the pipe's write end open until the box has exec'd; POLLHUP means it died.
  pollfd pfd{box.release_fd, POLLIN, 0};
  if (::poll(&pfd, 1, 0) < 0) return true;
  return !(pfd.revents & POLLHUP);
}

Error exec_program(const op::Exec& exec, int sealed_tinysh, std::string_view root) {
  std::vector<std::string> argv = exec.argv;
  auto env = box_environment(!exec.host_environment);
  std::vector<char*> args, envp;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  switch (exec.from) {
    case op::Exec::From::Path:
      // execvp() looks PATH up in our own environment: switch to the box's first.
      environ = envp.data();
      ::execvp(exec.file.c_str(), args.data());
      return program_exec_error(exec.file, errno, env, root);
    case op::Exec::From::File:
      ::execve(exec.file.c_str(), args.data(), envp.data());
      return make_error(fmt::format("execve(\"{}\")", exec.file), errno);
    case op::Exec::From::SealedCopy:
      ::execveat(sealed_tinysh, "", args.data(), envp.data(), AT_EMPTY_PATH);
      return make_error("execveat(memfd:tinysh, \"\", AT_EMPTY_PATH)", errno);
  }
  return plain_error("exec: unknown way to start the program");
}

Error exec_command(const BoxSetup& box, const op::Exec& exec) {
  // The runner blocked the signals it forwards; the box starts with the mask nslab was given.
  ::sigprocmask(SIG_SETMASK, &box.original_mask, nullptr);
  std::string root;
  switch (box.plan.spec.rootfs()) {
    case RootfsKind::Host:
      break;
    case RootfsKind::Embedded:
      root = "the embedded rootfs: tinysh and a few files";
      break;
    case RootfsKind::Directory:
      root = "--rootfs " + box.plan.spec.rootfs_name();
      break;
  }
  if (exec.from != op::Exec::From::SealedCopy) return exec_program(exec, -1, root);
  // A sealed copy: the box's /proc/1/exe then names a file in memory that nobody can write,
  // not the host's tinysh (CVE-2019-5736 was runc's binary overwritten that way).
  auto copy = sys::sealed_copy(box.tinysh.get(), "tinysh");
  if (!copy) return copy.error();
  return exec_program(exec, copy->get(), root);
}

}  // namespace sandbox
