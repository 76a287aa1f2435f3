// File builtins: ls, cat, mkdir, touch, rm.
//
// They exist so that an empty root with nothing but tinysh in it can still be explored. Each is
// a thin layer over the system calls that do the work (getdents64(2) via readdir(3), lstat(2),
// readlink(2), read(2), mkdir(2), utimensat(2), unlinkat(2)), so what they show is exactly what
// the kernel says about the current mount namespace and root: after pivot_root, `ls /` lists
// the box's root, not the host's.
//
// Owner and group names come from the current root's /etc/passwd and /etc/group (see
// passwd.h); ids that those files do not name are shown as numbers.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "../builtin.h"
#include "file_io.h"

namespace tinysh {

namespace {

using file_io::Dir;
using file_io::Fd;
using file_io::parse_short_flags;
using file_io::ParsedArgs;

// ---- ls -------------------------------------------------------------------------------------

struct LsOptions {
  bool long_format = false;
  bool all = false;
};

// One name to print, with what lstat(2) said about it when -l asks for details.
struct Entry {
  std::string name;
  struct stat st {};
  std::string link_target;  // for symlinks under -l
};

// "drwxr-xr-x": the file type letter, then read/write/execute for owner, group and others.
// The setuid, setgid and sticky bits take the place of an x: s/t when x is also set, S/T when not.
std::string mode_string(mode_t mode) {
  std::string s(10, '-');
  switch (mode & S_IFMT) {
    case S_IFDIR:
      s[0] = 'd';
      break;
    case S_IFLNK:
      s[0] = 'l';
      break;
    case S_IFCHR:
      s[0] = 'c';
      break;
    case S_IFBLK:
      s[0] = 'b';
      break;
    case S_IFIFO:
      s[0] = 'p';
      break;
    case S_IFSOCK:
      s[0] = 's';
      break;
    default:
      break;
  }
  const char* rwx = "rwx";
  for (int i = 0; i < 9; ++i)
    if (mode & (0400 >> i)) s[1 + i] = rwx[i % 3];
  auto special = [&](int pos, mode_t bit, char with_x, char without_x) {
    if (mode & bit) s[pos] = s[pos] == 'x' ? with_x : without_x;
  };
  special(3, S_ISUID, 's', 'S');
  special(6, S_ISGID, 's', 'S');
  special(9, S_ISVTX, 't', 'T');
  return s;
}

// The size column: bytes, or "major, minor" for device files, which have no size but name the
// driver (major) and the device it drives (minor), e.g. /dev/null is 1, 3.
std::string size_text(const struct stat& st) {
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
    return fmt::format("{}, {}", major(st.st_rdev), minor(st.st_rdev));
  return fmt::format("{}", static_cast<long long>(st.st_size));
}

std::string read_link_at(int dir_fd, const char* name) {
  std::string target(256, '\0');
  while (true) {
    ssize_t n = ::readlinkat(dir_fd, name, target.data(), target.size());
    if (n < 0) return "?";
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);  // the target may be longer than the buffer: retry
  }
}

// Prints entries with columns aligned the way ls -l does: counts and sizes to the right,
// names of owner and group to the left.
void print_long(const std::vector<Entry>& entries, const IdNames& names) {
  struct Row {
    std::string mode, links, owner, group, size;
  };
  std::vector<Row> rows;
  size_t w_links = 0, w_owner = 0, w_group = 0, w_size = 0;
  for (const Entry& e : entries) {
    Row r{mode_string(e.st.st_mode), fmt::format("{}", static_cast<unsigned long>(e.st.st_nlink)),
          names.user_name(e.st.st_uid), names.group_name(e.st.st_gid), size_text(e.st)};
    w_links = std::max(w_links, r.links.size());
    w_owner = std::max(w_owner, r.owner.size());
    w_group = std::max(w_group, r.group.size());
    w_size = std::max(w_size, r.size.size());
    rows.push_back(std::move(r));
  }
  std::string text;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    text += fmt::format("{} {:>{}} {:<{}} {:<{}} {:>{}} {}", r.mode, r.links, w_links, r.owner,
                        w_owner, r.group, w_group, r.size, w_size, entries[i].name);
    if (S_ISLNK(entries[i].st.st_mode)) text += " -> " + entries[i].link_target;
    text += '\n';
  }
  write_all(1, text);
}

void print_short(const std::vector<Entry>& entries) {
  std::string text;
  for (const Entry& e : entries) text += e.name + '\n';
  write_all(1, text);
}

void sort_by_name(std::vector<Entry>& entries) {
  // Byte order, as ls does in the C locale: the same on every machine in the classroom.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
}

// Lists one directory. Returns 1 when it, or an entry in it, could not be read.
int list_directory(Args args, const std::string& path, const LsOptions& options,
                   const IdNames& names) {
  Dir dir(::opendir(path.c_str()));
  if (!dir) return fail(args, "{}: {}", path, errno_text(errno));
  int status = 0;
  std::vector<Entry> entries;
  while (true) {
    errno = 0;
    const dirent* d = ::readdir(dir.get());
    if (!d) {
      if (errno) status = fail(args, "{}: reading the directory: {}", path, errno_text(errno));
      break;
    }
    if (d->d_name[0] == '.' && !options.all) continue;
    entries.push_back(Entry{d->d_name, {}, {}});
  }
  if (options.long_format) {
    int dfd = ::dirfd(dir.get());
    std::vector<Entry> present;
    for (Entry& e : entries) {
      // AT_SYMLINK_NOFOLLOW: describe the link itself, as ls -l does.
      if (::fstatat(dfd, e.name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
        // Removed between readdir and fstatat (common in /proc): report it and go on.
        status = fail(args, "{}/{}: {}", path, e.name, errno_text(errno));
        continue;
      }
      if (S_ISLNK(e.st.st_mode)) e.link_target = read_link_at(dfd, e.name.c_str());
      present.push_back(std::move(e));
    }
    entries = std::move(present);
  }
  sort_by_name(entries);
  if (options.long_format)
    print_long(entries, names);
  else
    print_short(entries);
  return status;
}

int run_ls(Shell&, Args args) {
  ParsedArgs parsed = parse_short_flags(args, "la");
  if (parsed.unknown) return usage_error(args);
  LsOptions options{parsed.has('l'), parsed.has('a')};
  std::vector<std::string> paths = parsed.operands;
  if (paths.empty()) paths.push_back(".");
  IdNames names;
  if (options.long_format) names = file_io::load_id_names();

  // Like ls: files named on the command line first, then the contents of each directory.
  int status = 0;
  std::vector<Entry> files;
  std::vector<std::string> directories;
  for (const std::string& path : paths) {
    Entry e{path, {}, {}};
    if (::lstat(path.c_str(), &e.st) != 0) {
      status = fail(args, "{}: {}", path, errno_text(errno));
      continue;
    }
    bool is_dir = S_ISDIR(e.st.st_mode);
    if (S_ISLNK(e.st.st_mode)) {
      // Without -l, a symlink named on the command line is followed (ls /lib lists the
      // directory it points to); with -l the link itself is shown.
      struct stat target {};
      if (!options.long_format && ::stat(path.c_str(), &target) == 0 && S_ISDIR(target.st_mode))
        is_dir = true;
      else
        e.link_target = read_link_at(AT_FDCWD, path.c_str());
    }
    if (is_dir)
      directories.push_back(path);
    else
      files.push_back(std::move(e));
  }
  sort_by_name(files);
  if (options.long_format)
    print_long(files, names);
  else
    print_short(files);

  bool headers = paths.size() > 1;
  bool first = files.empty();
  for (const std::string& dir : directories) {
    if (headers) out("{}{}:\n", first ? "" : "\n", dir);
    first = false;
    status |= list_directory(args, dir, options, names);
  }
  return status;
}

// ---- cat ------------------------------------------------------------------------------------

int run_cat(Shell&, Args args) {
  std::vector<std::string> files(args.begin() + (args.empty() ? 0 : 1), args.end());
  if (files.empty()) files.push_back("-");
  int status = 0;
  for (const std::string& file : files) {
    Fd opened;
    if (file != "-") {
      opened = Fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
      if (!opened) {
        status = fail(args, "{}: {}", file, errno_text(errno));
        continue;
      }
    }
    file_io::Copied copied = file_io::copy_to_stdout(file == "-" ? 0 : opened.get());
    // Output that is refused stays refused: the executor names the file and errno's text.
    if (copied.write_failed) return 1;
    // A directory opens fine and fails on read(2) with EISDIR; that is reported here.
    if (copied.read_error)
      status = fail(args, "{}: {}", file == "-" ? "stdin" : file, errno_text(copied.read_error));
  }
  return status;
}

// ---- mkdir ----------------------------------------------------------------------------------

// mkdir -p: create each missing component from the left. An existing directory is fine; an
// existing file in the way is ENOTDIR. Returns 0 or an errno.
int make_directory_and_parents(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    if (path[i - 1] == '/') continue;  // "a//b" or a trailing slash: nothing new to create
    std::string prefix = path.substr(0, i);
    if (::mkdir(prefix.c_str(), 0777) == 0) continue;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return ENOTDIR;
    }
    return err;
  }
  return 0;
}

int run_mkdir(Shell&, Args args) {
  ParsedArgs parsed = parse_short_flags(args, "p");
  if (parsed.unknown || parsed.operands.empty()) return usage_error(args);
  int status = 0;
  for (const std::string& dir : parsed.operands) {
    // 0777 is filtered by the umask, as for every mkdir(2).
    int err = parsed.has('p') ? make_directory_and_parents(dir)
                              : (::mkdir(dir.c_str(), 0777) == 0 ? 0 : errno);
    if (err == ENOENT && !parsed.has('p'))
      status = fail(args, "{}: {} (a parent directory is missing; mkdir -p creates it)", dir,
                    errno_text(err));
    else if (err)
      status = fail(args, "{}: {}", dir, errno_text(err));
  }
  return status;
}

// ---- touch ----------------------------------------------------------------------------------

int run_touch(Shell&, Args args) {
  if (args.size() < 2) return usage_error(args);
  int status = 0;
  for (const std::string& file : args.subspan(1)) {
    // A null `times` sets both access and modification time to now.
    if (::utimensat(AT_FDCWD, file.c_str(), nullptr, 0) == 0) continue;
    if (errno != ENOENT) {
      status = fail(args, "{}: {}", file, errno_text(errno));
      continue;
    }
    Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666));
    if (!fd) status = fail(args, "{}: {}", file, errno_text(errno));
  }
  return status;
}

// ---- rm -------------------------------------------------------------------------------------

// Removes the directory `name` inside `parent_fd` and everything under it. Every step goes
// through a directory fd opened with O_NOFOLLOW and through *at() calls, so a symlink in the
// tree is removed as a link and never followed: rm -r of a tree holding a link to / removes the
// link, not the host. Returns 1 when anything could not be removed.
int remove_tree(Args args, int parent_fd, const std::string& name, const std::string& shown) {
  Fd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail(args, "{}: {}", shown, errno_text(errno));
  int dir_fd = fd.get();
  Dir dir(::fdopendir(fd.release()));  // the stream now owns the descriptor
  if (!dir) {
    int err = errno;
    ::close(dir_fd);
    return fail(args, "{}: {}", shown, errno_text(err));
  }
  // Names first, removal after: unlinking while readdir walks the same directory may skip
  // entries.
  std::vector<std::string> children;
  int status = 0;
  while (true) {
    errno = 0;
    const dirent* d = ::readdir(dir.get());
    if (!d) {
      if (errno) status = fail(args, "{}: reading the directory: {}", shown, errno_text(errno));
      break;
    }
    std::string_view child = d->d_name;
    if (child != "." && child != "..") children.emplace_back(child);
  }
  for (const std::string& child : children) {
    std::string child_shown = shown + (shown.ends_with('/') ? "" : "/") + child;
    struct stat st {};
    if (::fstatat(dir_fd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) status = fail(args, "{}: {}", child_shown, errno_text(errno));
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      status |= remove_tree(args, dir_fd, child, child_shown);
    } else if (::unlinkat(dir_fd, child.c_str(), 0) != 0 && errno != ENOENT) {
      status = fail(args, "{}: {}", child_shown, errno_text(errno));
    }
  }
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0) {
    if (errno == EBUSY)
      return fail(args, "{}: {} (something is mounted there; umount it first)", shown,
                  errno_text(errno));
    return fail(args, "{}: {}", shown, errno_text(errno));
  }
  return status;
}

// "/", "//", "." and ".." (also as "dir/.."): removing them is never what was meant.
bool refused_operand(const std::string& path) {
  if (path.find_first_not_of('/') == std::string::npos) return true;
  std::string_view p = path;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  size_t slash = p.rfind('/');
  std::string_view last = slash == std::string_view::npos ? p : p.substr(slash + 1);
  return last == "." || last == "..";
}

int run_rm(Shell&, Args args) {
  ParsedArgs parsed = parse_short_flags(args, "rRf");
  bool recursive = parsed.has('r') || parsed.has('R');
  bool force = parsed.has('f');
  if (parsed.unknown || (parsed.operands.empty() && !force)) return usage_error(args);
  int status = 0;
  for (const std::string& path : parsed.operands) {
    if (refused_operand(path)) {
      status = fail(args, "{}: refusing to remove '/', '.' or '..'", path);
      continue;
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (!(force && errno == ENOENT)) status = fail(args, "{}: {}", path, errno_text(errno));
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (!recursive) {
        status = fail(args, "{}: is a directory (rm -r removes it and its contents)", path);
        continue;
      }
      status |= remove_tree(args, AT_FDCWD, path, path);
    } else if (::unlink(path.c_str()) != 0) {
      // unlink(2) removes the name; a symlink is removed itself, never its target.
      status = fail(args, "{}: {}", path, errno_text(errno));
    }
  }
  return status;
}

const std::array<Builtin, 5> kFileBuiltins{{
    {"ls", "ls [-l] [-a] [PATH...]",
     "list a directory; -l adds type, permissions, owner, group and size",
     "getdents64(2) via readdir, lstat(2), readlink(2); names from /etc/passwd and /etc/group",
     RunsIn::Shell, run_ls},
    {"cat", "cat [FILE...]", "print files, or standard input when none is given or FILE is -",
     "open(2), read(2)", RunsIn::Shell, run_cat},
    {"mkdir", "mkdir [-p] DIR...", "create directories; -p creates missing parents too", "mkdir(2)",
     RunsIn::Shell, run_mkdir},
    {"touch", "touch FILE...", "create empty files, or set an existing file's times to now",
     "utimensat(2), open(2) with O_CREAT", RunsIn::Shell, run_touch},
    {"rm", "rm [-r] [-f] PATH...",
     "remove files; -r: directories too (never follows symlinks); -f: quiet",
     "unlinkat(2), openat(2) with O_NOFOLLOW", RunsIn::Shell, run_rm},
}};

}  // namespace

std::span<const Builtin> file_builtins() {
  return kFileBuiltins;
}

}  // namespace tinysh
