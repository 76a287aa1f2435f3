// Where the lessons are and which ones exist: lessons/NN-name.md, numbered by NN.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lesson.h"

namespace nslab::lessons {

struct LessonFile {
  int number = 0;
  std::string name;  // "01-hostname"
  std::string path;
};

// Files named NN-name.md in `dir`, by number. README.md and other names are not lessons.
std::vector<LessonFile> list_lessons(const std::string& dir);

// The number of a lesson file name ("03-pid.md" -> 3), nullopt when it is not one.
std::optional<int> lesson_number(const std::string& file_name);

// $NSLAB_LESSONS, else (for an nslab run from its build tree) the lessons/ folder of the source
// tree it was built from, else an installed <prefix>/share/nslab/lessons beside
// <prefix>/bin/nslab; "" when there is none of them (the command line then uses the lessons
// nslab carries, embedded.h).
std::string default_lessons_dir();

// The running nslab (/proc/self/exe): the driver starts boxes with this very binary.
std::string self_exe();
// How a person types this nslab: "nslab" when PATH finds this very file, else its path, relative
// to the working directory when it lies below it ("build/bin/nslab").
std::string command_name();

struct LoadedLesson {
  LessonFile file;
  std::optional<Lesson> lesson;
  std::string problem;  // why it could not be read or parsed, with line numbers
};
LoadedLesson load_lesson(const LessonFile& file);

}  // namespace nslab::lessons
