#include "lesson.h"

#include "prose.h"
#include "text.h"

#include <algorithm>
#include <regex>
#include <sstream>

#include <fmt/format.h>

namespace nslab::lessons {

namespace {

using text::split_lines;
using text::starts_with;
using text::trim;

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> words;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Takes the next word off `rest`; empty when there is none.
std::string_view next_word(std::string_view& rest) {
  rest = trim(rest);
  size_t end = rest.find_first_of(" \t");
  std::string_view word = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  return word;
}

// A Markdown fence: three or more backticks (or tildes), optionally followed by an info string.
struct Fence {
  std::string marker;  // "```" or "````" or "~~~"
  std::string info;    // first word of the info string
};

std::optional<Fence> fence_of(std::string_view line) {
  std::string_view t = trim(line);
  if (t.size() < 3 || (t[0] != '`' && t[0] != '~')) return std::nullopt;
  size_t n = t.find_first_not_of(t[0]);
  if (n == std::string_view::npos) n = t.size();
  if (n < 3) return std::nullopt;
  std::string_view rest = t.substr(n);
  return Fence{std::string(t.substr(0, n)), std::string(next_word(rest))};
}

bool is_executed(const std::string& info) {
  return info == "flags" || info == "box" || info == "host" || info == "expect" ||
         info == "solution";
}

}  // namespace

std::optional<Expectation> parse_expectation(std::string_view line, std::string& error) {
  Expectation e;
  e.source = std::string(trim(line));
  std::string_view rest = e.source;
  std::string_view side = next_word(rest);
  if (side == "box") {
    e.side = Whose::Box;
  } else if (side == "host") {
    e.side = Whose::Host;
  } else {
    error =
        fmt::format("\"{}\": an expectation starts with box or host, not \"{}\"", e.source, side);
    return std::nullopt;
  }
  std::string_view verb = next_word(rest);
  std::string_view other = side == "box" ? "host" : "box";
  auto compared_with = [&](std::string_view with) {
    std::string_view w = next_word(rest);
    std::string_view target = next_word(rest);
    if (w != with || target != other || !trim(rest).empty()) {
      error = fmt::format("\"{}\": write \"{} {} {} {}\"", e.source, side, verb, with, other);
      return false;
    }
    return true;
  };
  if (verb == "contains" || verb == "lacks" || verb == "matches") {
    std::string_view text = trim(rest);
    // A pattern may say in words what it looks for, after "  # ": the student reads that.
    if (verb == "matches") {
      if (size_t hash = text.find("  # "); hash != std::string_view::npos) {
        e.meaning = std::string(trim(text.substr(hash + 4)));
        text = trim(text.substr(0, hash));
      }
    }
    // Quotes keep leading or trailing spaces: box contains " 1 "
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
      text = text.substr(1, text.size() - 2);
    if (text.empty()) {
      error = fmt::format("\"{}\": {} needs a text after it", e.source, verb);
      return std::nullopt;
    }
    e.text = std::string(text);
    e.kind = verb == "contains" ? CheckKind::Contains
             : verb == "lacks"  ? CheckKind::Lacks
                                : CheckKind::Matches;
    if (e.kind == CheckKind::Matches) {
      try {
        std::regex check(e.text, std::regex::ECMAScript);
      } catch (const std::regex_error& x) {
        error = fmt::format("\"{}\": not a regular expression: {}", e.source, x.what());
        return std::nullopt;
      }
    }
  } else if (verb == "differs") {
    if (!compared_with("from")) return std::nullopt;
    e.kind = CheckKind::DiffersFromHost;
  } else if (verb == "same") {
    if (!compared_with("as")) return std::nullopt;
    e.kind = CheckKind::SameAsHost;
  } else if (verb == "succeeds" || verb == "fails") {
    if (!trim(rest).empty()) {
      error = fmt::format("\"{}\": nothing may follow {}", e.source, verb);
      return std::nullopt;
    }
    e.kind = verb == "succeeds" ? CheckKind::Succeeds : CheckKind::Fails;
  } else {
    error = fmt::format(
        "\"{}\": unknown check \"{}\" (contains, lacks, matches, differs from, same as, "
        "succeeds, fails)",
        e.source, verb);
    return std::nullopt;
  }
  return e;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : lines_(split_lines(text)) {}

  ParseResult run() {
    for (size_t i = 0; i < lines_.size(); ++i) {
      int number = static_cast<int>(i) + 1;
      std::string_view line = lines_[i];
      if (auto fence = fence_of(line)) {
        size_t close = i + 1;
        while (close < lines_.size() && !closes(lines_[close], fence->marker)) ++close;
        if (close == lines_.size()) {
          error(number, fmt::format("the {} block opened here is never closed with {}",
                                    fence->info.empty() ? "code" : fence->info, fence->marker));
          break;
        }
        std::vector<std::string_view> body(lines_.begin() + i + 1, lines_.begin() + close);
        if (is_executed(fence->info)) {
          block(number, fence->info, body);
        } else {
          // A block in another language is documentation: shown, never run.
          for (size_t j = i; j <= close; ++j) prose(lines_[j]);
        }
        i = close;
      } else if (starts_with(line, "# ")) {
        if (!lesson_.title.empty()) error(number, "a second # title; steps are ## headings");
        lesson_.title = std::string(trim(line.substr(2)));
        title_seen_ = true;
      } else if (starts_with(line, "## ")) {
        heading(number, trim(line.substr(3)));
      } else {
        prose(line, number);
      }
    }
    finish();
    ParseResult result;
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ParseError& a, const ParseError& b) { return a.line < b.line; });
    result.errors = std::move(errors_);
    if (result.errors.empty()) result.lesson = std::move(lesson_);
    return result;
  }

 private:
  static bool closes(std::string_view line, const std::string& marker) {
    std::string_view t = trim(line);
    return t.size() >= marker.size() && t.find_first_not_of(marker[0]) == std::string_view::npos;
  }

  void error(int line, std::string message) { errors_.push_back({line, std::move(message)}); }

  LessonStep* current() { return lesson_.steps.empty() ? nullptr : &lesson_.steps.back(); }

  void prose(std::string_view line, int number = 0) {
    std::string problem;
    if (number > 0 && !pause_line(line, problem) && !problem.empty()) error(number, problem);
    std::string& into = current() ? current()->prose : lesson_.intro;
    if (into.empty() && trim(line).empty()) return;
    into += line;
    into += '\n';
  }

  void heading(int number, std::string_view title) {
    if (!title_seen_ && !title_reported_) {
      error(1, "the lesson starts with a # title line");
      title_reported_ = true;
    }
    LessonStep step;
    step.line = number;
    step.title = std::string(title);
    if (title == "Recap") {
      step.kind = LessonStep::Kind::Recap;
      if (recap_line_)
        error(number, fmt::format("a second ## Recap (first on line {})", recap_line_));
      recap_line_ = number;
    } else if (title == "Challenge") {
      step.kind = LessonStep::Kind::Challenge;
      if (challenge_line_)
        error(number, fmt::format("a second ## Challenge (first on line {})", challenge_line_));
      challenge_line_ = number;
    } else if (challenge_line_) {
      error(number, "a step after ## Challenge; the challenge ends the lesson");
    }
    if (title.empty()) error(number, "a ## heading without a title");
    lesson_.steps.push_back(std::move(step));
    // Outputs belong to their step: an expect block never looks into the step before.
    box_output_ = host_output_ = false;
  }

  void block(int number, const std::string& info, const std::vector<std::string_view>& body) {
    LessonStep* step = current();
    if (!step) {
      error(number, fmt::format("a {} block before the first ## step", info));
      return;
    }
    Block a;
    a.line = number;
    a.prose_before = step->prose.size();
    if (info == "flags") {
      a.kind = Block::Kind::StartBox;
      for (auto l : body)
        for (auto& w : split_words(trim(l))) a.flags.push_back(w);
      for (const auto& w : a.flags) {
        if (w == "-c" || w == "--")
          error(number, fmt::format("flags: {} is not allowed; the driver types the commands", w));
      }
      box_started_ = true;
      box_output_ = host_output_ = false;
    } else if (info == "box" || info == "solution") {
      a.kind = info == "box" ? Block::Kind::TypeInBox : Block::Kind::Solution;
      for (auto l : body)
        if (!trim(l).empty()) a.commands.emplace_back(trim(l));
      if (a.commands.empty()) error(number, fmt::format("an empty {} block", info));
      if (!box_started_)
        error(number, fmt::format("a {} block before any flags block: which box?", info));
      if (info == "solution") {
        if (step->kind != LessonStep::Kind::Challenge)
          error(number, "a solution block belongs in ## Challenge");
        solution_seen_ = true;
      } else {
        box_output_ = true;
      }
    } else if (info == "host") {
      a.kind = Block::Kind::RunOnHost;
      for (auto l : body) {
        a.script += l;
        a.script += '\n';
      }
      if (a.script.find_first_not_of(" \t\r\n") == std::string::npos)
        error(number, "an empty host block");
      if (!box_started_)
        error(number, "a host block before any flags block: $BOX_PID would name no box");
      host_output_ = true;
    } else {  // expect
      a.kind = Block::Kind::Expect;
      int written = 0;
      for (size_t k = 0; k < body.size(); ++k) {
        std::string_view l = trim(body[k]);
        if (l.empty() || l[0] == '#') continue;
        int at = number + 1 + static_cast<int>(k);
        ++written;
        std::string why;
        auto e = parse_expectation(l, why);
        if (!e) {
          error(at, why);
          continue;
        }
        e->line = at;
        bool uses_box = e->side == Whose::Box || e->kind == CheckKind::DiffersFromHost ||
                        e->kind == CheckKind::SameAsHost;
        bool uses_host = e->side == Whose::Host || e->kind == CheckKind::DiffersFromHost ||
                         e->kind == CheckKind::SameAsHost;
        if (uses_box && !box_output_)
          error(at, fmt::format("\"{}\": no box block above it in this step", e->source));
        if (uses_host && !host_output_)
          error(at, fmt::format("\"{}\": no host block above it in this step", e->source));
        a.expectations.push_back(std::move(*e));
      }
      if (written == 0) error(number, "an expect block without expectations");
      if (step->kind == LessonStep::Kind::Challenge && !solution_seen_)
        error(number, "the challenge's expect block comes after its solution block");
    }
    if (step->kind == LessonStep::Kind::Recap) {
      error(number, fmt::format("a {} block in ## Recap; the recap is prose only", info));
      return;
    }
    step->blocks.push_back(std::move(a));
  }

  void finish() {
    if (!title_seen_ && !title_reported_) error(1, "the lesson starts with a # title line");
    // Blank lines before the next heading belong to no one.
    auto tidy = [](std::string& prose) {
      while (prose.size() >= 2 && prose[prose.size() - 1] == '\n' &&
             prose[prose.size() - 2] == '\n')
        prose.pop_back();
    };
    tidy(lesson_.intro);
    for (auto& s : lesson_.steps) tidy(s.prose);
    int steps = 0;
    for (const auto& s : lesson_.steps) steps += s.kind == LessonStep::Kind::Step;
    if (title_seen_ && steps == 0) error(1, "a lesson needs at least one ## step");
    if (title_seen_ && steps > 0 && !recap_line_) error(1, "a lesson ends with a ## Recap");
    if (const LessonStep* c = lesson_.challenge()) {
      bool solution = false, expect = false;
      for (const auto& a : c->blocks) {
        solution |= a.kind == Block::Kind::Solution;
        expect |= a.kind == Block::Kind::Expect;
      }
      if (!solution)
        error(c->line, "## Challenge needs a solution block, so the check can be proven");
      if (!expect) error(c->line, "## Challenge needs an expect block: how is it checked?");
    } else if (title_seen_ && steps > 0) {
      error(1, "a lesson ends with a ## Challenge the student does in the live shell");
    }
  }

  std::vector<std::string_view> lines_;
  Lesson lesson_;
  std::vector<ParseError> errors_;
  bool title_seen_ = false;
  bool title_reported_ = false;
  bool box_started_ = false;
  bool box_output_ = false;
  bool host_output_ = false;
  bool solution_seen_ = false;
  int recap_line_ = 0;
  int challenge_line_ = 0;
};

}  // namespace

std::vector<std::string> Lesson::first_flags() const {
  for (const auto& s : steps)
    for (const auto& a : s.blocks)
      if (a.kind == Block::Kind::StartBox) return a.flags;
  return {};
}

std::vector<std::string> Lesson::last_flags() const {
  std::vector<std::string> last;
  for (const auto& s : steps)
    if (s.kind != LessonStep::Kind::Challenge)
      for (const auto& a : s.blocks)
        if (a.kind == Block::Kind::StartBox) last = a.flags;
  return last;
}

const LessonStep* Lesson::challenge() const {
  for (const auto& s : steps)
    if (s.kind == LessonStep::Kind::Challenge) return &s;
  return nullptr;
}

const LessonStep* Lesson::recap() const {
  for (const auto& s : steps)
    if (s.kind == LessonStep::Kind::Recap) return &s;
  return nullptr;
}

ParseResult parse_lesson(std::string_view text) {
  return Parser(text).run();
}

std::string describe(const std::vector<ParseError>& errors, std::string_view file) {
  std::string out;
  for (const auto& e : errors) out += fmt::format("{}:{}: {}\n", file, e.line, e.message);
  return out;
}

}  // namespace nslab::lessons
