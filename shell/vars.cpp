#include "vars.h"

namespace tinysh {

Vars Vars::from_environ(char** envp) {
  Vars v;
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry = *e;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || !valid_name(entry.substr(0, eq))) continue;
    v.set_exported(entry.substr(0, eq), std::string(entry.substr(eq + 1)));
  }
  return v;
}

std::optional<std::string> Vars::get(std::string_view name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second.value;
}

void Vars::set(std::string_view name, std::string value) {
  auto it = vars_.find(name);
  if (it == vars_.end()) it = vars_.emplace(std::string(name), Var{}).first;
  it->second.value = std::move(value);
}

void Vars::set_exported(std::string_view name, std::string value) {
  set(name, std::move(value));
  mark_exported(name);
}

void Vars::mark_exported(std::string_view name) {
  auto it = vars_.find(name);
  if (it == vars_.end()) it = vars_.emplace(std::string(name), Var{}).first;
  it->second.exported = true;
}

void Vars::unset(std::string_view name) {
  auto it = vars_.find(name);
  if (it != vars_.end()) vars_.erase(it);
}

std::vector<std::string> Vars::environment() const {
  std::vector<std::string> env;
  for (const auto& [name, var] : vars_)
    if (var.exported && var.value) env.push_back(name + "=" + *var.value);
  return env;
}

bool Vars::valid_name(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

}  // namespace tinysh
