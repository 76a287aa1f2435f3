#include "../builtin.h"

namespace tinysh {

std::span<const Builtin> system_builtins() { return {}; }

}  // namespace tinysh
