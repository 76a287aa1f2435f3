// ls, cat, mkdir, touch and rm, run as builtins on a temporary directory.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "process.h"
#include "builtin.h"
#include "capture.h"
#include "temp_dir.h"
#include "shell.h"

namespace {

using testing::capture;
using testing::Captured;

using testing::TempDir;

void write_file(const std::string& path, const std::string& text, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  REQUIRE(::chmod(path.c_str(), mode) == 0);  // exactly this mode, whatever the umask
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

Captured run(std::vector<std::string> words) {
  tinysh::Shell sh;
  const tinysh::Builtin* b = tinysh::find_builtin(words.at(0));
  REQUIRE(b != nullptr);
  return capture([&] { return b->run(sh, words); });
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    i = line.find_first_not_of(' ', i);
    if (i == std::string::npos) break;
    size_t end = line.find(' ', i);
    words.push_back(line.substr(i, end - i));
    i = end;
  }
  return words;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    result.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return result;
}

// The line of `ls -l` output that ends with NAME (or NAME -> target).
std::vector<std::string> long_line_for(const std::string& output, const std::string& name) {
  for (const std::string& line : lines(output)) {
    std::vector<std::string> w = split_words(line);
    if (w.size() >= 6 && w[5] == name) return w;
  }
  return {};
}

std::string own_user_name() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_name : std::to_string(::getuid());
}

std::string own_group_name() {
  const group* gr = ::getgrgid(::getgid());
  return gr ? gr->gr_name : std::to_string(::getgid());
}

}  // namespace

TEST_CASE("ls lists names in byte order and hides dot files unless -a") {
  TempDir t;
  write_file(t / "b", "");
  write_file(t / "a", "");
  write_file(t / "B", "");
  write_file(t / ".hidden", "");
  REQUIRE(::mkdir((t / "c").c_str(), 0755) == 0);

  Captured plain = run({"ls", t.path});
  CHECK(plain.status == 0);
  CHECK(plain.out == "B\na\nb\nc\n");
  CHECK(plain.err.empty());

  Captured all = run({"ls", "-a", t.path});
  CHECK(all.status == 0);
  CHECK(all.out == ".\n..\n.hidden\nB\na\nb\nc\n");
}

TEST_CASE("ls -l shows mode, link count, owner, group, size, name and a symlink's target") {
  TempDir t;
  write_file(t / "file", "hello", 0640);
  REQUIRE(::mkdir((t / "dir").c_str(), 0755) == 0);
  REQUIRE(::chmod((t / "dir").c_str(), 0755) == 0);
  REQUIRE(::symlink("file", (t / "link").c_str()) == 0);
  REQUIRE(::link((t / "file").c_str(), (t / "hard").c_str()) == 0);

  Captured c = run({"ls", "-l", t.path});
  CHECK(c.status == 0);
  CHECK(c.err.empty());

  std::vector<std::string> file = long_line_for(c.out, "file");
  REQUIRE(file.size() == 6);
  CHECK(file[0] == "-rw-r-----");
  CHECK(file[1] == "2");  // "file" and "hard" are two names of one inode
  CHECK(file[2] == own_user_name());
  CHECK(file[3] == own_group_name());
  CHECK(file[4] == "5");

  std::vector<std::string> dir = long_line_for(c.out, "dir");
  REQUIRE(dir.size() == 6);
  CHECK(dir[0] == "drwxr-xr-x");
  CHECK(dir[1] == "2");  // its own "." and its entry in the parent

  std::vector<std::string> link = long_line_for(c.out, "link");
  REQUIRE(link.size() == 8);
  CHECK(link[0].starts_with('l'));
  CHECK(link[6] == "->");
  CHECK(link[7] == "file");

  // The four entries, sorted: dir, file, hard, link.
  std::vector<std::string> names;
  for (const std::string& line : lines(c.out)) names.push_back(split_words(line).at(5));
  CHECK(names == std::vector<std::string>{"dir", "file", "hard", "link"});
}

TEST_CASE("ls -l writes setuid, setgid and sticky bits as s, S and t") {
  TempDir t;
  write_file(t / "suid", "", 04755);
  write_file(t / "sgid", "", 02640);
  REQUIRE(::mkdir((t / "tmp").c_str(), 0777) == 0);
  REQUIRE(::chmod((t / "tmp").c_str(), 01777) == 0);
  Captured c = run({"ls", "-l", t.path});
  CHECK(long_line_for(c.out, "suid").at(0) == "-rwsr-xr-x");
  CHECK(long_line_for(c.out, "sgid").at(0) == "-rw-r-S---");
  CHECK(long_line_for(c.out, "tmp").at(0) == "drwxrwxrwt");
}

TEST_CASE("ls -l shows major, minor for a device file instead of a size") {
  struct stat st {};
  if (::stat("/dev/null", &st) != 0 || !S_ISCHR(st.st_mode)) {
    testing::skip("this machine has no /dev/null character device");
    return;
  }
  Captured c = run({"ls", "-l", "/dev/null"});
  CHECK(c.status == 0);
  std::vector<std::string> w = split_words(c.out.substr(0, c.out.find('\n')));
  REQUIRE(w.size() == 7);
  CHECK(w[0].starts_with('c'));
  CHECK(w[4] == "1,");
  CHECK(w[5] == "3");
  CHECK(w[6] == "/dev/null");
}

TEST_CASE("ls -l shows a numeric owner when /etc/passwd does not name it") {
  if (::geteuid() != 0) {
    testing::skip("changing a file's owner needs root");
    return;
  }
  TempDir t;
  write_file(t / "f", "");
  // An id no passwd or group file on a build machine uses.
  REQUIRE(::chown((t / "f").c_str(), 54321, 54322) == 0);
  REQUIRE(::getpwuid(54321) == nullptr);
  Captured c = run({"ls", "-l", t.path});
  std::vector<std::string> w = long_line_for(c.out, "f");
  REQUIRE(w.size() == 6);
  CHECK(w[2] == "54321");
  CHECK(w[3] == "54322");
}

TEST_CASE("ls of a file lists that file, and of a symlink to a directory lists the directory") {
  TempDir t;
  write_file(t / "only", "x");
  REQUIRE(::mkdir((t / "d").c_str(), 0755) == 0);
  write_file(t / "d/inside", "");
  REQUIRE(::symlink("d", (t / "to-d").c_str()) == 0);

  CHECK(run({"ls", t / "only"}).out == t / "only\n");
  CHECK(run({"ls", t / "to-d"}).out == "inside\n");
  // With -l the link itself is described.
  Captured l = run({"ls", "-l", t / "to-d"});
  CHECK(l.out.starts_with("l"));
  CHECK(l.out.ends_with(" -> d\n"));
}

TEST_CASE("ls reports each missing path, lists the others and returns 1") {
  TempDir t;
  write_file(t / "here", "");
  REQUIRE(::mkdir((t / "d").c_str(), 0755) == 0);
  write_file(t / "d/x", "");
  Captured c = run({"ls", t / "missing", t / "here", t / "d"});
  CHECK(c.status == 1);
  CHECK(c.err == "ls: " + t / "missing" + ": No such file or directory\n");
  CHECK(c.out == t / "here\n\n" + t / "d:\nx\n");

  // Negative control: with no missing path the status is 0.
  CHECK(run({"ls", t / "here", t / "d"}).status == 0);
  CHECK(run({"ls", "-z"}).status == 2);
}

TEST_CASE("cat prints files in order and reads past any fixed buffer size") {
  TempDir t;
  std::string big;
  for (int i = 0; big.size() < 300000; ++i) big += "line " + std::to_string(i) + "\n";
  write_file(t / "big", big);
  write_file(t / "small", "tail\n");
  Captured c = run({"cat", t / "big", t / "small"});
  CHECK(c.status == 0);
  CHECK(c.out.size() == big.size() + 5);
  CHECK(c.out == big + "tail\n");
}

TEST_CASE("cat reads standard input when given no file or -") {
  TempDir t;
  write_file(t / "in", "from stdin\n");
  write_file(t / "f", "file\n");
  int saved = ::dup(0);
  auto with_stdin = [&](std::vector<std::string> words) {
    int fd = ::open((t / "in").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    ::dup2(fd, 0);
    ::close(fd);
    Captured c = run(std::move(words));
    ::dup2(saved, 0);
    return c;
  };
  CHECK(with_stdin({"cat"}).out == "from stdin\n");
  CHECK(with_stdin({"cat", t / "f", "-", t / "f"}).out == "file\nfrom stdin\nfile\n");
  ::close(saved);
}

TEST_CASE("cat reports a missing file and a directory, still prints the rest, returns 1") {
  TempDir t;
  write_file(t / "ok", "ok\n");
  Captured c = run({"cat", t / "nope", t.path, t / "ok"});
  CHECK(c.status == 1);
  CHECK(c.out == "ok\n");
  CHECK(c.err.find(t / "nope: No such file or directory") != std::string::npos);
  CHECK(c.err.find(t.path + ": Is a directory") != std::string::npos);
}

TEST_CASE("mkdir creates directories and fails on existing ones or missing parents") {
  TempDir t;
  Captured made = run({"mkdir", t / "a", t / "b"});
  CHECK(made.status == 0);
  struct stat st {};
  REQUIRE(::stat((t / "a").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(exists(t / "b"));

  Captured again = run({"mkdir", t / "a"});
  CHECK(again.status == 1);
  CHECK(again.err.find("File exists") != std::string::npos);

  Captured deep = run({"mkdir", t / "x/y/z"});
  CHECK(deep.status == 1);
  CHECK(deep.err.find("mkdir -p") != std::string::npos);
  CHECK_FALSE(exists(t / "x"));
  CHECK(run({"mkdir"}).status == 2);
}

TEST_CASE("mkdir -p creates missing parents and accepts existing directories") {
  TempDir t;
  CHECK(run({"mkdir", "-p", t / "x//y/z/"}).status == 0);
  struct stat st {};
  REQUIRE(::stat((t / "x/y/z").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(run({"mkdir", "-p", t / "x/y"}).status == 0);

  // A file in the way is an error, not silently accepted.
  write_file(t / "file", "");
  Captured c = run({"mkdir", "-p", t / "file/sub"});
  CHECK(c.status == 1);
  CHECK(c.err.find("Not a directory") != std::string::npos);
}

TEST_CASE("touch creates an empty file and moves an existing file's time to now") {
  TempDir t;
  CHECK(run({"touch", t / "new"}).status == 0);
  struct stat st {};
  REQUIRE(::stat((t / "new").c_str(), &st) == 0);
  CHECK(st.st_size == 0);

  write_file(t / "old", "keep me");
  const timespec long_ago[2] = {{1000000000, 0}, {1000000000, 0}};
  REQUIRE(::utimensat(AT_FDCWD, (t / "old").c_str(), long_ago, 0) == 0);
  CHECK(run({"touch", t / "old"}).status == 0);
  REQUIRE(::stat((t / "old").c_str(), &st) == 0);
  CHECK(st.st_mtim.tv_sec > 1000000000);
  CHECK(st.st_size == 7);  // the contents stay

  Captured bad = run({"touch", t / "no-such-dir/f"});
  CHECK(bad.status == 1);
  CHECK(bad.err.find("No such file or directory") != std::string::npos);
}

TEST_CASE("rm removes files, a directory needs -r, -f ignores missing paths") {
  TempDir t;
  write_file(t / "f", "");
  REQUIRE(::mkdir((t / "d").c_str(), 0755) == 0);
  write_file(t / "d/inner", "");

  CHECK(run({"rm", t / "f"}).status == 0);
  CHECK_FALSE(exists(t / "f"));

  Captured dir = run({"rm", t / "d"});
  CHECK(dir.status == 1);
  CHECK(dir.err.find("is a directory") != std::string::npos);
  CHECK(exists(t / "d/inner"));

  CHECK(run({"rm", "-r", t / "d"}).status == 0);
  CHECK_FALSE(exists(t / "d"));

  Captured missing = run({"rm", t / "gone"});
  CHECK(missing.status == 1);
  Captured forced = run({"rm", "-f", t / "gone"});
  CHECK(forced.status == 0);
  CHECK(forced.err.empty());
}

TEST_CASE("rm -r removes a symlink inside the tree and never what it points to") {
  TempDir t;
  // Outside the tree: a directory that must survive.
  REQUIRE(::mkdir((t / "outside").c_str(), 0755) == 0);
  write_file(t / "outside/keep", "precious");
  // The tree: nested directories, with links to the outside directory and to its file.
  REQUIRE(::mkdir((t / "tree").c_str(), 0755) == 0);
  REQUIRE(::mkdir((t / "tree/sub").c_str(), 0755) == 0);
  write_file(t / "tree/sub/file", "");
  REQUIRE(::symlink((t / "outside").c_str(), (t / "tree/sub/dirlink").c_str()) == 0);
  REQUIRE(::symlink((t / "outside/keep").c_str(), (t / "tree/filelink").c_str()) == 0);
  // Negative control: through the link, the outside file is reachable, so a walker that
  // followed links would find and delete it.
  REQUIRE(exists(t / "tree/sub/dirlink/keep"));

  Captured c = run({"rm", "-r", t / "tree"});
  CHECK(c.status == 0);
  CHECK(c.err.empty());
  CHECK_FALSE(exists(t / "tree"));
  CHECK(exists(t / "outside/keep"));
}

TEST_CASE("rm -r of a symlink to a directory removes only the link") {
  TempDir t;
  REQUIRE(::mkdir((t / "target").c_str(), 0755) == 0);
  write_file(t / "target/keep", "");
  REQUIRE(::symlink("target", (t / "link").c_str()) == 0);
  CHECK(run({"rm", "-r", t / "link"}).status == 0);
  CHECK_FALSE(exists(t / "link"));
  CHECK(exists(t / "target/keep"));
}

TEST_CASE("rm refuses . and .. and leaves the directory alone") {
  TempDir t;
  REQUIRE(::mkdir((t / "sub").c_str(), 0755) == 0);
  write_file(t / "sub/keep", "");
  Captured dots = run({"rm", "-rf", t / "sub/..", t / "sub/."});
  CHECK(dots.status == 1);
  CHECK(dots.err.find("refusing") != std::string::npos);
  CHECK(exists(t / "sub/keep"));
  // Negative control: the same directory named plainly is removed.
  CHECK(run({"rm", "-r", t / "sub"}).status == 0);
  CHECK_FALSE(exists(t / "sub"));
}
