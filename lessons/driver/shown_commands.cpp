// How the lesson screen shows the commands it runs (shown_commands.h): the prompt line found
// between the box's marker answers, the continued lines of a host script, and a host script
// that is the box's command run on the host.
#include "shown_commands.h"

#include "screen.h"
#include "text.h"

namespace nslab::lessons {

namespace {

using text::split_lines;
using text::starts_with;
using text::trim;

// Where the marker answers ("::nslab:N:S" at the start of a line) begin and end in `raw`.
struct Answer {
  size_t begin = 0, end = 0;
};

std::vector<Answer> marker_answers(std::string_view raw) {
  constexpr std::string_view tag = "::nslab:";
  std::vector<Answer> found;
  for (size_t at = raw.find(tag); at != std::string_view::npos; at = raw.find(tag, at + 1)) {
    if (at > 0 && raw[at - 1] != '\n' && raw[at - 1] != '\r') continue;
    size_t i = at + tag.size();
    size_t digits = i;
    while (i < raw.size() && raw[i] >= '0' && raw[i] <= '9') ++i;
    if (i == digits || i >= raw.size() || raw[i] != ':') continue;
    size_t status = ++i;
    while (i < raw.size() && raw[i] >= '0' && raw[i] <= '9') ++i;
    if (i == status || i >= raw.size() || (raw[i] != '\r' && raw[i] != '\n')) continue;
    while (i < raw.size() && (raw[i] == '\r' || raw[i] == '\n')) ++i;
    found.push_back({at, i});
  }
  return found;
}

}  // namespace

PromptLine last_prompt_line(std::string_view raw, const std::string& command) {
  auto answers = marker_answers(raw);
  PromptLine line{{}, command};
  if (answers.size() < 2) return line;
  const Answer& before = answers[answers.size() - 2];
  const Answer& last = answers.back();
  std::string screen = screen_text(raw.substr(before.end, last.begin - before.end));
  // The typed line is the first that ends with the command; the shell may have printed a
  // notice above it (a background job's "[1] Done").
  for (auto text : split_lines(screen)) {
    if (text.size() >= command.size() && text.ends_with(command)) {
      line.prompt = std::string(text.substr(0, text.size() - command.size()));
      break;
    }
  }
  return line;
}

std::vector<bool> continuation_lines(std::string_view script) {
  std::vector<bool> more;
  int depth = 0;         // inside for/while/until/if/case/{ ... }
  bool carried = false;  // the line before ended with \, |, && or ||
  for (auto line : split_lines(script)) {
    std::string_view t = trim(line);
    more.push_back(depth > 0 || carried);
    size_t i = 0;
    while (i < t.size()) {
      while (i < t.size() && (t[i] == ' ' || t[i] == ';' || t[i] == '\t')) ++i;
      size_t j = i;
      while (j < t.size() && t[j] != ' ' && t[j] != ';' && t[j] != '\t') ++j;
      std::string_view word = t.substr(i, j - i);
      if (word == "for" || word == "while" || word == "until" || word == "if" || word == "case" ||
          word == "{")
        ++depth;
      else if ((word == "done" || word == "fi" || word == "esac" || word == "}") && depth > 0)
        --depth;
      i = j;
    }
    carried = t.ends_with("\\") || t.ends_with("|") || t.ends_with("&&");
  }
  return more;
}

bool runs_same_command(std::string_view box_command, std::string_view host_script) {
  std::string_view host = trim(host_script);
  if (host.empty() || host.find('\n') != std::string_view::npos) return false;
  for (std::string_view tinysh : {"\"$TINYSH\" -c ", "$TINYSH -c "}) {
    if (starts_with(host, tinysh)) {
      host = trim(host.substr(tinysh.size()));
      if (host.size() >= 2 && (host.front() == '"' || host.front() == '\'') &&
          host.back() == host.front())
        host = host.substr(1, host.size() - 2);
      break;
    }
  }
  return host == trim(box_command);
}

}  // namespace nslab::lessons
