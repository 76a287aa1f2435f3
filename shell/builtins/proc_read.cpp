#include "proc_read.h"

#include <charconv>

namespace tinysh {

namespace {

template <typename T>
std::optional<T> number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Arguments and names may hold newlines or escape sequences (a `bash -c` script with several
// lines is common, and prctl(PR_SET_NAME) takes any bytes): one process must stay one row of ps,
// and no name may move the cursor. Control characters become '?', as procps's ps shows them.
std::string printable(std::string text) {
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return text;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  size_t open = text.find(" (");
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 2)
    return std::nullopt;
  ProcStat st;
  auto pid = number<pid_t>(text.substr(0, open));
  if (!pid) return std::nullopt;
  st.pid = *pid;
  st.comm = printable(std::string(text.substr(open + 2, close - open - 2)));
  // After the name: " S PPID ..."
  std::string_view rest = text.substr(close + 1);
  if (rest.size() < 4 || rest[0] != ' ' || rest[2] != ' ') return std::nullopt;
  st.state = rest[1];
  rest.remove_prefix(3);
  auto ppid = number<pid_t>(rest.substr(0, rest.find(' ')));
  if (!ppid) return std::nullopt;
  st.ppid = *ppid;
  // " PGRP SESSION ...", when present.
  for (pid_t* field : {&st.pgrp, &st.session}) {
    size_t space = rest.find(' ');
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
    auto value = number<pid_t>(rest.substr(0, rest.find(' ')));
    if (!value) break;
    *field = *value;
  }
  return st;
}

std::optional<uid_t> parse_status_effective_uid(std::string_view text) {
  size_t at = text.find("\nUid:");
  if (text.starts_with("Uid:"))
    at = 0;
  else if (at != std::string_view::npos)
    at += 1;
  else
    return std::nullopt;
  std::string_view line = text.substr(at + 4);
  line = line.substr(0, line.find('\n'));
  // Fields: real, effective, saved, filesystem. Take the second.
  int field = 0;
  while (!line.empty()) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    size_t end = line.find_first_of(" \t");
    std::string_view word = line.substr(0, end);
    if (++field == 2) return number<uid_t>(word);
    line.remove_prefix(word.size());
  }
  return std::nullopt;
}

std::string cmdline_text(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string text(raw);
  for (char& c : text)
    if (c == '\0') c = ' ';
  return printable(std::move(text));
}

std::optional<unsigned long long> parse_ns_link(std::string_view link) {
  size_t open = link.find(":[");
  if (open == std::string_view::npos || open == 0 || !link.ends_with(']')) return std::nullopt;
  return number<unsigned long long>(link.substr(open + 2, link.size() - open - 3));
}

}  // namespace tinysh
