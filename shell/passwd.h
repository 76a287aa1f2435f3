// User and group names from /etc/passwd and /etc/group, read as plain text.
//
// The kernel knows only numbers: a process has a uid and gids, a file has an owner uid and a
// group gid. Names are a convention of user space, kept in two text files of the *current root*
// (passwd(5), group(5)). tinysh is linked statically, so it cannot use glibc's getpwuid() and
// friends (they load NSS modules at run time); it parses the files itself. That is also the
// point for a student: after pivot_root into a box whose /etc/passwd says something else, the
// same uid 0 gets a different name, and with no /etc/passwd at all every id shows as a number.
//
// Everything here is pure: text in, entries out. Reading the files is the caller's business.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tinysh {

// One line of /etc/passwd: name:password:uid:gid:gecos:home:shell
struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string gecos;
  std::string home;
  std::string shell;
};

// One line of /etc/group: name:password:gid:member,member,...
struct GroupEntry {
  std::string name;
  gid_t gid = 0;
  std::vector<std::string> members;
};

// Parse whole files. Blank lines, `#` comments, NIS "+"/"-" lines and malformed lines (too few
// fields, empty name, an id that is not a number or does not fit) are skipped, so one broken
// line never hides the others. A missing trailing newline and CRLF line ends are accepted.
std::vector<PasswdEntry> parse_passwd(std::string_view text);
std::vector<GroupEntry> parse_group(std::string_view text);

// A decimal id as the files and the kernel use it: digits only, below (id_t)-1, which the
// kernel reserves to mean "no id".
std::optional<unsigned> parse_id(std::string_view text);

// The names of one root's users and groups. Lookups return the first match, as the C library
// does when a file lists an id twice.
class IdNames {
 public:
  IdNames() = default;
  IdNames(std::vector<PasswdEntry> users, std::vector<GroupEntry> groups)
      : users_(std::move(users)), groups_(std::move(groups)) {}

  const PasswdEntry* user(uid_t uid) const;
  const PasswdEntry* user(std::string_view name) const;
  const GroupEntry* group(gid_t gid) const;
  const GroupEntry* group(std::string_view name) const;

  // The name, or the number as text when the files do not know the id.
  std::string user_name(uid_t uid) const;
  std::string group_name(gid_t gid) const;

 private:
  std::vector<PasswdEntry> users_;
  std::vector<GroupEntry> groups_;
};

}  // namespace tinysh
