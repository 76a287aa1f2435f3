#include "debian_rootfs.h"

#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <utility>

#include <fmt/format.h>

extern char** environ;

namespace nslab::cli {

namespace {

namespace fs = std::filesystem;
using sandbox::make_error;
using sandbox::plain_error;
using sandbox::Status;

// nftw() takes a plain function: the walk's state lives here for its duration.
struct Shift {
  std::uint32_t by = 0;
  std::set<std::pair<dev_t, ino_t>> done;  // hard links: one inode, shifted once
  Status failure = sandbox::ok();
};
Shift* current_shift = nullptr;

int shift_one(const char* path, const struct stat* st, int, FTW*) {
  Shift& shift = *current_shift;
  if (!shift.done.insert({st->st_dev, st->st_ino}).second) return 0;
  uid_t uid = st->st_uid + shift.by;
  gid_t gid = st->st_gid + shift.by;
  if (::lchown(path, uid, gid) < 0) {
    shift.failure = make_error(fmt::format("lchown(\"{}\", {}, {})", path, uid, gid), errno);
    return 1;
  }
  // chown cleared set-user-ID and set-group-ID on a program (su, passwd): put them back.
  if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) &&
      ::chmod(path, st->st_mode & 07777) < 0) {
    shift.failure =
        make_error(fmt::format("chmod(\"{}\", {:04o})", path, st->st_mode & 07777), errno);
    return 1;
  }
  return 0;
}

// Runs `argv` with this process's terminal, so its progress shows; its exit status.
sandbox::Result<int> run_attached(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (int err = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ); err != 0) {
    sandbox::Error e = make_error(fmt::format("posix_spawnp(\"{}\")", argv[0]), err);
    if (err == ENOENT) e.hint = "install it: sudo apt-get install mmdebstrap";
    return e;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return make_error("waitpid(mmdebstrap)", errno);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

// Removes what a failed run made: DIR's entries, and DIR when it was not there before.
void remove_made(const std::string& dir, bool dir_existed) {
  std::error_code ec;
  if (!dir_existed) {
    fs::remove_all(dir, ec);
    return;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
}

}  // namespace

std::vector<std::string> mmdebstrap_argv(const DebianRootfs& root) {
  // minbase: apt and what Essential: yes needs, about 180 MB. passwd (su's useradd) and login
  // (su) are part of it.
  return {"mmdebstrap",
          "--variant=minbase",
          root.as_root ? "--mode=root" : "--mode=unshare",
          root.suite,
          root.dir};
}

std::string codename_of(std::string_view os_release) {
  constexpr std::string_view key = "VERSION_CODENAME=";
  size_t at = 0;
  while (at < os_release.size()) {
    size_t end = os_release.find('\n', at);
    if (end == std::string_view::npos) end = os_release.size();
    std::string_view line = os_release.substr(at, end - at);
    if (line.starts_with(key)) {
      std::string_view value = line.substr(key.size());
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\''))
        value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
    at = end + 1;
  }
  return {};
}

std::string debian_summary(const DebianRootfs& root) {
  std::string owners =
      root.as_root
          ? fmt::format("owned by {0}..{1} on the host: 0..65535 in a box with --map-range",
                        root.shift, root.shift + 65535)
          : "owned by your first range of /etc/subuid: 0..65535 in a box with --map-range";
  return fmt::format(
      "{} is a {} root, {}.\n"
      "Boot it, with a layer the box writes to (su and apt-get work there):\n"
      "  nslab run --user --map-range --mount --pid --proc --rootfs {} --overlay -- /bin/bash\n",
      root.dir, root.suite, owners, root.dir);
}

Status shift_owners(const std::string& dir, std::uint32_t by) {
  Shift shift;
  shift.by = by;
  current_shift = &shift;
  int rc = ::nftw(dir.c_str(), shift_one, 64, FTW_PHYS | FTW_MOUNT);
  current_shift = nullptr;
  if (!shift.failure) return shift.failure;
  if (rc < 0) return make_error(fmt::format("nftw(\"{}\")", dir), errno);
  return sandbox::ok();
}

Status make_debian_rootfs(const DebianRootfs& root, bool dir_existed) {
  auto status = run_attached(mmdebstrap_argv(root));
  if (!status) return status.error();
  if (*status != 0) {
    remove_made(root.dir, dir_existed);
    return plain_error(
        fmt::format("mmdebstrap exited with status {}: it could not make a {} root", *status,
                    root.suite),
        "its messages above say why: most often no package mirror for that suite in "
        "/etc/apt/sources.list (try --suite with this host's own release)");
  }
  if (root.shift == 0) return sandbox::ok();
  Status shifted = shift_owners(root.dir, root.shift);
  if (!shifted) remove_made(root.dir, dir_existed);
  return shifted;
}

}  // namespace nslab::cli
