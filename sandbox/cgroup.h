// Cgroup limits for a box: --pids N, --memory SIZE, --cpus X — cgroups(7), and the kernel's
// Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/{pids,memory,cpu}.rst (CFS bandwidth).
//
// A cgroup is a directory in a cgroup filesystem. The kernel counts every process listed in its
// cgroup.procs file against the limits written into the directory's other files; children of a
// listed process start in the same cgroup. So a box is limited by making a directory, writing the
// limits, and writing the box's first pid into cgroup.procs before it runs anything.
//
// Two layouts exist, and a host may mix them ("hybrid", as this project's build machine does):
//   v1  one hierarchy (mount) per controller: /sys/fs/cgroup/pids, .../memory, .../cpu,cpuacct.
//       The box gets one directory in each hierarchy it needs.                  (cgroup_v1.cpp)
//   v2  one unified hierarchy for every controller. A child only gets a controller when its parent
//       lists it in cgroup.subtree_control, and a cgroup that has processes of its own cannot
//       hand controllers down (the "no internal processes" rule: EBUSY). So boxes live under a
//       parent nslab owns and keeps empty: <own cgroup>/nslab/nslab-box-<pid>, or, when the
//       runner's own cgroup holds processes, <v2 root>/nslab/... for root (the root cgroup is
//       exempt from the rule) and a leaf of nslab/ for the runner itself when it is alone in a
//       delegated cgroup.                                                       (cgroup_v2.cpp)
// The choice is made per controller: v2 when the controller is on the unified hierarchy, else v1
// when its hierarchy is mounted.
//
// The life of a box's cgroup, all in the runner:
//   before clone   BoxCgroup::create() mkdir, enable controllers (v2), write the limits (a stale
//                                      namesake of an earlier runner with this pid is swept)
//   after clone    BoxCgroup::join()   write the child's pid into cgroup.procs while it waits on
//                                      the sync pipe: it is counted before it runs anything
//   after release  sweep_stale()       remove nslab-box-<pid> left by runners that were SIGKILLed,
//                                      while the box sets itself up
//   after the end  oom_report()        the OOM killer's own counter, never a guess from SIGKILL
//                  ~BoxCgroup()        kill what is left, rmdir (on every exit path)
// The box's cgroup sits under the runner's own cgroup (/proc/self/cgroup), so nslab touches no
// cgroup it did not name (but for enabling controllers in the v2 root's subtree_control, as root,
// in the case above), and the runner itself is never inside the box's limits.
//
// Planning is pure: the flag parsers, the per-controller decision (given the text of
// /proc/self/cgroup and mountinfo, and the files of the cgroup directories they name, so a fake
// tree in a temporary directory stands in for /sys/fs/cgroup), the list of writes, the sweep's
// verdicts and the explain text. Only BoxCgroup and sweep_stale() change the host.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup_layout.h"
#include "plan.h"
#include "result.h"

namespace sandbox::cgroup {

// "pids", "memory", "cpu": the controller's name in cgroupfs.
std::string_view controller_name(Controller controller);

// --- What the box may use: the flags' values (cgroup_limits.cpp) ---------------------------------

// The kernel's highest pid count (PID_MAX_LIMIT on 64-bit): no pids.max above it means anything.
inline constexpr std::uint64_t kMaxPids = 4194304;
// The smallest --memory nslab sets. tinysh alone runs in far less (it started and ran `ls /`
// under 256 KiB on the build machine: its pages were already in the page cache, charged
// elsewhere), but a program from a --rootfs or a few forks soon need more, and a value this small
// is far more often a typo (32K for 32M) than a wish.
inline constexpr std::uint64_t kMinMemoryBytes = 4ull << 20;
// v1 reads anything from 2^62 up as "no limit", so a larger limit would silently mean none.
inline constexpr std::uint64_t kMaxMemoryBytes = 1ull << 62;
// The CFS period nslab uses, and the smallest quota the kernel accepts (1 ms).
inline constexpr std::uint64_t kCpuPeriodUs = 100000;
inline constexpr std::uint64_t kMinCpuQuotaUs = 1000;

// --pids N: a whole number from 1 to 4194304. "0", "-1" and "max" are refused rather than given
// runc's meanings (0 = 1, -1 = unlimited): no limit is said by leaving --pids out, and a limit
// of 0 would stop the box's first process from even existing.
Result<std::uint64_t> parse_pids_limit(std::string_view text);
// --memory SIZE: shell/size.h's sizes ("32M", "1.5G", "33554432"), from 4 MiB to below 2^62.
Result<std::uint64_t> parse_memory_limit(std::string_view text);
// --cpus X: a decimal number of CPUs ("0.5", "1", "1.25"), at least 0.01 (the kernel's 1 ms
// minimum quota per 100 ms period) and at most `online_cpus` (more would be no limit at all);
// at most 5 decimals (a quota is counted in whole microseconds).
Result<CpuQuota> parse_cpus(std::string_view text, unsigned online_cpus);
// "0.5 CPU", "2 CPUs", "0.25 CPU".
std::string format_cpus(const CpuQuota& quota);

// --- Where each controller's box cgroup goes (cgroup_placement.cpp; types: cgroup_layout.h) ------

// What cgroup v2's no-internal-processes rule lets a runner do with a controller below its own
// cgroup, when that is not the hierarchy's root: the one decision the runner's placement
// (place_v2) and the doctor's judgement both take, from the three files of the runner's cgroup.
struct V2Own {
  bool handed_down = false;  // its cgroup.controllers has the controller
  bool enabled = false;      // its cgroup.subtree_control has it: it hands it down already
  std::vector<pid_t> procs;  // its cgroup.procs
};
enum class V2Choice {
  Below,          // <own>/nslab, enabling the controller in own first if need be
  AtRoot,         // root only: <v2 root>/nslab, which the rule exempts
  MoveRunner,     // the runner, alone in own, moves into a leaf of nslab/ first
  NotHandedDown,  // refused: own was not handed the controller
  Shared,         // refused: own holds other processes, so it cannot hand the controller down
};
V2Choice choose_v2(const V2Own& own, const Caller& runner);
// The processes of `own` other than the runner's: those that make it Shared.
std::vector<pid_t> others_in(const V2Own& own, const Caller& runner);

// Decides v1 or v2 per controller from the text of /proc/self/cgroup and /proc/self/mountinfo,
// reading cgroup.controllers, cgroup.subtree_control and (v2) cgroup.procs of the directories
// they name. A controller found nowhere, a cgroup path with "..", a cgroup this mount namespace
// cannot see, or (v2, not root) a runner's cgroup shared with other processes is an error that
// says which and why. Of the runner it reads `privileged` (v2 puts a root runner whose cgroup
// holds processes at the v2 root) and `pid` (a runner alone in its cgroup moves itself out of
// the way: cgroup_v2.cpp).
Result<Layout> decide_layout(std::string_view proc_self_cgroup, std::string_view mountinfo,
                             const std::vector<Controller>& wanted, const Caller& runner = {});
// The same for this process, from the live /proc/self files. Needs no root.
Result<Layout> detect_layout(const std::vector<Controller>& wanted,
                             const Caller& runner = this_process());
// Every controller nslab limits that this host has, each placed on its own, so a host without
// one of them still has the others; /proc/self/cgroup and mountinfo are read once.
Layout layout_of_each(const Caller& runner);

// Whether this process may make cgroups where `layout` puts them (root, or write access to the
// directories: a delegated cgroup). The error says exactly what is missing and what would fix it.
Status check_access(const Layout& layout);

// What plan() needs to know of the host for `limits`, read into `caller` (plan() itself stays
// pure): the layout (detect_layout) and, when this caller may not make cgroups there, why
// (check_access). Fails only when a controller cannot be found at all. Without limits: the
// runner's own pids, memory and cpu cgroups, those that can be found (what a --cgroup box shows
// in its view, below); never an error.
Status find_cgroups(const Limits& limits, Caller& caller);

// --- The box's directories and the writes that make them -----------------------------------------

// "nslab-box-<runner pid>": the only names nslab makes next to a runner's own cgroup (and, on v2,
// "nslab-runner-<pid>" for a runner that moved itself out of its own cgroup).
std::string box_name(pid_t runner_pid);
// The runner pid in a name nslab made, or nullopt for any other name ("nslab-box-12x", "foo").
std::optional<pid_t> runner_of(std::string_view name);
// "nslab-runner-<pid>" for the box named `box` ("nslab-box-<pid>").
std::string runner_leaf_name(std::string_view box);
// The v2 parent nslab keeps free of processes, under the runner's own cgroup.
inline constexpr std::string_view kV2ParentName = "nslab";

// One directory of the box: one per v1 hierarchy used, or the single v2 directory.
struct BoxDir {
  Version version = Version::V2;
  std::string path;
  std::vector<Controller> controllers;
};
std::vector<BoxDir> box_dirs(const Layout& layout, std::string_view name);

// One change to a cgroupfs, in order. The plan is pure; apply() runs it.
struct Write {
  enum class Kind { MakeDir, WriteFile };
  Kind kind = Kind::WriteFile;
  std::string path;
  std::string text;          // WriteFile: what is written
  bool may_exist = false;    // MakeDir: the shared v2 parent may be there already
  bool if_present = false;   // WriteFile: skipped when the file does not exist (swap files)
  bool created_dir = false;  // MakeDir of the box's own directory (removed again on failure)
  bool runner_leaf = false;  // MakeDir of the leaf the runner moves into: never removed by it
};

// The writes that make the box's cgroup: v2's parent and subtree_control first, then each
// directory and its limit files. Per version: cgroup_v1.cpp and cgroup_v2.cpp.
std::vector<Write> creation_writes(const Layout& layout, const Limits& limits,
                                   std::string_view name);
// The writes that move `pid` into every directory of the box.
std::vector<Write> join_writes(const std::vector<BoxDir>& dirs, pid_t pid);

// --- A lesson driver's own leaf (RAII, cgroup_leaf.cpp) ------------------------------------------
// `nslab lesson` and `nslab check` start each box's runner as their child, in their cgroup. A
// user's runner alone in a delegated v2 cgroup moves itself into a leaf so the cgroup may hand
// controllers down (place_v2); beside its driver it is never alone, and cgroup v2 refuses. So a
// driver alone in a delegated v2 cgroup first moves itself into <own>/nslab/nslab-runner-<pid>;
// its runners start there and put their boxes beside it, in nslab/. The end undoes it: the
// controllers the runners enabled stop, the driver moves back, the leaf and nslab/ go (a killed
// driver's empty leaf goes with the next sweep, by its name). Root, v1, a cgroup shared with
// other processes or not delegated: nothing is done.
// <something>/nslab/nslab-runner-PID: a leaf nslab made for a process of its own (a runner, or a
// lesson driver) to live in; boxes then go beside it.
bool is_runner_leaf(const std::string& dir);

class DriverLeaf {
 public:
  static std::optional<DriverLeaf> enter();
  DriverLeaf(DriverLeaf&& other) noexcept;
  DriverLeaf& operator=(DriverLeaf&&) = delete;
  DriverLeaf(const DriverLeaf&) = delete;
  ~DriverLeaf();
  const std::string& leaf() const { return leaf_; }

 private:
  DriverLeaf() = default;
  std::string home_, parent_, leaf_;
  std::vector<std::string> home_enabled_before_;
  bool made_parent_ = false;
};

// --- The box's cgroup on the host (RAII) ---------------------------------------------------------

class BoxCgroup {
 public:
  // Runs creation_writes(); whatever was made is removed again if a later write fails.
  static Result<BoxCgroup> create(const Layout& layout, const Limits& limits, pid_t runner_pid);
  BoxCgroup(BoxCgroup&& other) noexcept;
  BoxCgroup& operator=(BoxCgroup&&) = delete;
  BoxCgroup(const BoxCgroup&) = delete;
  // remove(), errors ignored: no exit path leaves the directories behind.
  ~BoxCgroup();

  // Writes `pid` into cgroup.procs of every directory (the parent does this between clone and
  // release, so the child is counted before it runs anything).
  Status join(pid_t pid) const;
  // Hands the box's directories to the box's root, as systemd's Delegate=yes hands a service
  // its cgroup: the directory (to make children in), cgroup.procs and cgroup.threads (v1: tasks)
  // to move its processes, cgroup.subtree_control (v2) to enable controllers for its children.
  // The limit files stay root's: the box divides what it was given, never enlarges it.
  Status delegate(uid_t uid, gid_t gid) const;
  // Kills what is still inside (v2: cgroup.kill; v1: SIGKILL to every pid in cgroup.procs until
  // it is empty), then rmdir, retried while the kernel still says EBUSY; both waits are bounded.
  // Idempotent.
  Status remove();

  const std::vector<BoxDir>& dirs() const { return dirs_; }
  const Limits& limits() const { return limits_; }
  // The OOM killer's count for the box: v2 memory.events oom_kill, v1 memory.oom_control
  // oom_kill. nullopt without a memory limit or on a kernel without the counter (before 4.13).
  std::optional<std::uint64_t> oom_kills() const;
  // "the box's processes were killed by the OOM killer once (memory limit 32 MiB)", or "".
  std::string oom_report() const;

 private:
  BoxCgroup() = default;
  std::vector<BoxDir> dirs_;
  std::vector<std::string> made_;        // directories this object created, in order
  std::vector<std::string> v2_parents_;  // nslab's shared v2 parents: removed when empty
  // A runner that moved itself into a leaf of nslab/ (Placement::move_runner) goes home again
  // when the box is gone, and takes back what it enabled there, so that nothing is left.
  struct RunnerHome {
    std::string home, parent, leaf;
    std::vector<std::string> parent_enabled, home_enabled;  // "pids", "memory", ...
  };
  std::optional<RunnerHome> runner_home_;
  void go_home() const;
  Limits limits_;
  bool removed_ = false;
};

// The OOM sentence for `kills` under `limit_bytes` ("" when kills is 0). Pure.
std::string describe_oom(std::uint64_t kills, std::uint64_t limit_bytes);

// --- The box's read-only view of its own cgroup (cgroup_view.cpp) ------------------------------

// Where a box finds its cgroup filesystems, as on most hosts.
inline constexpr std::string_view kViewDir = "/sys/fs/cgroup";

// One cgroup filesystem mounted in the box.
struct ViewMount {
  Version version = Version::V1;
  std::string target;       // in the box: "/sys/fs/cgroup/pids", or "/sys/fs/cgroup" for v2 alone
  std::string controllers;  // v1: the hierarchy's controllers ("pids", "cpu,cpuacct"); v2: ""
  std::string bind_from;    // "": a fresh mount in the box's cgroup namespace; else the box's own
                            // directory on the host, bind-mounted (no cgroup namespace)
};
struct View {
  bool holder_tmpfs = false;  // a tmpfs at /sys/fs/cgroup holds one directory per hierarchy
  std::vector<ViewMount> mounts;
};
// The mounts that show a box its cgroup in each hierarchy of `layout`: fresh mounts with
// `cgroup_namespace`, else binds of the directories named `name` (the box's own, so there must
// be limits). One mount per hierarchy; v2 alone at /sys/fs/cgroup, else one directory per
// hierarchy in a tmpfs there (v2 as "unified"), as systemd mounts them on the host. Pure.
View plan_view(const Layout& layout, std::string_view name, bool cgroup_namespace);

// --- Stale cgroups of runners that were SIGKILLed (cgroup_sweep.cpp) -----------------------------

// What the sweep does with one entry next to the runner's own cgroup.
enum class Leftover {
  NotOurs,      // any name nslab does not make: never touched
  RunnerAlive,  // that runner still runs: its box is in use
  Remove,       // runner gone, no process inside: rmdir
  LeaveBusy,    // runner gone but processes remain: reported, never reused or killed
};
Leftover judge_leftover(std::string_view name, const std::vector<pid_t>& procs,
                       const std::function<bool(pid_t)>& runner_alive);

// True when `pid` is a live process other than this one (a zombie is not alive). This runner's
// own pid counts as gone: a directory with its name was left by an earlier process with the
// same pid.
bool live_runner(pid_t pid);

struct SweepReport {
  std::vector<std::string> removed;
  std::vector<std::string> busy;    // "DIR still holds pids 12 34: left alone"
  std::vector<std::string> errors;  // rmdir failures, with errno's text
};
// Looks in every parent_dir of `layout`; only names runner_of() accepts are considered.
SweepReport sweep_stale(const Layout& layout,
                        const std::function<bool(pid_t)>& runner_alive = live_runner);
// The sweep over every controller this host has (each found on its own, so a host without one
// of them is still swept): what `nslab run` does at every start and `nslab doctor` does too.
// A runner that sweeps once its own box's cgroup exists says its pid is alive (still_mine).
SweepReport sweep_stale_everywhere(bool still_mine = false);
// The lines a runner prints about a sweep: one per busy directory and per failure.
std::vector<std::string> sweep_notes(const SweepReport& report);

// --- What `nslab explain` says (cgroup_explain.cpp) ----------------------------------------------

enum class Phase { Sweep, Create, Join, Remove };
struct StepText {
  Phase phase;
  Side side;
  std::string calls;
  std::string why;
};
// For each phase the calls and why, naming v1 or v2 per controller. `name` is usually
// box_name(runner), or "nslab-box-<pid>" when the pid is not known yet.
std::vector<StepText> describe_steps(const Layout& layout, const Limits& limits,
                                     std::string_view name);
// The calls of each phase, one text per call, as the plan's cgroup steps render them.
std::vector<std::string> sweep_calls(const Layout& layout);
std::vector<std::string> creation_calls(const Layout& layout, const Limits& limits,
                                        std::string_view name);
std::vector<std::string> join_calls(const Layout& layout, std::string_view name);
std::vector<std::string> remove_calls(const Layout& layout, std::string_view name);
// The box's name in the plan's cgroup steps: the runner's pid is not known yet.
inline constexpr std::string_view kBoxNamePattern = "nslab-box-RUNNER_PID";

// --- Internal: shared by the cgroup*.cpp files ---------------------------------------------------
// Defined in cgroup_v1.cpp and cgroup_v2.cpp (the writes, kill_all), cgroup_sweep.cpp
// (sweep_parents) and cgroup.cpp (the rest).

namespace detail {
// Appends the version's writes for one box directory.
void v1_writes(const BoxDir& dir, const Limits& limits, std::vector<Write>& out);
void v2_writes(const Layout& layout, const BoxDir& dir, const Limits& limits,
               std::vector<Write>& out);
// Kills every process in `dir` and waits (bounded) until cgroup.procs is empty.
Status v1_kill_all(const std::string& dir);
Status v2_kill_all(const std::string& dir);
// The pids in DIR/cgroup.procs ({} when the file cannot be read).
std::vector<pid_t> procs_of(const std::string& dir);
// Polls `done` every millisecond up to `limit_ms`; true once it holds.
bool poll_until(const std::function<bool()>& done, int limit_ms);
// Whether DIR/cgroup.subtree_control hands `name` down to DIR's children (v2).
bool enabled_in(const std::string& dir, std::string_view name);
// mkdir of a cgroup: `created` says whether this call made it; EEXIST is fine when `may_exist`.
Status make_dir(const std::string& path, bool may_exist, bool& created);
// The cgroups directly under `dir`, as paths ({} when it cannot be listed).
std::vector<std::string> child_dirs(const std::string& dir);
// Empties and removes a box's directory and any cgroups the box made inside it, deepest first.
Status remove_tree(const std::string& dir, Version version);
bool contains(const std::vector<std::string>& words, std::string_view word);
bool all_digits(std::string_view text);  // non-empty, 0-9 only
std::string file_name(const std::string& path);  // "c" of "/a/b/c"
std::string parent_of(const std::string& path);  // "/a/b" of "/a/b/c"
// Where boxes of SIGKILLed runners may be: each parent_dir of `layout`, and nslab's v2 parent
// under the root cgroup when this process may remove things there.
std::vector<std::string> sweep_parents(const Layout& layout);
}  // namespace detail

}  // namespace sandbox::cgroup
