#include "lessons_cmd.h"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "catalog.h"

namespace nslab::cli {

CLI::App* setup_lessons(CLI::App& app, LessonsOptions& options) {
  CLI::App* cmd =
      app.add_subcommand("lessons", "list the lessons and what each needs on this host");
  cmd->add_option("--dir", options.dir, "read the lessons from DIR instead")->type_name("DIR");
  return cmd;
}

int run_lessons(const LessonsOptions& options) {
  std::string dir = options.dir.empty() ? lessons::default_lessons_dir() : options.dir;
  auto files = lessons::list_lessons(dir);
  if (files.empty()) {
    fmt::print(stderr, "nslab: no lessons (NN-name.md) in {}\n", dir);
    return 2;
  }
  const bool root = ::geteuid() == 0;
  int broken = 0;
  for (const auto& file : files) {
    auto loaded = lessons::load_lesson(file);
    if (!loaded.lesson) {
      ++broken;
      fmt::print("{:>2}  {:<44} cannot be read:\n{}", file.number, file.name, loaded.problem);
      continue;
    }
    const auto& lesson = *loaded.lesson;
    bool needs_root = lessons::needs_root(lesson);
    std::string needs = !needs_root ? "runs as any user"
                        : root      ? "needs root: you are"
                                    : "needs root: run it with sudo";
    fmt::print("{:>2}  {:<44} {}\n", file.number, lesson.title, needs);
    auto flags = lesson.first_flags();
    fmt::print("    nslab run {}\n",
               flags.empty() ? "(no flags)" : fmt::format("{}", fmt::join(flags, " ")));
  }
  fmt::print("\nRun one with: nslab check N   (checks it without you)\n");
  return broken ? 1 : 0;
}

}  // namespace nslab::cli
