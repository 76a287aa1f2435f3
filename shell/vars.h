// Shell variables. Each has a value and an "exported" mark: exported ones form the environment
// of every program tinysh starts (what `env` prints); the others live only in the shell.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tinysh {

class Vars {
 public:
  // Imports "NAME=value" strings (as in environ) as exported variables.
  static Vars from_environ(char** envp);

  std::optional<std::string> get(std::string_view name) const;
  void set(std::string_view name, std::string value);  // keeps the exported mark
  void set_exported(std::string_view name, std::string value);
  void mark_exported(std::string_view name);  // `export NAME` of a variable that may be unset
  void unset(std::string_view name);

  // "NAME=value" for every exported variable with a value, sorted by name.
  std::vector<std::string> environment() const;

  static bool valid_name(std::string_view name);  // [A-Za-z_][A-Za-z0-9_]*

 private:
  struct Var {
    std::optional<std::string> value;
    bool exported = false;
  };
  std::map<std::string, Var, std::less<>> vars_;
};

}  // namespace tinysh
