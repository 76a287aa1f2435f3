// --seccomp: a filter of system calls — seccomp(2), and the kernel's
// Documentation/userspace-api/seccomp_filter.rst.
//
// Capabilities decide what a call may do; a seccomp filter decides which calls may be made at
// all. It is a small BPF program the kernel runs at every system call of the process, given the
// call's number, its architecture and its arguments (struct seccomp_data); it answers allow,
// fail with an errno, or kill. Once installed it cannot be removed, and every child and every
// program the process execs inherits it. nslab builds its filter here, in code, rather than with
// libseccomp: it is one comparison per call on a list, short enough to read whole.
//
// The list is of calls a box never needs and that act on the kernel or the machine, as the
// default profiles of Docker and Podman have them: mounting and the new mount API, namespaces
// (unshare, setns: no box within the box), modules, kexec, reboot, swap, the clock, accounting,
// quotas, the kernel keyring, BPF, perf, userfaultfd and io_uring (the two most used in kernel
// exploits), ptrace and the process_vm_* calls, file handles (open_by_handle_at: the "shocker"
// escape), raw I/O ports. Each fails with EPERM: programs treat that as "not allowed", where a
// kill would look like a crash.
//
// A filter is checked against the architecture first: x86-64 has a second set of numbers for
// its x32 ABI (with bit 30 set) and can run 32-bit calls (int 0x80, another architecture in
// seccomp_data) whose numbers mean other calls. Any call not of this architecture kills the
// process; an x32 number fails with EPERM.
//
// Installing a filter needs no_new_privs (or CAP_SYS_ADMIN): a setuid program must not run
// under a filter its caller chose, which could make it fail halfway. --seccomp implies it.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>

#include <fmt/format.h>

#include "common/text.h"
#include "isolation.h"
#include "sys.h"

namespace sandbox {

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
constexpr std::uint32_t kX32Bit = 0x40000000;
#elif defined(__aarch64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
constexpr std::uint32_t kX32Bit = 0;
#else
#error "nslab's seccomp filter knows x86-64 and arm64"
#endif

struct Denied {
  int nr;
  const char* name;
};

#define NSLAB_DENY(call) {SYS_##call, #call}
constexpr Denied kDenied[] = {
    NSLAB_DENY(mount), NSLAB_DENY(umount2), NSLAB_DENY(pivot_root), NSLAB_DENY(fsopen),
    NSLAB_DENY(fsconfig), NSLAB_DENY(fsmount), NSLAB_DENY(fspick), NSLAB_DENY(open_tree),
    NSLAB_DENY(move_mount), NSLAB_DENY(mount_setattr), NSLAB_DENY(unshare), NSLAB_DENY(setns),
    NSLAB_DENY(init_module), NSLAB_DENY(finit_module), NSLAB_DENY(delete_module),
    NSLAB_DENY(kexec_load), NSLAB_DENY(kexec_file_load), NSLAB_DENY(reboot), NSLAB_DENY(swapon),
    NSLAB_DENY(swapoff), NSLAB_DENY(settimeofday), NSLAB_DENY(clock_settime),
    NSLAB_DENY(clock_adjtime), NSLAB_DENY(adjtimex), NSLAB_DENY(acct), NSLAB_DENY(quotactl),
    NSLAB_DENY(add_key), NSLAB_DENY(request_key), NSLAB_DENY(keyctl), NSLAB_DENY(bpf),
    NSLAB_DENY(perf_event_open), NSLAB_DENY(userfaultfd), NSLAB_DENY(io_uring_setup),
    NSLAB_DENY(io_uring_enter), NSLAB_DENY(io_uring_register), NSLAB_DENY(ptrace),
    NSLAB_DENY(process_vm_readv), NSLAB_DENY(process_vm_writev), NSLAB_DENY(kcmp),
    NSLAB_DENY(name_to_handle_at), NSLAB_DENY(open_by_handle_at), NSLAB_DENY(syslog),
    NSLAB_DENY(lookup_dcookie),
#if defined(__x86_64__)
    NSLAB_DENY(iopl), NSLAB_DENY(ioperm),
#endif
};
#undef NSLAB_DENY

sock_filter statement(std::uint16_t code, std::uint32_t k) {
  return {code, 0, 0, k};
}
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t if_true, std::uint8_t if_false) {
  return {code, if_true, if_false, k};
}

}  // namespace

std::string syscall_names(const std::vector<int>& nrs) {
  std::vector<std::string> names;
  for (int nr : nrs) {
    std::string name = fmt::format("syscall {}", nr);
    for (const Denied& d : kDenied)
      if (d.nr == nr) name = d.name;
    names.push_back(name);
  }
  return common::join(names, " ");
}

std::vector<sock_filter> seccomp_program(const std::vector<int>& denied) {
  constexpr std::uint32_t kEperm = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  std::vector<sock_filter> program = {
      statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      statement(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      statement(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
  };
  if (kX32Bit) {
    program.push_back(jump(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 0, 1));
    program.push_back(statement(BPF_RET | BPF_K, kEperm));
  }
  for (int nr : denied) {
    program.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1));
    program.push_back(statement(BPF_RET | BPF_K, kEperm));
  }
  program.push_back(statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return program;
}

op::InstallSeccomp nslab_filter() {
  op::InstallSeccomp step;
  for (const Denied& d : kDenied) step.denied.push_back(d.nr);
  return step;
}

void plan_seccomp(const Spec& spec, Plan& plan) {
  if (!spec.seccomp) return;
  op::InstallSeccomp step = nslab_filter();
  plan.steps.push_back(
      {std::move(step),
       fmt::format("the last step before exec: from here on {} system calls no box needs fail "
                   "with EPERM (mounts, namespaces, modules, reboot, the clock, keys, BPF, "
                   "ptrace, io_uring, file handles ...), for the box's program and everything it "
                   "starts; a call of another architecture kills it",
                   std::size(kDenied))});
}

Status install_seccomp(const op::InstallSeccomp& step) {
  return sys::install_seccomp_filter(seccomp_program(step.denied));
}

}  // namespace sandbox
