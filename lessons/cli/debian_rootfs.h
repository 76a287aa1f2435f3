// `nslab rootfs debian DIR`: a real distribution's root for `nslab run --rootfs DIR`, made by
// mmdebstrap(1) from the host's own package sources, and owned by the ids a box with
// `--user --map-range` maps, so that root in the box owns it and su, apt-get and dpkg work there.
//
// Who owns the files is the whole point. A Debian root is full of files owned by root and by a
// few system users (_apt, man, ...), and su switches to any of them. In a user namespace the
// kernel shows a file's owner as the id it maps to; an id outside the map shows as nobody (65534),
// and nobody's files are nobody's to change. So the tree is made owned by the range the box maps:
//   - as root: mmdebstrap --mode=root makes it owned by 0..65535, then every entry is shifted by
//     100000, the range nslab's --map-range gives root's boxes (0 inside is 100000 outside);
//   - as a user: mmdebstrap --mode=unshare makes it inside a user namespace of its own that maps
//     0 to the user's first range of /etc/subuid, the same range --map-range maps.
// chown(2) drops the set-user-ID and set-group-ID bits of a program (su is one), so the shift
// puts the mode back after each chown; hard links are shifted once (by inode).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "result.h"

namespace nslab::cli {

struct DebianRootfs {
  std::string dir;     // absolute; missing or empty
  std::string suite;   // "bookworm"; the host's own codename by default
  bool as_root = false;
  std::uint32_t shift = 0;  // added to every owner after mmdebstrap (root: 100000; a user: 0)
};

// The mmdebstrap command line for `root`: minbase, apt's own sources of the host as mirrors. Pure.
std::vector<std::string> mmdebstrap_argv(const DebianRootfs& root);

// The host's codename, VERSION_CODENAME= of an os-release text ("bookworm"); "" if none. Pure.
std::string codename_of(std::string_view os_release);

// What the command prints once DIR is made: whose ids own it and the command that boots it. Pure.
std::string debian_summary(const DebianRootfs& root);

// Runs mmdebstrap (its progress on this terminal), then shifts the owners. On failure removes
// what it made: DIR's entries, and DIR itself when it did not exist.
sandbox::Status make_debian_rootfs(const DebianRootfs& root, bool dir_existed);

// Adds `shift` to the owner and group of every entry under `dir` (never following a symbolic
// link, never leaving `dir`'s filesystem), keeping set-user-ID and set-group-ID bits.
sandbox::Status shift_owners(const std::string& dir, std::uint32_t shift);

}  // namespace nslab::cli
