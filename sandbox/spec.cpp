#include "spec.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "passwd.h"  // tinysh's /etc/passwd parser

#include <fmt/format.h>

namespace sandbox {

namespace {

// SUDO_UID and SUDO_GID: a decimal id, the whole text.
std::optional<std::uint32_t> id_from_environment(const char* text) {
  std::string_view digits(text);
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

}  // namespace

Status validate_hostname(std::string_view name) {
  if (name.empty()) return plain_error("--hostname: the name is empty");
  if (name.size() > 64)
    return plain_error(fmt::format("--hostname: \"{}\" is {} bytes; the kernel takes at most 64",
                                   name, name.size()));
  if (name.front() == '-' || name.front() == '.')
    return plain_error(
        fmt::format("--hostname: \"{}\" may not start with '{}'", name, name.front()));
  for (char c : name) {
    bool fine = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.';
    if (!fine)
      return plain_error(
          fmt::format("--hostname: \"{}\" has '{}'; use letters, digits, '-' and '.'", name, c));
  }
  return ok();
}

std::optional<std::string> host_user_name(uid_t uid) {
  std::ifstream in("/etc/passwd");
  std::stringstream text;
  text << in.rdbuf();
  tinysh::IdNames names(tinysh::parse_passwd(text.str()), {});
  if (const tinysh::PasswdEntry* user = names.user(uid)) return user->name;
  return std::nullopt;
}

Caller this_process() {
  Caller caller;
  caller.uid = ::getuid();
  caller.gid = ::getgid();
  caller.euid = ::geteuid();
  caller.privileged = caller.euid == 0;
  caller.pid = ::getpid();
  caller.invoking_uid = caller.uid;
  caller.invoking_gid = caller.gid;
  return caller;
}

Caller current_caller(bool id_ranges) {
  Caller caller = this_process();
  caller.invoking_uid = caller.uid;
  caller.invoking_gid = caller.gid;
  // Under sudo the person at the keyboard is SUDO_UID; "root inside is you outside" should be
  // true for them, not for root.
  if (caller.uid == 0) {
    const char* sudo_uid = std::getenv("SUDO_UID");
    const char* sudo_gid = std::getenv("SUDO_GID");
    if (sudo_uid && sudo_gid) {
      auto u = id_from_environment(sudo_uid);
      auto g = id_from_environment(sudo_gid);
      if (u && g) {
        caller.invoking_uid = *u;
        caller.invoking_gid = *g;
      }
    }
  }
  if (auto name = host_user_name(caller.invoking_uid)) {
    caller.invoking_name = *name;
  } else if (const char* sudo_user = std::getenv("SUDO_USER")) {
    caller.invoking_name = sudo_user;
  } else {
    caller.invoking_name = fmt::format("user{}", caller.invoking_uid);
  }
  for (int fd = 0; fd < 3; ++fd) caller.stdio_terminals[static_cast<size_t>(fd)] = ::isatty(fd);
  if (id_ranges && !caller.privileged) {
    // Whose ranges: the real user's, by name or by number (subuid(5) allows both).
    std::string name = host_user_name(caller.uid).value_or("");
    auto read = [](const char* path) {
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      return text.str();
    };
    caller.subuid = find_subordinate_ids(read("/etc/subuid"), name, caller.uid);
    // subgid(5) is keyed by the user too (its name or uid), not by a group.
    caller.subgid = find_subordinate_ids(read("/etc/subgid"), name, caller.uid);
    caller.newuidmap = find_map_helper("newuidmap");
    caller.newgidmap = find_map_helper("newgidmap");
  }
  return caller;
}

std::string find_map_helper(std::string_view name) {
  // Where distributions install them (Debian's uidmap package, Fedora's shadow-utils). Not
  // $PATH: a setuid program is taken from where root put it.
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/usr/local/bin/"}) {
    std::string path = std::string(dir) + std::string(name);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_ISUID) &&
        st.st_uid == 0)
      return path;
  }
  return "";
}

}  // namespace sandbox
