// The nslab command line, parsed in-process: flags to Spec, and what explain prints.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "box_flags.h"
#include "explain.h"
#include "plan.h"
#include "run.h"
#include "text_wrap.h"

// libsandbox has an enter.h too; the path says which.
#include "../../lessons/cli/enter.h"

using namespace nslab::cli;

namespace {

// Parses `nslab run ARGS...` into options; throws CLI::ParseError like the real command line.
RunOptions parse_run(std::vector<std::string> args) {
  CLI::App app{"nslab"};
  RunOptions options;
  setup_run(app, options);
  args.insert(args.begin(), "run");
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  app.parse(args);
  return options;
}

// Parses `nslab enter ARGS...` the way nslab's main does: what follows -- is taken apart first.
EnterOptions parse_enter(std::vector<std::string> args) {
  CLI::App app{"nslab"};
  EnterOptions options;
  setup_enter(app, options);
  args.insert(args.begin(), {"nslab", "enter"});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  int count = split_enter_program(static_cast<int>(argv.size()), argv.data(), options);
  app.parse(count, argv.data());
  return options;
}

// The message to_spec() refuses `nslab run ARGS...` with; fails the test if it accepts them.
std::string refusal_of(std::vector<std::string> args) {
  auto spec = to_spec(parse_run(std::move(args)).box, "/bin/tinysh-test");
  REQUIRE_FALSE_MESSAGE(spec.ok(), "accepted");
  return spec.error().message();
}

sandbox::Spec spec_of(std::vector<std::string> args) {
  auto spec = to_spec(parse_run(std::move(args)).box, "/bin/tinysh-test");
  REQUIRE_MESSAGE(spec.ok(), (spec.ok() ? "" : spec.error().message()));
  return *spec;
}

}  // namespace

TEST_CASE("each flag reaches the spec") {
  auto s = spec_of({"--uts", "--mount", "--pivot", "--pid", "--proc", "--ipc", "--cgroup", "--time",
                    "--user", "--map-root"});
  CHECK(s.uts);
  CHECK(s.mount);
  CHECK(s.pivot);
  CHECK(s.pid);
  CHECK(s.proc);
  CHECK(s.ipc);
  CHECK(s.cgroup);
  CHECK(s.time);
  CHECK(s.user);
  CHECK(s.map_root);
  CHECK(s.command.kind == sandbox::CommandKind::Shell);
  CHECK(s.tinysh_path == "/bin/tinysh-test");
}

TEST_CASE("no flags is the baseline: no isolation, interactive tinysh") {
  auto s = spec_of({});
  bool any = s.uts || s.mount || s.pid || s.user || s.ipc || s.cgroup || s.time;
  CHECK_FALSE(any);
  CHECK(s.rootfs() == sandbox::RootfsKind::Host);
}

TEST_CASE("--all turns on every namespace with root mapped and a hostname") {
  auto s = spec_of({"--all"});
  CHECK((s.uts && s.mount && s.pivot && s.pid && s.proc && s.ipc && s.cgroup && s.time && s.user &&
         s.map_root));
  CHECK(s.hostname == "tinyhost");
  CHECK(spec_of({"--all", "--hostname", "other"}).hostname == "other");
}

TEST_CASE("-c runs tinysh commands, -- runs a program, even one that looks like a flag") {
  auto c = spec_of({"-c", "hostname; ps"});
  CHECK(c.command.kind == sandbox::CommandKind::ShellCommands);
  CHECK(c.command.shell_commands == "hostname; ps");
  auto p = spec_of({"--pid", "--", "--pids", "5"});
  CHECK(p.pid);
  CHECK(p.command.kind == sandbox::CommandKind::Program);
  CHECK(p.command.argv == std::vector<std::string>{"--pids", "5"});
}

TEST_CASE("-c together with a program is refused") {
  auto options = parse_run({"-c", "true", "--", "/bin/true"});
  CHECK_FALSE(to_spec(options.box, "tinysh").ok());
}

TEST_CASE("--map-uid may repeat, each becomes one range, overlaps and garbage are refused") {
  auto s = spec_of({"--user", "--map-uid", "0:100000:1000", "--map-uid", "1000:200000:5"});
  CHECK(s.uid_map == sandbox::IdMap{{0, 100000, 1000}, {1000, 200000, 5}});
  CHECK_FALSE(
      to_spec(parse_run({"--user", "--map-uid", "0:100:10", "--map-uid", "5:500:1"}).box, "tinysh")
          .ok());
  CHECK_FALSE(to_spec(parse_run({"--user", "--map-gid", "zero:0:1"}).box, "tinysh").ok());
}

TEST_CASE("--map-uid takes one range per occurrence and leaves the next word alone") {
  auto s = spec_of({"--user", "--map-uid", "0:100000:1", "--", "/bin/true"});
  CHECK(s.uid_map.size() == 1);
  CHECK(s.command.argv == std::vector<std::string>{"/bin/true"});
  auto next = parse_run({"--user", "--map-uid", "0:1:1", "1:2:1"});
  CHECK(next.box.map_uid == std::vector<std::string>{"0:1:1"});
  CHECK(next.box.program == std::vector<std::string>{"1:2:1"});
}

TEST_CASE("a repeated single-value flag is a parse error, not a silent choice") {
  CHECK_THROWS_AS(parse_run({"--hostname", "a", "--hostname", "b"}), CLI::ParseError);
}

TEST_CASE("an unknown flag is a parse error") {
  CHECK_THROWS_AS(parse_run({"--pids-typo"}), CLI::ParseError);
}

TEST_CASE("--rootfs is made absolute") {
  auto s = spec_of({"--mount", "--rootfs", "some/dir/../rootfs"});
  REQUIRE(s.rootfs_dir);
  CHECK(s.rootfs_dir->front() == '/');
  CHECK(s.rootfs_dir->ends_with("/some/rootfs"));
}

TEST_CASE("--rootfs and --overlay-dir are made absolute the same way, without a trailing slash") {
  auto s = spec_of({"--mount", "--rootfs", "image/", "--overlay-dir", "layer/./"});
  REQUIRE(s.rootfs_dir);
  REQUIRE(s.overlay_dir);
  CHECK(s.rootfs_dir->ends_with("/image"));
  CHECK(s.overlay_dir->ends_with("/layer"));
  CHECK(s.overlay_dir_as_given == "layer/./");  // messages name it as typed
}

TEST_CASE(
    "an empty value is refused with the flag's name and what to give, never read as not given") {
  const std::string unset = ": empty value (is the variable you passed unset?); ";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"--uts", "--hostname", ""}, "--hostname" + unset + "give a name"},
      {{"--mount", "--rootfs", ""}, "--rootfs" + unset + "give a directory"},
      {{"--pids", ""}, "--pids" + unset + "give a number of tasks"},
      {{"--memory", ""}, "--memory" + unset + "give a size"},
      {{"--cpus", ""}, "--cpus" + unset + "give a number of CPUs"},
      {{"--user", "--map-uid", ""}, "--map-uid" + unset + "give INSIDE:OUTSIDE:COUNT"},
      {{"--user", "--map-gid", "0:1000:1", "--map-gid", ""},
       "--map-gid" + unset + "give INSIDE:OUTSIDE:COUNT"},
      {{"-c", ""}, "-c" + unset + "give the commands to run"},
      {{"--", ""}, "-- PROGRAM" + unset + "name the program"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.message);
    CHECK(refusal_of(c.args).starts_with(c.message));
  }
  // The same flags with a value are accepted: the refusal is about the empty value.
  auto given = spec_of({"--uts", "--hostname", "box", "--mount", "--rootfs", "/srv/root", "--pids",
                        "10", "--memory", "32M", "--cpus", "0.5", "--user", "--map-uid", "0:1000:1",
                        "--map-gid", "0:1000:1", "-c", "true"});
  CHECK(given.hostname == "box");
  CHECK(given.rootfs_dir == "/srv/root");
  CHECK(given.limits.pids_max == 10u);
  CHECK(given.command.shell_commands == "true");
  // An empty argument of the program is an argument like any other.
  CHECK(spec_of({"--", "/bin/printf", "%s", ""}).command.argv ==
        std::vector<std::string>{"/bin/printf", "%s", ""});
}

TEST_CASE("--rootfs with an empty value is refused before the host's root could be used") {
  // `nslab run --mount --rootfs "$DIR"` with DIR unset: once this ran on the host's own root.
  CHECK(refusal_of({"--mount", "--rootfs", "", "-c", "ls /"}) ==
        "--rootfs: empty value (is the variable you passed unset?); give a directory");
  // nslab run and nslab explain refuse it as a usage error, exit status 2, before any box.
  RunOptions options = parse_run({"--mount", "--rootfs", ""});
  CHECK(run_run(options) == 2);
  sandbox::Caller root;
  root.privileged = true;
  auto e = explain_text(options.box, root);
  CHECK(e.status == 2);
  CHECK(e.text.find("--rootfs: empty value") != std::string::npos);
  // `--rootfs=` with nothing after it is a parse error of its own, not an empty directory.
  CHECK_THROWS_AS(parse_run({"--rootfs="}), CLI::ParseError);
}

TEST_CASE("nslab enter refuses an empty BOX, -c or program name, exit status 2") {
  CHECK_FALSE(enter_usage_error(parse_enter({})));
  CHECK_FALSE(enter_usage_error(parse_enter({"box-42", "-c", "ps"})));
  auto box = enter_usage_error(parse_enter({""}));
  REQUIRE(box);
  CHECK(box->starts_with("BOX: empty value (is the variable you passed unset?); "));
  auto commands = enter_usage_error(parse_enter({"-c", ""}));
  REQUIRE(commands);
  CHECK(commands->starts_with("-c: empty value"));
  auto program = enter_usage_error(parse_enter({"--", ""}));
  REQUIRE(program);
  CHECK(program->starts_with("-- PROGRAM: empty value"));
  CHECK(enter_usage_error(parse_enter({"-c", "ps", "--", "/bin/sh"})));
  // Refused before any box is looked for.
  CHECK(run_enter(parse_enter({""})) == 2);
}

TEST_CASE("--rootfs / is refused: the box would get the host's own root") {
  auto spec = spec_of({"--mount", "--rootfs", "/"});
  sandbox::Caller root;
  root.privileged = true;
  auto refused = sandbox::plan(spec, root);
  REQUIRE_FALSE(refused.ok());
  std::string text = refused.error().message();
  CHECK(text.find("--rootfs /: this is the host's own root") != std::string::npos);
  CHECK(text.find("leave out --rootfs") != std::string::npos);
  // Another spelling of / is the same directory.
  CHECK_FALSE(sandbox::plan(spec_of({"--mount", "--rootfs", "/tmp/.."}), root).ok());
  // Control: a directory below / is planned.
  CHECK(sandbox::plan(spec_of({"--mount", "--rootfs", "/srv/rootfs"}), root).ok());
}

TEST_CASE("errors about --rootfs name the directory as the user gave it") {
  auto spec = spec_of({"--mount", "--rootfs", "some/../rel-root"});
  CHECK(spec.rootfs_as_given == "some/../rel-root");
  CHECK(spec.rootfs_name() == "some/../rel-root");
  CHECK(spec.rootfs_dir->ends_with("/rel-root"));
}

TEST_CASE("explain prints the plan, and for a normal user says why run would refuse it") {
  auto options = parse_run({"--uts", "--hostname", "tinyhost"});
  sandbox::Caller alice;
  alice.uid = alice.invoking_uid = 1000;
  alice.privileged = false;
  auto e = explain_text(options.box, alice);
  CHECK(e.status == 0);
  CHECK(e.text.find("sethostname(\"tinyhost\")") != std::string::npos);
  CHECK(e.text.find("note: as uid 1000") != std::string::npos);
  CHECK(e.text.find("--user --map-root") != std::string::npos);
}

TEST_CASE("explain refuses what no one can run, naming the fix") {
  auto options = parse_run({"--pivot"});
  sandbox::Caller root;
  root.privileged = true;
  auto e = explain_text(options.box, root);
  CHECK(e.status == 2);
  CHECK(e.text.find("add --mount") != std::string::npos);
}

TEST_CASE("wrap_text fits long lines to the width, continuing under the step's text") {
  using nslab::cli::wrap_text;
  const std::string step =
      " 3. [box] close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) and then a few more words to go past the "
      "edge\n    why: no fd the runner inherited may reach the box, everything but 0-2 closes at "
      "exec time\n";
  std::string wrapped = wrap_text(step, 40);
  size_t longest = 0;
  for (size_t start = 0; start < wrapped.size();) {
    size_t end = wrapped.find('\n', start);
    if (end == std::string::npos) end = wrapped.size();
    longest = std::max(longest, end - start);
    start = end + 1;
  }
  CHECK(longest <= 40);
  CHECK(longest > 30);
  // Continuations line up under "[box]" and under "why:".
  CHECK(wrapped.find("\n    CLOSE_RANGE_CLOEXEC)") != std::string::npos);
  CHECK(wrapped.find("\n    reach the box,") != std::string::npos);
  // Nothing is lost or reordered: joining the pieces back gives the words in order.
  std::string words_in, words_out;
  for (char c : step)
    if (c != ' ' && c != '\n') words_in += c;
  for (char c : wrapped)
    if (c != ' ' && c != '\n') words_out += c;
  CHECK(words_out == words_in);
  // Short lines are left alone: the negative control.
  CHECK(wrap_text("short line\nand another\n", 40) == "short line\nand another\n");
}

TEST_CASE("wrap_text breaks a word longer than a line after a bar, and counts code points") {
  using nslab::cli::wrap_text;
  std::string flags = "clone3({flags=CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC})";
  std::string wrapped = wrap_text(flags, 30);
  CHECK(wrapped.find("CLONE_NEWUSER|\n") != std::string::npos);
  // "·" is two bytes and one column: 30 of them fit in 30 columns.
  std::string dots;
  for (int i = 0; i < 30; ++i) dots += "·";
  CHECK(wrap_text(dots, 30) == dots);
  CHECK(wrap_text(dots + "·", 30).find('\n') != std::string::npos);
  // A width too small to be useful leaves the text as it is.
  CHECK(wrap_text(flags, 10) == flags);
}
