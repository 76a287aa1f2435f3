/* A probe that runs inside a box and reports what it finds about its terminal. Linked
 * statically, so it runs in any box, on the host's root or in a bare --rootfs directory.
 *
 *   terminal_probe tiocsti TEXT   push TEXT into the terminal on stdin with ioctl(TIOCSTI), as
 *                                 if typed (ioctl_tty(2)); prints "pushed N" or
 *                                 "refused ERRNO-NAME" (CVE-2017-5226's trick)
 *   terminal_probe tty            what stdin is: "isatty 1", its name as /proc/self/fd/0 reads
 *                                 "name /dev/console", and "exists 1" when that name, looked up in
 *                                 this root, is the same device as stdin
 *   terminal_probe session        "sid S pid P pgrp G tpgid T": its session, and the foreground
 *                                 process group of its terminal (-1 without one)
 *   terminal_probe winsize        prints "size ROWSxCOLS", then waits (at most 20 s) for one
 *                                 SIGWINCH and prints "resized ROWSxCOLS"
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int push(const char* text) {
  size_t n = 0;
  for (; text[n]; ++n) {
    if (ioctl(0, TIOCSTI, &text[n]) < 0) {
      printf("refused %s after %zu\n", strerrorname_np(errno), n);
      return 1;
    }
  }
  printf("pushed %zu\n", n);
  return 0;
}

static int describe_tty(void) {
  char name[256] = {0};
  ssize_t len = readlink("/proc/self/fd/0", name, sizeof name - 1);
  if (len < 0) snprintf(name, sizeof name, "?");
  struct stat in, named;
  int exists = fstat(0, &in) == 0 && stat(name, &named) == 0 && S_ISCHR(named.st_mode) &&
               named.st_rdev == in.st_rdev;
  printf("isatty %d\nname %s\nexists %d\n", isatty(0), name, exists);
  return 0;
}

static int describe_session(void) {
  printf("sid %d pid %d pgrp %d tpgid %d\n", (int)getsid(0), (int)getpid(), (int)getpgrp(),
         (int)tcgetpgrp(0));
  return 0;
}

static int print_size(const char* what) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) < 0) {
    printf("%s failed %s\n", what, strerrorname_np(errno));
    return 1;
  }
  printf("%s %ux%u\n", what, ws.ws_row, ws.ws_col);
  fflush(stdout);
  return 0;
}

static int follow_size(void) {
  sigset_t winch;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  /* Blocked before the first size is printed: a change that comes after it is never missed. */
  sigprocmask(SIG_BLOCK, &winch, NULL);
  if (print_size("size")) return 1;
  struct timespec limit = {20, 0};
  if (sigtimedwait(&winch, NULL, &limit) < 0) {
    printf("no SIGWINCH\n");
    return 1;
  }
  return print_size("resized");
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc == 3 && strcmp(argv[1], "tiocsti") == 0) return push(argv[2]);
  if (argc == 2 && strcmp(argv[1], "tty") == 0) return describe_tty();
  if (argc == 2 && strcmp(argv[1], "session") == 0) return describe_session();
  if (argc == 2 && strcmp(argv[1], "winsize") == 0) return follow_size();
  fprintf(stderr, "usage: terminal_probe tiocsti TEXT | tty | session | winsize\n");
  return 2;
}
