#include "lesson_cmd.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "asciicast.h"
#include "box_flags.h"
#include "catalog.h"
#include "embedded.h"
#include "cgroup.h"
#include "guided.h"
#include "keyboard.h"
#include "lesson_needs.h"
#include "steps.h"
#include "terminal_out.h"

namespace nslab::cli {

namespace {

// "Lesson 1 · UTS namespace: ..." -> "UTS namespace: ...", for lists that show the number.
std::string short_title(const std::string& title) {
  constexpr std::string_view lesson = "Lesson ";
  constexpr std::string_view dot = " · ";
  if (title.rfind(lesson, 0) != 0) return title;
  size_t at = title.find(dot);
  if (at == std::string::npos) return title;
  for (size_t i = lesson.size(); i < at; ++i)
    if (title[i] < '0' || title[i] > '9') return title;
  return title.substr(at + dot.size());
}

// The terminal's size from stdout, else stdin; nullopt when neither is a terminal.
std::optional<winsize> terminal_size() {
  winsize ws{};
  for (int fd : {1, 0})
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return ws;
  return std::nullopt;
}

// What to put before a suggested nslab command: "sudo " when the user came through sudo, or
// is not root and the command needs it.
std::string sudo_prefix(bool needs_root) {
  if (::geteuid() == 0) return std::getenv("SUDO_UID") ? "sudo " : "";
  return needs_root ? "sudo " : "";
}

// Whether a lesson needs sudo here, from its own flags and this host's files (lesson_here()).
bool needs_sudo(const lessons::LessonFile& file) {
  auto loaded = lessons::load_lesson(file);
  return loaded.lesson && lesson_here(needs_of(file.number, *loaded.lesson)).needs_sudo;
}

// Ignores SIGPIPE while it lives: a closed stdout is then an error the screen notices
// (TerminalOut::stdout_broken), not the end of nslab with the box still running.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() { old_ = ::signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { ::signal(SIGPIPE, old_); }

 private:
  sighandler_t old_;
};

}  // namespace

bool parse_size(const std::string& text, int& width, int& height) {
  size_t x = text.find('x');
  if (x == std::string::npos || x == 0 || x + 1 >= text.size()) return false;
  auto number = [](const std::string& s, int& out) {
    if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
      return false;
    out = std::stoi(s);
    return out >= 20 && out <= 1000;
  };
  return number(text.substr(0, x), width) && number(text.substr(x + 1), height);
}

CLI::App* setup_lesson(CLI::App& app, LessonOptions& options) {
  CLI::App* cmd =
      app.add_subcommand("lesson", "take a lesson: step by step, with a shell in the box");
  cmd->add_option("number", options.number, "the lesson (default 1; `nslab` lists them)")
      ->type_name("N");
  cmd->add_flag("--auto", options.auto_play, "play by itself at a typing pace, for a demo");
  cmd->add_option("--speed", options.speed, "with --auto or --record: 2 plays twice as fast")
      ->type_name("X")
      ->check(CLI::Range(0.1, 50.0));
  cmd->add_option("--record", options.record, "write an asciicast v2 recording (plays by itself)")
      ->type_name("FILE");
  cmd->add_option("--size", options.size, "the recording's size (default 80x24, or bigger)")
      ->type_name("WxH");
  cmd->add_option("--dir", options.dir, "read the lessons from DIR instead")->type_name("DIR");
  cmd->add_option("--timeout", options.timeout_s, "seconds a typed command may take")
      ->check(CLI::Range(1, 600));
  return cmd;
}

namespace {

// The size of a recording, in characters.
struct CastSize {
  int width = 80, height = 24;
};

// --size, --record and guided mode's keyboard, checked before anything starts: false, said on
// stderr, when they cannot work. Fills `cast` from --size.
bool options_work(const LessonOptions& options, int number, lessons::Mode mode, CastSize& cast) {
  const bool recording = !options.record.empty();
  if (!options.size.empty()) {
    if (!recording) {
      fmt::print(stderr, "nslab lesson: --size is the size of a recording; add --record FILE\n");
      return false;
    }
    if (!parse_size(options.size, cast.width, cast.height)) {
      fmt::print(stderr,
                 "nslab lesson: --size {}: give WIDTHxHEIGHT in characters, e.g. 100x30 "
                 "(20 to 1000 each)\n",
                 options.size);
      return false;
    }
  }
  if (recording) {
    if (auto problem = lessons::record_path_problem(options.record); !problem.empty()) {
      fmt::print(stderr, "nslab lesson: cannot record to {}: {}\n", options.record, problem);
      return false;
    }
  }
  if (mode == lessons::Mode::Guided && !::isatty(0)) {
    fmt::print(stderr,
               "nslab lesson: guided mode waits for your keys, but stdin is not a terminal. "
               "Watch it play with `{1} lesson {0} --auto`, or verify it with `{1} check "
               "{0}`.\n",
               number, lessons::command_name());
    return false;
  }
  return true;
}

// Whether the lesson can run on this host as this user: false, with the sudo command to use,
// when it needs root here. A lesson that will probably fail anyway only gets a warning.
bool runs_here(const lessons::LessonFile& file, const lessons::Lesson& lesson,
               const std::string& nslab) {
  LessonHere here = lesson_here(needs_of(file.number, lesson));
  if (here.needs_sudo) {
    fmt::print(stderr,
               "nslab lesson: lesson {} needs root here: {}.\nRun it with: sudo {} lesson {}\n",
               file.number, here.answer.because, nslab, file.number);
    return false;
  }
  if (here.answer.verdict == sandbox::Verdict::Wont)
    // The doctor may not see everything (a kernel's own rule, a security module): the boxes
    // themselves say what fails, and the lesson goes on to show it.
    fmt::print(stderr,
               "nslab lesson: lesson {} will probably fail here: {}.\nThe fix: {}. (`{} doctor` "
               "checks this machine.)\n",
               file.number, here.answer.because, here.answer.fix, nslab);
  return true;
}

// The step runner's settings for a person at a screen `box_columns` wide.
lessons::DriverConfig driver_config(const LessonOptions& options, int box_columns) {
  lessons::DriverConfig config;
  config.nslab = lessons::self_exe();
  config.tinysh = find_tinysh();
  config.command_timeout = std::chrono::seconds(options.timeout_s);
  config.prove_challenge_check = false;  // the person (or the solution) is the proof here
  config.box_columns = box_columns;
  return config;
}

// The recording's file, created with its header; nullopt, said on stderr, when it cannot be.
std::optional<lessons::CastWriter> create_recording(const std::string& path, CastSize size,
                                                    const std::string& title) {
  lessons::CastHeader header;
  header.width = size.width;
  header.height = size.height;
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  header.timestamp =
      epoch && *epoch ? std::atoll(epoch) : static_cast<long long>(std::time(nullptr));
  header.title = title;
  auto created = lessons::CastWriter::create(path, header);
  if (!created) {
    fmt::print(stderr, "nslab lesson: {}\n", created.error().message());
    return std::nullopt;
  }
  return std::move(*created);
}

// How the screen writes: colors, width, pace, and whether it pages and follows the terminal.
lessons::TerminalOut::Options screen_options(const LessonOptions& options, lessons::Mode mode,
                                             int width, const std::optional<winsize>& size) {
  const bool recording = !options.record.empty();
  const char* no_color = std::getenv("NO_COLOR");
  lessons::TerminalOut::Options screen;
  screen.stdout_color = lessons::color_wanted(::isatty(1), no_color);
  screen.cast_color = lessons::color_wanted(true, no_color);
  screen.width = width;
  screen.paced = mode == lessons::Mode::Auto;
  screen.wait_for_real = mode == lessons::Mode::Auto && !recording;
  screen.speed = options.speed;
  if (!recording && size && ::isatty(1)) {
    // A screen that follows its terminal: paged in guided mode, resized in both.
    screen.height = mode == lessons::Mode::Guided ? size->ws_row : 0;
    screen.follow_size = true;
  }
  return screen;
}

// The screen's settings for the lesson all[at]: the lesson after it is the next one, and the one
// before it says what the probe table marks as changed.
lessons::ScreenSettings screen_settings(lessons::Mode mode,
                                        const std::vector<lessons::LessonFile>& all, size_t at,
                                        const std::string& nslab) {
  const lessons::LessonFile& file = all[at];
  std::optional<int> next;
  if (at + 1 < all.size()) next = all[at + 1].number;
  lessons::ScreenSettings settings;
  settings.mode = mode;
  settings.lesson_number = file.number;
  settings.next_lesson = next;
  settings.screen_is_terminal = ::isatty(1);
  settings.nslab = nslab;
  settings.sudo = sudo_prefix(false);
  settings.next_sudo = sudo_prefix(next && needs_sudo(all[at + 1]));
  if (at > 0) {
    // What the previous lesson's box saw, so the probe table marks what this one changed.
    auto previous = lessons::load_lesson(all[at - 1]);
    if (previous.lesson) settings.previous_flags = previous.lesson->last_flags();
  }
  return settings;
}

// How the lesson ended: its exit status, and whether it ran to its end.
struct LessonEnd {
  int status = 0;
  bool to_the_end = false;  // not stopped on the way (q, a signal)
};

// The lesson on the screen, from its introduction to what comes next; stopped early (q, a stop
// signal), the box is gone and the screen says how to start again.
LessonEnd take_lesson(const lessons::Lesson& lesson, const lessons::DriverConfig& config,
                      lessons::LessonObserver& observer, lessons::Keyboard* keys,
                      lessons::TerminalOut& out, const lessons::ScreenSettings& settings) {
  LessonEnd end;
  try {
    observer.introduce();
    auto outcome = lessons::run_lesson(lesson, config, observer);
    observer.finish(outcome);
    end.status = outcome.passed() ? 0 : 1;
    end.to_the_end = true;
  } catch (const lessons::LessonStopped& stopped) {
    // run_lesson() has unwound: its box is ended. The terminal comes back as it was, and the
    // last words do not wait at a "more" line.
    if (keys) keys->restore();
    out.on_page_full(nullptr);
    end.status = stopped.status;
    std::string again =
        fmt::format("{}{} lesson {}", settings.sudo, settings.nslab, settings.lesson_number);
    if (end.status == 0)
      out.write(fmt::format("\nLesson stopped; the box is gone. `{}` starts it again.\n", again));
    else if (end.status == 128 + SIGINT)
      out.write(fmt::format("\nInterrupted; the box is gone. `{}` starts it again.\n", again));
    else if (end.status > 128 && end.status != 128 + SIGPIPE)
      out.write(fmt::format("\nStopped by signal {}; the box is gone.\n", end.status - 128));
  }
  return end;
}

// Closes the recording of `seconds` and says where it is; the exit status.
int finish_recording(lessons::CastWriter& cast, double seconds, const LessonEnd& end,
                     const std::string& path, int number) {
  auto closed = cast.close();
  if (!closed) {
    fmt::print(stderr, "nslab lesson: the recording is incomplete: {}\n", closed.error().message());
    return end.status ? end.status : 1;
  }
  if (end.to_the_end)
    fmt::print("\nRecorded {} seconds of lesson {} to {}. Play it with: asciinema play {}\n",
               static_cast<int>(seconds + 0.5), number, path, path);
  else
    fmt::print(
        "The recording stopped with the lesson: {} holds its first {} seconds "
        "(asciinema play {}).\n",
        path, static_cast<int>(seconds + 0.5), path);
  return end.status;
}

}  // namespace

int run_lesson_command(const LessonOptions& options) {
  std::string dir = options.dir.empty() ? lessons_dir() : options.dir;
  // No folder of lessons: lessons_dir() has said why (it could not write out its own).
  if (dir.empty()) return 2;
  auto all = lessons::list_lessons(dir);
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const lessons::LessonFile& f) { return f.number == options.number; });
  if (it == all.end()) {
    fmt::print(stderr, "nslab lesson: there is no lesson {} in {}; `nslab lessons` lists them\n",
               options.number, dir);
    return 2;
  }
  const lessons::LessonFile file = *it;

  const bool recording = !options.record.empty();
  const lessons::Mode mode =
      options.auto_play || recording ? lessons::Mode::Auto : lessons::Mode::Guided;
  CastSize cast_size;
  if (!options_work(options, file.number, mode, cast_size)) return 2;
  auto loaded = lessons::load_lesson(file);
  if (!loaded.lesson) {
    fmt::print(stderr, "nslab lesson: {}.md cannot be used:\n{}", file.name, loaded.problem);
    return 1;
  }
  const lessons::Lesson& lesson = *loaded.lesson;
  const std::string nslab = lessons::command_name();
  if (!runs_here(file, lesson, nslab)) return 1;

  auto size = terminal_size();
  int width = size ? size->ws_col : 80;
  if (recording) {
    // Without --size a recording is as big as the terminal it is made on, if that is bigger.
    if (options.size.empty() && size) {
      cast_size.width = std::max(cast_size.width, static_cast<int>(size->ws_col));
      cast_size.height = std::max(cast_size.height, static_cast<int>(size->ws_row));
    }
    width = cast_size.width;
  }
  const lessons::DriverConfig config = driver_config(options, width);
  std::optional<lessons::CastWriter> cast =
      recording ? create_recording(options.record, cast_size, lesson.title) : std::nullopt;
  if (recording && !cast) return 2;
  lessons::TerminalOut out(screen_options(options, mode, width, size), cast ? &*cast : nullptr);
  const lessons::ScreenSettings settings =
      screen_settings(mode, all, static_cast<size_t>(it - all.begin()), nslab);

  // A user's boxes with limits on cgroup v2 need their runner's cgroup to hand controllers
  // down, which this process beside them would prevent: it steps into a leaf (cgroup.h).
  auto leaf = sandbox::cgroup::DriverLeaf::enter();
  IgnoreSigpipe no_sigpipe;
  lessons::StopSignals stop_signals;
  std::optional<lessons::Keyboard> keys;
  if (mode == lessons::Mode::Guided) keys.emplace(0);
  lessons::LessonObserver observer(lesson, settings, config, out, keys ? &*keys : nullptr);

  LessonEnd end = take_lesson(lesson, config, observer, keys ? &*keys : nullptr, out, settings);
  if (cast) return finish_recording(*cast, out.seconds(), end, options.record, file.number);
  return end.status;
}

int run_landing() {
  std::string dir = lessons_dir();
  // No folder of lessons: lessons_dir() has said why (it could not write out its own).
  if (dir.empty()) return 2;
  auto files = lessons::list_lessons(dir);
  fmt::print(
      "nslab shows what a container really is: a tiny shell runs as PID 1 in a box,\nand each "
      "lesson turns on one more kernel isolation, with the same probes run\ninside the box and "
      "on the host, so you see what changed.\n\n");
  if (files.empty()) {
    fmt::print(stderr,
               "nslab: no lessons (NN-name.md) in {}; set NSLAB_LESSONS to the lessons folder.\n"
               "`nslab --help` lists every command.\n",
               dir);
    return 1;
  }
  // One probe of this host for every lesson's needs, then each lesson's answer (lesson_here()).
  auto all_needs = needs_of_lessons(dir);
  std::vector<sandbox::Need> every_need;
  for (const auto& n : all_needs) every_need.insert(every_need.end(), n.needs.begin(), n.needs.end());
  auto facts = sandbox::probe_host("/", sandbox::current_caller(), every_need);
  fmt::print("Lessons:\n");
  std::vector<int> need_root;  // the lessons that need root here
  for (const auto& file : files) {
    auto loaded = lessons::load_lesson(file);
    if (!loaded.lesson) {
      fmt::print("  {:>2}   ({}.md cannot be read: `nslab lessons` says why)\n", file.number,
                 file.name);
      continue;
    }
    bool needs = lesson_here(facts, needs_of(file.number, *loaded.lesson)).needs_sudo;
    if (needs) need_root.push_back(file.number);
    fmt::print("  {:>2} {} {}\n", file.number, needs ? '*' : ' ',
               short_title(loaded.lesson->title));
  }
  if (!need_root.empty()) fmt::print("  * needs root here: run it with sudo {} lesson N\n",
                                     lessons::command_name());
  auto sudo_for = [&](int number) {
    return sudo_prefix(std::find(need_root.begin(), need_root.end(), number) != need_root.end());
  };
  // For "lesson N", the star above says which N need sudo.
  const std::string sudo_any = sudo_prefix(false);
  const std::string nslab = lessons::command_name();
  int first = files.front().number;
  int start = std::any_of(files.begin(), files.end(),
                          [](const lessons::LessonFile& f) { return f.number == 1; })
                  ? 1
                  : first;
  std::vector<std::pair<std::string, std::string>> rows = {
      {fmt::format("{}{} lesson {}", sudo_for(start), nslab, start),
       "guided, one step at a time"}};
  if (first < start)
    rows.push_back({fmt::format("{}{} lesson {}", sudo_for(first), nslab, first),
                    "or first the baseline: no isolation at all"});
  rows.push_back({sudo_any + nslab + " lesson N --auto", "plays by itself (--speed 2: faster)"});
  rows.push_back(
      {sudo_any + nslab + " lesson N --record F.cast", "a recording for asciinema play F.cast"});
  rows.push_back({sudo_any + nslab + " check", "checks every lesson, unattended"});
  rows.push_back({nslab + " --help", "every command (run, explain, doctor, ...)"});
  size_t widest = 0;
  for (const auto& r : rows) widest = std::max(widest, r.first.size());
  fmt::print("\nStart with:\n");
  for (const auto& r : rows) fmt::print("  {:<{}}   {}\n", r.first, widest, r.second);
  fmt::print("\nIn a lesson: Enter for the next step, s for a shell in the box, q to stop.\n");
  return 0;
}

}  // namespace nslab::cli
