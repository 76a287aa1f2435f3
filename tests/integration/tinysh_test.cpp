// tinysh as a program: its modes, exit statuses, error lines, the signal state its children get,
// and the static link. No root needed.
#include <doctest/doctest.h>
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "process.h"
#include "temp_dir.h"
#include "pty_session.h"

using namespace std::chrono_literals;
using testing::bin;
using testing::run;

namespace {

std::string tinysh() { return bin("tinysh"); }

testing::RunResult sh(const std::string& commands, const testing::RunOptions& options = {}) {
  return run({tinysh(), "-c", commands}, options);
}

// True when the ELF file has no program interpreter and no dynamic section: the kernel runs it
// directly, with no loader and no shared library to find in the box's root.
bool is_static_elf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return false;
  if (std::string_view(reinterpret_cast<char*>(eh.e_ident), 4) != "\x7f" "ELF") return false;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof ph));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return false;
    if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC) return false;
  }
  return true;
}

using testing::TempDir;

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

}  // namespace

TEST_CASE("tinysh is a static executable, and the check tells a dynamic one apart") {
  CHECK(is_static_elf(tinysh()));
  // Negative control: the unit-test runner is linked dynamically.
  CHECK_FALSE(is_static_elf(bin("shell_unit")));
}

TEST_CASE("-c runs the commands and exits with the status of the last one") {
  CHECK(sh("false; true").status() == 0);
  CHECK(sh("true; false").status() == 1);
  CHECK(sh("false && echo no || echo yes").out == "yes\n");
  auto r = sh("echo one; echo two | cat; X=3; echo \"x=$X\" 'and $X'");
  CHECK(r.out == "one\ntwo\nx=3 and $X\n");
  CHECK(r.err.empty());
}

TEST_CASE("every exit status from 0 to 255 passes through exit") {
  for (int n = 0; n <= 255; ++n) {
    auto r = sh("exit " + std::to_string(n));
    REQUIRE_MESSAGE(r.status() == n, "exit ", n);
  }
}

TEST_CASE("a command killed by signal N gives status 128+N and one line naming the signal") {
  // The inner tinysh is an ordinary process (not PID 1): SIGSEGV's default action kills it.
  auto r = sh("tinysh -c 'kill -SEGV $$'; echo \"status=$?\"",
              {.env = {"PATH=" + std::string(NSLAB_BIN_DIR) + ":/usr/bin:/bin"}});
  CHECK(r.out == "status=139\n");
  CHECK(r.err.find("killed by signal 11 (SIGSEGV)") != std::string::npos);
}

TEST_CASE("commands from a pipe run without a prompt, and exit sets the status") {
  auto r = run({tinysh()}, {.input = "echo hi\nexit 3\necho never\n"});
  CHECK(r.out == "hi\n");
  CHECK(r.err.empty());
  CHECK(r.status() == 3);
}

TEST_CASE("a line left open by a quote or a pipe continues on the next line") {
  auto r = run({tinysh()}, {.input = "echo 'a\nb'\necho x |\ncat\n"});
  CHECK(r.out == "a\nb\nx\n");
}

TEST_CASE("a syntax error is one line with status 2, and the shell goes on") {
  auto r = run({tinysh()}, {.input = "echo 'open\n"});
  CHECK(r.status() == 2);
  r = run({tinysh()}, {.input = "echo a | | b\necho after\n"});
  CHECK(r.out == "after\n");
  CHECK(r.err.find("syntax error") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("a program that is not found gives 127 and exactly one line") {
  auto r = sh("nosuch-program-xyz");
  CHECK(r.status() == 127);
  CHECK(r.err == "tinysh: nosuch-program-xyz: command not found\n");
}

TEST_CASE("a file that cannot run gives 126 and one line saying why") {
  TempDir dir;
  write_file(dir.path + "/noexec", "echo hi\n", 0644);
  write_file(dir.path + "/badinterp", "#!/mmnnttbb\necho hi\n", 0755);
  write_file(dir.path + "/noshebang", "echo hi\n", 0755);

  auto r = sh(dir.path + "/noexec");
  CHECK(r.status() == 126);
  CHECK(r.err.find("permission denied") != std::string::npos);

  r = sh(dir.path + "/badinterp");
  CHECK(r.status() == 126);
  CHECK(r.err.find("bad interpreter /mmnnttbb") != std::string::npos);

  r = sh(dir.path);
  CHECK(r.status() == 126);
  CHECK(r.err.find("is a directory") != std::string::npos);

  r = sh(dir.path + "/noshebang");
  CHECK(r.status() == 126);
  CHECK(r.err.find("#!") != std::string::npos);

  for (const auto& e : {dir.path + "/noexec", dir.path + "/badinterp", dir.path}) {
    std::string err = sh(e).err;
    CHECK_MESSAGE(std::count(err.begin(), err.end(), '\n') == 1, err);
  }
}

TEST_CASE("redirections write, append, read and duplicate file descriptors") {
  TempDir dir;
  std::string f = dir.path + "/f";
  auto r = sh("echo one > " + f + "; echo two >> " + f + "; cat < " + f +
              "; nosuch 2> " + dir.path + "/err; cat " + dir.path + "/err; echo to-err >&2; nosuch2 2>&1");
  CHECK(r.out == "one\ntwo\ntinysh: nosuch: command not found\ntinysh: nosuch2: command not found\n");
  CHECK(r.err == "to-err\n");
  // A builtin's redirection does not stay on the shell's own output.
  r = sh("echo hidden > " + f + "; echo shown");
  CHECK(r.out == "shown\n");
}

TEST_CASE("exported variables reach programs, plain variables and unset ones do not") {
  auto r = sh("A=1; export B=2; C=3 /usr/bin/env | grep -E '^(A|B|C)=' | sort");
  CHECK(r.out == "B=2\nC=3\n");
  r = sh("export D=4; unset D; /usr/bin/env | grep -c '^D=' ");
  CHECK(r.out == "0\n");
}

TEST_CASE("background jobs run while the shell goes on, and wait collects them") {
  auto r = sh("sleep 0.2 & echo started; wait; echo done");
  CHECK(r.out == "started\ndone\n");
}

TEST_CASE("children start with an empty signal mask and default actions") {
  // Start tinysh the way a careless launcher might: SIGINT, SIGPIPE and SIGUSR1 ignored, SIGTERM
  // and SIGUSR2 blocked.
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGUSR1, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR2);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::dup2(out[1], 1);
    ::close(out[0]);
    std::string self = tinysh();
    ::execl(self.c_str(), "tinysh", "-c", "/bin/cat /proc/self/status", nullptr);
    _exit(127);
  }
  ::close(out[1]);
  std::string status;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) status.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  ::waitpid(pid, nullptr, 0);
  auto field = [&](const std::string& name) {
    auto at = status.find("\n" + name + ":");
    REQUIRE(at != std::string::npos);
    auto start = status.find_first_not_of(" \t", at + name.size() + 2);
    return std::strtoull(status.substr(start, 16).c_str(), nullptr, 16);
  };
  CHECK(field("SigBlk") == 0);
  CHECK(field("SigIgn") == 0);
}

TEST_CASE("a tinysh that is not PID 1 ends on SIGTERM, SIGUSR1 or SIGUSR2 like any program when idle") {
  // The control for the PID-1 tests: outside a PID namespace, a signal the shell receives with
  // no job to pass it on to ends the shell with 128+N.
  for (const auto& [name, status] : {std::pair{"TERM", 143}, {"USR1", 138}, {"USR2", 140}}) {
    CAPTURE(name);
    auto r = sh(std::string("kill -") + name + " $$; echo not-reached");
    CHECK(r.status() == status);
    CHECK(r.out.empty());
  }
}

TEST_CASE("a tinysh that is not PID 1 passes SIGUSR1 from its parent to the foreground job") {
  testing::Background shell({tinysh(), "-c", "sleep 30; echo after=$?"});
  REQUIRE(testing::wait_until([&] { return !testing::children_of(shell.pid()).empty(); }, 5s));
  REQUIRE(::kill(shell.pid(), SIGUSR1) == 0);
  CHECK(shell.wait(5s) == 0);
  CHECK(shell.output() == "tinysh: sleep 30: killed by signal 10 (SIGUSR1)\nafter=138\n");
}

TEST_CASE("an interactive tinysh ignores a SIGTERM typed inside it, but not one from its parent") {
  testing::PtySession shell({tinysh()});
  REQUIRE(shell.expect(testing::is_root() ? "# " : "$ "));
  // The word is made at run time: the terminal's echo of the typed line must not match it.
  shell.send("W=here; kill -TERM $$; echo still-$W\r");
  CHECK(shell.expect("still-here"));
  // The test process started the shell, as nslab's runner starts a box: its SIGTERM means stop.
  REQUIRE(::kill(shell.pid(), SIGTERM) == 0);
  CHECK(shell.wait_exit() == 143);
}

TEST_CASE("an interactive tinysh ignores a SIGUSR1 typed inside it, but not one from its parent") {
  testing::PtySession shell({tinysh()});
  REQUIRE(shell.expect(testing::is_root() ? "# " : "$ "));
  shell.send("W=here; kill -USR1 $$; kill -USR2 $$; echo still-$W\r");
  CHECK(shell.expect("still-here"));
  REQUIRE(::kill(shell.pid(), SIGUSR1) == 0);
  CHECK(shell.wait_exit() == 138);
}

TEST_CASE("ps on a terminal cuts each line at the terminal's width, through a pipe it does not") {
  // tinysh's own command line, and so its ps row, is longer than 40 columns.
  std::string padding(100, 'x');
  std::string script = "ps; echo " + padding + " > /dev/null";
  testing::PtyOptions narrow;
  narrow.cols = 40;
  testing::PtySession shell({tinysh(), "-c", script}, narrow);
  REQUIRE(shell.expect("STAT CMD"));
  int status = shell.wait_exit();
  std::string shown = shell.output();
  CAPTURE(status);
  CHECK(status == 0);
  INFO(shown);
  CHECK(shown.find("STAT CMD") != std::string::npos);
  size_t rows = 0;
  for (size_t at = 0; at < shown.size();) {
    size_t end = shown.find("\r\n", at);
    if (end == std::string::npos) end = shown.size();
    std::string line = shown.substr(at, end - at);
    size_t columns = 0;
    for (unsigned char c : line) columns += (c & 0xC0) != 0x80;
    CHECK(columns <= 40);
    ++rows;
    at = end + 2;
  }
  CHECK(rows > 2);
  CHECK(shown.find(padding) == std::string::npos);
  // The control: into a pipe, the row carries the whole command line.
  auto piped = testing::run({tinysh(), "-c", script});
  CHECK(piped.out.find(padding) != std::string::npos);
}
