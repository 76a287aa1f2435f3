#include "doctor.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "catalog.h"
#include "embedded.h"
#include "cgroup.h"
#include "common/text.h"

namespace nslab::cli {

namespace {

using sandbox::ControllerHome;
using sandbox::HostFacts;
using sandbox::Verdict;

constexpr size_t kWidth = 80;
constexpr size_t kFactLabel = 14;    // "  user        " then the value
constexpr size_t kLessonLabel = 38;  // "  3  PID namespace and /proc      " then the verdict
constexpr size_t kReasonIndent = 5;  // a lesson's reasons and fixes, below its row

// Breaks `text` into lines of at most `width` characters at blanks; a word longer than that (a
// deep cgroup path) is cut after a '/' where it can be.
std::vector<std::string> wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  while (!text.empty()) {
    auto blank = text.find(' ');
    std::string_view word = text.substr(0, blank);
    text = blank == std::string_view::npos ? std::string_view{} : text.substr(blank + 1);
    if (word.empty()) continue;
    while (word.size() > width) {
      if (!line.empty()) lines.push_back(std::exchange(line, {}));
      auto cut = word.rfind('/', width - 1);
      cut = cut == std::string_view::npos || cut == 0 ? width : cut + 1;
      lines.emplace_back(word.substr(0, cut));
      word.remove_prefix(cut);
    }
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

// "  label       text that wraps
//                under itself"
void put(std::string& out, std::string_view label, size_t label_width, std::string_view text,
         std::string_view color_on = {}, std::string_view color_off = {}) {
  auto lines = wrap(text, kWidth - label_width);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string head = i == 0 ? fmt::format("  {}", label) : std::string();
    out += fmt::format("{:<{}}{}{}{}\n", head, label_width, color_on, lines[i], color_off);
  }
}

// "Lesson 3 · PID namespace and /proc: the box's own process tree" -> "PID namespace and /proc".
std::string short_title(std::string_view title) {
  if (size_t dot = title.find(" · "); title.starts_with("Lesson ") && dot != std::string_view::npos)
    title.remove_prefix(dot + std::string_view(" · ").size());
  if (size_t colon = title.find(':'); colon != std::string_view::npos) title = title.substr(0, colon);
  return std::string(title);
}

std::string user_fact(const HostFacts& f) {
  if (f.privileged()) {
    std::string text = "root (uid 0)";
    if (f.who.through_sudo())
      text += fmt::format(", through sudo from uid {0}: --map-root makes the box's root uid {0}",
                          f.who.invoking_uid);
    return text;
  }
  if (f.who.euid == 0)
    return "uid 0 without CAP_SYS_ADMIN (in a container?): boxes need a user namespace";
  return fmt::format("uid {}, not root: boxes run in a user namespace (--user --map-root)",
                     f.who.euid);
}

std::string namespaces_fact(const HostFacts& f) {
  std::vector<std::string> missing;
  for (std::string kind : {"uts", "mnt", "pid", "ipc", "user", "cgroup", "net", "time"})
    if (!f.has_namespace(kind)) missing.push_back(kind);
  std::string text = common::join(f.namespaces, " ");
  if (!missing.empty()) text += fmt::format(" (missing: {})", common::join(missing, " "));
  std::vector<std::string> off;
  for (const auto& [kind, max] : f.max_namespaces)
    if (max == 0) off.push_back(fmt::format("user.max_{}_namespaces = 0", kind));
  if (!off.empty()) text += fmt::format("; switched off: {}", common::join(off, ", "));
  return text;
}

std::string userns_fact(const HostFacts& f) {
  std::vector<std::string> parts;
  auto max = f.max_namespaces.find("user");
  parts.push_back(max == f.max_namespaces.end()
                      ? std::string("max_user_namespaces unknown")
                      : fmt::format("max_user_namespaces {}", max->second));
  if (f.unprivileged_userns_clone)
    parts.push_back(fmt::format("unprivileged_userns_clone {}", *f.unprivileged_userns_clone));
  if (f.apparmor_restrict_unprivileged_userns)
    parts.push_back(fmt::format("apparmor_restrict_unprivileged_userns {}",
                                *f.apparmor_restrict_unprivileged_userns));
  sandbox::HostFacts as_user = f;
  as_user.who.euid = as_user.who.uid = 1000;
  as_user.who.privileged = false;
  auto unprivileged = sandbox::meet(as_user, sandbox::Need::UserNamespace);
  std::string verdict = unprivileged.verdict == Verdict::Wont ? "normal users may not create them"
                                                              : "normal users may create them";
  return common::join(parts, ", ") + "; " + verdict;
}

std::string cgroups_fact(const HostFacts& f) {
  std::string text(sandbox::layout_name(f.cgroup_layout));
  if (!f.cgroup2_mount.empty())
    text += fmt::format("; cgroup2 at {} offers this process: {}", f.cgroup2_mount,
                        f.cgroup2_controllers.empty() ? std::string("no controllers")
                                                      : common::join(f.cgroup2_controllers, " "));
  if (!f.cgroup_problem.empty()) text += "; " + f.cgroup_problem;
  return text;
}

std::string controller_fact(const HostFacts& f, const sandbox::ControllerFacts& c) {
  if (c.disabled_at_boot) return "disabled on the kernel command line";
  if (c.on_host_only)
    return fmt::format("v2, but not offered to this process's cgroup {}", c.directory);
  if (c.home == ControllerHome::Missing) return "nowhere";
  std::string text = c.home == ControllerHome::V1 ? "v1" : "v2";
  if (c.directory.empty()) return text + ", not visible: " + c.why_not_visible;
  text += " " + c.directory;
  if (c.read_only) text += ", read-only";
  if (f.who.euid != 0)
    text += c.delegated ? ", delegated to you"
                        : fmt::format(", not yours (owner uid {})", c.owner ? int(*c.owner) : -1);
  if (!c.sharing.empty())
    text += fmt::format(", shared with {} other process{}", c.sharing.size(),
                        c.sharing.size() == 1 ? "" : "es");
  return text;
}

std::string root_mount_fact(const HostFacts& f) {
  if (!f.root_mount_found) return "not found in /proc/self/mountinfo";
  std::string text = f.root_fstype;
  if (f.root_fstype == "rootfs") text += " (the initramfs: pivot_root cannot leave it)";
  if (f.root_shared)
    return text + fmt::format(
                      ", shared (peer group {}): a mount made in a new mount namespace would "
                      "show up on the host; nslab makes every mount private in the box "
                      "first, so this is fine, and lesson 2 shows why",
                      f.root_peer_group);
  return text + ", private: mounts do not propagate";
}

std::string veth_fact(const HostFacts& f) {
  std::string text = f.who.euid == 0 && f.cap_net_admin
                         ? "can be created: root with CAP_NET_ADMIN"
                         : "cannot be created: that needs CAP_NET_ADMIN in the host's network "
                           "namespace (root)";
  auto driver = [](sandbox::LinkDriver d, std::string_view module) -> std::string {
    switch (d) {
      case sandbox::LinkDriver::Present:
        return fmt::format("{} driver present", module);
      case sandbox::LinkDriver::Absent:
        return fmt::format("{} driver not found (modprobe {})", module, module);
      case sandbox::LinkDriver::Unknown:
        return fmt::format("{} driver built in or not listed", module);
    }
    return "";
  };
  return fmt::format("{}; {}; {}", text, driver(f.veth_driver, "veth"),
                     driver(f.bridge_driver, "bridge"));
}

}  // namespace

bool use_color(std::string_view mode, bool on_terminal, const char* no_color) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  return on_terminal && !(no_color && *no_color);
}

DoctorReport doctor_report(const HostFacts& f, const std::vector<LessonNeeds>& lessons,
                           bool color) {
  std::string out = "This host\n";
  put(out, "user", kFactLabel, user_fact(f));
  put(out, "kernel", kFactLabel, f.kernel_release.empty() ? "unknown" : f.kernel_release);
  put(out, "namespaces", kFactLabel, namespaces_fact(f));
  put(out, "user ns", kFactLabel, userns_fact(f));
  put(out, "time ns", kFactLabel,
      f.has_namespace("time") ? "yes" : "no (time namespaces came in Linux 5.6)");
  put(out, "cgroups", kFactLabel, cgroups_fact(f));
  for (const auto& c : f.controllers) put(out, c.name, kFactLabel, controller_fact(f, c));
  put(out, "/ mount", kFactLabel, root_mount_fact(f));
  put(out, "veth", kFactLabel, veth_fact(f));

  out += "\nLessons\n";
  bool all = true;
  for (const auto& lesson : lessons) {
    sandbox::Answer answer = judge(f, lesson);
    all = all && answer.verdict != Verdict::Wont;
    std::string_view on, off;
    if (color) {
      off = "\x1b[0m";
      on = answer.verdict == Verdict::Works           ? "\x1b[32m"
           : answer.verdict == Verdict::WorksRootless ? "\x1b[33m"
                                                      : "\x1b[31m";
    }
    put(out, fmt::format("{}  {}", lesson.number, short_title(lesson.title)), kLessonLabel,
        sandbox::verdict_label(answer.verdict), on, off);
    if (!answer.because.empty()) put(out, "", kReasonIndent, "because " + answer.because);
    if (!answer.fix.empty()) put(out, "", kReasonIndent, "fix: " + answer.fix);
  }
  if (lessons.empty()) {
    all = false;
    out += "  no lessons found: set NSLAB_LESSONS to the lessons folder\n";
  }
  out += all ? "\nEvery lesson can run here.\n" : "\nSome lessons cannot run here yet: see fix.\n";
  return {out, all ? 0 : 1};
}

CLI::App* setup_doctor(CLI::App& app, DoctorOptions& options) {
  CLI::App* doctor = app.add_subcommand(
      "doctor", "what this host supports, and which lessons will run here (and if not, why)");
  doctor
      ->add_option("--color", options.color,
                   "color the verdicts: auto (on a terminal, unless "
                   "NO_COLOR is set), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  // For checking a copy of another machine's /proc, /sys and /lib/modules files.
  doctor->add_option("--root", options.root, "read the host's files under this directory")
      ->check(CLI::ExistingDirectory)
      ->group("");
  doctor->add_option("--dir", options.lessons, "the lessons to judge (default: as nslab lesson)")
      ->type_name("DIR");
  doctor->footer("Exit status: 0 when every lesson can run here, 1 when at least one cannot.");
  return doctor;
}

int run_doctor(const DoctorOptions& options) {
  // Before class is a good time to clear what boxes killed with SIGKILL left: their cgroups
  // (only nslab-box-PID directories whose runner is gone and that hold no process).
  if (options.root == "/" && ::geteuid() == 0) {
    auto swept = sandbox::cgroup::sweep_stale_everywhere();
    for (const auto& dir : swept.removed) fmt::print("removed the stale cgroup {}\n", dir);
    for (const auto& note : sandbox::cgroup::sweep_notes(swept)) fmt::print("note: {}\n", note);
  }
  auto facts = sandbox::probe_host(options.root, sandbox::current_caller());
  bool color = use_color(options.color, ::isatty(STDOUT_FILENO), std::getenv("NO_COLOR"));
  auto lessons = needs_of_lessons(options.lessons.empty() ? lessons_dir()
                                                         : options.lessons);
  auto report = doctor_report(facts, lessons, color);
  fmt::print("{}", report.text);
  std::fflush(stdout);
  return report.status;
}

}  // namespace nslab::cli
