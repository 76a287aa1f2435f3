#include "../builtin.h"

namespace tinysh {

std::span<const Builtin> file_builtins() { return {}; }

}  // namespace tinysh
