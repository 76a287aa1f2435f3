#include "catalog.h"

#include <unistd.h>

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

std::string command_name() {
  std::error_code ec;
  const fs::path self = fs::weakly_canonical(self_exe(), ec);
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      size_t colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
      if (dir.empty()) continue;
      fs::path candidate = fs::path(dir) / "nslab";
      if (::access(candidate.c_str(), X_OK) != 0) continue;
      // The first nslab PATH finds is what `nslab` runs: this one or another.
      return fs::weakly_canonical(candidate, ec) == self ? "nslab" : self.string();
    }
  }
  fs::path cwd = fs::current_path(ec);
  if (!ec && cwd != "/") {
    fs::path relative = self.lexically_relative(cwd);
    // "nslab" alone would be looked up on PATH: the shell needs "./nslab".
    if (!relative.empty() && *relative.begin() != "..")
      return relative.has_parent_path() ? relative.string() : "./" + relative.string();
  }
  return self.string();
}

std::string default_lessons_dir() {
  if (const char* env = std::getenv("NSLAB_LESSONS"); env && *env) return env;
  std::error_code ec;
  fs::path bin = fs::path(self_exe()).parent_path();
#if defined(NSLAB_LESSONS_DIR) && defined(NSLAB_BUILD_DIR)
  // The source tree's lessons are for the nslab of its build tree; a copy of it elsewhere (the
  // one file a teacher hands out) uses the lessons it carries.
  if (bin.string().starts_with(NSLAB_BUILD_DIR "/") && fs::is_directory(NSLAB_LESSONS_DIR, ec))
    return NSLAB_LESSONS_DIR;
#endif
  // Installed: <prefix>/bin/nslab and <prefix>/share/nslab/lessons.
  fs::path installed = bin.parent_path() / "share/nslab/lessons";
  if (fs::is_directory(installed, ec)) return installed.string();
  return "";
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
