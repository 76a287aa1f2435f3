#include "check.h"

#include "lesson_needs.h"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "box_flags.h"
#include "catalog.h"
#include "embedded.h"
#include "cgroup.h"
#include "steps.h"

namespace nslab::cli {

namespace {

// Check mode's observer: the solution stands in for the student; with --verbose, every command
// and its output is printed as it runs.
class CheckObserver : public lessons::StepObserver {
 public:
  explicit CheckObserver(bool verbose) : verbose_(verbose) {}

  void step_started(const lessons::LessonStep& step) override {
    if (verbose_) fmt::print("  ## {}\n", step.title);
  }
  void box_started(const lessons::Block& a, const lessons::BoxSession& box) override {
    if (verbose_)
      fmt::print("  [box started: nslab run{}{}; BOX_PID={}]\n", a.flags.empty() ? "" : " ",
                 fmt::join(a.flags, " "), box.box_pid());
  }
  void typed(const std::string& command, const lessons::Typed& t) override {
    if (!verbose_) return;
    fmt::print("  box$ {}\n", command);
    if (!t.output.empty()) fmt::print("{}\n", indent(t.output, "       "));
  }
  void host_ran(const lessons::Block&, const lessons::HostRun& run) override {
    if (!verbose_) return;
    fmt::print("  host (status {}):\n{}\n", run.status, indent(run.output, "       "));
  }
  bool attempt_challenge(const lessons::LessonStep&, const lessons::Block& solution,
                         lessons::BoxSession& box, const lessons::DriverConfig& config) override {
    return lessons::type_solution(solution, box, config, *this);
  }

  static std::string indent(const std::string& text, const std::string& by) {
    std::string out = by;
    for (size_t i = 0; i < text.size(); ++i) {
      out += text[i];
      if (text[i] == '\n' && i + 1 < text.size()) out += by;
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

 private:
  bool verbose_;
};

void print_miss(const lessons::Miss& m) {
  fmt::print("  step \"{}\", line {}: {}\n", m.step, m.line, m.what);
  if (!m.expected.empty()) fmt::print("    expected: {}\n", m.expected);
  if (!m.seen.empty())
    fmt::print("    seen:     {}\n", CheckObserver::indent(m.seen, "              ").substr(14));
}

}  // namespace

CLI::App* setup_check(CLI::App& app, CheckOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "check", "run lessons without a person and verify every expectation (as CI does)");
  cmd->add_option("numbers", options.numbers, "the lessons to check (default: all)")
      ->type_name("N");
  cmd->add_option("--dir", options.dir, "read the lessons from DIR instead")->type_name("DIR");
  cmd->add_option("--timeout", options.timeout_s, "seconds a typed command may take")
      ->check(CLI::Range(1, 600));
  cmd->add_flag("-v,--verbose", options.verbose, "print every command and what it printed");
  return cmd;
}

int run_check(const CheckOptions& options) {
  std::string dir = options.dir.empty() ? lessons_dir() : options.dir;
  // No folder of lessons: lessons_dir() has said why (it could not write out its own).
  if (dir.empty()) return 2;
  auto all = lessons::list_lessons(dir);
  std::vector<lessons::LessonFile> chosen;
  for (int n : options.numbers) {
    auto it = std::find_if(all.begin(), all.end(),
                           [n](const lessons::LessonFile& f) { return f.number == n; });
    if (it == all.end()) {
      fmt::print(stderr, "nslab check: there is no lesson {} in {}\n", n, dir);
      return 2;
    }
    chosen.push_back(*it);
  }
  if (options.numbers.empty()) chosen = all;
  if (chosen.empty()) {
    fmt::print(stderr, "nslab check: no lessons (NN-name.md) in {}\n", dir);
    return 2;
  }
  lessons::DriverConfig config;
  config.nslab = lessons::self_exe();
  config.tinysh = find_tinysh();
  config.command_timeout = std::chrono::seconds(options.timeout_s);

  // A user's boxes with limits on cgroup v2 need their runner's cgroup to hand controllers
  // down, which this process beside them would prevent: it steps into a leaf (cgroup.h).
  auto leaf = sandbox::cgroup::DriverLeaf::enter();
  int passed = 0, failed = 0;
  for (const auto& file : chosen) {
    std::fflush(stdout);
    auto loaded = lessons::load_lesson(file);
    if (!loaded.lesson) {
      ++failed;
      fmt::print("lesson {} ({}.md): FAILED, the file does not parse\n{}", file.number, file.name,
                 loaded.problem);
      continue;
    }
    const auto& lesson = *loaded.lesson;
    if (LessonHere here = lesson_here(needs_of(file.number, lesson)); here.needs_sudo) {
      ++failed;
      fmt::print("lesson {} ({}.md): FAILED, it needs root here ({}): run nslab check with sudo\n",
                 file.number, file.name, here.answer.because);
      continue;
    }
    if (options.verbose)
      fmt::print("lesson {} ({}.md): {}\n", file.number, file.name, lesson.title);
    CheckObserver observer(options.verbose);
    auto outcome = lessons::run_lesson(lesson, config, observer);
    if (outcome.passed()) {
      ++passed;
      fmt::print("lesson {} ({}.md): passed, {} checks\n", file.number, file.name,
                 outcome.checks_passed);
    } else {
      ++failed;
      fmt::print("lesson {} ({}.md): FAILED, {} of {} checks missed\n", file.number, file.name,
                 outcome.misses.size(), outcome.misses.size() + outcome.checks_passed);
      for (const auto& m : outcome.misses) print_miss(m);
    }
  }
  fmt::print("{} passed, {} failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace nslab::cli
