#include "box_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace boxtest {

bool have_root() {
  if (testing::is_root()) return true;
  testing::skip("creating namespaces needs root; CI runs this suite as root");
  return false;
}

testing::RunResult nslab_run(const std::vector<std::string>& args,
                             const std::vector<std::string>& prefix,
                             const testing::RunOptions& options, const std::string& nslab) {
  std::vector<std::string> argv = prefix;
  argv.push_back(nslab);
  argv.push_back("run");
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::run(argv, options);
}

LiveBox::LiveBox(const std::vector<std::string>& args, const std::vector<std::string>& prefix,
                 const std::vector<int>& keep_fds, const std::string& nslab) {
  char path[] = "/tmp/nslab-livebox-XXXXXX";
  int log = ::mkstemp(path);
  REQUIRE(log >= 0);
  log_path_ = path;
  std::vector<std::string> argv = prefix;
  argv.push_back(nslab);
  argv.push_back("run");
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  runner_ = ::fork();
  REQUIRE(runner_ >= 0);
  if (runner_ == 0) {
    // A process group of its own, which the destructor kills as a whole. (The box's processes
    // are not in it: the box starts a session of its own, whose process group the destructor
    // kills too, since without --pid killing the box's first process does not end its children.)
    ::setpgid(0, 0);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    for (int fd = 3; fd < 1024; ++fd) {
      bool keep = false;
      for (int k : keep_fds) keep = keep || k == fd;
      if (!keep) ::close(fd);
    }
    ::execvp(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(log);
}

LiveBox::~LiveBox() {
  if (box_ <= 0 && !reaped_)
    for (pid_t child : children_of(runner_)) box_ = child;
  ::kill(-runner_, SIGKILL);
  // The box's first process leads its session and process group; -1 (ESRCH) when it is gone.
  if (box_ > 0) ::kill(-box_, SIGKILL);
  if (!reaped_) {
    ::kill(runner_, SIGKILL);
    if (box_ > 0) ::kill(box_, SIGKILL);
    int status;
    ::waitpid(runner_, &status, 0);
  }
  // The box's first process is the runner's child: once the runner is reaped it is reparented;
  // make sure it is gone before the next test looks at the host.
  if (box_ > 0) {
    ::kill(box_, SIGKILL);
    testing::wait_until([&] { return testing::zombie_or_gone(box_); }, 5s);
  }
  ::unlink(log_path_.c_str());
}

pid_t LiveBox::wait_for_box(const std::string& comm, std::chrono::milliseconds timeout) {
  bool found = testing::wait_until(
      [&] {
        for (pid_t child : children_of(runner_)) {
          std::string name = testing::read_file(fmt::format("/proc/{}/comm", child));
          if (name == comm + "\n") {
            box_ = child;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found ? box_ : -1;
}

int LiveBox::wait_exit(std::chrono::milliseconds timeout) {
  int status = 0;
  bool done =
      testing::wait_until([&] { return ::waitpid(runner_, &status, WNOHANG) == runner_; }, timeout);
  if (!done) return -1;
  reaped_ = true;
  killed_by_signal_ = WIFSIGNALED(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

std::string LiveBox::output() const {
  return testing::read_file(log_path_);
}

namespace {

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* dir = ::opendir("/proc");
  if (!dir) return pids;
  while (dirent* e = ::readdir(dir)) {
    char* end;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(dir);
  return pids;
}

}  // namespace

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  for (pid_t pid : all_pids()) {
    std::string stat = testing::read_file(fmt::format("/proc/{}/stat", pid));
    auto paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) children.push_back(pid);
  }
  return children;
}

std::string ns_link(pid_t pid, const std::string& name) {
  std::error_code ec;
  auto target = std::filesystem::read_symlink(fmt::format("/proc/{}/ns/{}", pid, name), ec);
  return ec ? std::string() : target.string();
}

std::set<pid_t> processes_in_pid_namespace_of(pid_t member) {
  std::set<pid_t> members;
  std::string ns = ns_link(member, "pid");
  if (ns.empty()) return members;
  for (pid_t pid : all_pids())
    if (ns_link(pid, "pid") == ns) members.insert(pid);
  return members;
}

std::optional<uid_t> real_uid_of(pid_t pid) {
  std::istringstream status(testing::read_file(fmt::format("/proc/{}/status", pid)));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Uid:")) return static_cast<uid_t>(std::stoul(line.substr(4)));
  }
  return std::nullopt;
}

std::string mount_table() {
  std::istringstream in(testing::read_file("/proc/self/mountinfo"));
  std::string line, table;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options ... - fstype source super-options
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    auto dash = line.find(" - ");
    table +=
        point + " " + root + " " + (dash == std::string::npos ? "" : line.substr(dash + 3)) + "\n";
  }
  return table;
}

TempUser::TempUser() {
  ::chmod(bin_dir_.path().c_str(), 0755);
  for (const char* program : {"nslab", "tinysh"}) {
    std::error_code ec;
    std::filesystem::copy_file(testing::bin(program), bin_dir_.path() + "/" + program, ec);
    REQUIRE_MESSAGE(!ec, "copying " << program << ": " << ec.message());
  }
  nslab_ = bin_dir_.path() + "/nslab";
  static int count = 0;
  name_ = fmt::format("nslabt{}x{}", ::getpid(), ++count);
  auto made = testing::run(
      {"useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name_});
  if (made.status() != 0) {
    MESSAGE("useradd failed: " << made.err);
    return;
  }
  if (passwd* pw = ::getpwnam(name_.c_str())) {
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
  }
}

TempUser::~TempUser() {
  // -f: a box process of the user may still be a zombie waiting for the host's init to reap it.
  if (!name_.empty()) testing::run({"userdel", "-f", name_});
}

std::vector<std::string> TempUser::prefix() const {
  return {"setpriv", fmt::format("--reuid={}", uid_), fmt::format("--regid={}", gid_),
          "--clear-groups", "--"};
}

TempDir::TempDir() {
  char path[] = "/tmp/nslab-test-XXXXXX";
  REQUIRE(::mkdtemp(path) != nullptr);
  path_ = path;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace boxtest
