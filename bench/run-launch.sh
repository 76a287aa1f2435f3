#!/usr/bin/env bash
# Launch benchmark: how long it takes to start a box and see it exit, for nslab beside the bare
# system calls (bench/bare_launch.c) and the established tools, on the same work:
#
#   six namespaces (user, mnt, pid, uts, ipc, net), root switched to a busybox-static rootfs
#   directory, /proc mounted, /bin/true, exit.
#
# and a second pair, nslab and bare only: the same box with a cgroup (pids 64, memory 64 MiB,
# no swap) and a veth pair with addresses on both ends (nslab --pids 64 --memory 64M --veth).
#
# Every tool runs in the same interleaved rounds (bare_launch --time), so a busy moment of the
# machine slows all of them alike; the table shows medians and the ratio to the bare program.
# Then: the runner's memory while a box idles, and 50 boxes started at once, with a check that
# nothing is left behind (processes, mounts; and for boxes with limits and a veth, their cgroups
# and veth pairs).
#
# It only reports: a slow machine or a missing peer is printed, never an exit status.
#   bench/run-launch.sh BIN_DIR
#
# Peers are installed when the script runs as root outside CI (apt-get install bubblewrap crun
# busybox-static); otherwise a missing one is named with the command that installs it.
set -uo pipefail
bin=$(cd "${1:?usage: bench/run-launch.sh BIN_DIR}" && pwd)
nslab=$bin/nslab
bare=$bin/bare_launch

echo "== launching a box: 6 namespaces, busybox rootfs, /proc, /bin/true (goal: nslab <= 1.3x bare, full)"

if [ "$(id -u)" != 0 ]; then
  echo "  skipped: run as root (the bare program and the peers map root to root); e.g."
  echo "  sudo cmake --build build --target bench"
  exit 0
fi
for program in "$nslab" "$bare"; do
  if [ ! -x "$program" ]; then
    echo "  skipped: $program is not built"
    exit 0
  fi
done

work=$(mktemp -d /tmp/nslab-bench.XXXXXX)
# mktemp makes it 0700; the boxes' root is nobody outside (--map-root as root maps to 65534), and
# must be able to reach the rootfs in it.
chmod 755 "$work"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  # Boxes still running here were started by this script (a watchdog fired): end them first.
  # shellcheck disable=SC2086 # a list of pids
  [ -n "${stray_pids:-}" ] && kill -KILL $stray_pids 2>/dev/null
  [ -n "${v2_parent:-}" ] && rmdir "$v2_parent" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Installs a Debian package when allowed (root, not in CI); says how otherwise.
may_install() {
  local package=$1
  if [ -z "${CI:-}" ] && command -v apt-get >/dev/null; then
    echo "  installing $package (apt-get install $package)"
    DEBIAN_FRONTEND=noninteractive timeout 180 apt-get install -y -qq "$package" >"$work/apt.log" 2>&1 ||
      { timeout 120 apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive timeout 180 apt-get install -y -qq "$package" >"$work/apt.log" 2>&1; } ||
      echo "  could not install $package: $(tail -n 1 "$work/apt.log")"
  fi
}

is_static() { [[ $(LC_ALL=C ldd "$1" 2>&1) == *"not a dynamic executable"* ]]; }

# --- the rootfs: busybox-static and the directories the tools mount on ----------------------
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! is_static "$busybox"; then
  may_install busybox-static
  busybox=$(command -v busybox || true)
fi
if [ -z "$busybox" ] || ! is_static "$busybox"; then
  echo "  skipped: no statically linked busybox: apt-get install busybox-static"
  exit 0
fi
root=$work/rootfs
mkdir -p "$root"/{bin,proc,dev,tmp,etc,sys}
cp "$busybox" "$root/bin/busybox"
for applet in true sleep sh; do ln -s busybox "$root/bin/$applet"; done

# --- the tools -----------------------------------------------------------------------------
# nslab's network namespace flag arrived with the network lesson; without it both nslab and a
# bare run without CLONE_NEWNET are timed, so the pair stays fair.
# (No `| grep -q` in this script: with pipefail, grep quitting early fails the pipeline.)
run_help=$("$nslab" run --help 2>&1)
if grep -qE -- '--net([^-a-z]|$)' <<<"$run_help"; then
  nslab_net=--net bare_net=''
  echo "  nslab has --net: every tool creates all six namespaces"
else
  nslab_net='' bare_net=--no-net
  echo "  nslab run has no --net yet: nslab runs with five namespaces and is paired with"
  echo "  'bare, no net' (the same calls without CLONE_NEWNET); the peers keep all six"
fi

for peer in bubblewrap:bwrap crun:crun; do
  command -v "${peer#*:}" >/dev/null || may_install "${peer%%:*}"
done

# crun refuses a hybrid cgroup host whose cgroup2 holds a controller ("cgroups in hybrid mode
# not supported"). All tools are then timed inside one private mount namespace in which that
# cgroup2 mount is detached: the host keeps it, and no tool pays for the wrapper per launch.
in_bench_ns() { "$@"; }
unified=/sys/fs/cgroup/unified
# (cgroupfs files report size 0: read them, do not test -s.)
if [ -n "$(cat "$unified/cgroup.controllers" 2>/dev/null)" ] && command -v unshare >/dev/null; then
  echo "  hybrid cgroups with '$(cat "$unified/cgroup.controllers")' on cgroup2: all tools are timed in a"
  echo "  private mount namespace without $unified (crun refuses it otherwise)"
  in_bench_ns() {
    unshare --mount --propagation private -- bash -c \
      "umount -l $unified 2>/dev/null; exec \"\$@\"" in_bench_ns "$@"
  }
fi

# One command a line for the timer; names and notes in arrays of the same order.
names=() notes=() pairs=() commands=()
add_tool() {  # NAME PAIRED_WITH NOTE COMMAND...
  names+=("$1") pairs+=("$2") notes+=("$3")
  shift 3
  commands+=("$*")
}
# Two yardsticks: the least any box needs (a bind of the rootfs, proc, pivot_root), and the same
# mounts as nslab's box (the rootfs under a read-only overlay, its own /tmp and /dev: see
# bare_launch.c). nslab's goal is held against the second: the cost of nslab itself, over the
# calls its box needs; the first row shows what those extra mounts cost.
add_tool "bare" "" "clone(6 ns), id maps, bind, proc, pivot_root" "$bare" "$root" /bin/true
add_tool "bare, full" "" "+ overlay root, /tmp, /dev (nslab's box, as bare calls)" \
  "$bare" --full-box "$root" /bin/true
bare_for_nslab=1
if [ -z "$nslab_net" ]; then
  add_tool "bare, no net" "" "the full box without CLONE_NEWNET" "$bare" --no-net --full-box \
    "$root" /bin/true
  bare_for_nslab=2
fi
add_tool "nslab" "$bare_for_nslab" "nslab run ${nslab_net:-(no --net)}" \
  "$nslab" run --user --map-root --mount --rootfs "$root" --pid --proc --uts --ipc $nslab_net \
  -- /bin/true
# The second pair: a cgroup with pids and memory limits and a veth. The bare program makes its
# cgroup directories next to this shell's own cgroups (as nslab makes the box's next to the
# runner's): the pids and memory hierarchies on v1; on v2 a parent of its own under the root
# cgroup, with the two controllers handed down (made here, removed at the end).
cgroup_parent() {  # CONTROLLER -> this shell's v1 cgroup directory for it, or nothing
  local line path mount_point
  line=$(grep -E "^[0-9]+:([^:]*,)?$1(,[^:]*)?:" /proc/self/cgroup) || return 0
  path=${line#*:*:}
  mount_point=$(awk -v c="$1" '$(NF-2) == "cgroup" {
      n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c && $4 == "/") print $5 }' \
    /proc/self/mountinfo | head -n 1)
  [ -n "$mount_point" ] && echo "$mount_point${path%/}"
}
limits_parents=()
pids_parent=$(cgroup_parent pids)
memory_parent=$(cgroup_parent memory)
v2_root=$(awk '$(NF-2) == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$pids_parent" ] && [ -n "$memory_parent" ]; then
  limits_parents=(--cgroup "$pids_parent" --cgroup "$memory_parent")
elif [ -n "$v2_root" ] && [[ " $(cat "$v2_root/cgroup.controllers" 2>/dev/null) " == *" pids "* ]] &&
  [[ " $(cat "$v2_root/cgroup.controllers" 2>/dev/null) " == *" memory "* ]]; then
  v2_parent=$v2_root/nslab-bench.$$
  if echo "+pids +memory" >"$v2_root/cgroup.subtree_control" && mkdir "$v2_parent" &&
    echo "+pids +memory" >"$v2_parent/cgroup.subtree_control"; then
    limits_parents=(--cgroup "$v2_parent")
  fi
fi
limits_bare=-1 limits_nslab=-1
if [ ${#limits_parents[@]} -eq 0 ]; then
  echo "  no pids and memory cgroups found here: the row with limits and a veth is left out"
fi
# Writing a pid into cgroup.procs takes a lock whose write side waits for an RCU grace period,
# unless another write came a moment before: a tool timed right after the other would get its
# join almost free. So the two are placed apart in the rounds, with other tools between them
# on both sides (bare's after unshare, nslab's last), and listed together at the end.
add_limits_tool() {  # bare | nslab
  [ ${#limits_parents[@]} -gt 0 ] && [ -n "$nslab_net" ] || return 0
  if [ "$1" = bare ]; then
    limits_bare=${#names[@]}
    add_tool "bare +cg+veth" "" "full + cgroup: mkdir, pids.max, memory, join, rmdir; veth" \
      "$bare" "${limits_parents[@]}" --pids 64 --memory 67108864 --veth --full-box "$root" \
      /bin/true
  elif [ "$limits_bare" -ge 0 ]; then
    limits_nslab=${#names[@]}
    add_tool "nslab +cg+veth" "$limits_bare" "nslab run --net --pids 64 --memory 64M --veth" \
      "$nslab" run --user --map-root --mount --rootfs "$root" --pid --proc --uts --ipc --net \
      --pids 64 --memory 64M --veth -- /bin/true
  fi
}
if command -v unshare >/dev/null && command -v chroot >/dev/null; then
  add_tool "unshare" 0 "util-linux; chroot, no /proc" "$(command -v unshare)" --user \
    --map-root-user --mount --pid --fork --uts --ipc --net "$(command -v chroot)" "$root" /bin/true
else
  echo "  unshare: not installed: apt-get install util-linux coreutils"
fi
add_limits_tool bare
if command -v bwrap >/dev/null; then
  # bwrap returns as soon as its box reports the exit code, without reaping the box's first
  # process: its times leave out the namespaces' teardown and that process's CPU.
  add_tool "bwrap" 0 "--unshare-all (+cgroup ns); exits unreaped: low" "$(command -v bwrap)" \
    --unshare-all \
    --bind "$root" / --proc /proc --dev /dev /bin/true
else
  echo "  bwrap: not installed: apt-get install bubblewrap"
fi

# A minimal OCI bundle for crun and runc: the same namespaces, root mapped to root, /proc.
bundle=$work/bundle
mkdir -p "$bundle"
cat >"$bundle/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/bin/true"],
              "env": ["PATH=/bin"], "cwd": "/"},
  "root": {"path": "$root", "readonly": true},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {
    "namespaces": [{"type": "user"}, {"type": "mount"}, {"type": "pid"}, {"type": "uts"},
                   {"type": "ipc"}, {"type": "network"}],
    "uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]
  }
}
EOF
container=nslab-bench-$$
if command -v crun >/dev/null; then
  add_tool "crun" 0 "OCI bundle, cgroup manager off" "$(command -v crun)" \
    --cgroup-manager=disabled run --bundle "$bundle" "$container-crun"
else
  echo "  crun: not installed: apt-get install crun"
fi
add_limits_tool nslab
# runc is an order of magnitude slower: it gets its own, shorter interleaved rounds with bare.
slow_commands=()
if command -v runc >/dev/null; then
  slow_commands=("${commands[0]}" "$(command -v runc) run --bundle $bundle $container-runc")
else
  echo "  runc: not installed (optional): apt-get install runc"
fi

# Each tool must start its box once before it is timed; one that cannot is reported and dropped.
smoke() {  # NAME COMMAND...
  local name=$1
  shift
  if ! in_bench_ns "$@" >"$work/smoke.out" 2>&1; then
    echo "  $name: does not run here, left out: $(head -c 200 "$work/smoke.out" | tr '\n' ' ')"
    return 1
  fi
}
keep_names=() keep_notes=() keep_pairs=() keep_commands=() index_of=()
for i in "${!commands[@]}"; do
  # shellcheck disable=SC2086 # the command is a list of words without spaces of their own
  if smoke "${names[$i]}" ${commands[$i]}; then
    index_of[i]=${#keep_names[@]}
    keep_names+=("${names[$i]}") keep_notes+=("${notes[$i]}") keep_pairs+=("${pairs[$i]}")
    keep_commands+=("${commands[$i]}")
  elif [ "$i" -le "$bare_for_nslab" ]; then
    echo "  skipped: the bare program cannot start a box here, so there is nothing to compare with"
    exit 0
  else
    index_of[i]=-1
  fi
done
if [ ${#slow_commands[@]} -gt 0 ]; then
  # shellcheck disable=SC2086
  smoke runc ${slow_commands[1]} || slow_commands=()
fi

# --- timing --------------------------------------------------------------------------------
# Rounds: 200, fewer when one round is slow, so the whole section stays well under 2 minutes.
# The budget is estimated from a few calibration rounds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
rounds_for() {  # COMMAND_FILE BUDGET_MS MAX_ROUNDS
  local t0 t1 per_round
  t0=$(now_ms)
  in_bench_ns "$bare" --time 3 "$1" >/dev/null
  t1=$(now_ms)
  per_round=$(((t1 - t0) / 3 + 1))
  local rounds=$(($2 / per_round))
  ((rounds > $3)) && rounds=$3
  ((rounds < 10)) && rounds=10
  echo "$rounds"
}

# Per command line: median, 10th and 90th percentile of the wall time, runs, failed runs, and the
# median CPU time.  < "LINE WALL_US STATUS CPU_US" lines (bare_launch --time)
summarize() {
  awk '
    function sort(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) {
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
      }
    }
    {
      k = $1
      if (!(k in runs)) order[++lines] = k
      runs[k]++
      wall[k, runs[k]] = $2
      cpu[k, runs[k]] = $4
      if ($3 != 0) bad[k]++
    }
    END {
      for (l = 1; l <= lines; l++) {
        k = order[l]
        n = runs[k]
        for (i = 1; i <= n; i++) { w[i] = wall[k, i]; c[i] = cpu[k, i] }
        sort(w, n)
        sort(c, n)
        hi = int(n * 0.9)
        if (hi < 1) hi = 1
        printf "%d %d %d %d %d %d %d\n", k, w[int((n + 1) / 2)], w[int(n * 0.1) + 1], w[hi], n,
          bad[k] + 0, c[int((n + 1) / 2)]
      }
    }' | sort -n
}

# Other work on the machine stretches wall times (a launch waits for a CPU): say how busy it is.
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
printf '%s\n' "${keep_commands[@]}" >"$work/commands"
rounds=$(rounds_for "$work/commands" 30000 200)
echo "  timing: $rounds interleaved rounds of ${#keep_names[@]} tools ..."
t0=$(now_ms)
in_bench_ns "$bare" --time "$rounds" "$work/commands" | summarize >"$work/summary"
t1=$(now_ms)

slow_summary=
if [ ${#slow_commands[@]} -gt 0 ]; then
  printf '%s\n' "${slow_commands[@]}" >"$work/slow_commands"
  slow_rounds=$(rounds_for "$work/slow_commands" 10000 100)
  echo "  timing: $slow_rounds interleaved rounds of bare and runc ..."
  slow_summary=$(in_bench_ns "$bare" --time "$slow_rounds" "$work/slow_commands" | summarize)
fi
echo "  ($(((t1 - t0) / 1000)) s for the main rounds)"

ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
median_of() { awk -v l="$1" '$1 == l { print $2 }' "$work/summary"; }
cpu_of() { awk -v l="$1" '$1 == l { print $7 }' "$work/summary"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# Wall time is what a person waits; CPU time (the tool and the processes it reaped) is what it
# costs, and stays steady when other work shares the machine.
row() {  # NAME WALL P10 P90 X_BARE CPU CPU_X_BARE NOTE
  printf '  %-13s %8s %14s %7s %8s %7s  %s\n' "$1" "$(ms "$2")" "$(ms "$3")..$(ms "$4")" "$5" \
    "$(ms "$6")" "$7" "$8"
}
echo
printf '  %-13s %8s %14s %7s %8s %7s  %s\n' "tool" "wall ms" "p10..p90" "x bare" "CPU ms" \
  "x bare" "what it does"
# The pair with limits and a veth last, bare first.
lb=-2 ln=-2
[ "$limits_bare" -ge 0 ] && lb=${index_of[$limits_bare]}
[ "$limits_nslab" -ge 0 ] && ln=${index_of[$limits_nslab]}
limits_lines=" $lb $ln "
{
  awk -v skip="$limits_lines" 'index(skip, " " $1 " ") == 0' "$work/summary"
  for l in $limits_lines; do awk -v l="$l" '$1 == l' "$work/summary"; done
} >"$work/display"
while read -r line median p10 p90 runs failed cpu; do
  pair=${keep_pairs[$line]}
  paired=$line
  [ -n "$pair" ] && paired=${index_of[$pair]}
  note=${keep_notes[$line]}
  ((failed > 0)) && note="$note; $failed of $runs runs FAILED"
  row "${keep_names[$line]}" "$median" "$p10" "$p90" "$(ratio "$median" "$(median_of "$paired")")" \
    "$cpu" "$(ratio "$cpu" "$(cpu_of "$paired")")" "$note"
done <"$work/display"
if [ -n "$slow_summary" ]; then
  read -r _ bare_slow _ _ _ _ bare_slow_cpu <<<"$(sed -n 1p <<<"$slow_summary")"
  read -r _ median p10 p90 runs failed cpu <<<"$(sed -n 2p <<<"$slow_summary")"
  note="OCI, cgroups; own $slow_rounds rounds with bare ($(ms "$bare_slow") ms there)"
  ((failed > 0)) && note="$note; $failed of $runs runs FAILED"
  row runc "$median" "$p10" "$p90" "$(ratio "$median" "$bare_slow")" "$cpu" \
    "$(ratio "$cpu" "$bare_slow_cpu")" "$note"
fi

nslab_line=${index_of[$((bare_for_nslab + 1))]}
if [ "$nslab_line" -ge 0 ]; then
  bare_line=${index_of[$bare_for_nslab]}
  verdict=$(awk -v a="$(median_of "$nslab_line")" -v b="$(median_of "$bare_line")" \
    -v c="$(cpu_of "$nslab_line")" -v d="$(cpu_of "$bare_line")" 'BEGIN {
      printf "%.2fx wall: %s; %.2fx CPU: %s", a / b, a / b <= 1.3 ? "met" : "MISSED",
        c / d, c / d <= 1.3 ? "met" : "MISSED" }')
  [ -z "$nslab_net" ] && verdict="$verdict (five namespaces: no --net yet)"
  echo "  goal: nslab <= 1.3x bare, full -> $verdict"
fi
if [ "$limits_nslab" -ge 0 ] && [ "${index_of[$limits_nslab]}" -ge 0 ] &&
  [ "${index_of[$limits_bare]}" -ge 0 ]; then
  a=${index_of[$limits_nslab]} b=${index_of[$limits_bare]}
  verdict=$(awk -v a="$(median_of "$a")" -v b="$(median_of "$b")" \
    -v c="$(cpu_of "$a")" -v d="$(cpu_of "$b")" 'BEGIN {
      printf "%.2fx wall: %s; %.2fx CPU: %s", a / b, a / b <= 1.3 ? "met" : "MISSED",
        c / d, c / d <= 1.3 ? "met" : "MISSED" }')
  echo "  goal: nslab with cgroup and veth <= 1.3x bare with the same -> $verdict"
fi
# Left over by the OCI runtimes if a run was cut short: removed, and said.
for runtime in crun runc; do
  command -v $runtime >/dev/null || continue
  if [[ $($runtime list 2>/dev/null) == *"$container"* ]]; then
    echo "  note: $runtime kept a container state; deleting it"
    $runtime delete -f "$container-$runtime" >/dev/null 2>&1
  fi
done

# --- the runner's memory while a box idles -------------------------------------------------
# A box that sleeps; the runner waits for it. VmRSS counts every page the runner has resident,
# shared libraries included; RssAnon is its own heap and stack, RssFile the mapped files.
box_flags=(--user --map-root --mount --rootfs "$root" --pid --proc --uts --ipc ${nslab_net:+"$nslab_net"})

# The first child of PID whose name is NAME, once it has exec'd (waits up to 5 s).
child_named() {  # PID NAME
  local deadline=$(($(now_ms) + 5000)) child
  while (($(now_ms) < deadline)); do
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
      [ "$(cat /proc/"$child"/comm 2>/dev/null)" = "$2" ] && { echo "$child"; return 0; }
    done
    sleep 0.01  # polling for a state, not synchronising: the deadline bounds it
  done
  return 1
}
idle_rss() {  # LABEL COMMAND...   prints the runner's VmRSS while its box sleeps
  local label=$1
  shift
  "$@" >/dev/null 2>&1 &
  local runner=$! box rss anon file
  if box=$(child_named "$runner" sleep); then
    rss=$(awk '/^VmRSS/ { print $2 }' /proc/"$runner"/status)
    anon=$(awk '/^RssAnon/ { print $2 }' /proc/"$runner"/status)
    file=$(awk '/^RssFile/ { print $2 }' /proc/"$runner"/status)
    printf '  %-8s VmRSS %5d kB (%.2f MB): RssAnon %d kB, RssFile %d kB (program and libraries)\n' \
      "$label" "$rss" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$anon" "$file"
    # Ends the box (its PID 1); the runner sees it exit and returns.
    kill -KILL "$box"
  else
    echo "  $label: the box did not reach /bin/sleep within 5 s"
    kill -KILL "$runner" 2>/dev/null
  fi
  wait "$runner" 2>/dev/null
  [ -n "${rss:-}" ] && echo "$rss" >"$work/rss-$label"
}
echo
echo "== the runner's memory while a box idles (goal: <= 2 MB)"
idle_rss nslab "$nslab" run "${box_flags[@]}" -- /bin/sleep 5
idle_rss bare "$bare" $bare_net --full-box "$root" /bin/sleep 5
if [ -s "$work/rss-nslab" ]; then
  awk -v k="$(cat "$work/rss-nslab")" \
    'BEGIN { printf "  goal: nslab runner <= 2 MB -> %.2f MB: %s\n", k / 1024, k <= 2048 ? "met" : "MISSED" }'
fi

# --- 50 boxes at once ----------------------------------------------------------------------
# Residue: processes whose root is the rootfs (a box) or that carry this run's marker in their
# environment (a runner), and mounts on the host that were not there before.
marker=NSLAB_BENCH_RUN=$$-$RANDOM
leftover_processes() {
  local p comm
  # The bare program's minimal box: its root is a bind mount of the rootfs directory (-ef
  # compares device and inode). nslab's and bare's full box: their root is an overlay of that
  # directory, which is another filesystem; the mount table says so (the root mount's source is
  # nslab-rootfs or bare-rootfs).
  for p in /proc/[0-9]*; do
    if [ "$p/root" -ef "$root" ] ||
      awk '$5 == "/" && / - overlay (nslab|bare)-rootfs / { found = 1 } END { exit !found }' \
        "$p/mountinfo" 2>/dev/null; then
      read -r comm 2>/dev/null <"$p/comm" && echo "${p#/proc/} $comm"
    fi
  done
  for p in $(grep -lzxF "$marker" /proc/[0-9]*/environ 2>/dev/null); do
    p=${p#/proc/}
    p=${p%/environ}
    read -r comm 2>/dev/null <"/proc/$p/comm" && echo "$p $comm"
  done
}
mounts_now() { cut -d' ' -f5- /proc/self/mountinfo | sort; }

# The cgroups and veth pairs of boxes with limits and a veth, from their runners' pids and what
# the runners printed: "nslab-box-PID" (nslab) or "nslab-bench-PID" (bare) in each cgroup parent,
# and the host ends "nslab-N" (printed by nslab) or "nsb-PID" (bare). The kernel deletes a veth
# with its network namespace, a moment after the box: polled for up to a second.
leftover_cgroups_and_veths() {  # PIDS_FILE ERR_DIR
  local pid parent name link deadline i links=()
  while read -r pid; do
    for ((i = 1; i < ${#limits_parents[@]}; i += 2)); do
      parent=${limits_parents[$i]}
      for name in "nslab-box-$pid" "nslab-bench-$pid"; do
        [ -d "$parent/$name" ] && echo "cgroup $parent/$name"
      done
    done
    links+=("nsb-$pid")
  done <"$1"
  for link in $(cat "$2"/*.err 2>/dev/null | sed -n 's/^nslab: veth \(nslab-[0-9]*\):.*/\1/p'); do
    links+=("$link")
  done
  deadline=$(($(now_ms) + 1000))
  while :; do
    local present=()
    for link in "${links[@]}"; do [ -e "/sys/class/net/$link" ] && present+=("$link"); done
    if [ ${#present[@]} -eq 0 ] || (($(now_ms) >= deadline)); then break; fi
    sleep 0.01  # polling for the kernel's deferred deletion, bounded by the deadline above
  done
  for link in "${present[@]}"; do echo "veth $link"; done
}

burst() {  # LABEL KIND COMMAND...   KIND: plain, or limits (cgroups and veths checked too)
  local label=$1 kind=$2 i pids=() t0 t1 failed=0 status
  shift 2
  mounts_now >"$work/mounts-before"
  rm -rf "$work/burst" && mkdir "$work/burst"
  t0=$(date +%s%N)
  for ((i = 0; i < 50; i++)); do
    env "$marker" "$@" >/dev/null 2>"$work/burst/$i.err" &
    pids+=($!)
  done
  stray_pids="${pids[*]}"
  # A box that hangs is killed after 60 s, so the benchmark always ends.
  (
    sleep 60 &
    nap=$!
    trap 'kill $nap; exit 0' TERM
    wait $nap
    kill -KILL "${pids[@]}" 2>/dev/null
  ) &
  local watchdog=$!
  for i in "${pids[@]}"; do
    wait "$i"
    status=$?
    ((status != 0)) && failed=$((failed + 1))
  done
  t1=$(date +%s%N)
  stray_pids=
  kill "$watchdog" 2>/dev/null
  wait "$watchdog" 2>/dev/null
  local total_ms=$(((t1 - t0) / 1000000))
  printf '  %-8s all 50 exited after %5d ms: %.2f ms a box%s\n' "$label" "$total_ms" \
    "$(awk -v t="$total_ms" 'BEGIN { print t / 50 }')" \
    "$( ((failed > 0)) && echo ", $failed FAILED: $(cat "$work"/burst/*.err | head -c 200 | tr '\n' ' ')")"
  local left
  left=$(leftover_processes)
  mounts_now >"$work/mounts-after"
  local new_mounts
  new_mounts=$(comm -13 "$work/mounts-before" "$work/mounts-after")
  local kept=
  if [ "$kind" = limits ]; then
    printf '%s\n' "${pids[@]}" >"$work/burst/pids"
    kept=$(leftover_cgroups_and_veths "$work/burst/pids" "$work/burst")
  fi
  if [ -z "$left" ] && [ -z "$new_mounts" ] && [ -z "$kept" ]; then
    if [ "$kind" = limits ]; then
      echo "           left behind: nothing (no process, no new mount, no cgroup, no veth)"
    else
      echo "           left behind: nothing (no box or runner process, no new mount on the host)"
    fi
  else
    [ -n "$left" ] && echo "           LEFT BEHIND, processes: $(echo "$left" | tr '\n' ';')"
    [ -n "$new_mounts" ] && echo "           LEFT BEHIND, mounts: $(echo "$new_mounts" | tr '\n' ';')"
    [ -n "$kept" ] && echo "           LEFT BEHIND: $(echo "$kept" | tr '\n' ';')"
  fi
}
echo
echo "== 50 boxes started at once (each: the launch above)"
# The residue check must be able to see a box: a running one is found (control).
"$nslab" run "${box_flags[@]}" -- /bin/sleep 30 >/dev/null 2>&1 &
control=$!
if control_box=$(child_named "$control" sleep) &&
  [[ $'\n'$(leftover_processes) == *$'\n'"$control_box "* ]]; then
  echo "  (control: the residue check sees a running nslab box)"
else
  echo "  (control FAILED: the residue check did not see a running box; its 'nothing' means little)"
fi
if [ -n "${control_box:-}" ]; then kill -KILL "$control_box"; else kill -KILL "$control"; fi
wait "$control" 2>/dev/null
burst nslab plain "$nslab" run "${box_flags[@]}" -- /bin/true
burst bare plain "$bare" $bare_net --full-box "$root" /bin/true

if [ "$limits_bare" -ge 0 ]; then
  echo
  echo "== 50 boxes with a cgroup (pids 64, memory 64M) and a veth, started at once"
  limit_flags=(--pids 64 --memory 64M --veth)
  # Control: the check sees the cgroup and the veth of a box that is still running.
  "$nslab" run "${box_flags[@]}" "${limit_flags[@]}" -- /bin/sleep 30 >/dev/null 2>"$work/control.err" &
  control=$!
  if child_named "$control" sleep >/dev/null; then
    echo "$control" >"$work/control.pids"
    seen=$(leftover_cgroups_and_veths "$work/control.pids" "$work" 2>/dev/null)
    if [[ $seen == *"cgroup "*"nslab-box-$control"* ]] && [[ $seen == *"veth nslab-"* ]]; then
      echo "  (control: the check sees a running box's cgroups and veth)"
    else
      echo "  (control FAILED: the check did not see a running box's cgroup and veth: $seen)"
    fi
  else
    echo "  (control FAILED: the box with limits did not reach /bin/sleep)"
  fi
  control_box=$(child_named "$control" sleep)
  if [ -n "$control_box" ]; then kill -KILL "$control_box"; else kill -KILL "$control"; fi
  wait "$control" 2>/dev/null
  burst nslab limits "$nslab" run "${box_flags[@]}" "${limit_flags[@]}" -- /bin/true
  burst bare limits "$bare" "${limits_parents[@]}" --pids 64 --memory 67108864 --veth --full-box \
    "$root" /bin/true
fi
exit 0
