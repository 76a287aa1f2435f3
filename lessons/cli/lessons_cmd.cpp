#include "lessons_cmd.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "catalog.h"
#include "embedded.h"
#include "host_probe.h"
#include "lesson_needs.h"

namespace nslab::cli {

CLI::App* setup_lessons(CLI::App& app, LessonsOptions& options) {
  CLI::App* cmd =
      app.add_subcommand("lessons", "list the lessons and what each needs on this host");
  cmd->add_option("--dir", options.dir, "read the lessons from DIR instead")->type_name("DIR");
  return cmd;
}

namespace {

// "Lesson 5 · Cgroups: limits..." -> "Cgroups: limits...": the number is in its own column.
std::string_view without_number(std::string_view title) {
  size_t dot = title.find(" · ");
  return title.starts_with("Lesson ") && dot != std::string_view::npos ? title.substr(dot + 4)
                                                                       : title;
}

}  // namespace

int run_lessons(const LessonsOptions& options) {
  std::string dir = options.dir.empty() ? lessons_dir() : options.dir;
  // No folder of lessons: lessons_dir() has said why (it could not write out its own).
  if (dir.empty()) return 2;
  auto files = lessons::list_lessons(dir);
  if (files.empty()) {
    fmt::print(stderr, "nslab: no lessons (NN-name.md) in {}\n", dir);
    return 2;
  }
  // What this host can do for each lesson: the doctor's answers, from the lessons' own flags and
  // the files those needs depend on.
  auto needs = needs_of_lessons(dir);
  std::vector<sandbox::Need> every_need;
  for (const auto& lesson : needs) every_need.insert(every_need.end(), lesson.needs.begin(), lesson.needs.end());
  auto facts = sandbox::probe_host("/", sandbox::current_caller(), every_need);

  const bool root = ::geteuid() == 0;
  int broken = 0;
  for (const auto& file : files) {
    auto loaded = lessons::load_lesson(file);
    if (!loaded.lesson) {
      ++broken;
      fmt::print("{:>2}  {} cannot be read:\n{}", file.number, file.name, loaded.problem);
      continue;
    }
    const auto& lesson = *loaded.lesson;
    fmt::print("{:>2}  {}\n", file.number, without_number(lesson.title));
    auto mine = std::find_if(needs.begin(), needs.end(),
                             [&](const LessonNeeds& n) { return n.number == file.number; });
    bool needs_root = mine != needs.end() && root_only(facts, *mine);
    std::string who = !needs_root ? "runs as any user"
                      : root      ? "needs root (you are)"
                                  : fmt::format("needs root: sudo {} lesson {}",
                                                lessons::command_name(), file.number);
    std::vector<std::string> uses;
    std::string here;
    if (mine != needs.end()) {
      for (sandbox::Need need : mine->needs)
        if (auto flag = sandbox::need_flag(need); flag.starts_with("--") && flag.find(' ') == flag.npos)
          uses.emplace_back(flag);
      sandbox::Answer answer = judge(facts, *mine);
      here = answer.verdict == sandbox::Verdict::Wont
                 ? fmt::format("won't work here: {}; fix: {}", answer.because, answer.fix)
                 : "works here";
    }
    fmt::print("    {} · {}\n", who, here);
    if (!uses.empty()) fmt::print("    uses {}\n", fmt::join(uses, " "));
  }
  fmt::print("\nStart one with: {0} lesson N   ({0} check N checks it without you)\n",
             lessons::command_name());
  return broken ? 1 : 0;
}

}  // namespace nslab::cli
