#include "busybox_rootfs.h"

#include <elf.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

#include <fmt/format.h>

namespace nslab::cli {

namespace {

using sandbox::plain_error;

// The machine and byte order this nslab was built for: a busybox for another one cannot run in
// a box here (binfmt_misc and qemu-user aside).
#if defined(__x86_64__)
constexpr unsigned kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kMachine = EM_AARCH64;
#elif defined(__i386__)
constexpr unsigned kMachine = EM_386;
#elif defined(__arm__)
constexpr unsigned kMachine = EM_ARM;
#elif defined(__riscv)
constexpr unsigned kMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr unsigned kMachine = EM_PPC64;
#elif defined(__s390x__)
constexpr unsigned kMachine = EM_S390;
#else
constexpr unsigned kMachine = EM_NONE;  // not checked
#endif
constexpr unsigned char kByteOrder =
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;

std::string machine_name(unsigned machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86-64";
    case EM_AARCH64:
      return "arm64";
    case EM_386:
      return "i386";
    case EM_ARM:
      return "arm";
    case EM_RISCV:
      return "riscv";
    case EM_PPC64:
      return "ppc64";
    case EM_S390:
      return "s390x";
  }
  return fmt::format("e_machine {}", machine);
}

ElfFacts facts(ElfFacts::Kind kind, std::string detail) {
  return {.kind = kind, .interpreter = {}, .detail = std::move(detail)};
}

// The ELF header and program headers of one class (Elf32_* or Elf64_*), read with memcpy: the
// bytes come from a file and need not be aligned.
template <typename Ehdr, typename Phdr>
ElfFacts read_program_headers(std::string_view head) {
  using Kind = ElfFacts::Kind;
  Ehdr header;
  if (head.size() < sizeof header)
    return facts(Kind::NotProgram, "the file is shorter than an ELF header");
  std::memcpy(&header, head.data(), sizeof header);
  if (kMachine != EM_NONE && header.e_machine != kMachine)
    return facts(Kind::OtherMachine,
                 fmt::format("it is built for {}, and this machine is {}",
                             machine_name(header.e_machine), machine_name(kMachine)));
  if (header.e_type != ET_EXEC && header.e_type != ET_DYN)
    return facts(Kind::NotProgram,
                 fmt::format("it is an ELF file of type {} (an object file or a core dump), not "
                             "a program",
                             header.e_type));
  if (header.e_phnum == 0 || header.e_phentsize != sizeof(Phdr))
    return facts(Kind::NotProgram, "it has no program headers execve() could read");
  std::uint64_t table_end =
      std::uint64_t{header.e_phoff} + std::uint64_t{header.e_phnum} * sizeof(Phdr);
  if (header.e_phoff > head.size() || table_end > head.size())
    return facts(Kind::NotProgram, "its program headers lie past the bytes nslab reads");
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Phdr entry;
    std::memcpy(&entry, head.data() + header.e_phoff + i * sizeof(Phdr), sizeof entry);
    if (entry.p_type != PT_INTERP) continue;
    std::uint64_t end = std::uint64_t{entry.p_offset} + entry.p_filesz;
    if (entry.p_offset > head.size() || end > head.size())
      return facts(Kind::NotProgram, "its PT_INTERP entry points past the bytes nslab reads");
    std::string loader(head.substr(entry.p_offset, entry.p_filesz));
    loader.erase(std::find(loader.begin(), loader.end(), '\0'), loader.end());
    return {.kind = Kind::Dynamic, .interpreter = loader, .detail = {}};
  }
  return {.kind = Kind::Static, .interpreter = {}, .detail = {}};
}

// The directories busybox installs its applets in (its --list-full prefixes); "" is DIR itself,
// where linuxrc goes (an initrd's init).
constexpr std::string_view kAppletDirs[] = {"", "bin", "sbin", "usr/bin", "usr/sbin"};

// A root's own directories. /proc and /sys are only mount points (0555, as Debian has them);
// /tmp is everyone's, sticky; /root is root's alone. The box mounts over dev, proc and tmp, which
// must therefore be real directories in DIR: its root is read-only.
const std::vector<RootfsLayout::Dir>& root_dirs() {
  static const std::vector<RootfsLayout::Dir> dirs = {
      {"bin", 0755},  {"dev", 0755},  {"etc", 0755},     {"home", 0755},
      {"proc", 0555}, {"root", 0700}, {"sbin", 0755},    {"sys", 0555},
      {"tmp", 01777}, {"usr", 0755},  {"usr/bin", 0755}, {"usr/sbin", 0755},
  };
  return dirs;
}

// A value of os-release(5): in double quotes, with ", \, $ and ` escaped.
std::string os_release_value(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// A word as a shell would need it typed.
std::string shell_word(std::string_view word) {
  bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-_./=:,+%@").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(word);
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

}  // namespace

ElfFacts read_elf_facts(std::string_view head) {
  using Kind = ElfFacts::Kind;
  if (head.size() < EI_NIDENT || std::memcmp(head.data(), ELFMAG, SELFMAG) != 0) {
    if (head.starts_with("#!")) return facts(Kind::NotElf, "it is a script");
    return facts(Kind::NotElf, head.empty() ? "it is empty" : "it is not an ELF program");
  }
  if (static_cast<unsigned char>(head[EI_DATA]) != kByteOrder)
    return facts(Kind::OtherMachine, "its byte order is not this machine's");
  switch (head[EI_CLASS]) {
    case ELFCLASS64:
      return read_program_headers<Elf64_Ehdr, Elf64_Phdr>(head);
    case ELFCLASS32:
      return read_program_headers<Elf32_Ehdr, Elf32_Phdr>(head);
  }
  return facts(Kind::NotProgram, fmt::format("its ELF class {} is neither 32 nor 64 bits",
                                             static_cast<int>(head[EI_CLASS])));
}

std::string install_hint() {
  return "install busybox-static (sudo apt-get install busybox-static)";
}

sandbox::Result<std::vector<std::string>> parse_applet_list(std::string_view text) {
  std::set<std::string> applets;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.empty()) continue;
    size_t slash = line.rfind('/');
    std::string_view dir = slash == std::string_view::npos ? "" : line.substr(0, slash);
    std::string_view name = slash == std::string_view::npos ? line : line.substr(slash + 1);
    bool known_dir =
        std::find(std::begin(kAppletDirs), std::end(kAppletDirs), dir) != std::end(kAppletDirs);
    bool plain_name = !name.empty() && name != "." && name != ".." &&
                      std::none_of(name.begin(), name.end(), [](char c) {
                        return std::iscntrl(static_cast<unsigned char>(c)) || c == ' ';
                      });
    if (!known_dir || !plain_name)
      return plain_error(
          fmt::format("busybox --list-full named '{}', which is not a plain name, alone or "
                      "under bin/, sbin/, usr/bin/ or usr/sbin/",
                      line),
          "nslab links only such paths, so that nothing lands outside DIR; " + install_hint());
    // DIR/bin/busybox is the copy itself, not a link to it.
    if (dir == "bin" && name == "busybox") continue;
    applets.emplace(line);
  }
  if (applets.empty())
    return plain_error(
        "busybox --list-full named no applets",
        "a busybox built without --list-full (before 1.20) cannot be used; " + install_hint());
  return std::vector<std::string>(applets.begin(), applets.end());
}

sandbox::Result<std::string> parse_busybox_version(std::string_view banner) {
  std::string_view line = trim(banner.substr(0, banner.find('\n')));
  constexpr std::string_view kStart = "BusyBox v";
  if (!line.starts_with(kStart))
    return plain_error(fmt::format("busybox printed '{}' where it names itself ('BusyBox v1.35.0 "
                                   "... multi-call binary.')",
                                   line),
                       "is it busybox? " + install_hint());
  line.remove_prefix(kStart.size() - 1);  // keep the 'v'
  if (size_t multi = line.find(" multi-call binary"); multi != std::string_view::npos)
    line = line.substr(0, multi);
  while (line.ends_with('.')) line.remove_suffix(1);
  return std::string(trim(line));
}

std::string version_number(std::string_view version) {
  if (version.starts_with('v')) version.remove_prefix(1);
  return std::string(version.substr(0, version.find(' ')));
}

std::string applet_link_target(std::string_view applet_path) {
  size_t slash = applet_path.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? "" : applet_path.substr(0, slash);
  if (dir == "bin") return "busybox";
  std::string up;
  for (size_t n = std::count(applet_path.begin(), applet_path.end(), '/'); n > 0; --n) up += "../";
  return up + "bin/busybox";
}

std::string rootfs_passwd() {
  return "root:x:0:0:root:/root:/bin/sh\n"
         "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
}

std::string rootfs_group() {
  return "root:x:0:\n"
         "nogroup:x:65534:\n";
}

std::string rootfs_os_release(std::string_view version) {
  return fmt::format(
      "NAME=\"BusyBox\"\n"
      "ID=busybox\n"
      "VERSION_ID={}\n"
      "PRETTY_NAME={}\n"
      "HOME_URL=\"https://busybox.net/\"\n",
      os_release_value(version_number(version)),
      os_release_value(fmt::format("BusyBox {}, a root made by nslab", version)));
}

std::string rootfs_motd(std::string_view version) {
  return fmt::format(
      "This root filesystem was made by `nslab rootfs busybox` from the busybox-static\n"
      "package: one static program at /bin/busybox,\n"
      "  BusyBox {}\n"
      "and a symbolic link to it for each of its applets (`busybox --list-full`).\n"
      "There is no loader and no libc here: busybox needs neither.\n",
      version);
}

RootfsLayout busybox_layout(std::string_view version, const std::vector<std::string>& applets) {
  RootfsLayout layout;
  layout.dirs = root_dirs();
  layout.files = {
      {"etc/passwd", 0644, rootfs_passwd()},
      {"etc/group", 0644, rootfs_group()},
      {"etc/hostname", 0644, "busybox\n"},
      {"etc/os-release", 0644, rootfs_os_release(version)},
      {"etc/motd", 0644, rootfs_motd(version)},
  };
  for (const std::string& applet : applets)
    layout.links.push_back({applet, applet_link_target(applet)});
  return layout;
}

sandbox::Status check_target(std::string_view dir, DirState state) {
  const std::string fix =
      "give a name that does not exist yet (nslab makes the directory), or an empty directory";
  switch (state) {
    case DirState::Missing:
    case DirState::Empty:
      return sandbox::ok();
    case DirState::NotEmpty:
      return plain_error(
          fmt::format("{} is not empty; nslab makes a root filesystem only in a new or empty "
                      "directory, and changes nothing that is already there",
                      dir),
          fix);
    case DirState::NotDirectory:
      return plain_error(fmt::format("{} exists and is not a directory", dir), fix);
  }
  return sandbox::ok();
}

std::string making_hint(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return "you may not write there: choose a directory of your own (under your home, or "
             "/tmp)";
    case ENOSPC:
      return "the filesystem is full (df -h shows it); the root needs about 2 MB";
    case EDQUOT:
      return "your disk quota is used up (quota -s shows it)";
    case EROFS:
      return "that filesystem is mounted read-only";
    case ENOENT:
      return "a directory on the way does not exist: make DIR's parent first (mkdir -p)";
    case ENOTDIR:
      return "a part of the path is a file, not a directory";
    case EEXIST:
      return "something else made this path while nslab was making the tree";
    case EIO:
      return "the disk reported an error (dmesg may say more)";
  }
  return {};
}

std::string size_text(std::uint64_t bytes) {
  constexpr std::uint64_t kKiB = 1024, kMiB = 1024 * kKiB;
  if (bytes >= kMiB) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / kMiB);
  if (bytes >= kKiB) return fmt::format("{} KiB", (bytes + kKiB / 2) / kKiB);
  return fmt::format("{} bytes", bytes);
}

std::string made_summary(std::string_view dir, std::string_view version, size_t applets,
                         std::uint64_t bytes) {
  return fmt::format(
      "made {}, {}:\n"
      "  bin/busybox  BusyBox {}, static\n"
      "  {} applets   linked to it: bin/sh, usr/bin/awk, ...\n"
      "  etc          passwd, group, hostname (busybox), os-release, motd\n"
      "Boot a box on it (the box sees it read-only; writes go to the box's own /tmp):\n"
      "  nslab run --rootfs {} --user --map-root --mount --pid --proc -- /bin/sh\n",
      dir, size_text(bytes), version, applets, shell_word(dir));
}

}  // namespace nslab::cli
