#include "boxes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "common/text.h"
#include "namespaces.h"
#include "spec.h"
#include "sys.h"

namespace sandbox {

namespace {

std::string_view last_component(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The executable's name: a binary replaced while it runs reads "/path/nslab (deleted)".
std::string_view exe_name(const ProcessFacts& p) {
  if (p.exe.empty()) return p.argv.empty() ? std::string_view() : last_component(p.argv[0]);
  std::string_view exe = p.exe;
  constexpr std::string_view kDeleted = " (deleted)";
  if (exe.ends_with(kDeleted)) exe.remove_suffix(kDeleted.size());
  return last_component(exe);
}

// Rule 2: the child has exec'd, so it is no longer the runner's copy.
bool has_execed(const ProcessFacts& child, const ProcessFacts& runner) {
  if (child.argv != runner.argv) return true;
  return !child.exe.empty() && !runner.exe.empty() && child.exe != runner.exe;
}

std::optional<pid_t> parse_pid(std::string_view text) {
  pid_t pid = 0;
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (err != std::errc() || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

bool is_runner(const ProcessFacts& process) {
  return exe_name(process) == "nslab" && process.argv.size() >= 2 && process.argv[1] == "run";
}

std::vector<BoxInfo> find_boxes(const std::vector<ProcessFacts>& processes) {
  std::vector<BoxInfo> boxes;
  for (const auto& runner : processes) {
    if (!is_runner(runner)) continue;
    for (const auto& child : processes) {
      if (child.ppid != runner.pid || !has_execed(child, runner)) continue;
      BoxInfo box;
      box.id = fmt::format("box-{}", runner.pid);
      box.pid = child.pid;
      box.runner = runner.pid;
      box.uid = runner.uid;
      box.command = child.argv;
      box.start_ticks = child.start_ticks;
      for (const auto& kind : namespace_kinds()) {
        std::string name(kind.proc_name);
        auto mine = child.namespaces.find(name);
        auto theirs = runner.namespaces.find(name);
        if (mine == child.namespaces.end() || theirs == runner.namespaces.end()) {
          // A kernel without time namespaces has no ns/time link at all: that is not unknown.
          if (mine == child.namespaces.end() && theirs == runner.namespaces.end() &&
              !child.namespaces.empty() && !runner.namespaces.empty())
            continue;
          box.namespaces_known = false;
          continue;
        }
        if (mine->second != theirs->second) box.namespaces.push_back(name);
      }
      boxes.push_back(std::move(box));
    }
  }
  std::sort(boxes.begin(), boxes.end(),
            [](const BoxInfo& a, const BoxInfo& b) { return a.runner < b.runner; });
  return boxes;
}

Result<BoxInfo> choose_box(const std::vector<BoxInfo>& boxes,
                           const std::optional<std::string>& which) {
  if (boxes.empty())
    return plain_error("no boxes are running",
                       "start one in another terminal, e.g. nslab run --uts --hostname boxA");
  if (!which) {
    if (boxes.size() == 1) return boxes.front();
    return plain_error(
        fmt::format("{} boxes are running: which one? nslab enter BOX", boxes.size()),
        "BOX is the id or the PID that nslab ps shows");
  }
  for (const auto& box : boxes)
    if (box.id == *which) return box;
  if (auto pid = parse_pid(*which)) {
    for (const auto& box : boxes)
      if (box.pid == *pid || box.runner == *pid) return box;
    return plain_error(
        fmt::format("PID {} is not a box: no `nslab run` started it as a box's first process",
                    *pid),
        "nslab ps lists the boxes and their PIDs");
  }
  return plain_error(fmt::format("no box is called \"{}\"", *which),
                     "nslab ps lists the boxes: give their id (box-N) or PID");
}

namespace {

// "10.213.0.2" as a number, so that addresses sort as addresses; nullopt for anything else.
std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t address = 0;
  const char* at = text.data();
  const char* end = text.data() + text.size();
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (at == end || *at != '.') return std::nullopt;
      ++at;
    }
    unsigned value = 0;
    auto [next, err] = std::from_chars(at, end, value);
    if (err != std::errc() || next == at || value > 255) return std::nullopt;
    address = address << 8 | value;
    at = next;
  }
  if (at != end) return std::nullopt;
  return address;
}

}  // namespace

std::vector<std::string> local_ipv4_addresses(std::string_view fib_trie) {
  // The trie as the kernel prints it (net/ipv4/fib_trie.c, fib_trie_seq_show): "+-- PREFIX/LEN"
  // for an inner node, "|-- ADDRESS" for a leaf, then one line per route to that leaf:
  // "/LEN SCOPE TYPE" (with " tos=N" when a route has one).
  std::vector<std::uint32_t> found;
  std::optional<std::uint32_t> leaf;
  size_t start = 0;
  while (start < fib_trie.size()) {
    size_t stop = fib_trie.find('\n', start);
    if (stop == std::string_view::npos) stop = fib_trie.size();
    auto line = common::words(fib_trie.substr(start, stop - start));
    start = stop + 1;
    if (line.empty()) continue;
    if (line[0] == "|--" && line.size() == 2) {
      leaf = parse_ipv4(line[1]);
    } else if (line[0].starts_with('/')) {
      // The route to one address only, delivered to this host: the address is this
      // namespace's own. 127.0.0.0/8 is every namespace's loopback.
      if (leaf && line.size() >= 3 && line[0] == "/32" && line[1] == "host" && line[2] == "LOCAL" &&
          (*leaf >> 24) != 127)
        found.push_back(*leaf);
    } else {
      leaf.reset();  // an inner node or a table's name ("Main:", "Local:")
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  std::vector<std::string> addresses;
  for (auto a : found)
    addresses.push_back(
        fmt::format("{}.{}.{}.{}", a >> 24, a >> 16 & 0xFF, a >> 8 & 0xFF, a & 0xFF));
  return addresses;
}

// --- Reading /proc --------------------------------------------------------------------------

namespace {

std::optional<std::string> slurp(const std::string& path) {
  auto text = sys::read_file(path);
  if (!text) return std::nullopt;
  return std::move(*text);
}

// Fields after the ")" that closes the command name (which may itself hold spaces and ")").
std::vector<std::string> stat_fields_after_comm(const std::string& stat) {
  std::vector<std::string> fields;
  auto paren = stat.rfind(')');
  if (paren == std::string::npos) return fields;
  std::istringstream rest(stat.substr(paren + 1));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;
}

}  // namespace

std::optional<std::uint64_t> start_ticks_of(pid_t pid) {
  auto stat = slurp(fmt::format("/proc/{}/stat", pid));
  if (!stat) return std::nullopt;
  auto fields = stat_fields_after_comm(*stat);
  // Field 22 of stat(5) is starttime; fields[0] is field 3 (state).
  if (fields.size() < 20) return std::nullopt;
  return std::strtoull(fields[19].c_str(), nullptr, 10);
}

std::optional<ProcessFacts> read_process(pid_t pid) {
  ProcessFacts p;
  p.pid = pid;
  std::string dir = fmt::format("/proc/{}", pid);
  auto stat = slurp(dir + "/stat");
  if (!stat) return std::nullopt;
  auto fields = stat_fields_after_comm(*stat);
  if (fields.size() < 20) return std::nullopt;
  p.ppid = static_cast<pid_t>(std::atoi(fields[1].c_str()));
  p.start_ticks = std::strtoull(fields[19].c_str(), nullptr, 10);

  if (auto cmdline = slurp(dir + "/cmdline")) {
    size_t start = 0;
    while (start < cmdline->size()) {
      size_t end = cmdline->find('\0', start);
      if (end == std::string::npos) end = cmdline->size();
      p.argv.push_back(cmdline->substr(start, end - start));
      start = end + 1;
    }
  }
  if (auto status = slurp(dir + "/status")) {
    std::istringstream lines(*status);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.starts_with("Uid:")) {
        p.uid = static_cast<uid_t>(std::strtoul(line.c_str() + 4, nullptr, 10));
        break;
      }
    }
  }
  // Both links need ptrace access to the process (proc(5)): root, or the same user.
  char link[4096];
  ssize_t n = ::readlink((dir + "/exe").c_str(), link, sizeof link - 1);
  if (n > 0) p.exe.assign(link, static_cast<size_t>(n));
  for (const auto& kind : namespace_kinds()) {
    std::string name(kind.proc_name);
    n = ::readlink(fmt::format("{}/ns/{}", dir, name).c_str(), link, sizeof link - 1);
    if (n > 0) p.namespaces[name].assign(link, static_cast<size_t>(n));
  }
  return p;
}

std::vector<ProcessFacts> read_processes() {
  std::vector<ProcessFacts> processes;
  DIR* dir = ::opendir("/proc");
  if (!dir) return processes;
  while (dirent* entry = ::readdir(dir)) {
    auto pid = parse_pid(entry->d_name);
    if (!pid) continue;
    if (auto p = read_process(*pid)) processes.push_back(std::move(*p));
  }
  ::closedir(dir);
  return processes;
}

double seconds_since_boot() {
  auto text = slurp("/proc/uptime");
  return text ? std::strtod(text->c_str(), nullptr) : 0.0;
}

long clock_ticks_per_second() {
  long hz = ::sysconf(_SC_CLK_TCK);
  return hz > 0 ? hz : 100;
}

std::optional<std::vector<std::string>> box_ipv4_addresses(const BoxInfo& box) {
  bool own_network = box.namespaces_known && std::find(box.namespaces.begin(), box.namespaces.end(),
                                                       "net") != box.namespaces.end();
  if (!own_network) return std::nullopt;
  // /proc/BOX/net is the box's network namespace seen from here: no setns(2) needed.
  auto fib_trie = slurp(fmt::format("/proc/{}/net/fib_trie", box.pid));
  if (!fib_trie) return std::nullopt;
  return local_ipv4_addresses(*fib_trie);
}

std::string user_name(uid_t uid) {
  // A uid that /etc/passwd does not name shows as the number, as ps(1) does.
  return host_user_name(uid).value_or(std::to_string(uid));
}

std::optional<std::string> box_hostname(const BoxInfo& box) {
  // Opened here, in the caller's namespaces; the child only joins.
  auto uts = sys::open(fmt::format("/proc/{}/ns/uts", box.pid), O_RDONLY);
  if (!uts) return std::nullopt;
  auto user = sys::open(fmt::format("/proc/{}/ns/user", box.pid), O_RDONLY);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return std::nullopt;
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

  auto child = sys::fork_process();
  if (!child) return std::nullopt;
  if (*child == 0) {
    read_end.reset();
    // Joining a UTS namespace needs CAP_SYS_ADMIN over the user namespace that owns it. Root
    // has it over every user namespace; the user who started a --user box has it once inside
    // that box's user namespace (setns(2) into one's own user namespace fails, hence the order).
    if (!sys::setns(uts->get(), CLONE_NEWUTS)) {
      if (!user || !sys::setns(user->get(), CLONE_NEWUSER) || !sys::setns(uts->get(), CLONE_NEWUTS))
        ::_exit(1);
    }
    utsname names{};
    if (::uname(&names) < 0) ::_exit(1);
    std::string_view name = names.nodename;
    if (::write(write_end.get(), name.data(), name.size()) != static_cast<ssize_t>(name.size()))
      ::_exit(1);
    ::_exit(0);
  }
  write_end.reset();
  std::string name;
  char buf[128];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    name.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(*child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || name.empty()) return std::nullopt;
  return name;
}

}  // namespace sandbox
