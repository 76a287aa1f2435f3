#include "../builtin.h"

namespace tinysh {

std::span<const Builtin> net_builtins() { return {}; }

}  // namespace tinysh
