// The names of mount(2)'s MS_* flags, in one table: the text tinysh's mount prints, and the call
// texts of libsandbox (errors, `nslab explain`, the call record).
#pragma once

#include <string>

namespace common {

// "MS_BIND|MS_REC|MS_RDONLY"; bits without a name in hexadecimal; "0" for none.
std::string mount_flags_text(unsigned long flags);

}  // namespace common
