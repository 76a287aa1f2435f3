// `nslab rootfs busybox DIR` without root (and `nslab rootfs debian`'s pure parts, and its shift
// of owners, which needs root): the ELF check, the applet list, the version, the
// layout and its files, DIR's refusals (pure), and the tree made in a temporary directory from
// a fake busybox, with steps made to fail to prove that nothing is left behind.
#include <doctest/doctest.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "busybox_rootfs.h"
#include "debian_rootfs.h"
#include "process.h"
#include "rootfs_cmd.h"
#include "sys.h"
#include "temp_dir.h"

using namespace nslab::cli;
namespace fs = std::filesystem;

namespace {

// An ELF64 program of this machine's kind, with these program header types; a PT_INTERP entry
// points at `loader` placed after the headers.
std::string fake_elf(std::vector<unsigned> types, const std::string& loader = "/lib/ld.so") {
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
  header.e_ident[EI_VERSION] = EV_CURRENT;
  header.e_type = ET_EXEC;
#if defined(__x86_64__)
  header.e_machine = EM_X86_64;
#elif defined(__aarch64__)
  header.e_machine = EM_AARCH64;
#endif
  header.e_phoff = sizeof header;
  header.e_phentsize = sizeof(Elf64_Phdr);
  header.e_phnum = static_cast<Elf64_Half>(types.size());
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof header);
  size_t text_at = sizeof header + types.size() * sizeof(Elf64_Phdr);
  for (unsigned type : types) {
    Elf64_Phdr entry{};
    entry.p_type = type;
    if (type == PT_INTERP) {
      entry.p_offset = text_at;
      entry.p_filesz = loader.size() + 1;
    }
    bytes.append(reinterpret_cast<const char*>(&entry), sizeof entry);
  }
  bytes += loader;
  bytes += '\0';
  return bytes;
}

std::string mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  char text[8];
  std::snprintf(text, sizeof text, "%04o", st.st_mode & 07777);
  return text;
}

std::vector<std::string> entries_under(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    found.push_back(fs::relative(entry.path(), dir).string());
  std::sort(found.begin(), found.end());
  return found;
}

// A "busybox" the executor copies: any open file will do, it is never run.
struct FakeBusybox {
  testing::TempDir home;
  sandbox::Fd fd;
  FakeBusybox() {
    std::ofstream(home / "busybox") << "not really busybox\n";
    auto opened = sandbox::sys::open(home / "busybox", O_RDONLY);
    REQUIRE(opened.ok());
    fd = std::move(*opened);
  }
};

const std::string kListing =
    "usr/bin/[\nusr/bin/[[\nsbin/acpid\nbin/ash\nbin/sh\nusr/bin/awk\nusr/sbin/arping\nlinuxrc\n";

RootfsLayout small_layout() {
  auto applets = parse_applet_list(kListing);
  REQUIRE(applets.ok());
  return busybox_layout("v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)", *applets);
}

}  // namespace

TEST_CASE("a program without PT_INTERP is static, one with it names its loader") {
  auto plain = read_elf_facts(fake_elf({PT_LOAD, PT_LOAD, PT_GNU_STACK}));
  CHECK(plain.kind == ElfFacts::Kind::Static);
  // static-pie: PT_DYNAMIC for relocating itself, but no loader; the kernel runs it alone.
  CHECK(read_elf_facts(fake_elf({PT_LOAD, PT_DYNAMIC})).kind == ElfFacts::Kind::Static);
  auto dynamic = read_elf_facts(
      fake_elf({PT_PHDR, PT_INTERP, PT_LOAD, PT_DYNAMIC}, "/lib64/ld-linux-x86-64.so.2"));
  CHECK(dynamic.kind == ElfFacts::Kind::Dynamic);
  CHECK(dynamic.interpreter == "/lib64/ld-linux-x86-64.so.2");
}

TEST_CASE("scripts, text, empty files, cut headers and other machines are not a static busybox") {
  CHECK(read_elf_facts("#!/bin/sh\necho busybox\n").kind == ElfFacts::Kind::NotElf);
  CHECK(read_elf_facts("#!/bin/sh\n").detail == "it is a script");
  CHECK(read_elf_facts("").kind == ElfFacts::Kind::NotElf);
  CHECK(read_elf_facts("hello, world").kind == ElfFacts::Kind::NotElf);
  std::string whole = fake_elf({PT_LOAD, PT_INTERP});
  // The headers are there, the loader's name is not: never read past what was given.
  CHECK(read_elf_facts(whole.substr(0, sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr))).kind ==
        ElfFacts::Kind::NotProgram);
  CHECK(read_elf_facts(whole.substr(0, sizeof(Elf64_Ehdr) + 10)).kind ==
        ElfFacts::Kind::NotProgram);
  CHECK(read_elf_facts(whole.substr(0, 20)).kind == ElfFacts::Kind::NotProgram);
  std::string object = fake_elf({PT_LOAD});
  reinterpret_cast<Elf64_Ehdr*>(object.data())->e_type = ET_REL;
  CHECK(read_elf_facts(object).kind == ElfFacts::Kind::NotProgram);
  std::string other = fake_elf({PT_LOAD});
  reinterpret_cast<Elf64_Ehdr*>(other.data())->e_machine = EM_SPARCV9;
  auto facts = read_elf_facts(other);
  CHECK(facts.kind == ElfFacts::Kind::OtherMachine);
  CHECK(facts.detail.find("built for") != std::string::npos);
  std::string swapped = fake_elf({PT_LOAD});
  swapped[EI_DATA] = swapped[EI_DATA] == ELFDATA2LSB ? ELFDATA2MSB : ELFDATA2LSB;
  CHECK(read_elf_facts(swapped).kind == ElfFacts::Kind::OtherMachine);
}

TEST_CASE("the host's dynamic programs read as dynamic, busybox-static's as static") {
  // Controls for the synthetic headers above, on real files where the host has them.
  for (const char* program : {"/usr/bin/ls", "/bin/busybox"}) {
    std::ifstream in(program, std::ios::binary);
    if (!in) continue;
    std::string head(64 * 1024, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    auto facts = read_elf_facts(head);
    if (std::string(program) == "/usr/bin/ls") {
      CHECK(facts.kind == ElfFacts::Kind::Dynamic);
      CHECK(facts.interpreter.find("ld") != std::string::npos);
    } else {
      CHECK(facts.kind == ElfFacts::Kind::Static);
    }
  }
}

TEST_CASE("--list-full becomes sorted applet paths, without duplicates or busybox itself") {
  auto applets = parse_applet_list(kListing + "bin/sh\nbin/busybox\n\n");
  REQUIRE(applets.ok());
  CHECK(*applets == std::vector<std::string>{"bin/ash", "bin/sh", "linuxrc", "sbin/acpid",
                                             "usr/bin/[", "usr/bin/[[", "usr/bin/awk",
                                             "usr/sbin/arping"});
}

TEST_CASE("an applet path outside bin, sbin, usr/bin and usr/sbin is refused, naming it") {
  for (const char* line : {"/bin/sh", "../etc/passwd", "bin/../../x", "etc/passwd", "bin/", "..",
                           "usr/bin/a b", "bin/..", "usr/local/bin/x", "BusyBox v1.35.0"}) {
    CAPTURE(line);
    auto applets = parse_applet_list(std::string("bin/sh\n") + line + "\n");
    REQUIRE_FALSE(applets.ok());
    CHECK(applets.error().message().find(std::string("'") + line + "'") != std::string::npos);
  }
  auto none = parse_applet_list("\n\n");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message().find("install busybox-static") != std::string::npos);
}

TEST_CASE("busybox's first line gives its version") {
  auto version = parse_busybox_version(
      "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.\nBusyBox is "
      "copyrighted by many authors\n");
  REQUIRE(version.ok());
  CHECK(*version == "v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)");
  CHECK(version_number(*version) == "1.35.0");
  auto bare = parse_busybox_version("BusyBox v1.36.1 multi-call binary.\n");
  REQUIRE(bare.ok());
  CHECK(*bare == "v1.36.1");
  auto other = parse_busybox_version("Usage: toybox [--long | --help]\n");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().message().find("Usage: toybox") != std::string::npos);
}

TEST_CASE("applet links are relative, so they work from the host and inside the box") {
  CHECK(applet_link_target("bin/sh") == "busybox");
  CHECK(applet_link_target("sbin/ifconfig") == "../bin/busybox");
  CHECK(applet_link_target("usr/bin/awk") == "../../bin/busybox");
  CHECK(applet_link_target("usr/sbin/arping") == "../../bin/busybox");
  CHECK(applet_link_target("linuxrc") == "bin/busybox");
  // Resolved from the link's own directory, each lands on bin/busybox.
  for (const char* applet :
       {"bin/sh", "sbin/ifconfig", "usr/bin/awk", "usr/sbin/arping", "linuxrc"}) {
    fs::path link(applet);
    CHECK((link.parent_path() / applet_link_target(applet)).lexically_normal() == "bin/busybox");
  }
}

TEST_CASE("the layout has a root's directories with their modes, each after its parent") {
  RootfsLayout layout = small_layout();
  std::vector<std::string> seen;
  for (const auto& dir : layout.dirs) {
    fs::path parent = fs::path(dir.path).parent_path();
    if (!parent.empty())
      CHECK_MESSAGE(std::find(seen.begin(), seen.end(), parent.string()) != seen.end(), dir.path);
    seen.push_back(dir.path);
  }
  auto mode = [&](const std::string& path) {
    for (const auto& dir : layout.dirs)
      if (dir.path == path) return dir.mode;
    FAIL("no directory " << path);
    return 0u;
  };
  CHECK(mode("tmp") == 01777);
  CHECK(mode("root") == 0700);
  CHECK(mode("dev") == 0755);
  CHECK(mode("proc") == 0555);
  CHECK(mode("sys") == 0555);
  CHECK(mode("etc") == 0755);
  CHECK(mode("home") == 0755);
  CHECK(mode("usr/sbin") == 0755);
  CHECK(layout.busybox == "bin/busybox");
  CHECK(layout.busybox_mode == 0755);
  CHECK(layout.links.size() == 8);
  // Every link's directory (DIR itself for linuxrc) is made before the links.
  for (const auto& link : layout.links) {
    std::string parent = fs::path(link.path).parent_path().string();
    bool made_before = parent.empty() || std::find(seen.begin(), seen.end(), parent) != seen.end();
    CHECK_MESSAGE(made_before, link.path);
  }
}

TEST_CASE("etc holds root and nobody, their groups, the hostname and which busybox made it") {
  CHECK(rootfs_passwd().starts_with("root:x:0:0:root:/root:/bin/sh\n"));
  CHECK(rootfs_passwd().find("nobody:x:65534:65534:") != std::string::npos);
  CHECK(rootfs_group() == "root:x:0:\nnogroup:x:65534:\n");
  std::string version = "v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)";
  std::string release = rootfs_os_release(version);
  CHECK(release.find("ID=busybox\n") != std::string::npos);
  CHECK(release.find("VERSION_ID=\"1.35.0\"\n") != std::string::npos);
  CHECK(release.find("made by nslab") != std::string::npos);
  // os-release(5) values are shell-quoted: a quote in the version cannot end the value.
  CHECK(rootfs_os_release("v1 \"x\" $y").find("\\\"x\\\" \\$y") != std::string::npos);
  std::string motd = rootfs_motd(version);
  CHECK(motd.find("nslab rootfs busybox") != std::string::npos);
  CHECK(motd.find("busybox-static") != std::string::npos);
  CHECK(motd.find(version) != std::string::npos);
  RootfsLayout layout = small_layout();
  std::vector<std::string> files;
  for (const auto& f : layout.files) {
    files.push_back(f.path);
    CHECK(f.mode == 0644);
    if (f.path == "etc/hostname") CHECK(f.text == "busybox\n");
  }
  CHECK(files == std::vector<std::string>{"etc/passwd", "etc/group", "etc/hostname",
                                          "etc/os-release", "etc/motd"});
}

TEST_CASE("DIR must be new or empty: anything else is refused, naming it and the fix") {
  CHECK(check_target("bb", DirState::Missing).ok());
  CHECK(check_target("bb", DirState::Empty).ok());
  auto full = check_target("/home/ann/bb", DirState::NotEmpty);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().message().find("/home/ann/bb is not empty") != std::string::npos);
  CHECK(full.error().hint.find("does not exist yet") != std::string::npos);
  auto file = check_target("notes.txt", DirState::NotDirectory);
  REQUIRE_FALSE(file.ok());
  CHECK(file.error().message().find("notes.txt exists and is not a directory") !=
        std::string::npos);
}

TEST_CASE("what DIR is: missing, empty, holding something, a file, a link to an empty directory") {
  testing::TempDir tmp;
  CHECK(*dir_state(tmp / "new") == DirState::Missing);
  CHECK(*dir_state(tmp.path) == DirState::Empty);
  fs::create_directory(tmp / "empty");
  fs::create_symlink(tmp / "empty", tmp / "link");
  CHECK(*dir_state(tmp / "link") == DirState::Empty);
  fs::create_symlink(tmp / "nowhere", tmp / "dangling");
  CHECK(*dir_state(tmp / "dangling") == DirState::NotDirectory);
  std::ofstream(tmp / "file") << "x";
  CHECK(*dir_state(tmp / "file") == DirState::NotDirectory);
  CHECK(*dir_state(tmp.path) == DirState::NotEmpty);
}

TEST_CASE("errors while making the tree say what usually went wrong") {
  CHECK(making_hint(ENOSPC).find("full") != std::string::npos);
  CHECK(making_hint(EACCES).find("directory of your own") != std::string::npos);
  CHECK(making_hint(EROFS).find("read-only") != std::string::npos);
  CHECK(making_hint(ENOENT).find("mkdir -p") != std::string::npos);
  CHECK(making_hint(0).empty());
}

TEST_CASE("the summary names DIR, the version, the applets and the size, and how to boot it") {
  std::string text =
      made_summary("/tmp/my bb", "v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)", 269, 1982256 + 600);
  CHECK(text.starts_with("made /tmp/my bb, 1.9 MiB:\n"));
  CHECK(text.find("BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)") != std::string::npos);
  CHECK(text.find("269 applets") != std::string::npos);
  CHECK(text.find("nslab run --rootfs '/tmp/my bb' --user --map-root --mount --pid --proc -- "
                  "/bin/sh") != std::string::npos);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    // Only a line that names DIR may be longer than a terminal.
    if (line.find("/tmp/my bb") == std::string::npos) CHECK_MESSAGE(line.size() <= 80, line);
    start = end + 1;
  }
  CHECK(size_text(300) == "300 bytes");
  CHECK(size_text(812 * 1024) == "812 KiB");
}

TEST_CASE("missing, dynamic or non-ELF busyboxes are refused with the install line") {
  testing::TempDir tmp;
  auto missing = read_busybox(tmp / "busybox");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().err == ENOENT);
  CHECK(missing.error().message().find(tmp / "busybox") != std::string::npos);
  CHECK(missing.error().hint == "install busybox-static (sudo apt-get install busybox-static)");
  std::ofstream(tmp / "script") << "#!/bin/sh\necho BusyBox v1.35.0\n";
  fs::permissions(tmp / "script", fs::perms(0755));
  auto script = read_busybox(tmp / "script");
  REQUIRE_FALSE(script.ok());
  CHECK(script.error().message().find("it is a script") != std::string::npos);
  CHECK(script.error().hint.find("busybox-static") != std::string::npos);
  auto directory = read_busybox(tmp.path);
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.error().hint.find("busybox-static") != std::string::npos);
  if (fs::exists("/usr/bin/ls")) {
    auto dynamic = read_busybox("/usr/bin/ls");
    REQUIRE_FALSE(dynamic.ok());
    CHECK(dynamic.error().message().find("linked dynamically") != std::string::npos);
    CHECK(dynamic.error().hint.find("busybox-static") != std::string::npos);
  }
}

TEST_CASE("the tree is made with exact modes whatever the umask, links pointing at busybox") {
  FakeBusybox busybox;
  testing::TempDir tmp;
  std::string dir = tmp / "root";
  mode_t old_umask = ::umask(077);
  std::vector<std::string> left;
  auto made = make_rootfs(dir, small_layout(), busybox.fd.get(), left);
  ::umask(old_umask);
  REQUIRE_MESSAGE(made.ok(), (made.ok() ? "" : made.error().message()));
  CHECK(mode_of(dir) == "0755");
  CHECK(mode_of(dir + "/tmp") == "1777");
  CHECK(mode_of(dir + "/root") == "0700");
  CHECK(mode_of(dir + "/proc") == "0555");
  CHECK(mode_of(dir + "/bin/busybox") == "0755");
  CHECK(mode_of(dir + "/etc/passwd") == "0644");
  CHECK(testing::read_file(dir + "/bin/busybox") == "not really busybox\n");
  CHECK(fs::read_symlink(dir + "/bin/sh") == "busybox");
  CHECK(fs::read_symlink(dir + "/usr/bin/[") == "../../bin/busybox");
  CHECK(fs::equivalent(dir + "/usr/sbin/arping", dir + "/bin/busybox"));
  CHECK(fs::equivalent(dir + "/linuxrc", dir + "/bin/busybox"));
  CHECK(testing::read_file(dir + "/etc/hostname") == "busybox\n");
}

TEST_CASE("a step that fails removes everything the run made, DIR too when it made DIR") {
  FakeBusybox busybox;
  testing::TempDir tmp;
  std::string dir = tmp / "root";
  SUBCASE("copying busybox fails") {
    sandbox::sys::inject_fault("copy_file", ENOSPC);
  }
  SUBCASE("the first link fails") {
    sandbox::sys::inject_fault("symlink", EDQUOT);
  }
  SUBCASE("a link fails after others were made (two applets at one path)") {
    RootfsLayout layout = small_layout();
    layout.links.push_back(layout.links.back());
    std::vector<std::string> left;
    auto made = make_rootfs(dir, layout, busybox.fd.get(), left);
    REQUIRE_FALSE(made.ok());
    CHECK(made.error().err == EEXIST);
    CHECK(left.empty());
    CHECK_FALSE(fs::exists(fs::symlink_status(dir)));
    return;
  }
  std::vector<std::string> left;
  auto made = make_rootfs(dir, small_layout(), busybox.fd.get(), left);
  sandbox::sys::clear_faults();
  REQUIRE_FALSE(made.ok());
  CHECK(!made.error().hint.empty());
  CHECK(left.empty());
  CHECK_FALSE(fs::exists(fs::symlink_status(dir)));
  CHECK(entries_under(tmp.path).empty());
}

TEST_CASE("a failure in an existing empty DIR empties it again and puts its mode back") {
  FakeBusybox busybox;
  testing::TempDir tmp;
  std::string dir = tmp / "root";
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms(0700));
  sandbox::sys::inject_fault("symlink", ENOSPC);
  std::vector<std::string> left;
  auto made = make_rootfs(dir, small_layout(), busybox.fd.get(), left);
  sandbox::sys::clear_faults();
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().message().find("full") != std::string::npos);
  CHECK(fs::is_directory(dir));
  CHECK(entries_under(dir).empty());
  CHECK(mode_of(dir) == "0700");
  // Control: without the fault the same DIR is made, and gets a root's mode.
  auto again = make_rootfs(dir, small_layout(), busybox.fd.get(), left);
  REQUIRE(again.ok());
  CHECK(mode_of(dir) == "0755");
  CHECK(fs::exists(dir + "/bin/sh"));
}

TEST_CASE("a path the run did not make is left alone when a step meets it and fails") {
  FakeBusybox busybox;
  testing::TempDir tmp;
  std::string dir = tmp / "root";
  // Someone else's etc/ with a file in it, where the layout wants to make etc.
  fs::create_directories(dir + "/etc");
  std::ofstream(dir + "/etc/theirs") << "keep me";
  std::vector<std::string> left;
  auto made = make_rootfs(dir, small_layout(), busybox.fd.get(), left);
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().err == EEXIST);
  CHECK(entries_under(dir) == std::vector<std::string>{"etc", "etc/theirs"});
  CHECK(testing::read_file(dir + "/etc/theirs") == "keep me");
}

TEST_CASE("nslab rootfs takes busybox, DIR and --busybox, and refuses another kind") {
  CLI::App app{"nslab"};
  RootfsOptions options;
  setup_rootfs(app, options);
  // CLI11 takes the words reversed: nslab rootfs busybox bb --busybox /opt/bb
  app.parse(std::vector<std::string>{"/opt/bb", "--busybox", "bb", "busybox", "rootfs"});
  CHECK(options.kind == "busybox");
  CHECK(options.dir == "bb");
  CHECK(options.busybox == "/opt/bb");
  CLI::App defaults{"nslab"};
  RootfsOptions plain;
  setup_rootfs(defaults, plain);
  defaults.parse(std::vector<std::string>{"bb", "busybox", "rootfs"});
  CHECK(plain.busybox == "/bin/busybox");
  CLI::App wrong{"nslab"};
  RootfsOptions other;
  CLI::App* sub = setup_rootfs(wrong, other);
  wrong.parse(std::vector<std::string>{"bb", "busybx", "rootfs"});
  // run_rootfs refuses it before looking at DIR or busybox, with status 2.
  CHECK(run_rootfs(other) == 2);
  CHECK(sub->help().find("--busybox PATH") != std::string::npos);
}

// ---- nslab rootfs debian: the pure parts, and the shift of owners on a small tree ----

TEST_CASE("a Debian root is made by mmdebstrap, minbase, in root's or a user's mode") {
  DebianRootfs root{"/srv/deb", "bookworm", true, 100000};
  CHECK(mmdebstrap_argv(root) == std::vector<std::string>{"mmdebstrap", "--variant=minbase",
                                                          "--mode=root", "bookworm", "/srv/deb"});
  root.as_root = false;
  CHECK(mmdebstrap_argv(root)[2] == "--mode=unshare");
  CHECK(codename_of("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_CODENAME=bookworm\n") ==
        "bookworm");
  CHECK(codename_of("NAME=\"Ubuntu\"\nVERSION_CODENAME=\"noble\"") == "noble");
  CHECK(codename_of("ID=arch\n").empty());
  CHECK(codename_of("X_VERSION_CODENAME=no\n").empty());
  root.as_root = true;
  std::string summary = debian_summary(root);
  CHECK(summary.find("owned by 100000..165535 on the host") != std::string::npos);
  CHECK(summary.find("--user --map-range") != std::string::npos);
  CHECK(summary.find("--rootfs /srv/deb --overlay") != std::string::npos);
}

TEST_CASE("shifting a tree's owners keeps set-user-ID, shifts a hard link once, follows no link") {
  if (::geteuid() != 0) {
    testing::skip("chown to other owners needs root");
    return;
  }
  testing::TempDir tmp;
  std::string dir = tmp.path + "/tree";
  fs::create_directories(dir + "/bin");
  std::ofstream(dir + "/bin/su") << "x";
  ::chmod((dir + "/bin/su").c_str(), 04755);
  std::ofstream(dir + "/file") << "x";
  ::chown((dir + "/file").c_str(), 42, 42);
  fs::create_hard_link(dir + "/file", dir + "/bin/link");
  // A link out of the tree: shifting must change the link, never what it points to.
  std::string outside = tmp.path + "/outside";
  std::ofstream(outside) << "x";
  fs::create_symlink(outside, dir + "/away");

  REQUIRE(shift_owners(dir, 100000).ok());
  auto owner = [](const std::string& path) {
    struct stat st {};
    ::lstat(path.c_str(), &st);
    return std::pair<unsigned, unsigned>{st.st_uid, st.st_gid};
  };
  CHECK(owner(dir) == std::pair<unsigned, unsigned>{100000, 100000});
  CHECK(owner(dir + "/bin/su") == std::pair<unsigned, unsigned>{100000, 100000});
  CHECK(owner(dir + "/file") == std::pair<unsigned, unsigned>{100042, 100042});  // not 200042
  CHECK(owner(dir + "/away") == std::pair<unsigned, unsigned>{100000, 100000});
  CHECK(owner(outside) == std::pair<unsigned, unsigned>{0, 0});
  struct stat su {};
  ::stat((dir + "/bin/su").c_str(), &su);
  CHECK((su.st_mode & 07777) == 04755);
}
