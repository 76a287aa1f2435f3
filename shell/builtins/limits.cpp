// Cgroup limits, seen and felt: `cgroup` shows this process's cgroups and their limits; `spawn`,
// `hog` and `burn` run into the pids, memory and cpu limits so the student watches them act.
//
// The three demo tools run in a child process that the executor forks (RunsIn::Child): when the
// pids limit refuses a fork or the OOM killer picks a victim, it happens to that child, never to
// the shell, which may be the box's PID 1 (and a PID 1 that dies takes the whole box with it).
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <optional>

#include "../builtin.h"
#include "../size.h"
#include "cgroup_fs.h"
#include "cgroup_report.h"

namespace tinysh {

namespace {

using cgroup::Limit;

// "EAGAIN"
std::string errno_name(int err) {
  const char* name = ::strerrorname_np(err);
  return name ? name : std::to_string(err);
}

// A whole number in [min, max], digits only: no sign, no blanks, no "1e3".
std::optional<std::uint64_t> parse_count(std::string_view text, std::uint64_t min,
                                         std::uint64_t max) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text[0] == '+' || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

// Seconds as "2", "0.5" or "1s": digits with an optional fraction and an optional 's'.
std::optional<double> parse_seconds(std::string_view text, double max_seconds) {
  if (!text.empty() && text.back() == 's') text.remove_suffix(1);
  if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  size_t dots = 0;
  for (char c : text) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      return std::nullopt;
  }
  if (dots > 1 || text.back() == '.') return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max_seconds)
    return std::nullopt;
  return value;
}

int usage_because(Args args, std::string_view why) {
  write_all(2, fmt::format("{}: {}\n", args[0], why));
  return usage_error(args);
}

// Sleeps for `seconds` of wall time, resuming after signals that did not end the process.
void hold_for(double seconds) {
  timespec left{
      static_cast<time_t>(seconds),
      static_cast<long>((seconds - static_cast<double>(static_cast<time_t>(seconds))) * 1e9)};
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

// ---------------------------------------------------------------------------------- cgroup --

int cmd_cgroup(Shell&, Args args) {
  if (args.size() != 1) return usage_error(args);
  cgroup::LiveCgroups live = cgroup::locate_live();
  if (!live.error.empty()) return fail(args, "{}", live.error);
  out("{}", cgroup::report(live.proc_cgroup_text, live.places));
  return 0;
}

// ----------------------------------------------------------------------------------- spawn --

// The idle children of `spawn`. Each sits in pause(); the destructor kills and reaps every one,
// so no way out of spawn (an error, an early return) leaves a process behind. If spawn itself is
// killed, PR_SET_PDEATHSIG has the kernel send each child SIGKILL.
class IdleChildren {
 public:
  IdleChildren() : parent_(::getpid()) {}
  ~IdleChildren() { stop(); }
  IdleChildren(const IdleChildren&) = delete;
  IdleChildren& operator=(const IdleChildren&) = delete;

  // Forks one more child. Returns 0, or fork()'s errno.
  int start_one() {
    pid_t pid = ::fork();
    if (pid < 0) return errno;
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      // If spawn died between fork() and prctl(), no death signal would ever come: leave now.
      if (::getppid() != parent_) _exit(0);
      for (;;) ::pause();
    }
    pids_.push_back(pid);
    return 0;
  }

  size_t count() const { return pids_.size(); }

  void stop() {
    for (pid_t pid : pids_) ::kill(pid, SIGKILL);
    // waitpid() on each of our own children: once it returns, that process is gone for good.
    for (pid_t pid : pids_)
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    pids_.clear();
  }

 private:
  pid_t parent_;
  std::vector<pid_t> pids_;
};

std::string fork_failure_meaning(int err) {
  switch (err) {
    case EAGAIN:
      return " — a pids limit (pids.max) or the user's process limit (ulimit -u) stops new tasks";
    case ENOMEM:
      return " — no memory for a new task, or this PID namespace's init has exited";
    default:
      return "";
  }
}

int cmd_spawn(Shell&, Args args) {
  if (args.size() < 2 || args.size() > 3) return usage_error(args);
  constexpr std::uint64_t kMaxChildren = 100000;
  auto wanted = parse_count(args[1], 1, kMaxChildren);
  if (!wanted)
    return usage_because(args, fmt::format("N must be a whole number from 1 to {}, not '{}'",
                                           kMaxChildren, args[1]));
  double hold_seconds = 0;
  if (args.size() == 3) {
    auto seconds = parse_seconds(args[2], 3600);
    if (!seconds)
      return usage_because(args, fmt::format("SECONDS must be from 0 to 3600, not '{}'", args[2]));
    hold_seconds = *seconds;
  }

  IdleChildren children;
  int first_error = 0;
  while (children.count() < *wanted) {
    first_error = children.start_one();
    if (first_error != 0) break;
  }
  if (first_error == 0) {
    out("spawn: started {} of {}\n", children.count(), *wanted);
  } else {
    out("spawn: started {} of {}; fork number {} failed: {} ({}){}\n", children.count(), *wanted,
        children.count() + 1, errno_text(first_error), errno_name(first_error),
        fork_failure_meaning(first_error));
  }
  if (hold_seconds > 0) {
    out("spawn: holding {} children for {} s\n", children.count(), hold_seconds);
    hold_for(hold_seconds);
  }
  children.stop();
  return first_error == 0 ? 0 : 1;
}

// ------------------------------------------------------------------------------------- hog --

// One page shared between hog and its allocator (MAP_SHARED survives fork): the allocator
// records how much it touched, so hog can say it even after the allocator was killed.
class SharedCounter {
 public:
  SharedCounter() {
    void* p = ::mmap(nullptr, sizeof(std::uint64_t), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    page_ = p == MAP_FAILED ? nullptr : static_cast<std::uint64_t*>(p);
  }
  ~SharedCounter() {
    if (page_) ::munmap(page_, sizeof(std::uint64_t));
  }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  bool ok() const { return page_ != nullptr; }
  void store(std::uint64_t v) { std::atomic_ref<std::uint64_t>(*page_).store(v); }
  std::uint64_t load() const { return std::atomic_ref<std::uint64_t>(*page_).load(); }

 private:
  std::uint64_t* page_ = nullptr;
};

constexpr int kAllocatorMmapFailed = 1;

// The allocator: maps `total` bytes in steps and writes to every page, because the kernel gives
// anonymous memory a real page (and charges it to the memory cgroup) only on first touch.
[[noreturn]] void allocate_and_touch(std::uint64_t total, std::uint64_t step,
                                     SharedCounter& touched) {
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t steps = (total + step - 1) / step;
  const std::uint64_t print_every = std::max<std::uint64_t>(1, (steps + 15) / 16);  // ~16 lines
  std::uint64_t done = 0;
  for (std::uint64_t i = 1; done < total; ++i) {
    std::uint64_t chunk = std::min(step, total - done);
    void* p = ::mmap(nullptr, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      write_all(
          2, fmt::format("hog: mmap of {} failed after {} touched: {} ({}){}\n", format_size(chunk),
                         format_size(done), errno_text(err), errno_name(err),
                         err == ENOMEM ? " — the address-space limit (ulimit -v) or the "
                                         "kernel's overcommit rules refuse more memory"
                                       : ""));
      _exit(kAllocatorMmapFailed);
    }
    auto* bytes = static_cast<volatile unsigned char*>(p);
    for (std::uint64_t offset = 0; offset < chunk; offset += page) bytes[offset] = 1;
    done += chunk;
    touched.store(done);
    if (i % print_every == 0 || done == total)
      write_all(1, fmt::format("hog: {} touched\n", format_size(done)));
  }
  // Exiting unmaps everything: the memory goes back to the kernel and out of the cgroup's charge.
  _exit(0);
}

int cmd_hog(Shell&, Args args) {
  if (args.size() < 2 || args.size() > 3) return usage_error(args);
  auto size = parse_size(args[1]);
  if (!size) return usage_because(args, fmt::format("SIZE '{}': {}", args[1], size.error));
  if (size.bytes == 0) return usage_because(args, "SIZE must be more than 0");
  std::uint64_t step = 8ull << 20;
  if (args.size() == 3) {
    auto parsed = parse_size(args[2]);
    if (!parsed) return usage_because(args, fmt::format("STEP '{}': {}", args[2], parsed.error));
    if (parsed.bytes == 0) return usage_because(args, "STEP must be more than 0");
    step = parsed.bytes;
  }
  step = std::min(step, size.bytes);

  // The memory cgroup this process (and so the allocator it forks) is charged to.
  cgroup::LiveCgroups live = cgroup::locate_live();
  const cgroup::Place* memory = cgroup::find_controller(live.places, "memory");
  bool visible = memory && memory->visible();
  auto oom_kills = [&]() -> std::optional<std::uint64_t> {
    if (!visible) return std::nullopt;
    return cgroup::read_oom_kills(memory->directory, memory->version);
  };
  Limit limit =
      visible ? cgroup::read_memory(memory->directory, memory->version, memory->mount_point).limit
              : Limit::absent();
  out("hog: touching {} in steps of {}{}\n", format_size(size.bytes), format_size(step),
      limit.kind == Limit::Kind::Value ? fmt::format(" (memory limit {})", format_size(limit.value))
                                       : std::string());

  SharedCounter touched;
  if (!touched.ok()) return fail(args, "mmap of a shared page: {}", errno_text(errno));
  touched.store(0);
  std::optional<std::uint64_t> before = oom_kills();
  pid_t allocator = ::fork();
  if (allocator < 0) return fail(args, "fork: {}", errno_text(errno));
  if (allocator == 0) allocate_and_touch(size.bytes, step, touched);

  int status = 0;
  while (::waitpid(allocator, &status, 0) < 0) {
    if (errno != EINTR) return fail(args, "waitpid: {}", errno_text(errno));
  }
  std::optional<std::uint64_t> after = oom_kills();
  // The OOM killer sends its SIGKILL just before it counts the kill, so a waitpid() that returns
  // at once may read the old count: look again for a moment before calling it a plain kill.
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && before && after && *after == *before) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (after == before && std::chrono::steady_clock::now() < deadline) {
      timespec pause_a_little{0, 5'000'000};
      ::nanosleep(&pause_a_little, nullptr);
      after = oom_kills();
    }
  }

  cgroup::AllocatorVerdict verdict = cgroup::judge_allocator(status, before, after);
  // The allocator already explained an mmap failure on stderr.
  if (!(verdict.end == cgroup::AllocatorEnd::Failed && verdict.exit_code == kAllocatorMmapFailed))
    out("{}\n", cgroup::describe_allocator_end(verdict, touched.load(), limit));
  return verdict.status();
}

// ------------------------------------------------------------------------------------ burn --

double seconds_of(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

int cmd_burn(Shell&, Args args) {
  if (args.size() != 2) return usage_error(args);
  auto seconds = parse_seconds(args[1], 3600);
  if (!seconds || *seconds <= 0)
    return usage_because(
        args, fmt::format("SECONDS must be more than 0 and at most 3600, not '{}'", args[1]));

  cgroup::LiveCgroups live = cgroup::locate_live();
  const cgroup::Place* cpu = cgroup::find_controller(live.places, "cpu");
  bool visible = cpu && cpu->visible();
  cgroup::CpuUsage before =
      visible ? cgroup::read_cpu(cpu->directory, cpu->version) : cgroup::CpuUsage{};

  // Spin: the CPU scheduler gives this loop as much time as the cgroup's quota allows. Under a
  // quota, the cgroup is throttled (taken off the CPU) once it used its share of each period.
  double wall_start = seconds_of(CLOCK_MONOTONIC);
  double cpu_start = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
  volatile std::uint64_t spins = 0;
  while (seconds_of(CLOCK_MONOTONIC) - wall_start < *seconds)
    for (int i = 0; i < 10000; ++i) spins = spins + 1;
  double wall = seconds_of(CLOCK_MONOTONIC) - wall_start;
  double cpu_time = seconds_of(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;

  out("burn: {:.2f} s wall, {:.2f} s CPU: {:.0f}% of one CPU\n", wall, cpu_time,
      wall > 0 ? 100.0 * cpu_time / wall : 0.0);
  if (!visible) return 0;
  cgroup::CpuUsage after = cgroup::read_cpu(cpu->directory, cpu->version);
  std::string limit =
      after.quota_us.kind == Limit::Kind::Value && after.period_us
          ? "cgroup cpu limit " + cgroup::cpu_share(after.quota_us.value, *after.period_us) + " CPU"
          : std::string("no cgroup cpu limit");
  if (before.throttled && after.throttled && before.periods && after.periods)
    out("burn: {}; throttled in {} of {} periods while burning\n", limit,
        *after.throttled - *before.throttled, *after.periods - *before.periods);
  else
    out("burn: {}\n", limit);
  return 0;
}

constexpr Builtin kLimitBuiltins[] = {
    {"cgroup", "cgroup", "show this process's cgroups and their pids, memory and cpu limits",
     "/proc/self/cgroup, /proc/self/mountinfo, pids.max, memory.max or memory.limit_in_bytes, "
     "cpu.max or cpu.cfs_quota_us",
     RunsIn::Shell, cmd_cgroup},
    {"spawn", "spawn N [SECONDS]",
     "start N idle processes, stop at the first fork that fails, report",
     "fork(2), pids.max", RunsIn::Child, cmd_spawn},
    {"hog", "hog SIZE [STEP]",
     "touch SIZE of memory (200M) and say if the OOM killer stopped it",
     "mmap(2), memory.events or memory.oom_control", RunsIn::Child, cmd_hog},
    {"burn", "burn SECONDS", "spin one CPU for SECONDS (e.g. 0.5) and report the CPU time it got",
     "clock_gettime(2), cpu.stat", RunsIn::Child, cmd_burn},
};

}  // namespace

std::span<const Builtin> limit_builtins() {
  return kLimitBuiltins;
}

}  // namespace tinysh
