// What the cgroup files mean, in words a projector can show: the lines of the `cgroup` builtin,
// and how `hog` tells an out-of-memory kill from any other kill.
//
// clang-format off
// Output of `cgroup` (one line per controller that nslab's lessons limit, then the rest):
//   cgroup v1  pids    /nslab-box-1  pids 2 of max 10
//   cgroup v1  memory  /nslab-box-1  memory 1.2 MiB of limit 32 MiB, peak 3 MiB, oom kills 0
//   cgroup v1  cpu     /nslab-box-1  cpu 0.2 CPU (20000 us every 100000 us), throttled 8 of 10 periods
//   cgroup v1  other   /             blkio cpuacct devices freezer name=systemd
//   cgroup v2  -       /             (no pids, memory or cpu controller here)
// The path column is as wide as the longest path. A controller whose hierarchy is not mounted
// says "(not mounted here)" in place of its numbers.
// Lessons match on these words; change them only together with the lessons.
// clang-format on
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cgroup_fs.h"

namespace tinysh::cgroup {

std::string describe_pids(const PidsUsage& pids);
std::string describe_memory(const MemoryUsage& memory, const std::string& path);
std::string describe_cpu(const CpuUsage& cpu);

// "0.5", "1", "0.25": a CPU quota as a share of one CPU.
std::string cpu_share(std::uint64_t quota_us, std::uint64_t period_us);

// The whole report for `cgroup`. Reads the limit files under each visible place's directory.
// When no place is visible, it repeats /proc/self/cgroup and says how to mount a cgroup
// filesystem.
std::string report(const std::string& proc_cgroup_text, const std::vector<Place>& places);

// --- How the memory hog's allocator ended -------------------------------------------------------

enum class AllocatorEnd { Done, OutOfMemory, Signal, Failed };

struct AllocatorVerdict {
  AllocatorEnd end = AllocatorEnd::Failed;
  int signal = 0;      // for Signal and OutOfMemory
  int exit_code = 0;   // for Failed
  int status() const;  // like a shell's $?: 0, 128+signal, or the exit code
};

// From waitpid()'s status and the cgroup's oom_kill counter read before the allocator started
// and after it ended. Only a SIGKILL *and* a counter that went up is called out of memory: a
// SIGKILL from `kill -9` looks the same to waitpid(), and an unreadable counter proves nothing.
AllocatorVerdict judge_allocator(int wait_status, std::optional<std::uint64_t> oom_kills_before,
                                 std::optional<std::uint64_t> oom_kills_after);

// "hog: touched 200 MiB, released it", "hog: killed by the OOM killer: memory limit 32 MiB
// reached", "hog: killed by signal 9 (SIGKILL) after 40 MiB touched".
std::string describe_allocator_end(const AllocatorVerdict& verdict, std::uint64_t touched_bytes,
                                   const Limit& memory_limit);

// "SIGKILL"
std::string signal_name(int signal);

}  // namespace tinysh::cgroup
