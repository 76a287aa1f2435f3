#include "catalog.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace nslab::lessons {

namespace fs = std::filesystem;

std::optional<int> lesson_number(const std::string& name) {
  if (name.size() < 7 || name.compare(name.size() - 3, 3, ".md") != 0) return std::nullopt;
  size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9') ++digits;
  if (digits == 0 || digits > 3 || name[digits] != '-') return std::nullopt;
  return std::stoi(name.substr(0, digits));
}

std::vector<LessonFile> list_lessons(const std::string& dir) {
  std::vector<LessonFile> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    auto n = lesson_number(name);
    if (!n || !entry.is_regular_file(ec)) continue;
    files.push_back({*n, name.substr(0, name.size() - 3), entry.path().string()});
  }
  std::sort(files.begin(), files.end(), [](const LessonFile& a, const LessonFile& b) {
    return a.number != b.number ? a.number < b.number : a.name < b.name;
  });
  return files;
}

std::string self_exe() {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("nslab") : path.string();
}

std::string default_lessons_dir() {
  if (const char* env = std::getenv("NSLAB_LESSONS"); env && *env) return env;
#ifdef NSLAB_LESSONS_DIR
  std::error_code ec;
  if (fs::is_directory(NSLAB_LESSONS_DIR, ec)) return NSLAB_LESSONS_DIR;
#endif
  return (fs::path(self_exe()).parent_path().parent_path().parent_path() / "lessons").string();
}

LoadedLesson load_lesson(const LessonFile& file) {
  LoadedLesson loaded{file, std::nullopt, {}};
  std::ifstream in(file.path);
  if (!in) {
    loaded.problem = fmt::format("{}: cannot be read", file.path);
    return loaded;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_lesson(text.str());
  if (!parsed.lesson) {
    loaded.problem = describe(parsed.errors, file.path);
    return loaded;
  }
  loaded.lesson = std::move(parsed.lesson);
  return loaded;
}

}  // namespace nslab::lessons
