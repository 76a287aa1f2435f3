// What v1 and v2 share: the flags' values, the per-controller decision, the box's name, its
// directories and their removal, joining, the OOM counter, the stale sweep and the explain text.
// The layout-specific writes are in cgroup_v1.cpp and cgroup_v2.cpp; cgroup.h tells the story.
#include "cgroup.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "builtins/cgroup_fs.h"
#include "hints.h"
#include "size.h"
#include "sys.h"
#include "common/text.h"

namespace sandbox::cgroup {

namespace fs = tinysh::cgroup;

namespace {

constexpr const char* kNeedRoot =
    "cgroup limits need root, or a cgroup delegated to you (systemd-run --user --scope -p "
    "Delegate=yes ...)";

bool contains(const std::vector<std::string>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

std::vector<std::string> words_of_file(const std::string& path) {
  std::vector<std::string> words;
  auto text = sys::read_file(path);
  if (!text) return words;
  std::istringstream in(*text);
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An Error for a failed cgroupfs call, with the advice hints.cpp has for the file (or call) named
// `what` when the call's text did not already find it.
Error cgroup_error(Error e, std::string_view what) {
  if (e.hint.empty()) e.hint = std::string(hint_for(what, e.err));
  return e;
}

std::string file_name(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

std::string parent_of(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}


Status make_dir(const std::string& path, bool may_exist, bool& created) {
  Status made = sys::mkdir(path, 0755);
  created = made.ok();
  if (made || (made.error().err == EEXIST && may_exist)) return ok();
  return cgroup_error(made.error(), "mkdir");
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

// The cgroups directly under `dir`, as paths ({} when it cannot be listed).
std::vector<std::string> child_dirs(const std::string& dir) {
  std::vector<std::string> children;
  if (auto names = sys::subdirectories(dir))
    for (const std::string& name : *names) children.push_back(dir + "/" + name);
  return children;
}

// Every pid in `dir` and the cgroups under it (a root box may have made its own sub-cgroups).
std::vector<pid_t> procs_in_tree(const std::string& dir) {
  std::vector<pid_t> pids = detail::procs_of(dir);
  for (const std::string& child : child_dirs(dir)) {
    auto more = procs_in_tree(child);
    pids.insert(pids.end(), more.begin(), more.end());
  }
  return pids;
}

// Where boxes of SIGKILLed runners may be: each parent_dir of the layout, and on v2 also nslab's
// parent under the root cgroup, where a root runner whose own cgroup held processes put its box
// (while this runner's may not), when it is there and this process may remove things in it.
std::vector<std::string> sweep_parents(const Layout& layout) {
  std::vector<std::string> parents;
  for (const Placement& p : layout.placements)
    if (!contains(parents, p.parent_dir)) parents.push_back(p.parent_dir);
  for (const Placement& p : layout.placements) {
    if (p.version != Version::V2 || p.mount_point.empty()) continue;
    std::string at_root = p.mount_point + "/" + std::string(kV2ParentName);
    if (!contains(parents, at_root) && sys::access(at_root, W_OK)) parents.push_back(at_root);
  }
  return parents;
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

bool enabled_in(const std::string& dir, std::string_view name) {
  auto words = words_of_file(dir + "/cgroup.subtree_control");
  return contains(words, name) || contains(words, "+" + std::string(name));
}

// Where nslab's v2 parent goes for p.controller. Normally <own>/nslab, with the controller
// enabled in own's subtree_control if it is not yet. That write fails with EBUSY while own holds
// processes (the no-internal-processes rule), and own always holds the runner unless it is the
// root; so when own holds processes and lacks the controller (or was not even handed it):
//   root        the parent goes under the root cgroup, which the rule exempts: <v2 root>/nslab
//   not root    the runner alone in its cgroup (a delegated scope made for it) moves itself into
//               a leaf of nslab/ first; a cgroup shared with other processes is refused, with
//               the way to get one of its own
Status place_v2(Placement& p, const std::string& v2_root, const Runner& runner) {
  std::string_view name = controller_name(p.controller);
  p.parent_dir = p.own_dir + "/" + std::string(kV2ParentName);
  if (p.own_is_root) {
    p.enable_above = !enabled_in(p.own_dir, name);
    return ok();
  }
  // A runner started by `nslab lesson` or `nslab check` in the leaf its driver moved into
  // (DriverLeaf): the box goes beside that leaf, in nslab/, which holds no process itself.
  if (is_runner_leaf(p.own_dir)) {
    p.parent_dir = parent_of(p.own_dir);
    std::string above = parent_of(p.parent_dir);
    if (!contains(fs::read_v2_controllers(above), name))
      return plain_error(
          fmt::format("the {} controller is on cgroup v2, but not handed down to {}", name,
                      above),
          fmt::format("a parent cgroup must enable it in its cgroup.subtree_control; {}",
                      kNeedRoot));
    p.enable_above = !enabled_in(above, name);
    return ok();
  }
  bool handed_down = contains(fs::read_v2_controllers(p.own_dir), name);
  bool enabled = enabled_in(p.own_dir, name);
  std::vector<pid_t> procs = detail::procs_of(p.own_dir);
  if (handed_down && (enabled || procs.empty())) {
    p.enable_above = !enabled;
    return ok();
  }
  if (runner.privileged) {
    p.at_v2_root = true;
    p.parent_dir = v2_root + "/" + std::string(kV2ParentName);
    p.enable_above = !enabled_in(v2_root, name);
    return ok();
  }
  if (!handed_down)
    return plain_error(
        fmt::format("the {} controller is on cgroup v2, but not handed down to this "
                    "process's cgroup {} (it is missing from its cgroup.controllers)",
                    name, p.own_dir),
        fmt::format("a parent cgroup must enable it in its cgroup.subtree_control; {}", kNeedRoot));
  if (procs == std::vector<pid_t>{runner.pid}) {
    p.move_runner = true;
    p.enable_above = true;
    return ok();
  }
  std::vector<std::string> others;
  for (pid_t pid : procs)
    if (pid != runner.pid) others.push_back(std::to_string(pid));
  return plain_error(
      fmt::format("--{}: the runner's cgroup {} holds other processes (pids {}), and cgroup v2 "
                  "hands the {} controller down only from a cgroup without processes of its own "
                  "(the no-internal-processes rule)",
                  p.controller == Controller::Cpu ? "cpus" : name, p.own_dir,
                  common::join(others, " "), name),
      "start nslab in a cgroup of its own: systemd-run --user --scope -p Delegate=yes nslab run "
      "...; or run it as root (boxes then go under the root cgroup)");
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

std::vector<Controller> Limits::controllers() const {
  std::vector<Controller> list;
  if (pids_max) list.push_back(Controller::Pids);
  if (memory_bytes) list.push_back(Controller::Memory);
  if (cpu) list.push_back(Controller::Cpu);
  return list;
}

// --- Flag values ---------------------------------------------------------------------------------

namespace {

// A size as it was asked for, without rounding: the largest binary unit that divides it, else
// bytes ("4095 KiB", "3 MiB", "4194303 bytes"). format_size() would show 4095 KiB as "4.0 MiB",
// which hides why it is below 4 MiB.
std::string exact_size(std::uint64_t bytes) {
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (auto [unit, name] : kUnits)
    if (bytes >= unit && bytes % unit == 0) return fmt::format("{} {}", bytes / unit, name);
  return fmt::format("{} byte{}", bytes, bytes == 1 ? "" : "s");
}

}  // namespace

Result<std::uint64_t> parse_pids_limit(std::string_view text) {
  constexpr const char* rule =
      "--pids takes a whole number of tasks from 1 to 4194304 (leave --pids out for no limit)";
  auto refuse = [&](std::string_view why) {
    return plain_error(fmt::format("--pids \"{}\": {}", text, why), rule);
  };
  if (text == "max" || text == "-1") return refuse("no limit is said by leaving --pids out");
  if (!all_digits(text)) return refuse("not a whole number");
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value > kMaxPids) return refuse("above 4194304, the kernel's most pids");
  if (value == 0) return refuse("0 would not even allow the box's first process");
  return value;
}

Result<std::uint64_t> parse_memory_limit(std::string_view text) {
  constexpr const char* rule =
      "--memory takes a size from 4M to below 4 EiB: a number with K, M, G or T (32M, 1.5G, "
      "512MiB), or bytes";
  tinysh::ParsedSize size = tinysh::parse_size(text);
  if (!size) return plain_error(fmt::format("--memory \"{}\": {}", text, size.error), rule);
  if (size.bytes < kMinMemoryBytes)
    return plain_error(
        fmt::format("--memory \"{}\": {} is below the 4 MiB minimum, the smallest limit nslab "
                    "sets (a typo for M or G?)",
                    text, exact_size(size.bytes)),
        rule);
  if (size.bytes >= kMaxMemoryBytes)
    return plain_error(fmt::format("--memory \"{}\": that large a limit is read as no limit", text),
                       rule);
  return size.bytes;
}

Result<CpuQuota> parse_cpus(std::string_view text, unsigned online_cpus) {
  std::string rule = fmt::format(
      "--cpus takes a number of CPUs from 0.01 to {} (this machine's), such as 0.5 or 1.25",
      online_cpus);
  auto refuse = [&](std::string_view why) {
    return plain_error(fmt::format("--cpus \"{}\": {}", text, why), rule);
  };
  // Fixed point, no floating point: whole part and up to 5 decimals, in µs of a 100000 µs period.
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (text.empty() || (whole.empty() && fraction.empty()) ||
      (!whole.empty() && !all_digits(whole)) ||
      (dot != std::string_view::npos && !all_digits(fraction)))
    return refuse("not a decimal number");
  if (fraction.size() > 5) return refuse("more than 5 decimals: a quota is whole microseconds");
  if (whole.size() > 6) return refuse("more CPUs than this machine has");
  std::uint64_t units = 0;  // in 1e-5 CPU = 1 µs of the 100 ms period
  for (char c : whole) units = units * 10 + static_cast<std::uint64_t>(c - '0');
  for (size_t i = 0; i < 5; ++i)
    units = units * 10 + (i < fraction.size() ? static_cast<std::uint64_t>(fraction[i] - '0') : 0);
  if (units == 0) return refuse("0 CPUs would stop the box entirely");
  if (units < kMinCpuQuotaUs)
    return refuse("below 0.01 CPU, the kernel's smallest quota (1 ms per 100 ms)");
  if (units > std::uint64_t{online_cpus} * kCpuPeriodUs)
    return refuse(
        fmt::format("more than this machine's {} CPUs would be no limit at all", online_cpus));
  return CpuQuota{units, kCpuPeriodUs};
}

std::string format_cpus(const CpuQuota& quota) {
  // Trim trailing zeros of QUOTA/PERIOD shown with up to 5 decimals.
  std::uint64_t scaled = quota.quota_us * 100000 / quota.period_us;
  std::string text = fmt::format("{}.{:05}", scaled / 100000, scaled % 100000);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + (text == "1" || scaled < 100000 ? " CPU" : " CPUs");
}

// --- Where each controller goes ------------------------------------------------------------------

const Placement* Layout::find(Controller controller) const {
  for (const Placement& p : placements)
    if (p.controller == controller) return &p;
  return nullptr;
}

Runner Runner::current() {
  return {::geteuid() == 0, ::getpid()};
}

Result<Layout> decide_layout(std::string_view proc_self_cgroup, std::string_view mountinfo,
                             const std::vector<Controller>& wanted, const Runner& runner) {
  auto memberships = fs::parse_proc_cgroup(proc_self_cgroup);
  auto mounts = fs::parse_cgroup_mounts(mountinfo);
  auto places = fs::locate(memberships, mounts);
  const fs::Place* unified = nullptr;
  for (const fs::Place& p : places)
    if (p.version == fs::Version::V2) unified = &p;
  // The controllers the unified hierarchy has at all: its root's cgroup.controllers.
  std::vector<std::string> v2_controllers;
  std::string v2_root;
  for (const fs::Mount& m : mounts) {
    if (m.version != fs::Version::V2) continue;
    v2_root = m.mount_point;
    v2_controllers = fs::read_v2_controllers(m.mount_point);
    break;
  }

  Layout layout;
  for (Controller controller : wanted) {
    std::string_view name = controller_name(controller);
    Placement p;
    p.controller = controller;
    if (contains(v2_controllers, name)) {
      if (!unified || !unified->visible())
        return plain_error(
            fmt::format("the {} controller is on cgroup v2, but this process's v2 cgroup \"{}\" "
                        "cannot be used: {}",
                        name, unified ? unified->path : "?",
                        unified ? unified->why_not_visible : "not in /proc/self/cgroup"),
            "nslab makes a box's cgroup only under the runner's own cgroup");
      p.version = Version::V2;
      p.own_dir = unified->directory;
      p.parent_dir = p.own_dir + "/" + std::string(kV2ParentName);
      p.hierarchy = fmt::format("cgroup v2 at {}", v2_root);
      p.mount_point = unified->mount_point;
      p.own_is_root = unified->directory == unified->mount_point;
      SANDBOX_TRY(place_v2(p, unified->mount_point, runner));
      layout.placements.push_back(std::move(p));
      continue;
    }
    const fs::Place* v1 = nullptr;
    for (const fs::Place& place : places)
      if (place.version == fs::Version::V1 && place.has(name)) v1 = &place;
    bool v1_mounted = std::any_of(mounts.begin(), mounts.end(), [&](const fs::Mount& m) {
      return m.version == fs::Version::V1 && contains(m.options, name);
    });
    if (!v1 || !v1_mounted)
      return plain_error(
          fmt::format("no {} controller here: it is not on cgroup v2 ({}) and no cgroup v1 "
                      "hierarchy has it",
                      name,
                      v2_root.empty() ? std::string("no cgroup2 mount")
                                      : fmt::format("{}/cgroup.controllers: \"{}\"", v2_root,
                                                    common::join(v2_controllers, " "))),
          "the kernel may lack it (CONFIG_CGROUP_PIDS, CONFIG_MEMCG, CONFIG_CFS_BANDWIDTH), or "
          "it is not mounted; `nslab doctor` shows the layout");
    if (!v1->visible())
      return plain_error(fmt::format("the {} cgroup \"{}\" (cgroup v1) cannot be used: {}", name,
                                     v1->path, v1->why_not_visible),
                         "nslab makes a box's cgroup only under the runner's own cgroup");
    p.version = Version::V1;
    p.own_dir = v1->directory;
    p.parent_dir = v1->directory;
    p.hierarchy =
        fmt::format("cgroup v1 {} at {}", common::join(v1->controllers, ","), v1->mount_point);
    p.mount_point = v1->mount_point;
    p.mount_options = common::join(v1->controllers, ",");
    layout.placements.push_back(std::move(p));
  }
  return layout;
}

Result<Layout> detect_layout(const std::vector<Controller>& wanted) {
  auto cgroups = sys::read_file("/proc/self/cgroup");
  if (!cgroups) return cgroups.error();
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  if (!mountinfo) return mountinfo.error();
  return decide_layout(*cgroups, *mountinfo, wanted, Runner::current());
}

Status check_access(const Layout& layout) {
  for (const Placement& p : layout.placements) {
    // The box's directory is made in parent_dir, which on v2 nslab may have to make in own_dir.
    std::string where = sys::access(p.parent_dir, F_OK) ? p.parent_dir : p.own_dir;
    if (Status writable = sys::access(where, W_OK); !writable)
      return plain_error(
          fmt::format("--{}: cannot make a cgroup in {}: {}",
                      p.controller == Controller::Cpu ? "cpus" : controller_name(p.controller),
                      where, std::strerror(writable.error().err)),
          kNeedRoot);
  }
  return ok();
}

Status find_cgroups(const Limits& limits, Caller& caller) {
  if (limits.empty()) {
    // No cgroup of the box's own: where the runner's cgroups are, for the view a --cgroup box
    // mounts. Each controller on its own, so a host without one of them still has the others.
    auto cgroups = sys::read_file("/proc/self/cgroup");
    auto mountinfo = sys::read_file("/proc/self/mountinfo");
    Layout found;
    if (cgroups && mountinfo)
      for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu})
        if (auto one = decide_layout(*cgroups, *mountinfo, {c}, Runner::current()))
          for (Placement& p : one->placements) found.placements.push_back(std::move(p));
    caller.cgroup_layout = std::move(found);
    return ok();
  }
  auto layout = detect_layout(limits.controllers());
  if (!layout) return layout.error();
  Status access = check_access(*layout);
  if (!access) caller.cgroup_refusal = access.error();
  caller.cgroup_layout = std::move(*layout);
  return ok();
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
  if (!all_digits(digits) || digits.size() > 9 || digits[0] == '0') return std::nullopt;
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
  for (int attempt = 1;; ++attempt) {
    BoxCgroup box;
    box.dirs_ = box_dirs(layout, name);
    box.limits_ = limits;
    Status failed = ok();
    for (const Write& w : creation_writes(layout, limits, name)) {
      if (w.kind == Write::Kind::MakeDir) {
        bool created = false;
        failed = make_dir(w.path, w.may_exist, created);
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
        failed = cgroup_error(failed.error(), file_name(w.path));
        break;
      }
    }
    if (failed) {
      for (const Placement& p : layout.placements) {
        if (!p.move_runner) continue;
        if (!box.runner_home_)
          box.runner_home_ = RunnerHome{p.own_dir, p.parent_dir,
                                        p.parent_dir + "/" + runner_leaf_name(name), {}, {}};
        box.runner_home_->parent_enabled.emplace_back(controller_name(p.controller));
        if (p.enable_above) box.runner_home_->home_enabled.emplace_back(controller_name(p.controller));
      }
      return box;
    }
    bool parent_vanished = failed.error().err == ENOENT && !box.v2_parents_.empty() &&
                           failed.error().call.starts_with("mkdir");
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
    Status status = remove_tree(*it, dir != dirs_.end() ? dir->version : Version::V1);
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

// --- A lesson driver's own leaf ------------------------------------------------------------------

bool is_runner_leaf(const std::string& dir) {
  return runner_of(file_name(dir)) && file_name(dir).starts_with("nslab-runner-") &&
         file_name(parent_of(dir)) == kV2ParentName;
}

std::optional<DriverLeaf> DriverLeaf::enter() {
  if (::geteuid() == 0) return std::nullopt;  // root's boxes go under the root cgroup
  auto cgroups = sys::read_file("/proc/self/cgroup");
  auto mountinfo = sys::read_file("/proc/self/mountinfo");
  if (!cgroups || !mountinfo) return std::nullopt;
  auto places = fs::locate(fs::parse_proc_cgroup(*cgroups), fs::parse_cgroup_mounts(*mountinfo));
  const fs::Place* unified = nullptr;
  for (const fs::Place& p : places)
    if (p.version == fs::Version::V2 && p.visible()) unified = &p;
  if (!unified || unified->directory == unified->mount_point) return std::nullopt;
  const std::string& own = unified->directory;
  if (is_runner_leaf(own)) return std::nullopt;  // already in one
  if (detail::procs_of(own) != std::vector<pid_t>{::getpid()}) return std::nullopt;
  bool offers_one = false;
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu})
    offers_one = offers_one || contains(fs::read_v2_controllers(own), controller_name(c));
  if (!offers_one || !sys::access(own + "/cgroup.procs", W_OK) ||
      !sys::access(own + "/cgroup.subtree_control", W_OK) || !sys::access(own, W_OK))
    return std::nullopt;

  DriverLeaf leaf;
  leaf.home_ = own;
  leaf.parent_ = own + "/" + std::string(kV2ParentName);
  leaf.leaf_ = leaf.parent_ + "/" + runner_leaf_name(box_name(::getpid()));
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu})
    if (enabled_in(own, controller_name(c)))
      leaf.home_enabled_before_.emplace_back(controller_name(c));
  bool created = false;
  if (!make_dir(leaf.parent_, true, created)) return std::nullopt;
  leaf.made_parent_ = created;
  bool leaf_created = false;
  if (!make_dir(leaf.leaf_, false, leaf_created) ||
      !sys::write_file(leaf.leaf_ + "/cgroup.procs", std::to_string(::getpid()))) {
    if (leaf_created) (void)sys::rmdir(leaf.leaf_);
    if (created) (void)sys::rmdir(leaf.parent_);
    return std::nullopt;
  }
  return leaf;
}

DriverLeaf::DriverLeaf(DriverLeaf&& other) noexcept
    : home_(std::move(other.home_)),
      parent_(std::move(other.parent_)),
      leaf_(std::move(other.leaf_)),
      home_enabled_before_(std::move(other.home_enabled_before_)),
      made_parent_(other.made_parent_) {
  other.leaf_.clear();
}

DriverLeaf::~DriverLeaf() {
  if (leaf_.empty()) return;
  // The way in, backwards, as BoxCgroup::go_home() does for a runner's own leaf.
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu}) {
    std::string name(controller_name(c));
    if (enabled_in(parent_, name))
      (void)sys::write_file(parent_ + "/cgroup.subtree_control", "-" + name);
    if (enabled_in(home_, name) && !contains(home_enabled_before_, name))
      (void)sys::write_file(home_ + "/cgroup.subtree_control", "-" + name);
  }
  if (sys::write_file(home_ + "/cgroup.procs", std::to_string(::getpid()))) {
    (void)sys::rmdir(leaf_);
    if (made_parent_) (void)sys::rmdir(parent_);
  }
}

// --- The sweep -----------------------------------------------------------------------------------

Verdict judge_leftover(std::string_view name, const std::vector<pid_t>& procs,
                       const std::function<bool(pid_t)>& runner_alive) {
  auto runner = runner_of(name);
  if (!runner) return Verdict::NotOurs;
  if (runner_alive(*runner)) return Verdict::RunnerAlive;
  return procs.empty() ? Verdict::Remove : Verdict::LeaveBusy;
}

bool live_runner(pid_t pid) {
  if (pid == ::getpid()) return false;
  auto text = sys::read_file(fmt::format("/proc/{}/stat", pid));
  std::string stat = text ? *text : std::string();
  // "PID (COMM) STATE ...": COMM may hold blanks and parentheses, so look after the last ')'.
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  return stat[paren + 2] != 'Z' && stat[paren + 2] != 'X';
}

SweepReport sweep_stale(const Layout& layout, const std::function<bool(pid_t)>& runner_alive) {
  SweepReport report;
  for (const std::string& parent : sweep_parents(layout)) {
    Version version = Version::V1;
    for (const Placement& p : layout.placements)
      if (parent.starts_with(p.mount_point.empty() ? p.parent_dir : p.mount_point))
        version = p.version;
    for (const std::string& dir : child_dirs(parent)) {
      // Other cgroups (a systemd slice may hold hundreds below it) are judged by name alone,
      // and boxes of live runners by their runner: only a stale box's tree is read.
      auto runner = runner_of(file_name(dir));
      if (!runner || runner_alive(*runner)) continue;
      std::vector<pid_t> procs = procs_in_tree(dir);
      switch (judge_leftover(file_name(dir), procs, runner_alive)) {
        case Verdict::NotOurs:
        case Verdict::RunnerAlive:
          break;
        case Verdict::Remove: {
          // Empty, but maybe with cgroups the box made inside: removed deepest first.
          Status status = remove_tree(dir, version);
          if (status)
            report.removed.push_back(dir);
          else
            report.errors.push_back(status.error().message());
          break;
        }
        case Verdict::LeaveBusy: {
          std::vector<std::string> list;
          for (pid_t pid : procs) list.push_back(std::to_string(pid));
          report.busy.push_back(fmt::format(
              "{} still holds pids {}, but its runner is gone: left alone (kill them, then rmdir "
              "it)",
              dir, common::join(list, " ")));
          break;
        }
      }
    }
  }
  return report;
}

SweepReport sweep_stale_everywhere() {
  Layout everywhere;
  // One controller at a time: detect_layout() refuses a list with a controller the host lacks.
  for (Controller c : {Controller::Pids, Controller::Memory, Controller::Cpu})
    if (auto layout = detect_layout({c}))
      for (Placement& p : layout->placements) everywhere.placements.push_back(std::move(p));
  return sweep_stale(everywhere);
}

std::vector<std::string> sweep_notes(const SweepReport& report) {
  std::vector<std::string> notes;
  for (const std::string& busy : report.busy) notes.push_back("stale cgroup " + busy);
  for (const std::string& error : report.errors)
    notes.push_back("could not remove a stale cgroup: " + error);
  return notes;
}

// --- Explain -------------------------------------------------------------------------------------

std::vector<StepText> describe_steps(const Layout& layout, const Limits& limits,
                                     std::string_view name) {
  std::vector<StepText> steps;
  std::vector<std::string> parents = sweep_parents(layout);
  for (std::string& parent : parents) parent += "/nslab-box-PID";
  steps.push_back({Phase::Sweep, Side::Runner,
                   fmt::format("rmdir {} (only those whose runner PID is gone and whose "
                               "cgroup.procs is empty)",
                               common::join(parents, ", ")),
                   "a runner killed with SIGKILL could not remove its box's cgroup; the next "
                   "start does"});

  std::vector<std::string> calls;
  for (const Write& w : creation_writes(layout, limits, name)) {
    if (w.kind == Write::Kind::MakeDir)
      calls.push_back(fmt::format("mkdir {}", w.path));
    else
      calls.push_back(
          fmt::format("write {} \"{}\"{}", w.path, w.text, w.if_present ? " (if present)" : ""));
  }
  std::vector<std::string> why;
  for (const Placement& p : layout.placements) {
    std::string where = fmt::format("{} on {}", controller_name(p.controller), p.hierarchy);
    switch (p.controller) {
      case Controller::Pids:
        why.push_back(fmt::format("{}: at most {} tasks, a fork beyond fails with EAGAIN", where,
                                  *limits.pids_max));
        break;
      case Controller::Memory:
        why.push_back(fmt::format(
            "{}: {} of memory and no swap; beyond it the OOM killer ends a process of the box",
            where, tinysh::format_size(*limits.memory_bytes)));
        break;
      case Controller::Cpu:
        why.push_back(fmt::format(
            "{}: {} = {} µs of CPU time every {} µs; beyond it the box waits (is throttled)", where,
            format_cpus(*limits.cpu), limits.cpu->quota_us, limits.cpu->period_us));
        break;
    }
  }
  bool v2 = std::any_of(layout.placements.begin(), layout.placements.end(),
                        [](const Placement& p) { return p.version == Version::V2; });
  if (v2)
    why.push_back(
        "on v2 the box's parent nslab/ holds no processes, so it may hand controllers to its "
        "children (the no-internal-processes rule)");
  for (const Placement& p : layout.placements) {
    if (p.at_v2_root) {
      why.push_back(fmt::format(
          "the runner's cgroup {} holds processes and cannot hand controllers down, so nslab/ "
          "goes under the root cgroup, which that rule exempts (only root may do this)",
          p.own_dir));
      break;
    }
    if (p.move_runner) {
      why.push_back(fmt::format(
          "the runner is alone in its cgroup {}: it first moves itself into nslab/{}, so {} "
          "holds no process and may hand controllers down",
          p.own_dir, runner_leaf_name(name), p.own_dir));
      break;
    }
  }
  steps.push_back({Phase::Create, Side::Runner, common::join(calls, "; "), common::join(why, "; ")});

  std::vector<std::string> joins;
  for (const BoxDir& dir : box_dirs(layout, name))
    joins.push_back(fmt::format("write {}/cgroup.procs \"CHILD_PID\"", dir.path));
  steps.push_back({Phase::Join, Side::Runner, common::join(joins, "; "),
                   "the box's first process is counted before it runs anything, and everything "
                   "it starts inherits the cgroup; the runner itself stays outside the limits"});

  std::vector<std::string> removes;
  for (const BoxDir& dir : box_dirs(layout, name))
    removes.push_back(fmt::format("{}; rmdir {}",
                                  dir.version == Version::V2
                                      ? fmt::format("write {}/cgroup.kill \"1\"", dir.path)
                                      : fmt::format("kill(PID, SIGKILL) for each PID in "
                                                    "{}/cgroup.procs",
                                                    dir.path),
                                  dir.path));
  for (const Placement& p : layout.placements)
    if (p.move_runner) {
      removes.push_back(fmt::format(
          "write {0}/cgroup.subtree_control \"-CONTROLLERS\" (and in {1}); write "
          "{1}/cgroup.procs \"RUNNER_PID\"; rmdir {0}/{2} {0}",
          p.parent_dir, p.own_dir, runner_leaf_name(name)));
      break;
    }
  steps.push_back({Phase::Remove, Side::Runner, common::join(removes, "; "),
                   "nothing of the box outlives it: its last processes, then its cgroup; the "
                   "OOM count is read first (memory.events or memory.oom_control oom_kill)"});
  return steps;
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

}  // namespace detail

}  // namespace sandbox::cgroup

namespace sandbox {

Result<std::vector<Step>> plan_cgroup_limits(const Spec& spec, const Caller& caller) {
  std::vector<Step> steps;
  const cgroup::Limits& limits = spec.limits;
  if (limits.empty()) return steps;
  if (!caller.cgroup_layout) {
    Error e = plain_error("the host's cgroup layout was not looked up before planning",
                          "call cgroup::find_cgroups() for the spec's limits first");
    e.step = "plan";
    return e;
  }
  for (cgroup::Controller c : limits.controllers())
    if (!caller.cgroup_layout->find(c)) {
      Error e = plain_error(fmt::format("no cgroup hierarchy found for the {} controller",
                                        cgroup::controller_name(c)),
                            "see `nslab doctor` for this host's cgroup layout");
      e.step = "plan";
      return e;
    }
  if (caller.cgroup_refusal) {
    Error e = *caller.cgroup_refusal;
    e.step = "plan";
    return e;
  }
  for (const cgroup::StepText& text :
       cgroup::describe_steps(*caller.cgroup_layout, limits, "nslab-box-RUNNER_PID")) {
    switch (text.phase) {
      case cgroup::Phase::Sweep:
        steps.push_back({op::SweepStaleCgroups{{text.calls}}, text.why});
        break;
      case cgroup::Phase::Create:
        steps.push_back({op::CreateCgroup{{text.calls}}, text.why});
        break;
      case cgroup::Phase::Join:
        steps.push_back({op::JoinCgroup{{text.calls}}, text.why});
        break;
      case cgroup::Phase::Remove:
        steps.push_back({op::RemoveCgroup{{text.calls}}, text.why});
        break;
    }
  }
  return steps;
}

}  // namespace sandbox
