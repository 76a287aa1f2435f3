// What `nslab rootfs busybox DIR` makes, decided from text before anything is written: the pure
// half of the command (rootfs_cmd.cpp is the other, which reads the files and makes the tree).
//
// A root filesystem a box can boot needs a program that runs with nothing around it. A program
// linked dynamically does not: its ELF program headers hold a PT_INTERP entry naming a loader
// (/lib64/ld-linux-x86-64.so.2), which execve(2) maps first, and which then looks for libc.so.6
// and the rest under the *box's* root. Without PT_INTERP the kernel jumps straight into the
// program (binfmt_elf; see elf(5) and ld.so(8)). Debian's busybox-static package ships such a
// busybox: one file of about 2 MB holding some 270 programs ("applets"), chosen by the name it
// is started under, so a root of symbolic links to it is a small but real userland.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace nslab::cli {

// What the ELF header and the program headers of a file say about how execve() starts it.
struct ElfFacts {
  enum class Kind {
    NotElf,        // no ELF magic: a script, a text file, an empty file
    NotProgram,    // ELF, but not a program execve() could start (an object file, a core
                   // dump), or its program headers lie past the bytes given
    OtherMachine,  // ELF for another architecture or byte order than this nslab's
    Static,        // no PT_INTERP: runs with nothing but itself (static, or static-pie)
    Dynamic,       // PT_INTERP names a loader that must be in the box's root
  };
  Kind kind = Kind::NotElf;
  std::string interpreter;  // Dynamic: the loader PT_INTERP names
  std::string detail;       // NotElf, NotProgram, OtherMachine: what was found instead
};
// From the first bytes of a file (the ELF header, its program headers, and PT_INTERP's text;
// 64 KiB holds them in any real program). Both ELF classes; the byte order and e_machine must
// be this build's. Pure.
ElfFacts read_elf_facts(std::string_view head);

// `busybox --list-full`: one applet a line, as the path busybox would install it at
// ("bin/sh", "usr/bin/awk", "sbin/ifconfig", and "linuxrc" at the top). Every line must be a
// plain name, alone or under bin/, sbin/, usr/bin/ or usr/sbin/; anything else (an absolute
// path, "..", an empty name, a line that is not a path at all) is refused, so nothing can be
// linked outside DIR. Sorted, without duplicates, and without busybox itself. Pure.
sandbox::Result<std::vector<std::string>> parse_applet_list(std::string_view text);

// The version in the first line busybox prints when run with no arguments:
// "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary." ->
// "v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1)". Pure.
sandbox::Result<std::string> parse_busybox_version(std::string_view banner);
// "v1.35.0 (Debian ...)" -> "1.35.0". Pure.
std::string version_number(std::string_view version);

// The symlink an applet gets, relative so it works from the host (DIR/bin/sh) and in the box
// (/bin/sh) alike: "bin/sh" -> "busybox", "usr/bin/awk" -> "../../bin/busybox", "linuxrc" ->
// "bin/busybox". Pure.
std::string applet_link_target(std::string_view applet_path);

// Everything the command makes, as paths relative to DIR, in the order it makes them.
struct RootfsLayout {
  struct Dir {
    std::string path;
    unsigned mode;
  };
  struct File {
    std::string path;
    unsigned mode;
    std::string text;
  };
  struct Link {
    std::string path;
    std::string target;
  };
  std::vector<Dir> dirs;  // each after its parent
  std::string busybox = "bin/busybox";
  unsigned busybox_mode = 0755;
  std::vector<File> files;
  std::vector<Link> links;  // one per applet
};
// The layout for a busybox of this version with these applets (parse_applet_list's). Pure.
RootfsLayout busybox_layout(std::string_view version, const std::vector<std::string>& applets);

// The file contents, each on its own for the tests.
std::string rootfs_passwd();
std::string rootfs_group();
std::string rootfs_os_release(std::string_view version);
std::string rootfs_motd(std::string_view version);

// What DIR is when the command starts. Only Missing (nslab makes it) and Empty are taken.
enum class DirState { Missing, Empty, NotEmpty, NotDirectory };
// The refusal for DIR in this state, naming it and the fix; ok() for Missing and Empty. Pure.
sandbox::Status check_target(std::string_view dir, DirState state);

// The hint for a failed call while making the tree (mkdir, create, symlink, chmod), in place of
// the sandbox table's, whose mkdir advice is about cgroups. "" when there is none. Pure.
std::string making_hint(int err);

// "1.9 MiB", "812 KiB", "300 bytes". Pure.
std::string size_text(std::uint64_t bytes);

// What the command prints once DIR is made: what is there, and the command that boots a box on
// it. `dir` is absolute. Pure.
std::string made_summary(std::string_view dir, std::string_view version, size_t applets,
                         std::uint64_t bytes);

// The message when busybox is missing or not one a box can run (the install line). Pure.
std::string install_hint();

}  // namespace nslab::cli
