#include "../builtin.h"

namespace tinysh {

std::span<const Builtin> core_builtins() { return {}; }

}  // namespace tinysh
