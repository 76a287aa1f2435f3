#include "steps.h"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nslab::lessons {

namespace {

// What the blocks of the current step have produced so far, and the box they run in.
struct Walk {
  const DriverConfig& config;
  StepObserver& observer;
  std::optional<BoxSession> box;
  Observed seen;
  LessonOutcome outcome;
  bool stopped = false;  // the box is gone or would not start: the rest cannot run

  void miss(const LessonStep& step, int line, std::string what, std::string expected = {},
            std::string observed = {}) {
    outcome.misses.push_back(
        {step.title, line, std::move(what), std::move(expected), std::move(observed)});
  }

  std::vector<std::string> host_env() const {
    return lessons::host_env(box ? &*box : nullptr, config);
  }

  // Runs one action. `judge_only` collects verdicts into `verdicts` instead of the outcome (for
  // proving that a challenge's check fails before the solution).
  void act(const LessonStep& step, const Block& a, std::vector<Judgement>* verdicts = nullptr) {
    if (stopped) return;
    switch (a.kind) {
      case Block::Kind::StartBox: {
        box.reset();  // the previous box ends first: one box at a time
        auto started = BoxSession::start(config.nslab, a.flags, config.command_timeout,
                                         config.box_columns);
        if (!started) {
          miss(step, a.line,
               fmt::format("the box did not start: nslab run {}", fmt::join(a.flags, " ")),
               "a shell prompt", started.error().message());
          stopped = true;
          return;
        }
        box.emplace(std::move(*started));
        seen = {};
        observer.box_started(a, *box);
        return;
      }
      case Block::Kind::TypeInBox:
      case Block::Kind::Solution: {
        seen.box.clear();
        for (const auto& command : a.commands) {
          auto typed = box->type(command, config.command_timeout);
          if (!typed) {
            miss(step, a.line, fmt::format("the box stopped answering after `{}`", command),
                 "the shell's prompt again", typed.error().message());
            stopped = true;
            return;
          }
          observer.typed(command, *typed);
          if (!seen.box.empty() && !typed->output.empty()) seen.box += '\n';
          seen.box += typed->output;
          seen.box_status = typed->status;
        }
        return;
      }
      case Block::Kind::RunOnHost: {
        auto ran = run_on_host(a.script, host_env(), 2 * config.command_timeout);
        if (!ran) {
          miss(step, a.line, "the host block did not finish", "the script to end",
               ran.error().message());
          seen.host.clear();
          seen.host_status = -1;
          return;
        }
        observer.host_ran(a, *ran);
        seen.host = ran->output;
        seen.host_status = ran->status;
        return;
      }
      case Block::Kind::Expect:
        for (const auto& e : a.expectations) {
          Judgement v = judge(e, seen);
          if (verdicts) {
            verdicts->push_back(v);
            continue;
          }
          observer.judged(step, e, v);
          if (v.passed) {
            ++outcome.checks_passed;
          } else {
            miss(step, e.line, e.source, v.expected, v.seen);
          }
        }
        return;
    }
  }

  void challenge(const LessonStep& step) {
    size_t at = 0;
    while (at < step.blocks.size() && step.blocks[at].kind != Block::Kind::Solution)
      act(step, step.blocks[at++]);
    if (stopped || at == step.blocks.size()) return;
    const Block& solution = step.blocks[at];
    if (!box) {
      miss(step, solution.line, "the challenge has no box to try it in");
      return;
    }
    if (config.prove_challenge_check) {
      // A check that passes before the student did anything cannot tell success from nothing.
      std::vector<Judgement> before;
      for (size_t k = at + 1; k < step.blocks.size(); ++k) act(step, step.blocks[k], &before);
      bool all_pass = !before.empty();
      for (const auto& v : before) all_pass &= v.passed;
      if (all_pass)
        miss(step, solution.line, "the challenge's check passes before the solution is typed",
             "at least one expectation fails while the box is untouched",
             "every expectation passed");
    }
    if (stopped) return;
    if (!observer.attempt_challenge(step, solution, *box, config)) {
      miss(step, solution.line, "the challenge was not attempted");
      return;
    }
    if (auto checked = observer.challenge_checked()) {
      outcome.checks_passed += checked->checks_passed;
      for (auto& m : checked->misses) outcome.misses.push_back(std::move(m));
      return;
    }
    seen = {};
    for (size_t k = at + 1; k < step.blocks.size(); ++k) act(step, step.blocks[k]);
  }
};

}  // namespace

std::vector<std::string> host_env(const BoxSession* box, const DriverConfig& config) {
  std::vector<std::string> env = {
      fmt::format("BOX_PID={}", box ? box->box_pid() : -1),
      fmt::format("RUNNER_PID={}", box ? box->runner_pid() : -1),
      "TINYSH=" + config.tinysh,
      "NSLAB=" + config.nslab,
  };
  // With --veth: the two ends of the box's cable, so host blocks talk to this box only.
  VethLine veth = box && box->veth() ? *box->veth() : VethLine{};
  env.push_back("BOX_ADDR=" + veth.box_address);
  env.push_back("HOST_ADDR=" + veth.host_address);
  env.push_back("HOST_VETH=" + veth.host_link);
  env.push_back("BRIDGE=" + veth.bridge);
  return env;
}

bool type_solution(const Block& solution, BoxSession& box, const DriverConfig& config,
                   StepObserver& observer) {
  for (const auto& command : solution.commands) {
    auto typed = box.type(command, config.command_timeout);
    if (!typed) return false;
    observer.typed(command, *typed);
  }
  return true;
}

LessonOutcome run_lesson(const Lesson& lesson, const DriverConfig& config, StepObserver& observer) {
  Walk walk{config, observer, std::nullopt, {}, {}, false};
  for (const auto& step : lesson.steps) {
    if (walk.stopped) break;
    observer.step_started(step);
    // Each step judges its own blocks only.
    walk.seen = {};
    if (step.kind == LessonStep::Kind::Challenge) {
      walk.challenge(step);
    } else {
      for (const auto& a : step.blocks) walk.act(step, a);
    }
  }
  walk.box.reset();  // ends the last box before the outcome is reported
  return std::move(walk.outcome);
}

}  // namespace nslab::lessons
