// `nslab explain` cannot say what the code does not do: each box here is launched with the sys
// layer recording every call that succeeded (sys::record_calls), and the record is held against
// the calls the plan renders, in order. Only the calls that change the box's kernel state are
// compared (mounts, the root switch, namespaces, the hostname, the clone); the rest of a step
// (mkdir, files) is prose around them.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "box_harness.h"
#include "cgroup.h"
#include "launch.h"
#include "plan.h"
#include "sys.h"

using namespace boxtest;

namespace {

// (Not the box's calls before the release, such as close_range(): the runner records its clone3
// at the same time, and the two may come in either order.)
constexpr std::string_view kCompared[] = {"mount(",       "umount2(", "pivot_root(",
                                          "chdir(",       "sethostname(", "unshare(",
                                          "setns(",       "clone3("};

bool compared(const std::string& call) {
  for (auto name : kCompared)
    if (call.starts_with(name)) return true;
  return false;
}

// Numbers only known at run time, spelled as explain spells them.
std::string normalized(const std::string& call) {
  static const std::regex fd_path(R"(/proc/self/fd/\d+)"), setns_fd(R"(setns\(\d+,)"),
      box_name(R"(nslab-box-\d+)");
  std::string text = std::regex_replace(call, fd_path, "/proc/self/fd/FD");
  text = std::regex_replace(text, setns_fd, "setns(FD,");
  return std::regex_replace(text, box_name, "nslab-box-RUNNER_PID");
}

struct Planned {
  sandbox::PlannedCall call;
  std::string step;
};

std::vector<Planned> planned(const sandbox::Plan& plan) {
  std::vector<Planned> calls;
  for (const auto& step : plan.steps)
    for (auto& call : sandbox::planned_calls(step))
      if (compared(call.text))
        calls.push_back({std::move(call), std::string(sandbox::action_label(step.action()))});
  return calls;
}

// "" when the record is what the plan says, in order (a conditional call may be missing);
// otherwise the first difference.
std::string difference(const std::vector<Planned>& plan, const std::vector<std::string>& record) {
  size_t next = 0;
  for (const auto& p : plan) {
    // The plan names the layer's fd LAYER_FD, the rootfs directory's FD: both are numbers here.
    std::string want = std::regex_replace(p.call.text, std::regex("/proc/self/fd/LAYER_FD"),
                                          "/proc/self/fd/FD");
    bool match = false;
    if (next < record.size()) {
      std::string made = normalized(record[next]);
      match = p.call.exact_prefix ? made.starts_with(want.substr(0, p.call.exact_prefix))
                                  : made == want;
    }
    if (match) {
      ++next;
      continue;
    }
    if (p.call.conditional) continue;
    return "explain says " + want + " (" + p.step + "), the box made " +
           (next < record.size() ? record[next] : std::string("nothing more"));
  }
  if (next < record.size()) return "the box made " + record[next] + ", which explain never says";
  return "";
}

// Launches `spec` from this process with the sys layer recording, waits for its end, and
// returns the plan and the compared calls recorded, in order.
std::pair<sandbox::Plan, std::vector<std::string>> run_recorded(sandbox::Spec spec) {
  spec.command.kind = sandbox::CommandKind::ShellCommands;
  spec.command.shell_commands = "exit 0";
  spec.tinysh_path = testing::bin("tinysh");
  sandbox::Caller caller = sandbox::current_caller();
  REQUIRE(sandbox::cgroup::find_cgroups(spec.limits, caller).ok());
  auto plan = sandbox::plan(spec, caller);
  REQUIRE_MESSAGE(plan.ok(), (plan.ok() ? "" : plan.error().message()));
  int record = ::memfd_create("calls", MFD_CLOEXEC);
  REQUIRE(record >= 0);
  sandbox::sys::record_calls(record);
  sigset_t mask;
  sigemptyset(&mask);
  int status = -1;
  {
    auto box = sandbox::launch(*plan, mask);
    sandbox::sys::record_calls(-1);
    REQUIRE_MESSAGE(box.ok(), (box.ok() ? "" : box.error().message()));
    status = box->wait_exit();
  }
  CHECK(status == 0);
  std::string text;
  char buf[4096];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(record, buf, sizeof buf, at);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    at += n;
  }
  ::close(record);
  std::vector<std::string> calls;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    if (compared(line)) calls.push_back(line);
    start = end == std::string::npos ? text.size() : end + 1;
  }
  return {*plan, calls};
}

sandbox::Spec all_flags() {
  sandbox::Spec spec;
  spec.uts = spec.mount = spec.pivot = spec.pid = spec.proc = spec.ipc = true;
  spec.hostname = "recorded";
  return spec;
}

}  // namespace

TEST_CASE("explain says the calls a root box with its own root makes, in order") {
  if (!have_root()) return;
  sandbox::Spec spec = all_flags();
  spec.time = true;
  spec.limits.pids_max = 20;
  auto [plan, record] = run_recorded(spec);
  CHECK(record.size() > 10);
  CHECK(difference(planned(plan), record) == "");
  // Negative control: the record of a box with another hostname is not what this plan says.
  sandbox::Spec other = spec;
  other.hostname = "another";
  auto [other_plan, other_record] = run_recorded(other);
  CHECK(difference(planned(plan), other_record).find("sethostname") != std::string::npos);
}

TEST_CASE("explain says the calls of a box with a cgroup namespace, a user namespace or neither") {
  if (!have_root()) return;
  sandbox::Spec cgroupns = all_flags();
  cgroupns.cgroup = true;
  cgroupns.limits.pids_max = 20;
  auto [plan, record] = run_recorded(cgroupns);
  CHECK(difference(planned(plan), record) == "");

  sandbox::Spec user = all_flags();
  user.user = user.map_root = true;
  auto [user_plan, user_record] = run_recorded(user);
  CHECK(difference(planned(user_plan), user_record) == "");

  // On the host's root: /proc protected, the cgroup view over the host's /sys/fs/cgroup.
  sandbox::Spec host;
  host.mount = host.pid = host.proc = host.cgroup = true;
  host.limits.pids_max = 20;
  auto [host_plan, host_record] = run_recorded(host);
  CHECK(difference(planned(host_plan), host_record) == "");
  // Negative control: a plan that leaves out the /proc mount does not match the record.
  std::vector<Planned> without_proc;
  for (const auto& p : planned(host_plan))
    if (p.step != "mount /proc") without_proc.push_back(p);
  CHECK(difference(without_proc, host_record) != "");
}

TEST_CASE("explain says the calls of a box on a rootfs directory, through its fd") {
  if (!have_root()) return;
  TempDir rootfs;
  for (const char* dir : {"dev", "proc", "tmp", "sys/fs/cgroup"})
    std::filesystem::create_directories(rootfs.path() + "/" + dir);
  sandbox::Spec spec = all_flags();
  spec.pivot = false;
  spec.rootfs_dir = rootfs.path();
  spec.limits.pids_max = 20;
  auto [plan, record] = run_recorded(spec);
  CHECK(difference(planned(plan), record) == "");
  bool overlay = false;
  for (const auto& call : record) overlay = overlay || call.find("\"overlay\"") != std::string::npos;
  CHECK(overlay);
}

TEST_CASE("explain says the calls of a box on a rootfs directory under a layer it writes to") {
  if (!have_root()) return;
  TempDir rootfs, layer;
  for (const char* dir : {"dev", "proc", "tmp"})
    std::filesystem::create_directories(rootfs.path() + "/" + dir);
  for (bool kept : {false, true}) {
    CAPTURE(kept);
    sandbox::Spec spec = all_flags();
    spec.pivot = false;
    spec.rootfs_dir = rootfs.path();
    spec.overlay = true;
    if (kept) spec.overlay_dir = layer.path();
    auto [plan, record] = run_recorded(spec);
    CHECK(difference(planned(plan), record) == "");
    bool upper = false;
    for (const auto& call : record) upper = upper || call.find("upperdir=") != std::string::npos;
    CHECK(upper);
  }
}
