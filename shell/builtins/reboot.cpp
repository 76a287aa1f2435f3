// `reboot` and `reboot -f`: ask PID 1 to shut down, or ask the kernel to restart. reboot.h says
// what each does inside a PID namespace and why tinysh does neither outside one.
#include "reboot.h"

#include <linux/capability.h>
#include <linux/reboot.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "../builtin.h"
#include "../exec.h"
#include "../shell.h"
#include "file_io.h"
#include "proc_read.h"

namespace tinysh {

namespace {

// The initial PID namespace's inode number, the same on every machine (PROC_PID_INIT_INO in
// include/linux/proc_ns.h).
constexpr unsigned long long kInitialPidNamespace = 0xEFFFFFFCULL;

std::string_view refused_call(bool force) {
  return force ? "reboot(2) restarts the whole machine"
               : "kill(1, SIGTERM) asks the host's init to shut the machine down";
}

int run_reboot(Shell& sh, Args args) {
  file_io::ParsedArgs parsed = file_io::parse_short_flags(args, "f");
  if (parsed.unknown || !parsed.operands.empty()) return usage_error(args);
  bool force = parsed.has('f');
  // getpid(), not sh.pid: a pipeline's builtin runs in a forked copy of the shell.
  pid_t pid = ::getpid();
  char link[64];
  ssize_t n = ::readlink("/proc/self/ns/pid", link, sizeof link);
  RebootGate gate =
      reboot_gate(pid, n > 0 ? std::string_view(link, static_cast<size_t>(n)) : std::string_view());
  if (gate != RebootGate::NamespaceInit) return fail(args, "{}", reboot_refusal(gate, pid, force));

  if (force) {
    write_all(2,
              "reboot: reboot(LINUX_REBOOT_CMD_RESTART) as PID 1 of a PID namespace: if the "
              "kernel agrees, it ends this shell as if by SIGHUP, and the whole box with it\n");
    // Does not return when the kernel agrees.
    ::syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART,
              nullptr);
    int err = errno;
    if (err != EPERM) return fail(args, "reboot(2): {}", errno_text(err));
    file_io::FileText status = file_io::read_whole_file("/proc/self/status");
    return fail(
        args, "reboot(2): {} — {}", errno_text(err),
        reboot_denied_hint(status.error ? ProcessPowers{} : parse_process_powers(status.text)));
  }

  // What an init system's reboot does first. PID 1 is this shell: the signal is queued for it
  // (it blocks every signal and reads them from a signalfd), and it is handled here, now, as the
  // prompt would handle it, so that it is not passed on to the next foreground job.
  if (::kill(1, SIGTERM) != 0) return fail(args, "kill(1, SIGTERM): {}", errno_text(errno));
  write_all(1, poll_children(sh));
  if (sh.exit_requested) return 0;  // a signal from outside came at the same time
  write_all(2,
            "reboot: kill(1, SIGTERM): asked PID 1 to shut down, as an init system's reboot "
            "does\n");
  return fail(args,
              "PID 1 is this shell, which ignores signals sent from inside its PID namespace (the "
              "kernel drops those an init has no handler for): the box goes on. reboot -f asks "
              "the kernel instead");
}

const Builtin kInitBuiltins[] = {
    {.name = "reboot",
     .usage = "reboot [-f]",
     .summary = "ask PID 1 to shut down; -f: reboot(2), which ends a PID namespace",
     .reads = "kill(1, SIGTERM), reboot(2) with -f; only as a PID namespace's PID 1",
     .runs_in = RunsIn::Shell,
     .run = run_reboot},
};

}  // namespace

RebootGate reboot_gate(pid_t pid, std::string_view pid_ns_link) {
  if (pid != 1) return RebootGate::NotPid1;
  if (parse_ns_link(pid_ns_link) == kInitialPidNamespace) return RebootGate::InitialNamespace;
  return RebootGate::NamespaceInit;
}

std::string reboot_refusal(RebootGate gate, pid_t pid, bool force) {
  switch (gate) {
    case RebootGate::NamespaceInit:
      return {};
    case RebootGate::NotPid1:
      return fmt::format(
          "refused: this shell is PID {}, not PID 1, so it cannot be sure that its PID "
          "namespace is not the host's, where {} (in a box started with --pid, tinysh is PID 1)",
          pid, refused_call(force));
    case RebootGate::InitialNamespace:
      return fmt::format(
          "refused: this is PID 1 of the initial PID namespace (/proc/self/ns/pid is "
          "pid:[{}]), the machine's own init, where {}",
          kInitialPidNamespace, refused_call(force));
  }
  return {};
}

std::string_view reboot_denied_hint(const ProcessPowers& powers) {
  constexpr uint64_t boot = uint64_t{1} << CAP_SYS_BOOT;
  if (!powers.effective)
    return "reboot(2) needs CAP_SYS_BOOT in the user namespace that owns this PID namespace, "
           "and no seccomp filter that refuses it (`caps` shows both)";
  if (*powers.effective & boot) {
    if (powers.seccomp_mode == 2)
      return "a seccomp filter refused the call before any capability was checked (Seccomp 2 "
             "in `caps`: nslab run --seccomp); CAP_SYS_BOOT does not help";
    return "CAP_SYS_BOOT is held, but not in the user namespace that owns this PID namespace, "
           "which is where the kernel looks for it";
  }
  if (powers.bounding && !(*powers.bounding & boot))
    return "CAP_SYS_BOOT is out of this box's bounding set (nslab run --cap-drop), and nothing "
           "the box runs can get it back";
  return "this shell has no CAP_SYS_BOOT, which the kernel wants in the user namespace that "
         "owns this PID namespace (the box's root has it: nslab run --user --map-root --pid)";
}

std::span<const Builtin> init_builtins() {
  return kInitBuiltins;
}

}  // namespace tinysh
