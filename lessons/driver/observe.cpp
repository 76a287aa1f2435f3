#include "observe.h"

#include <regex>
#include <sstream>

#include <fmt/format.h>

namespace nslab::lessons {

namespace {

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool some_line_matches(const std::string& text, const std::string& pattern) {
  std::regex re(pattern, std::regex::ECMAScript);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, re)) return true;
  return false;
}

std::string shown(const std::string& output) {
  std::string t = trimmed(output);
  return t.empty() ? "(nothing)" : t;
}

}  // namespace

Judgement judge(const Expectation& e, const Observed& o) {
  const bool box = e.side == Whose::Box;
  const std::string& out = box ? o.box : o.host;
  const int status = box ? o.box_status : o.host_status;
  const char* whose = box ? "the box's output" : "the host's output";
  Judgement v;
  switch (e.kind) {
    case CheckKind::Contains:
      v.passed = out.find(e.text) != std::string::npos;
      v.expected = fmt::format("{} contains \"{}\"", whose, e.text);
      v.seen = shown(out);
      break;
    case CheckKind::Lacks:
      v.passed = out.find(e.text) == std::string::npos;
      v.expected = fmt::format("{} does not contain \"{}\"", whose, e.text);
      v.seen = shown(out);
      break;
    case CheckKind::Matches:
      v.passed = some_line_matches(out, e.text);
      v.expected = e.meaning.empty() ? fmt::format("a line of {} matches /{}/", whose, e.text)
                                     : fmt::format("{} shows {}", whose, e.meaning);
      v.seen = shown(out);
      break;
    case CheckKind::DiffersFromHost:
    case CheckKind::SameAsHost: {
      bool same = trimmed(o.box) == trimmed(o.host);
      v.passed = e.kind == CheckKind::SameAsHost ? same : !same;
      v.expected = e.kind == CheckKind::SameAsHost ? "the box prints what the host prints"
                                                   : "the box prints something else than the host";
      v.seen = fmt::format("box:  {}\nhost: {}", shown(o.box), shown(o.host));
      break;
    }
    case CheckKind::Succeeds:
    case CheckKind::Fails:
      v.passed = e.kind == CheckKind::Succeeds ? status == 0 : status != 0;
      v.expected = fmt::format(
          "{} {}", box ? "the last box command" : "the host script",
          e.kind == CheckKind::Succeeds ? "succeeds (status 0)" : "fails (status not 0)");
      v.seen = fmt::format("status {}; output: {}", status, shown(out));
      break;
  }
  return v;
}

}  // namespace nslab::lessons
