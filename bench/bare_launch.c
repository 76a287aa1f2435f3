// The yardstick of the launch benchmark: the least a program must do to start a box like
// `nslab run --user --map-root --mount --rootfs DIR --pid --proc --uts --ipc --net -- PROGRAM`,
// as bare system calls with no checks beyond their return values. nslab's launch time is
// reported as a ratio to this one (bench/run-launch.sh).
//
//   bare_launch [--no-user] [--no-net] [--cgroup DIR]... [--pids N] [--memory BYTES] [--veth]
//               [--full-box] ROOTFS PROGRAM [ARGS...]
//       runner: with --cgroup: mkdir DIR/nslab-bench-PID in each DIR, and in each the limit
//               files it has: pids.max, memory.max or memory.limit_in_bytes, and no swap
//               (memory.swap.max 0, memory.memsw.limit_in_bytes = the limit) when present
//       clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET)
//       runner: write the child into each cgroup.procs; write uid_map and gid_map ("0 0 1":
//               root inside is root outside); with --veth, over rtnetlink: a veth pair
//               nsb-PID / eth0 with eth0 born in the box's namespace, the host end's address
//               (10.214.0.0/16, a /30 per runner pid: apart from nslab's 10.213.0.0/16), up
//               (with --full-box, as nslab: no forwarding and no IPv6 on the host end);
//               then release
//       box:    with --veth: lo up, eth0's address, eth0 up;
//               make / private, bind ROOTFS onto itself, mount proc on ROOTFS/proc,
//               pivot_root(".", "."), detach the old root, execve(PROGRAM);
//               with --full-box, the mounts of the box nslab builds instead (see full_box):
//               ROOTFS under a read-only overlay in a private staging tmpfs, a tmpfs /tmp, a
//               /dev of its own, proc; then the same pivot_root and execve
//       runner: waitpid(), rmdir the cgroups (retried while the kernel still counts the last
//               task), exit with the box's status; the kernel deletes the veth pair with the
//               box's network namespace
//
//   bare_launch --time ROUNDS COMMAND_FILE
//       The timer of the benchmark. COMMAND_FILE holds one command a line, words split on
//       spaces (no quoting). Runs ROUNDS rounds; each round starts every command once, one
//       after the other, beginning at a different line each round, so slow moments of the
//       machine fall on every command alike. Prints "LINE WALL_US EXIT_STATUS CPU_US" per run,
//       LINE counted from 0. The wall time runs from posix_spawn() to wait4(): the timer's own
//       start-up is not in it. The CPU time is user + system time of the command and of every
//       descendant it waited for (wait4's rusage); on a busy machine it is the steadier figure,
//       but it leaves out the kernel's deferred work (a network namespace is freed by a kernel
//       worker, after the box has gone).
//
// Written in plain C so the yardstick carries no C++ runtime start-up.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static void die(const char* call) {
  fprintf(stderr, "bare_launch: %s: %s\n", call, strerror(errno));
  _exit(125);
}

static void write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  if (write(fd, text, strlen(text)) < 0) die(path);
  close(fd);
}

// ---- cgroups: a directory per hierarchy, its limits, the child's pid --------------------------

enum { kMaxCgroups = 8 };
static char cgroup_dirs[kMaxCgroups][4096];
static int cgroups;

static int exists(const char* path) {
  return access(path, F_OK) == 0;
}

// Writes TEXT into DIR/FILE when the file is there.
static int write_if_present(const char* dir, const char* file, const char* text) {
  char path[4200];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) die("path too long");
  if (!exists(path)) return 0;
  write_file(path, text);
  return 1;
}

static void make_cgroups(char parents[][4096], int count, const char* pids, const char* memory) {
  for (int i = 0; i < count; i++) {
    char* dir = cgroup_dirs[cgroups++];
    if (snprintf(dir, sizeof cgroup_dirs[0], "%s/nslab-bench-%d", parents[i], (int)getpid()) >=
        (int)sizeof cgroup_dirs[0])
      die("path too long");
    if (mkdir(dir, 0755) < 0) die(dir);
    if (pids) write_if_present(dir, "pids.max", pids);
    if (memory) {
      if (write_if_present(dir, "memory.max", memory)) {
        write_if_present(dir, "memory.swap.max", "0");
      } else if (write_if_present(dir, "memory.limit_in_bytes", memory)) {
        write_if_present(dir, "memory.memsw.limit_in_bytes", memory);
      }
    }
  }
}

static void join_cgroups(pid_t pid) {
  char text[32];
  snprintf(text, sizeof text, "%d", (int)pid);
  for (int i = 0; i < cgroups; i++) write_if_present(cgroup_dirs[i], "cgroup.procs", text);
}

static void remove_cgroups(void) {
  for (int i = 0; i < cgroups; i++) {
    // The box's last tasks may still be leaving: EBUSY for a moment (bounded: 5 s).
    for (int tries = 0; rmdir(cgroup_dirs[i]) < 0; tries++) {
      if (errno != EBUSY || tries == 5000) die(cgroup_dirs[i]);
      struct timespec one_ms = {0, 1000000};
      nanosleep(&one_ms, NULL);
    }
  }
}

// ---- the veth, over rtnetlink --------------------------------------------------------------

struct request {
  struct nlmsghdr header;
  char body[1024];
};

static struct rtattr* add_attr(struct request* r, unsigned short type, const void* data,
                               size_t length) {
  struct rtattr* attr = (struct rtattr*)((char*)r + NLMSG_ALIGN(r->header.nlmsg_len));
  attr->rta_type = type;
  attr->rta_len = (unsigned short)RTA_LENGTH(length);
  if (length) memcpy(RTA_DATA(attr), data, length);
  r->header.nlmsg_len = NLMSG_ALIGN(r->header.nlmsg_len) + RTA_ALIGN(attr->rta_len);
  return attr;
}

static void end_nest(struct request* r, struct rtattr* nest) {
  nest->rta_len = (unsigned short)((char*)r + r->header.nlmsg_len - (char*)nest);
}

// Sends the request and waits for the kernel's acknowledgement.
static void talk(int sock, struct request* r, const char* what) {
  r->header.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (send(sock, r, r->header.nlmsg_len, 0) < 0) die(what);
  char reply[4096];
  ssize_t n = recv(sock, reply, sizeof reply, 0);
  if (n < 0) die(what);
  struct nlmsghdr* h = (struct nlmsghdr*)reply;
  if (h->nlmsg_type == NLMSG_ERROR) {
    int err = ((struct nlmsgerr*)NLMSG_DATA(h))->error;
    if (err) {
      errno = -err;
      die(what);
    }
  }
}

static int netlink_socket(void) {
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock < 0) die("socket(NETLINK_ROUTE)");
  return sock;
}

static void start(struct request* r, unsigned short type, unsigned short flags) {
  memset(r, 0, sizeof *r);
  r->header.nlmsg_type = type;
  r->header.nlmsg_flags = flags;
}

static void link_up(int sock, int index) {
  struct request r;
  start(&r, RTM_NEWLINK, 0);
  struct ifinfomsg* info = NLMSG_DATA(&r.header);
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = index;
  info->ifi_flags = info->ifi_change = IFF_UP;
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof *info);
  talk(sock, &r, "RTM_NEWLINK(up)");
}

static void add_address(int sock, int index, uint32_t address) {
  struct request r;
  start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  struct ifaddrmsg* addr = NLMSG_DATA(&r.header);
  addr->ifa_family = AF_INET;
  addr->ifa_prefixlen = 30;
  addr->ifa_index = (unsigned)index;
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof *addr);
  uint32_t net = htonl(address);
  add_attr(&r, IFA_LOCAL, &net, sizeof net);
  add_attr(&r, IFA_ADDRESS, &net, sizeof net);
  talk(sock, &r, "RTM_NEWADDR");
}

static int with_full_box;  // --full-box

// 10.214.0.0/16 cut in /30s, one per runner pid: .1 the host end, .2 the box's.
static uint32_t subnet_base(pid_t runner) {
  return (10u << 24 | 214u << 16) + ((unsigned)runner % 16384u) * 4u;
}

static void plug_veth(pid_t box_pid, pid_t runner) {
  char name[IFNAMSIZ];
  snprintf(name, sizeof name, "nsb-%d", (int)runner);
  int sock = netlink_socket();
  struct request r;
  start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg* info = NLMSG_DATA(&r.header);
  info->ifi_family = AF_UNSPEC;
  r.header.nlmsg_len = NLMSG_LENGTH(sizeof *info);
  add_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtattr* linkinfo = add_attr(&r, IFLA_LINKINFO, NULL, 0);
  add_attr(&r, IFLA_INFO_KIND, "veth", 5);
  struct rtattr* data = add_attr(&r, IFLA_INFO_DATA, NULL, 0);
  struct rtattr* peer = add_attr(&r, VETH_INFO_PEER, NULL, 0);
  // The peer's ifinfomsg, then its attributes.
  r.header.nlmsg_len += sizeof(struct ifinfomsg);
  add_attr(&r, IFLA_IFNAME, "eth0", 5);
  uint32_t ns_pid = (uint32_t)box_pid;
  add_attr(&r, IFLA_NET_NS_PID, &ns_pid, sizeof ns_pid);
  end_nest(&r, peer);
  end_nest(&r, data);
  end_nest(&r, linkinfo);
  talk(sock, &r, "RTM_NEWLINK(veth)");
  int index = (int)if_nametoindex(name);
  if (index == 0) die("if_nametoindex(host end)");
  if (with_full_box) {
    // As nslab: the host end forwards nothing the box sends, and carries no IPv6.
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/forwarding", name);
    write_file(path, "0");
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    write_file(path, "1");
  }
  add_address(sock, index, subnet_base(runner) + 1);
  link_up(sock, index);
  close(sock);
}

static void configure_box_network(pid_t runner) {
  int sock = netlink_socket();
  link_up(sock, 1);  // lo is always 1 in a new network namespace
  int index = (int)if_nametoindex("eth0");
  if (index == 0) die("if_nametoindex(eth0)");
  add_address(sock, index, subnet_base(runner) + 2);
  link_up(sock, index);
  close(sock);
}

// ---- the box -------------------------------------------------------------------------------

static int with_veth;
static pid_t runner_pid;
static void full_box(const char* rootfs);

// The box's side: everything between the clone and the exec.
static void box(int sync_fd, const char* rootfs, char** argv) {
  char go;
  // Wait until the runner has written the id maps: before that, root inside maps to nobody
  // and may not mount.
  if (read(sync_fd, &go, 1) != 1) _exit(125);
  if (with_veth) configure_box_network(runner_pid);
  if (with_full_box) {
    full_box(rootfs);
  } else {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("mount(/, MS_PRIVATE)");
    // pivot_root needs the new root to be a mount point: a bind of the directory onto itself.
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("mount(ROOTFS, MS_BIND)");
    // In a user namespace proc may be mounted only while a full proc is still visible in this
    // mount namespace, that is, before the old root goes.
    char proc[4096];
    snprintf(proc, sizeof proc, "%s/proc", rootfs);
    if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      die("mount(proc)");
    if (chdir(rootfs) < 0) die("chdir(ROOTFS)");
  }
  // pivot_root(".", "."): the old root ends up stacked on the new one; detaching "." removes it.
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) die("umount2(old root)");
  if (chdir("/") < 0) die("chdir(/)");
  execve(argv[0], argv, environ);
  die("execve");
}

// --full-box: the same mounts as nslab's box, as bare calls, so that nslab's launch can be
// held against the calls its box needs and not only the least any box needs. nslab keeps the
// host's rootfs directory out of reach of the box's root (a read-only overlay on a staging
// tmpfs that only the box's mount namespace sees) and gives it its own /tmp and /dev.
static void full_box(const char* rootfs) {
  static const char* const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
  static const char* const links[][2] = {{"pts/ptmx", "ptmx"},       {"/proc/self/fd", "fd"},
                                         {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
                                         {"/proc/self/fd/2", "stderr"}};
  char path[4096], source[64];
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("mount(/, MS_PRIVATE)");
  int root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) die("open(ROOTFS)");
  if (mount("staging", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64k") < 0)
    die("mount(staging tmpfs)");
  if (mkdir("/tmp/root", 0755) < 0 || mkdir("/tmp/lower", 0755) < 0 ||
      mkdir("/tmp/empty", 0755) < 0)
    die("mkdir(staging)");
  snprintf(source, sizeof source, "/proc/self/fd/%d", root_fd);
  if (mount(source, "/tmp/lower", NULL, MS_BIND | MS_REC, NULL) < 0) die("mount(lower, MS_BIND)");
  if (mount("bare-rootfs", "/tmp/root", "overlay", MS_RDONLY | MS_NOSUID,
            "lowerdir=/tmp/lower:/tmp/empty") < 0)
    die("mount(overlay)");
  if (mount("tmp", "/tmp/root/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0)
    die("mount(/tmp)");
  if (mount("dev", "/tmp/root/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "mode=0755,size=64k") < 0)
    die("mount(/dev)");
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
    snprintf(path, sizeof path, "/tmp/root/dev/%s", devices[i]);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 || fchmod(fd, 0666) < 0) die("create a device node's mount point");
    close(fd);
    snprintf(source, sizeof source, "/dev/%s", devices[i]);
    if (mount(source, path, NULL, MS_BIND, NULL) < 0) die("mount(device, MS_BIND)");
  }
  if (mkdir("/tmp/root/dev/pts", 0755) < 0) die("mkdir(/dev/pts)");
  if (mount("devpts", "/tmp/root/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
            "newinstance,ptmxmode=0666,mode=0620") < 0)
    die("mount(devpts)");
  if (mkdir("/tmp/root/dev/shm", 01777) < 0 || chmod("/tmp/root/dev/shm", 01777) < 0)
    die("mkdir(/dev/shm)");
  if (mount("shm", "/tmp/root/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "mode=1777,size=16m") < 0)
    die("mount(/dev/shm)");
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    snprintf(path, sizeof path, "/tmp/root/dev/%s", links[i][1]);
    if (symlink(links[i][0], path) < 0) die("symlink(/dev)");
  }
  if (mount("proc", "/tmp/root/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
    die("mount(proc)");
  if (chdir("/tmp/root") < 0) die("chdir(new root)");
}

static int launch(int argc, char** argv) {
  int flags =
      CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
  int i = 1;
  char parents[kMaxCgroups][4096];
  int parent_count = 0;
  const char* pids = NULL;
  const char* memory = NULL;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--no-user") == 0)
      flags &= ~CLONE_NEWUSER;
    else if (strcmp(argv[i], "--no-net") == 0)
      flags &= ~CLONE_NEWNET;
    else if (strcmp(argv[i], "--veth") == 0)
      with_veth = 1;
    else if (strcmp(argv[i], "--full-box") == 0)
      with_full_box = 1;
    else if (strcmp(argv[i], "--cgroup") == 0 && i + 1 < argc && parent_count < kMaxCgroups)
      snprintf(parents[parent_count++], sizeof parents[0], "%s", argv[++i]);
    else if (strcmp(argv[i], "--pids") == 0 && i + 1 < argc)
      pids = argv[++i];
    else if (strcmp(argv[i], "--memory") == 0 && i + 1 < argc)
      memory = argv[++i];
    else
      break;
  }
  if (argc - i < 2 || (with_veth && !(flags & CLONE_NEWNET))) {
    fprintf(stderr,
            "usage: bare_launch [--no-user] [--no-net] [--cgroup DIR]... [--pids N] "
            "[--memory BYTES] [--veth] [--full-box] ROOTFS PROGRAM [ARGS...]\n"
            "       bare_launch --time ROUNDS COMMAND_FILE\n");
    return 2;
  }
  const char* rootfs = argv[i];
  char** program = argv + i + 1;
  runner_pid = getpid();
  make_cgroups(parents, parent_count, pids, memory);

  int sync_pipe[2];
  if (pipe2(sync_pipe, O_CLOEXEC) < 0) die("pipe2");
  // clone with no new stack behaves like fork(): the child runs on a copy of this stack.
  pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) die("clone");
  if (pid == 0) {
    close(sync_pipe[1]);
    box(sync_pipe[0], rootfs, program);
  }
  close(sync_pipe[0]);
  join_cgroups(pid);
  if (flags & CLONE_NEWUSER) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    write_file(path, "0 0 1");
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    write_file(path, "0 0 1");
  }
  if (with_veth) plug_veth(pid, runner_pid);
  if (write(sync_pipe[1], "g", 1) != 1) die("write(sync)");
  close(sync_pipe[1]);

  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  remove_cgroups();
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// --time: see the top of the file.
enum { kMaxCommands = 32, kMaxWords = 64 };

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int time_commands(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bare_launch --time ROUNDS COMMAND_FILE\n");
    return 2;
  }
  long rounds = strtol(argv[2], NULL, 10);
  FILE* file = fopen(argv[3], "r");
  if (!file) die(argv[3]);
  static char lines[kMaxCommands][4096];
  static char* words[kMaxCommands][kMaxWords + 1];
  int commands = 0;
  while (commands < kMaxCommands && fgets(lines[commands], sizeof lines[0], file)) {
    int n = 0;
    for (char* w = strtok(lines[commands], " \t\n"); w && n < kMaxWords; w = strtok(NULL, " \t\n"))
      words[commands][n++] = w;
    words[commands][n] = NULL;
    if (n > 0) commands++;
  }
  fclose(file);
  if (commands == 0) return 2;

  // Every command's output goes to /dev/null: the benchmark times the launch, not a terminal.
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);

  for (long round = 0; round < rounds; round++) {
    for (int k = 0; k < commands; k++) {
      int c = (int)((round + k) % commands);
      double start = now_us();
      pid_t pid;
      int err = posix_spawn(&pid, words[c][0], &quiet, NULL, words[c], environ);
      if (err != 0) {
        errno = err;
        die(words[c][0]);
      }
      int status;
      struct rusage usage;
      while (wait4(pid, &status, 0, &usage) < 0)
        if (errno != EINTR) die("wait4");
      double elapsed = now_us() - start;
      int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
      double cpu = (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6 +
                   (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
      printf("%d %.0f %d %.0f\n", c, elapsed, code, cpu);
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--time") == 0) return time_commands(argc, argv);
  return launch(argc, argv);
}
