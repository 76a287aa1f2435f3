// A file descriptor that closes itself: tinysh's own owned-fd class, shared so the shell and the
// sandbox hold fds the same way. Move-only: exactly one owner closes it.
#pragma once

#include "common/unique_fd.h"

namespace sandbox {

using Fd = tinysh::Fd;

}  // namespace sandbox
