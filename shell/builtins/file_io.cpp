#include "file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace tinysh::file_io {

FileText read_whole_file(const std::string& path) {
  FileText result;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    result.error = errno;
    return result;
  }
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // A process that exits while we read its /proc files gives ESRCH here.
      result.error = errno;
      return result;
    }
    if (n == 0) return result;
    result.text.append(buf, static_cast<size_t>(n));
  }
}

Copied copy_to_stdout(int fd) {
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {.read_error = errno};
    if (n == 0) return {};
    if (!write_all(1, std::string_view(buf, static_cast<size_t>(n)))) return {.write_failed = true};
  }
}

ParsedArgs parse_short_flags(Args args, std::string_view allowed) {
  ParsedArgs parsed;
  bool flags_done = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (!flags_done && word == "--") {
      flags_done = true;
    } else if (!flags_done && word.size() > 1 && word[0] == '-') {
      for (char c : std::string_view(word).substr(1)) {
        if (allowed.find(c) == std::string_view::npos) {
          if (!parsed.unknown) parsed.unknown = c;
        } else {
          parsed.flags += c;
        }
      }
    } else {
      parsed.operands.push_back(word);
    }
  }
  return parsed;
}

IdNames load_id_names() {
  FileText passwd = read_whole_file("/etc/passwd");
  FileText group = read_whole_file("/etc/group");
  return IdNames(passwd.error ? std::vector<PasswdEntry>{} : parse_passwd(passwd.text),
                 group.error ? std::vector<GroupEntry>{} : parse_group(group.text));
}

}  // namespace tinysh::file_io
