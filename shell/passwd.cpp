// Parsing of passwd(5) and group(5). See passwd.h for why tinysh reads them by hand.
#include "passwd.h"
#include "common/text.h"

#include <cstdint>

namespace tinysh {

namespace {

using common::split;

// Splits `text` into lines; drops a '\r' before each '\n' and a last line's missing '\n'.
template <typename F>
void for_each_line(std::string_view text, F&& handle) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    handle(line);
  }
}

// Lines that name no account: blank, comments, and the "+name"/"-name" lines of old NIS
// setups, which mean "ask the network" and carry no usable id in the file itself.
bool skippable(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return true;
  char c = line[first];
  return c == '#' || c == '+' || c == '-';
}

}  // namespace

std::optional<unsigned> parse_id(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  // (uid_t)-1 is not an id: chown(2) and setresuid(2) read it as "leave unchanged".
  if (value >= UINT32_MAX) return std::nullopt;
  return static_cast<unsigned>(value);
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> entries;
  for_each_line(text, [&](std::string_view line) {
    if (skippable(line)) return;
    std::vector<std::string_view> f = split(line, ':');
    // name, password, uid and gid are needed; gecos, home and shell may be missing.
    if (f.size() < 4 || f.size() > 7 || f[0].empty()) return;
    std::optional<unsigned> uid = parse_id(f[2]);
    std::optional<unsigned> gid = parse_id(f[3]);
    if (!uid || !gid) return;
    PasswdEntry e;
    e.name = f[0];
    e.uid = *uid;
    e.gid = *gid;
    if (f.size() > 4) e.gecos = f[4];
    if (f.size() > 5) e.home = f[5];
    if (f.size() > 6) e.shell = f[6];
    entries.push_back(std::move(e));
  });
  return entries;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> entries;
  for_each_line(text, [&](std::string_view line) {
    if (skippable(line)) return;
    std::vector<std::string_view> f = split(line, ':');
    if (f.size() < 3 || f.size() > 4 || f[0].empty()) return;
    std::optional<unsigned> gid = parse_id(f[2]);
    if (!gid) return;
    GroupEntry e;
    e.name = f[0];
    e.gid = *gid;
    if (f.size() == 4 && !f[3].empty())
      for (std::string_view member : split(f[3], ','))
        if (!member.empty()) e.members.emplace_back(member);
    entries.push_back(std::move(e));
  });
  return entries;
}

const PasswdEntry* IdNames::user(uid_t uid) const {
  for (const PasswdEntry& e : users_)
    if (e.uid == uid) return &e;
  return nullptr;
}

const PasswdEntry* IdNames::user(std::string_view name) const {
  for (const PasswdEntry& e : users_)
    if (e.name == name) return &e;
  return nullptr;
}

const GroupEntry* IdNames::group(gid_t gid) const {
  for (const GroupEntry& e : groups_)
    if (e.gid == gid) return &e;
  return nullptr;
}

const GroupEntry* IdNames::group(std::string_view name) const {
  for (const GroupEntry& e : groups_)
    if (e.name == name) return &e;
  return nullptr;
}

std::string IdNames::user_name(uid_t uid) const {
  const PasswdEntry* e = user(uid);
  return e ? e->name : std::to_string(uid);
}

std::string IdNames::group_name(gid_t gid) const {
  const GroupEntry* e = group(gid);
  return e ? e->name : std::to_string(gid);
}

}  // namespace tinysh
