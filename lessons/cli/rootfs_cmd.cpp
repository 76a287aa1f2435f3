#include "rootfs_cmd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli_errors.h"
#include "debian_rootfs.h"
#include "isolation.h"
#include "sys.h"

namespace nslab::cli {

namespace {

namespace fs = std::filesystem;
using sandbox::Error;
using sandbox::make_error;
using sandbox::plain_error;
using sandbox::Result;
using sandbox::Status;

// The ELF header, the program headers and PT_INTERP's text sit at the start of any real program.
constexpr size_t kElfHeadBytes = 64 * 1024;

// What this run made, removed again in reverse order unless kept: the one cleanup path, so no
// early return can leave a half-made tree, and nothing this run did not make is ever removed.
class Undo {
 public:
  Undo() = default;
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    if (!kept_) undo();
  }

  void made(std::string path) { entries_.push_back({std::move(path), std::nullopt}); }
  void changed_mode(std::string path, unsigned old_mode) {
    entries_.push_back({std::move(path), old_mode});
  }
  void forget_last() { entries_.pop_back(); }
  void keep() { kept_ = true; }
  // Undoes everything now; returns the paths it could not remove.
  std::vector<std::string> undo() {
    std::vector<std::string> left;
    for (auto entry = entries_.rbegin(); entry != entries_.rend(); ++entry) {
      std::error_code ec;
      if (entry->old_mode)
        fs::permissions(entry->path, static_cast<fs::perms>(*entry->old_mode), ec);
      else
        fs::remove(entry->path, ec);  // a file, a link (never followed) or an empty directory
      if (ec) left.push_back(entry->path);
    }
    entries_.clear();
    kept_ = true;
    return left;
  }

 private:
  struct Entry {
    std::string path;
    std::optional<unsigned> old_mode;  // set: the mode to put back; unset: remove the path
  };
  std::vector<Entry> entries_;
  bool kept_ = false;
};

// The error of a step that makes the tree, with the hint for making files (the sandbox table's
// mkdir advice is about cgroups).
Error making_error(Error error) {
  error.hint = making_hint(error.err);
  return error;
}

// mkdir(2), which fails if the path exists (so it is this run's to remove), then the exact
// mode: sys::make_dir chmods past the umask (/tmp must be 1777, /root 0700).
Status make_directory(const std::string& path, unsigned mode, Undo& undo) {
  Status made = sandbox::sys::mkdir(path, mode);
  if (!made) return making_error(made.error());
  undo.made(path);
  Status exact = sandbox::sys::make_dir(path, mode);
  if (!exact) return making_error(exact.error());
  return sandbox::ok();
}

// A file made with O_EXCL is this run's even when writing it then fails; when creating it fails
// with EEXIST it is someone else's, and stays.
template <typename Create>
Status make_file(const std::string& path, Undo& undo, Create&& create) {
  undo.made(path);
  Status made = create();
  if (!made) {
    if (made.error().err == EEXIST) undo.forget_last();
    return making_error(made.error());
  }
  return sandbox::ok();
}

// DIR itself: made when missing; an empty one gets a root directory's mode (0755: the box's
// users must be able to enter it), put back on failure.
Status prepare_top(const std::string& dir, Undo& undo) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) {
    if (errno != ENOENT) return making_error(make_error(fmt::format("stat(\"{}\")", dir), errno));
    return make_directory(dir, 0755, undo);
  }
  unsigned old_mode = st.st_mode & 07777;
  if (old_mode == 0755) return sandbox::ok();
  undo.changed_mode(dir, old_mode);
  Status exact = sandbox::sys::make_dir(dir, 0755);
  if (!exact) return making_error(exact.error());
  return sandbox::ok();
}

// Every step, in order; each records what it made in `undo`.
Status make_tree(const std::string& dir, const RootfsLayout& layout, int busybox_fd, Undo& undo) {
  SANDBOX_TRY(prepare_top(dir, undo));
  for (const auto& d : layout.dirs) SANDBOX_TRY(make_directory(dir + "/" + d.path, d.mode, undo));
  std::string busybox = dir + "/" + layout.busybox;
  SANDBOX_TRY(make_file(busybox, undo, [&] {
    return sandbox::sys::copy_file(busybox_fd, busybox, layout.busybox_mode);
  }));
  for (const auto& f : layout.files) {
    std::string path = dir + "/" + f.path;
    SANDBOX_TRY(
        make_file(path, undo, [&] { return sandbox::sys::create_file(path, f.mode, f.text); }));
  }
  for (const auto& l : layout.links) {
    std::string path = dir + "/" + l.path;
    Status linked = sandbox::sys::make_symlink(l.target, path);
    if (!linked) return making_error(linked.error());
    undo.made(path);
  }
  return sandbox::ok();
}

std::string first_line(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  return std::string(text.empty() ? "(no output)" : text);
}

// Runs `argv` (a busybox) and returns what it printed; refused when it did not exit 0.
Result<std::string> output_of(const std::vector<std::string>& argv, bool want_status_0) {
  auto ran = sandbox::sys::run_program(argv);
  if (!ran) return ran.error();
  std::string shown = fmt::format("{}", fmt::join(argv, " "));
  if (ran->status == 127 && ran->output == "could not be started (execve)")
    return plain_error(fmt::format("{} could not be started (execve)", shown),
                       "is it executable (chmod +x)? " + install_hint());
  if (want_status_0 && ran->status != 0)
    return plain_error(
        fmt::format("`{}` exited with status {}: {}", shown, ran->status, first_line(ran->output)),
        "a busybox older than 1.20 cannot list its applets; " + install_hint());
  return ran->output;
}

Error not_static(const std::string& path, const ElfFacts& elf) {
  using Kind = ElfFacts::Kind;
  std::string why;
  switch (elf.kind) {
    case Kind::Dynamic:
      why = fmt::format(
          "{} is linked dynamically: its PT_INTERP asks execve() for the loader {}, which a root "
          "made of busybox alone does not have",
          path, elf.interpreter);
      break;
    case Kind::NotElf:
    case Kind::NotProgram:
    case Kind::OtherMachine:
      why = fmt::format("{} is not a program a box here can run: {}", path, elf.detail);
      break;
    case Kind::Static:
      break;
  }
  return plain_error(why, install_hint());
}

}  // namespace

Result<Busybox> read_busybox(const std::string& path) {
  Busybox busybox;
  auto opened = sandbox::sys::open(path, O_RDONLY);
  if (!opened) {
    Error e = opened.error();
    e.hint = install_hint();
    return e;
  }
  busybox.file = std::move(*opened);
  struct stat st {};
  if (::fstat(busybox.file.get(), &st) < 0) return make_error("fstat " + path, errno);
  if (!S_ISREG(st.st_mode))
    return plain_error(fmt::format("{} is not a regular file", path), install_hint());
  busybox.size_bytes = static_cast<std::uint64_t>(st.st_size);

  std::string head(kElfHeadBytes, '\0');
  ssize_t n = ::pread(busybox.file.get(), head.data(), head.size(), 0);
  if (n < 0) return make_error("read " + path, errno);
  head.resize(static_cast<size_t>(n));
  ElfFacts elf = read_elf_facts(head);
  if (elf.kind != ElfFacts::Kind::Static) return not_static(path, elf);

  auto listing = output_of({path, "--list-full"}, true);
  if (!listing) return listing.error();
  auto applets = parse_applet_list(*listing);
  if (!applets) return applets.error();
  busybox.applets = std::move(*applets);
  // With no arguments busybox prints its usage, whose first line names its version.
  auto banner = output_of({path}, false);
  if (!banner) return banner.error();
  auto version = parse_busybox_version(*banner);
  if (!version) return version.error();
  busybox.version = std::move(*version);
  return busybox;
}

Result<DirState> dir_state(const std::string& dir) {
  std::error_code ec;
  fs::file_status link = fs::symlink_status(dir, ec);
  if (link.type() == fs::file_type::not_found) return DirState::Missing;
  if (ec) return make_error(fmt::format("lstat(\"{}\")", dir), ec.value());
  fs::file_status target = fs::status(dir, ec);  // what a link points to
  if (!fs::is_directory(target)) return DirState::NotDirectory;
  fs::directory_iterator entries(dir, ec);
  if (ec) return make_error(fmt::format("opendir(\"{}\")", dir), ec.value());
  return entries == fs::directory_iterator() ? DirState::Empty : DirState::NotEmpty;
}

Status make_rootfs(const std::string& dir, const RootfsLayout& layout, int busybox_fd,
                   std::vector<std::string>& left_behind) {
  Undo undo;
  Status made = make_tree(dir, layout, busybox_fd, undo);
  if (made) {
    undo.keep();
    return made;
  }
  left_behind = undo.undo();
  return made;
}

CLI::App* setup_rootfs(CLI::App& app, RootfsOptions& options) {
  CLI::App* rootfs = app.add_subcommand(
      "rootfs",
      "make a root filesystem to boot with --rootfs: nslab rootfs busybox|debian DIR");
  rootfs->add_option("kind", options.kind,
                     "what it is made of: busybox (a static busybox), or debian (mmdebstrap)")
      ->required()
      ->type_name("KIND");
  rootfs->add_option("directory", options.dir, "where: a new name, or an empty directory")
      ->required()
      ->type_name("DIR");
  rootfs
      ->add_option("--busybox", options.busybox,
                   "the static busybox to copy (busybox-static's, by default)")
      ->type_name("PATH")
      ->capture_default_str();
  rootfs->add_option("--suite", options.suite, "debian: the release (this host's own by default)")
      ->type_name("SUITE");
  rootfs->footer(
      "Makes DIR a root filesystem a box can boot. busybox: bin/busybox, a copy of the static\n"
      "busybox of Debian's busybox-static package (sudo apt-get install busybox-static),\n"
      "a symbolic link to it for every applet `busybox --list-full` names (bin/sh,\n"
      "usr/bin/awk, ...), dev, proc, sys, tmp, root, home, and etc/passwd, group,\n"
      "hostname, os-release and motd. Needs no root: it writes only files of its own,\n"
      "and installs nothing. If a step fails, it removes what it made. Then:\n"
      "  nslab run --rootfs DIR --user --map-root --mount --pid --proc -- /bin/sh\n"
      "debian: mmdebstrap --variant=minbase makes a root of this host's release from\n"
      "its own package sources (about 180 MB; sudo apt-get install mmdebstrap), owned by\n"
      "the ids a box with --map-range maps (root: 100000 on; a user: the first range of\n"
      "/etc/subuid), so that su, apt-get and dpkg work in:\n"
      "  nslab run --user --map-range --mount --pid --proc --rootfs DIR --overlay -- /bin/bash\n"
      "Exit status: 0 made; 1 a step failed (nothing is left behind); 2 refused before\n"
      "anything was made (DIR not new or empty, no static busybox).");
  return rootfs;
}

namespace {

// `nslab rootfs debian DIR`: the suite, whose ids own the tree, then mmdebstrap and the shift.
int run_debian(const RootfsOptions& options, const std::string& dir, bool dir_existed) {
  DebianRootfs root;
  root.dir = dir;
  root.as_root = ::geteuid() == 0;
  root.suite = options.suite;
  if (root.suite.empty()) {
    auto os_release = sandbox::sys::read_file("/etc/os-release");
    root.suite = os_release ? codename_of(*os_release) : "";
  }
  if (root.suite.empty()) {
    fmt::print(stderr,
               "nslab rootfs: this host's /etc/os-release names no VERSION_CODENAME — give the "
               "release: nslab rootfs debian DIR --suite bookworm\n");
    return 2;
  }
  if (root.as_root) {
    // The range nslab's --map-range gives root's boxes: its outside start for 0 inside.
    sandbox::Spec spec;
    spec.user = spec.map_range = true;
    root.shift = sandbox::id_maps_for(spec, sandbox::this_process()).first.front().outside;
  }
  Status made = make_debian_rootfs(root, dir_existed);
  if (!made) {
    std::fflush(stdout);
    Error e = made.error();
    e.step = fmt::format("make {}", dir);
    fmt::print(stderr, "nslab rootfs: {}\n", e.message());
    return 1;
  }
  fmt::print("{}", debian_summary(root));
  return 0;
}

}  // namespace

int run_rootfs(const RootfsOptions& options) {
  auto refuse = [](const Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "nslab rootfs: {}\n", e.message());
    return 2;
  };
  if (options.kind != "busybox" && options.kind != "debian") {
    std::string guess = closest(options.kind, {"busybox", "debian"});
    return refuse(
        plain_error(fmt::format("there is no kind of root '{}'{}", options.kind,
                                guess.empty() ? "" : fmt::format(" (did you mean {}?)", guess)),
                    "nslab makes two kinds: nslab rootfs busybox DIR, nslab rootfs debian DIR"));
  }
  if (options.dir.empty())
    return refuse(
        plain_error("DIR is empty", "give the directory to make: nslab rootfs busybox ./bb"));
  std::error_code ec;
  fs::path absolute = fs::absolute(options.dir, ec).lexically_normal();
  if (ec) return refuse(make_error(fmt::format("getcwd() for {}", options.dir), ec.value()));
  if (absolute.has_parent_path() && absolute.filename().empty()) absolute = absolute.parent_path();
  const std::string dir = absolute.string();

  auto state = dir_state(dir);
  if (!state) return refuse(state.error());
  if (Status allowed = check_target(options.dir, *state); !allowed) return refuse(allowed.error());

  if (options.kind == "debian") return run_debian(options, dir, *state == DirState::Empty);

  unsigned old_mode = 0;
  if (*state == DirState::Empty)
    old_mode = static_cast<unsigned>(fs::status(dir, ec).permissions()) & 07777;

  auto busybox = read_busybox(options.busybox);
  if (!busybox) return refuse(busybox.error());
  RootfsLayout layout = busybox_layout(busybox->version, busybox->applets);

  std::vector<std::string> left_behind;
  Status made = make_rootfs(dir, layout, busybox->file.get(), left_behind);
  if (!made) {
    std::fflush(stdout);
    Error e = made.error();
    e.step = fmt::format("make {}", dir);
    fmt::print(stderr, "nslab rootfs: {}\n", e.message());
    if (left_behind.empty())
      fmt::print(stderr, "nslab rootfs: nothing of it is left; {} is as it was\n", dir);
    else
      fmt::print(stderr, "nslab rootfs: could not remove what it made at {}\n",
                 fmt::join(left_behind, ", "));
    return 1;
  }
  if (*state == DirState::Empty && old_mode != 0755)
    fmt::print(
        "{} was mode {:04o}; it is now 0755, a root directory's mode, so the box's users "
        "can enter it\n",
        dir, old_mode);
  std::uint64_t bytes = busybox->size_bytes;
  for (const auto& f : layout.files) bytes += f.text.size();
  fmt::print("{}", made_summary(dir, busybox->version, layout.links.size(), bytes));
  return 0;
}

}  // namespace nslab::cli
