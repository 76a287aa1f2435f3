#include "namespaces.h"

namespace sandbox {

std::span<const NamespaceKind> namespace_kinds() {
  // The order is the order setns() must use to enter a box: the user namespace first, so the
  // others are joined with the capabilities it grants.
  static constexpr NamespaceKind kKinds[] = {
      {CLONE_NEWUSER, "CLONE_NEWUSER", "user", "--user", "user and group ids, and capabilities"},
      {CLONE_NEWNS, "CLONE_NEWNS", "mnt", "--mount", "the mount table"},
      {CLONE_NEWUTS, "CLONE_NEWUTS", "uts", "--uts", "hostname and NIS domain name"},
      {CLONE_NEWIPC, "CLONE_NEWIPC", "ipc", "--ipc", "System V IPC objects and POSIX message queues"},
      {CLONE_NEWPID, "CLONE_NEWPID", "pid", "--pid", "process ids"},
      {CLONE_NEWNET, "CLONE_NEWNET", "net", "--net", "network devices, addresses, routes, ports"},
      {CLONE_NEWCGROUP, "CLONE_NEWCGROUP", "cgroup", "--cgroup", "the view of the cgroup tree"},
      {CLONE_NEWTIME, "CLONE_NEWTIME", "time", "--time", "the boot-time and monotonic clocks"},
  };
  return kKinds;
}

}  // namespace sandbox
