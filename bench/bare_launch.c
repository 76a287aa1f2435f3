// The yardstick of the launch benchmark: the least a program must do to start a box like
// `nslab run --user --map-root --mount --rootfs DIR --pid --proc --uts --ipc --net -- PROGRAM`,
// as bare system calls with no checks beyond their return values. nslab's launch time is
// reported as a ratio to this one (bench/run-launch.sh).
//
//   bare_launch [--no-user] [--no-net] ROOTFS PROGRAM [ARGS...]
//       clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET)
//       runner: write uid_map and gid_map ("0 0 1": root inside is root outside), then release
//       box:    make / private, bind ROOTFS onto itself, mount proc on ROOTFS/proc,
//               pivot_root(".", "."), detach the old root, execve(PROGRAM)
//       runner: waitpid(), exit with the box's status
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
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
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

// The box's side: everything between the clone and the exec.
static void box(int sync_fd, const char* rootfs, char** argv) {
  char go;
  // Wait until the runner has written the id maps: before that, root inside maps to nobody
  // and may not mount.
  if (read(sync_fd, &go, 1) != 1) _exit(125);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("mount(/, MS_PRIVATE)");
  // pivot_root needs the new root to be a mount point: a bind of the directory onto itself.
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("mount(ROOTFS, MS_BIND)");
  // In a user namespace proc may be mounted only while a full proc is still visible in this
  // mount namespace, that is, before the old root goes.
  char proc[4096];
  snprintf(proc, sizeof proc, "%s/proc", rootfs);
  if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) die("mount(proc)");
  if (chdir(rootfs) < 0) die("chdir(ROOTFS)");
  // pivot_root(".", "."): the old root ends up stacked on the new one; detaching "." removes it.
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) die("umount2(old root)");
  if (chdir("/") < 0) die("chdir(/)");
  execve(argv[0], argv, environ);
  die("execve");
}

static int launch(int argc, char** argv) {
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
              CLONE_NEWNET;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--no-user") == 0) flags &= ~CLONE_NEWUSER;
    else if (strcmp(argv[i], "--no-net") == 0) flags &= ~CLONE_NEWNET;
    else break;
  }
  if (argc - i < 2) {
    fprintf(stderr, "usage: bare_launch [--no-user] [--no-net] ROOTFS PROGRAM [ARGS...]\n"
                    "       bare_launch --time ROUNDS COMMAND_FILE\n");
    return 2;
  }
  const char* rootfs = argv[i];
  char** program = argv + i + 1;

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
  if (flags & CLONE_NEWUSER) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    write_file(path, "0 0 1");
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    write_file(path, "0 0 1");
  }
  if (write(sync_pipe[1], "g", 1) != 1) die("write(sync)");
  close(sync_pipe[1]);

  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
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
