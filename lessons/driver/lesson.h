// A lesson as a value: what lessons/NN-name.md says, parsed without running anything.
//
// A lesson file is Markdown that reads as documentation on GitHub and that the driver can run
// (lessons/README.md describes the format for teachers). Fenced blocks with these info strings
// are executed; every other line is prose, shown to the student:
//
//   ```flags     the `nslab run` flags of the box the following blocks run in (starts a box)
//   ```box       commands typed into the box's shell, one per line, as a person would
//   ```host      a /bin/sh script run on the host while the box lives ($BOX_PID, $TINYSH, $NSLAB)
//   ```expect    observations about the box and host blocks just above, one per line
//   ```solution  (challenge only) what a student could type; `nslab check` types it
//
// `# Title` opens the lesson; each `## Heading` starts a step, except `## Recap` and
// `## Challenge`. parse_lesson() is pure: text in, a Lesson or every error with its line number
// out, so the format is unit-tested without a box.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::lessons {

// Whose output an expectation looks at.
enum class Whose { Box, Host };

enum class CheckKind {
  Contains,         // the output holds TEXT
  Lacks,            // the output does not hold TEXT ("absent")
  Matches,          // some line of the output matches the regular expression TEXT
  DiffersFromHost,  // the box's output is not the host's (side-by-side probes)
  SameAsHost,       // the box's output is the host's
  Succeeds,         // the last box command (or the host script) exited with status 0
  Fails,            // ... with a status other than 0
};

struct Expectation {
  int line = 0;
  Whose side = Whose::Box;
  CheckKind kind = CheckKind::Contains;
  std::string text;    // TEXT or REGEX; empty for the comparisons and statuses
  std::string meaning;  // what a REGEX looks for, in words ("a map of one id"), or empty
  std::string source;  // the line as written, for reports
};

// One fenced block of a step: ```nslab-run, ```box, ```host, ```expect or ```solution.
struct Block {
  enum class Kind { StartBox, TypeInBox, RunOnHost, Expect, Solution };
  Kind kind = Kind::TypeInBox;
  int line = 0;                           // of the opening fence
  std::vector<std::string> flags;         // StartBox: words after `nslab run`
  std::vector<std::string> commands;      // TypeInBox, Solution: one line each
  std::string script;                     // RunOnHost
  std::vector<Expectation> expectations;  // Expect
  size_t prose_before = 0;                // the step's prose up to here is written above it
};

struct LessonStep {
  enum class Kind { Step, Recap, Challenge };
  Kind kind = Kind::Step;
  int line = 0;
  std::string title;
  std::string prose;  // the Markdown text between the blocks, as written
  std::vector<Block> blocks;
};

struct Lesson {
  std::string title;
  std::string intro;        // prose before the first step
  std::vector<LessonStep> steps;  // in file order, Recap and Challenge included

  // The first box's flags: what the lesson as a whole turns on.
  std::vector<std::string> first_flags() const;
  // The last box's before the challenge: where the lesson left the student, which the next
  // lesson's probe table compares with.
  std::vector<std::string> last_flags() const;
  const LessonStep* challenge() const;
  const LessonStep* recap() const;
};

struct ParseError {
  int line = 0;
  std::string message;
};

struct ParseResult {
  std::optional<Lesson> lesson;    // set when there is no error
  std::vector<ParseError> errors;  // every problem found, in line order
};

ParseResult parse_lesson(std::string_view text);

// One expectation line ("box contains tinyhost"); nullopt and `error` set when it is malformed.
std::optional<Expectation> parse_expectation(std::string_view line, std::string& error);

// "line 12: ..." for each error, one per line.
std::string describe(const std::vector<ParseError>& errors, std::string_view file);

}  // namespace nslab::lessons
