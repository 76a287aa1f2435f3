// The one table of known kernel pitfalls: for a system call and an errno, one line that says
// what usually went wrong and how to fix it. Every Error gets its hint from here, so the advice
// lives in one place and a test can read it.
#pragma once

#include <string_view>

namespace sandbox {

// `call` is the name of the system call or kernel file ("pivot_root", "mount", "gid_map");
// returns "" when the table has no advice for that pair.
std::string_view hint_for(std::string_view call, int err);

// The name at the front of a call's text: "mount" for `mount("proc", ...)`, "gid_map" for
// `write /proc/42/gid_map`; for an ioctl its request: "TIOCSCTTY" for `ioctl(0, TIOCSCTTY, 0)`.
std::string_view call_name(std::string_view call_text);

}  // namespace sandbox
