// Judging an expectation against what the box and the host printed. Pure code: the step runner
// collects the outputs, this decides, and the report says what was expected and what was seen.
#pragma once

#include <string>

#include "lesson.h"

namespace nslab::lessons {

// The outputs an expect block looks at: those of the nearest box and host blocks above it.
struct Observed {
  std::string box;      // the screen text the box's commands printed, without prompts
  int box_status = 0;   // $? of the last command typed
  std::string host;     // stdout and stderr of the host script
  int host_status = 0;  // its exit status
};

struct Judgement {
  bool passed = false;
  std::string expected;  // in words: "the box's output contains \"tinyhost\""
  std::string seen;      // what was there instead (the output, or the status)
};

Judgement judge(const Expectation& e, const Observed& o);

}  // namespace nslab::lessons
