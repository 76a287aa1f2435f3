// Reading a whole file or pipe, for the parsers of /proc and cgroupfs files in tinysh, libsandbox
// and nslab: no exceptions, no locale, retried on EINTR.
#pragma once

#include <optional>
#include <string>

namespace common {

// The whole file, or nothing when it cannot be opened.
std::optional<std::string> read_file(const std::string& path);
// Everything `fd` gives until end of file (or an error), without closing it.
std::string read_fd(int fd);

}  // namespace common
