#include "embedded.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "catalog.h"
#include "sys.h"

// tinysh, built before nslab, in nslab's read-only data: the assembler copies the file's bytes
// (.incbin) between two symbols.
__asm__(".section .rodata.nslab_tinysh,\"a\"\n"
        ".balign 16\n"
        ".global nslab_tinysh_begin\n"
        "nslab_tinysh_begin:\n"
        ".incbin \"" NSLAB_TINYSH_FILE "\"\n"
        ".global nslab_tinysh_end\n"
        "nslab_tinysh_end:\n"
        ".previous\n");
extern "C" const char nslab_tinysh_begin[];
extern "C" const char nslab_tinysh_end[];

namespace nslab::cli {

namespace fs = std::filesystem;

std::string_view embedded_tinysh() {
  return {nslab_tinysh_begin, static_cast<size_t>(nslab_tinysh_end - nslab_tinysh_begin)};
}

namespace {

// `dir` made (0700) if missing; it must be a directory of ours that no one else may write to.
bool own_dir(const std::string& dir, std::string& problem) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    problem = fmt::format("mkdir {}: {}", dir, std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 022) != 0) {
    problem = fmt::format("{} is not a folder of uid {} that only it may write to", dir,
                          ::geteuid());
    return false;
  }
  return true;
}

// `path` holds exactly `bytes` with `mode`, written to a new file and renamed over it when not,
// so a reader never sees half a file.
bool write_if_different(const std::string& path, std::string_view bytes, mode_t mode,
                        std::string& problem) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<size_t>(st.st_size) == bytes.size() && (st.st_mode & 07777) == mode) {
    auto now = sandbox::sys::read_file(path);
    if (now && *now == bytes) return true;
  }
  std::string temporary = fmt::format("{}.{}.new", path, ::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    problem = fmt::format("open {}: {}", temporary, std::strerror(errno));
    return false;
  }
  bool ok = ::fchmod(fd, mode) == 0;
  for (std::string_view rest = bytes; ok && !rest.empty();) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) rest.remove_prefix(static_cast<size_t>(n));
  }
  int err = errno;
  ok = ::close(fd) == 0 && ok;
  if (ok && ::rename(temporary.c_str(), path.c_str()) == 0) return true;
  problem = fmt::format("writing {}: {}", path, std::strerror(err ? err : errno));
  ::unlink(temporary.c_str());
  return false;
}

}  // namespace

std::optional<std::string> extraction_dir(std::string& problem) {
  std::string dir;
  // The error_code forms: a folder we may not look into (HOME=/root under su) is an answer, not
  // an exception.
  std::error_code ec;
  if (::geteuid() == 0) {
    dir = "/run/nslab";
  } else if (const char* runtime = std::getenv("XDG_RUNTIME_DIR");
             runtime && *runtime == '/' && fs::is_directory(runtime, ec)) {
    dir = std::string(runtime) + "/nslab";
  } else if (const char* home = std::getenv("HOME"); home && *home == '/') {
    std::string cache = std::string(home) + "/.cache";
    if (!fs::is_directory(cache, ec) && ::mkdir(cache.c_str(), 0700) != 0) {
      problem = fmt::format("mkdir {}: {} (HOME is {}: is it this user's home? set HOME or "
                            "XDG_RUNTIME_DIR to a folder of yours)",
                            cache, std::strerror(errno), home);
      return std::nullopt;
    }
    dir = cache + "/nslab";
  } else {
    problem = "neither XDG_RUNTIME_DIR nor HOME names a folder to write tinysh and the lessons to";
    return std::nullopt;
  }
  if (!own_dir(dir, problem)) return std::nullopt;
  return dir;
}

std::optional<std::string> extracted_tinysh(std::string& problem) {
  auto dir = extraction_dir(problem);
  if (!dir) return std::nullopt;
  std::string path = *dir + "/tinysh";
  if (!write_if_different(path, embedded_tinysh(), 0755, problem)) return std::nullopt;
  return path;
}

std::optional<std::string> extracted_lessons(std::string& problem) {
  auto dir = extraction_dir(problem);
  if (!dir) return std::nullopt;
  std::string lessons = *dir + "/lessons";
  if (!own_dir(lessons, problem)) return std::nullopt;
  for (const auto& file : lesson_assets())
    if (!write_if_different(lessons + std::string(file.path), file.text, 0644, problem))
      return std::nullopt;
  // Only the embedded lessons: a lesson of an older nslab is not left to be listed. (A file
  // another nslab is writing at this moment, NAME.PID.new, is left to it.)
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(lessons, ec)) {
    std::string name = "/" + entry.path().filename().string();
    bool ours = name.ends_with(".new");
    for (const auto& file : lesson_assets()) ours = ours || file.path == name;
    if (!ours) fs::remove(entry.path(), ec);
  }
  return lessons;
}

std::string lessons_dir() {
  std::string found = lessons::default_lessons_dir();
  if (!found.empty()) return found;
  std::string problem;
  if (auto extracted = extracted_lessons(problem)) return *extracted;
  fmt::print(stderr, "nslab: cannot write out the lessons it carries: {}\n", problem);
  return "";
}

}  // namespace nslab::cli
