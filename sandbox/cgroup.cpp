// What v1 and v2 share: the box's name, its directories and their removal, joining, the OOM
// counter, and the helpers the other cgroup files use (cgroup.h, "Internal").
// The layout-specific writes are in cgroup_v1.cpp and cgroup_v2.cpp; cgroup.h tells the story.
// The other concerns have files of their own: the flags' values (cgroup_limits.cpp), where each
// controller goes (cgroup_placement.cpp), a lesson driver's own leaf (cgroup_leaf.cpp), the sweep
// of stale cgroups (cgroup_sweep.cpp) and what `nslab explain` says (cgroup_explain.cpp).
#include "cgroup.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "builtins/cgroup_fs.h"
#include "hints.h"
#include "size.h"
#include "sys.h"

namespace sandbox::cgroup {

namespace fs = tinysh::cgroup;

namespace {

std::vector<std::string> words_of_file(const std::string& path) {
  std::vector<std::string> words;
  auto text = sys::read_file(path);
  if (!text) return words;
  std::istringstream in(*text);
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

// An Error for a failed cgroupfs call, with the advice hints.cpp has for the file (or call) named
// `what` when the call's text did not already find it.
Error cgroup_error(Error e, std::string_view what) {
  // The cgroup's own hint, where the table has one, over the one make_error() gave the call.
  if (auto hint = hint_for(what, e.err); !hint.empty()) e.hint = std::string(hint);
  return e;
}

// rmdir of a cgroup, retried while the kernel still counts a task that is being torn down.
Status remove_dir(const std::string& path) {
  Status removed = ok();
  bool settled = detail::poll_until(
      [&] {
        removed = sys::rmdir(path);
        // Anything but EBUSY will not change by waiting.
        return removed || removed.error().err != EBUSY;
      },
      5000);
  if (removed || (settled && removed.error().err == ENOENT)) return ok();
  return cgroup_error(removed.error(), "rmdir");
}

fs::Version to_fs(Version version) {
  return version == Version::V2 ? fs::Version::V2 : fs::Version::V1;
}

}  // namespace

std::string_view controller_name(Controller controller) {
  switch (controller) {
    case Controller::Pids:
      return "pids";
    case Controller::Memory:
      return "memory";
    case Controller::Cpu:
      return "cpu";
  }
  return "?";
}

// --- Names and directories -----------------------------------------------------------------------

std::string box_name(pid_t runner_pid) {
  return fmt::format("nslab-box-{}", runner_pid);
}

std::string runner_leaf_name(std::string_view box) {
  constexpr std::string_view prefix = "nslab-box-";
  return "nslab-runner-" + std::string(box.starts_with(prefix) ? box.substr(prefix.size()) : box);
}

std::optional<pid_t> runner_of(std::string_view name) {
  std::string_view digits;
  for (std::string_view prefix : {"nslab-box-", "nslab-runner-"})
    if (name.starts_with(prefix)) digits = name.substr(prefix.size());
  if (digits.empty()) return std::nullopt;
  if (!detail::all_digits(digits) || digits.size() > 9 || digits[0] == '0') return std::nullopt;
  pid_t pid = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  return pid;
}

std::vector<BoxDir> box_dirs(const Layout& layout, std::string_view name) {
  std::vector<BoxDir> dirs;
  for (const Placement& p : layout.placements) {
    std::string path = p.parent_dir + "/" + std::string(name);
    auto same =
        std::find_if(dirs.begin(), dirs.end(), [&](const BoxDir& d) { return d.path == path; });
    if (same != dirs.end()) {
      same->controllers.push_back(p.controller);
      continue;
    }
    dirs.push_back({p.version, path, {p.controller}});
  }
  return dirs;
}

std::vector<Write> creation_writes(const Layout& layout, const Limits& limits,
                                   std::string_view name) {
  std::vector<Write> writes;
  for (const BoxDir& dir : box_dirs(layout, name)) {
    if (dir.version == Version::V2)
      detail::v2_writes(layout, dir, limits, writes);
    else
      detail::v1_writes(dir, limits, writes);
  }
  return writes;
}

std::vector<Write> join_writes(const std::vector<BoxDir>& dirs, pid_t pid) {
  std::vector<Write> writes;
  for (const BoxDir& dir : dirs)
    writes.push_back({Write::Kind::WriteFile, dir.path + "/cgroup.procs", std::to_string(pid),
                      false, false, false});
  return writes;
}

// --- The box's cgroup on the host ----------------------------------------------------------------

Result<BoxCgroup> BoxCgroup::create(const Layout& layout, const Limits& limits, pid_t runner_pid) {
  std::string name = box_name(runner_pid);
  // A second runner may remove nslab's empty v2 parent between our mkdir of it and of the box
  // (it removes the parent when its own box ends): then the box's mkdir says ENOENT; start over.
  bool swept = false;
  for (int attempt = 1;; ++attempt) {
    BoxCgroup box;
    box.dirs_ = box_dirs(layout, name);
    box.limits_ = limits;
    Status failed = ok();
    for (const Write& w : creation_writes(layout, limits, name)) {
      if (w.kind == Write::Kind::MakeDir) {
        bool created = false;
        failed = detail::make_dir(w.path, w.may_exist, created);
        if (!failed) break;
        if (w.runner_leaf) continue;  // the runner is about to live in it: never removed by it
        if (created) box.made_.push_back(w.path);
        if (w.may_exist) box.v2_parents_.push_back(w.path);
        continue;
      }
      if (w.if_present)
        if (Status present = sys::access(w.path, F_OK); !present && present.error().err == ENOENT)
          continue;
      failed = sys::write_file(w.path, w.text);
      if (!failed) {
        failed = cgroup_error(failed.error(), detail::file_name(w.path));
        break;
      }
    }
    if (failed) {
      for (const Placement& p : layout.placements) {
        if (!p.move_runner) continue;
        if (!box.runner_home_)
          box.runner_home_ = RunnerHome{
              p.own_dir, p.parent_dir, p.parent_dir + "/" + runner_leaf_name(name), {}, {}};
        box.runner_home_->parent_enabled.emplace_back(controller_name(p.controller));
        if (p.enable_above)
          box.runner_home_->home_enabled.emplace_back(controller_name(p.controller));
      }
      return box;
    }
    bool parent_vanished = failed.error().err == ENOENT && !box.v2_parents_.empty() &&
                           failed.error().call.starts_with("mkdir");
    // A runner that had this pid before was SIGKILLed and left a cgroup of this name: the sweep
    // comes only after the release (plan.cpp), so this one is swept here, where it is in the
    // way; an empty one goes (live_runner() counts this pid as gone), a busy one stays an error.
    bool namesake = failed.error().err == EEXIST && failed.error().call.starts_with("mkdir");
    if (namesake && !swept) {
      swept = true;
      (void)sweep_stale(layout);
      continue;
    }
    if (!parent_vanished || attempt == 3) return failed.error();
    // ~BoxCgroup removes what this attempt made.
  }
}

BoxCgroup::BoxCgroup(BoxCgroup&& other) noexcept
    : dirs_(std::move(other.dirs_)),
      made_(std::move(other.made_)),
      v2_parents_(std::move(other.v2_parents_)),
      runner_home_(std::move(other.runner_home_)),
      limits_(other.limits_),
      removed_(std::exchange(other.removed_, true)) {}

BoxCgroup::~BoxCgroup() {
  if (!removed_) (void)remove();
}

Status BoxCgroup::join(pid_t pid) const {
  for (const Write& w : join_writes(dirs_, pid)) {
    Status status = sys::write_file(w.path, w.text);
    if (!status) return cgroup_error(status.error(), "cgroup.procs");
  }
  return ok();
}

Status BoxCgroup::delegate(uid_t uid, gid_t gid) const {
  for (const BoxDir& dir : dirs_) {
    SANDBOX_TRY(sys::chown(dir.path, uid, gid));
    for (const char* name : {"cgroup.procs", "cgroup.threads", "tasks", "cgroup.subtree_control"}) {
      std::string file = dir.path + "/" + name;
      if (::access(file.c_str(), F_OK) == 0) SANDBOX_TRY(sys::chown(file, uid, gid));
    }
  }
  return ok();
}

Status BoxCgroup::remove() {
  if (removed_) return ok();
  removed_ = true;
  Status first = ok();
  // Deepest first: the box's own directories, then nslab's v2 parent once no box is left in it.
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    if (std::find(v2_parents_.begin(), v2_parents_.end(), *it) != v2_parents_.end()) continue;
    auto dir =
        std::find_if(dirs_.begin(), dirs_.end(), [&](const BoxDir& d) { return d.path == *it; });
    Status status = detail::remove_tree(*it, dir != dirs_.end() ? dir->version : Version::V1);
    if (!status && first) first = status;
  }
  if (runner_home_) go_home();
  // Shared with other runners: an rmdir that fails because another box is inside is fine.
  for (const std::string& parent : v2_parents_) (void)sys::rmdir(parent);
  return first;
}

// The way in, backwards: nslab/ stops handing controllers down, its parent (the runner's own
// cgroup) stops too for those nslab enabled there, so that it may hold a process again (the
// no-internal-processes rule); the runner moves back into it, and its leaf can go.
void BoxCgroup::go_home() const {
  const RunnerHome& h = *runner_home_;
  for (const auto& c : h.parent_enabled)
    (void)sys::write_file(h.parent + "/cgroup.subtree_control", "-" + c);
  for (const auto& c : h.home_enabled)
    (void)sys::write_file(h.home + "/cgroup.subtree_control", "-" + c);
  if (sys::write_file(h.home + "/cgroup.procs", std::to_string(::getpid())))
    (void)sys::rmdir(h.leaf);
}

std::optional<std::uint64_t> BoxCgroup::oom_kills() const {
  for (const BoxDir& dir : dirs_)
    if (std::find(dir.controllers.begin(), dir.controllers.end(), Controller::Memory) !=
        dir.controllers.end())
      return fs::read_oom_kills(dir.path, to_fs(dir.version));
  return std::nullopt;
}

std::string BoxCgroup::oom_report() const {
  auto kills = oom_kills();
  if (!kills || !limits_.memory_bytes) return {};
  return describe_oom(*kills, *limits_.memory_bytes);
}

std::string describe_oom(std::uint64_t kills, std::uint64_t limit_bytes) {
  if (kills == 0) return {};
  std::string times = kills == 1 ? "once" : kills == 2 ? "twice" : fmt::format("{} times", kills);
  return fmt::format("the box's processes were killed by the OOM killer {} (memory limit {})",
                     times, tinysh::format_size(limit_bytes));
}

// --- Shared helpers ------------------------------------------------------------------------------

namespace detail {

std::vector<pid_t> procs_of(const std::string& dir) {
  std::vector<pid_t> pids;
  auto text = sys::read_file(dir + "/cgroup.procs");
  if (!text) return pids;
  std::istringstream in(*text);
  pid_t pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

bool poll_until(const std::function<bool()>& done, int limit_ms) {
  for (int waited = 0;; ++waited) {
    if (done()) return true;
    if (waited >= limit_ms) return false;
    timespec one_ms{0, 1000000};
    ::nanosleep(&one_ms, nullptr);
  }
}

bool contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string file_name(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string parent_of(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

bool enabled_in(const std::string& dir, std::string_view name) {
  auto words = words_of_file(dir + "/cgroup.subtree_control");
  return contains(words, name) || contains(words, "+" + std::string(name));
}

Status make_dir(const std::string& path, bool may_exist, bool& created) {
  Status made = sys::mkdir(path, 0755);
  created = made.ok();
  if (made || (made.error().err == EEXIST && may_exist)) return ok();
  return cgroup_error(made.error(), "cgroup mkdir");
}

// The cgroups directly under `dir`, as paths ({} when it cannot be listed).
std::vector<std::string> child_dirs(const std::string& dir) {
  std::vector<std::string> children;
  if (auto names = sys::subdirectories(dir))
    for (const std::string& name : *names) children.push_back(dir + "/" + name);
  return children;
}

// Empties and removes a box's directory and any cgroups the box made inside it, deepest first.
Status remove_tree(const std::string& dir, Version version) {
  Status first = version == Version::V2 ? detail::v2_kill_all(dir) : detail::v1_kill_all(dir);
  for (const std::string& child : child_dirs(dir)) {
    Status status = remove_tree(child, version);
    if (!status && first) first = status;
  }
  Status removed = remove_dir(dir);
  if (!removed && first) first = removed;
  return first;
}

}  // namespace detail

}  // namespace sandbox::cgroup
