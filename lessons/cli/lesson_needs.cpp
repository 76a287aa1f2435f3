#include "lesson_needs.h"

#include <algorithm>

#include <fmt/format.h>

#include "box_flags.h"

namespace nslab::cli {

sandbox::Result<sandbox::Spec> spec_from_words(const std::vector<std::string>& words) {
  CLI::App app{"nslab run"};
  BoxFlags flags;
  add_box_flags(app, flags);
  // CLI11 takes the arguments last first.
  std::vector<std::string> args(words.rbegin(), words.rend());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return sandbox::plain_error(fmt::format("flags `{}`: {}", fmt::join(words, " "), e.what()));
  }
  // The tinysh path does not change what a box needs.
  return to_spec(flags, "tinysh");
}

LessonNeeds needs_of(int number, const lessons::Lesson& lesson) {
  LessonNeeds out;
  out.number = number;
  out.title = lesson.title;
  for (const auto& step : lesson.steps)
    for (const auto& action : step.blocks) {
      if (action.kind != lessons::Block::Kind::StartBox) continue;
      auto spec = spec_from_words(action.flags);
      if (!spec) {
        out.problem = fmt::format("line {}: {}", action.line, spec.error().message());
        continue;
      }
      for (sandbox::Need need : sandbox::box_needs(*spec))
        if (std::find(out.needs.begin(), out.needs.end(), need) == out.needs.end())
          out.needs.push_back(need);
    }
  std::sort(out.needs.begin(), out.needs.end());
  return out;
}

std::vector<LessonNeeds> needs_of_lessons(const std::string& dir) {
  std::vector<LessonNeeds> all;
  for (const auto& file : lessons::list_lessons(dir)) {
    auto loaded = lessons::load_lesson(file);
    if (!loaded.lesson) {
      all.push_back({file.number, file.name, {}, loaded.problem});
      continue;
    }
    all.push_back(needs_of(file.number, *loaded.lesson));
  }
  return all;
}

sandbox::Answer judge(const sandbox::HostFacts& facts, const LessonNeeds& lesson) {
  if (!lesson.problem.empty())
    return {sandbox::Verdict::Wont, "the lesson file is broken: " + lesson.problem,
            "nslab check " + std::to_string(lesson.number) + " names every error"};
  return sandbox::meet_all(facts, lesson.needs);
}

sandbox::HostFacts as_root(sandbox::HostFacts facts) {
  facts.who.euid = 0;
  facts.who.privileged = true;
  facts.cap_sys_admin = facts.cap_net_admin = true;
  return facts;
}

sandbox::HostFacts as_user(sandbox::HostFacts facts) {
  if (facts.who.euid == 0) {
    facts.who.euid = 65534;
    facts.subordinate_ids = false;  // root's facts say nothing of a user's ranges
  }
  facts.who.privileged = false;
  facts.cap_sys_admin = facts.cap_net_admin = false;
  return facts;
}

bool root_only(const sandbox::HostFacts& facts, const LessonNeeds& lesson) {
  return judge(as_user(facts), lesson).verdict == sandbox::Verdict::Wont &&
         judge(as_root(facts), lesson).verdict != sandbox::Verdict::Wont;
}

LessonHere lesson_here(const sandbox::HostFacts& facts, const LessonNeeds& lesson) {
  LessonHere here{judge(facts, lesson)};
  here.needs_sudo = here.answer.verdict == sandbox::Verdict::Wont && !facts.privileged() &&
                    root_only(facts, lesson);
  return here;
}

LessonHere lesson_here(const LessonNeeds& lesson) {
  return lesson_here(sandbox::probe_host("/", sandbox::current_caller(), lesson.needs), lesson);
}

}  // namespace nslab::cli
