// Small pieces the file and system builtins share: an owned file descriptor, reading a whole
// file with read(2), and the user and group names of the current root.
//
// No stdio or iostreams here: tinysh is a static binary with a size budget, and kernel files
// such as /proc/PID/stat are best read in one read(2) loop into a string.
#pragma once

#include <dirent.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../builtin.h"
#include "../passwd.h"
#include "common/unique_fd.h"

namespace tinysh::file_io {

using tinysh::Fd;  // unique_fd.h

// A directory stream closed when it goes out of scope.
class Dir {
 public:
  explicit Dir(DIR* dir) : dir_(dir) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (dir_) ::closedir(dir_);
  }
  DIR* get() const { return dir_; }
  explicit operator bool() const { return dir_ != nullptr; }

 private:
  DIR* dir_;
};

// The outcome of reading a file: its bytes, or the errno of the call that failed.
struct FileText {
  std::string text;
  int error = 0;  // 0 when `text` is the whole file
};

// open(2) + read(2) until end of file, retrying on EINTR. Works for /proc files, whose size
// stat(2) reports as 0.
FileText read_whole_file(const std::string& path);

// Copies everything from `fd` to fd 1, stopping at the first write that fails (write_all keeps
// its errno for the executor to report: `cat /dev/zero > /dev/full` must end).
struct Copied {
  int read_error = 0;  // the errno of the read that failed, or 0
  bool write_failed = false;
};
Copied copy_to_stdout(int fd);

// The words after a builtin's name, split into single-letter flags and operands. Flags may come
// anywhere (`ls dir -l` works, as users expect from GNU tools) and combine (`-la`); "--" ends
// them; "-" alone is an operand (stdin for cat).
struct ParsedArgs {
  std::string flags;  // the letters seen, in order
  std::vector<std::string> operands;
  char unknown = 0;  // the first letter not in `allowed`, or 0
  bool has(char flag) const { return flags.find(flag) != std::string::npos; }
};
ParsedArgs parse_short_flags(Args args, std::string_view allowed);

// The names in /etc/passwd and /etc/group of the current root. A missing or unreadable file
// gives no names, so ids show as numbers, which is what a student should see in an empty box.
IdNames load_id_names();

}  // namespace tinysh::file_io
