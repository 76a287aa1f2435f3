// The challenge on the lesson screen (LessonObserver, guided.h). In guided mode the student gets
// the box's shell to do the task and comes back to have it checked; until the check passes they
// may try again, see a solution, or move on. In auto mode the solution is typed in their place.
// The check is the challenge's blocks below its solution: it runs here, once per attempt, and
// run_lesson() takes its result (challenge_checked()) instead of running it again.
#include "guided.h"

#include <fmt/format.h>

#include "observe.h"

namespace nslab::lessons {

LessonObserver::CheckResult LessonObserver::run_challenge_check(const LessonStep& challenge, size_t after,
                                                                BoxSession& box,
                                                                const DriverConfig& config) {
  CheckResult result;
  Observed seen;
  std::vector<std::string> env = host_env(&box, config);
  auto stopped = [&](const Block& a, std::string what, std::string problem) {
    result.ran = false;
    result.problem = problem;
    result.checked.misses.push_back({challenge.title, a.line, std::move(what), {}, problem});
    return result;
  };
  for (size_t i = after; i < challenge.blocks.size(); ++i) {
    const Block& a = challenge.blocks[i];
    switch (a.kind) {
      case Block::Kind::TypeInBox: {
        show_held_output();
        seen.box.clear();
        write("\n");
        for (const auto& command : a.commands) {
          auto typed = box.type(command, config.command_timeout);
          if (!typed)
            return stopped(a, fmt::format("the box stopped answering after `{}`", command),
                           typed.error().message());
          bool hold =
              holds_for_host(challenge, i, static_cast<size_t>(&command - &a.commands.front()));
          show_typed(command, *typed, box, hold ? Output::HoldForHost : Output::Show);
          if (!seen.box.empty() && !typed->output.empty()) seen.box += '\n';
          seen.box += typed->output;
          seen.box_status = typed->status;
        }
        break;
      }
      case Block::Kind::RunOnHost: {
        auto ran = run_on_host(a.script, env, 2 * config.command_timeout);
        if (!ran) return stopped(a, "the host block did not finish", ran.error().message());
        show_host(a, *ran);
        seen.host = ran->output;
        seen.host_status = ran->status;
        break;
      }
      case Block::Kind::Expect:
        show_held_output();
        write("\n");
        for (const auto& e : a.expectations) {
          Judgement v = judge(e, seen);
          show_verdict(v);
          if (v.passed) {
            ++result.checked.checks_passed;
          } else {
            result.missed.push_back(v);
            result.checked.misses.push_back(
                {challenge.title, e.line, e.source, v.expected, v.seen});
            missed_lines_.push_back(e.line);
          }
        }
        break;
      default:
        break;
    }
  }
  return result;
}

bool LessonObserver::attempt_challenge(const LessonStep& challenge, const Block& solution,
                                       BoxSession& box, const DriverConfig& config) {
  check_stop();
  box_ = &box;
  size_t after = static_cast<size_t>(&solution - &challenge.blocks.front()) + 1;
  sync_to(&solution);
  const std::string passed =
      styled(std::string(sgr::bold) + std::string(sgr::green), "Challenge passed.");
  if (settings_.mode == Mode::Auto) {
    write("\n");
    for (const auto& command : solution.commands) {
      auto typed = box.type(command, config.command_timeout);
      if (!typed) return false;
      show_typed(command, *typed, box, Output::Show);
    }
    write("\n" + styled(sgr::dim, "The check:") + "\n");
    auto result = run_challenge_check(challenge, after, box, config);
    checked_ = result.checked;
    challenge_passed_ = result.ran && result.missed.empty();
    write("\n" +
          (challenge_passed_ ? passed
                             : styled(std::string(sgr::bold) + std::string(sgr::red),
                                      "The solution did not pass the check.")) +
          "\n");
    return true;
  }
  for (;;) {
    enter_live_shell(box, "do the challenge, then come back to have it checked");
    write("\n" + styled(sgr::dim, "The check:") + "\n");
    auto result = run_challenge_check(challenge, after, box, config);
    checked_ = result.checked;
    if (!result.ran) {
      write(styled(sgr::red, "The check could not run: ") + result.problem + "\n");
      return true;
    }
    if (result.missed.empty()) {
      challenge_passed_ = true;
      write("\n" + passed + "\n");
      return true;
    }
    write("\n" + styled(std::string(sgr::bold) + std::string(sgr::yellow), "Not done yet.") +
          " The check wants: " + result.missed.front().expected + "\n");
    for (bool again = false; !again;) {
      char k = choose("Enter: try again · s: show the solution · q: move on", "\nsSqQ");
      if (k == 'q' || k == 'Q') return true;
      if (k == 's' || k == 'S') {
        write(styled(sgr::dim, "A solution, to type in the box:") + "\n");
        for (const auto& command : solution.commands)
          write("    " + styled(sgr::bold, command) + "\n");
        continue;
      }
      again = true;
    }
  }
}

std::optional<StepObserver::ChallengeChecked> LessonObserver::challenge_checked() {
  return checked_;
}

}  // namespace nslab::lessons
