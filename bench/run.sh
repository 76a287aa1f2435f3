#!/usr/bin/env bash
# nslab's benchmarks. Prints figures and ratios against their goals; never fails on a slow
# machine (a goal missed is reported, not asserted).
#   bench/run.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: bench/run.sh BIN_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Median wall time of a command in microseconds, over N runs (default 200).
median_us() {
  local runs=$1; shift
  local i t0 t1
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

echo "== tinysh: size (goal: <= 1 MiB stripped; static glibc alone is ~0.66 MB)"
strip -o "$work/tinysh" "$bin/tinysh"
size=$(stat -c %s "$work/tinysh")
printf '  stripped: %d bytes (%.2f MiB), %s of the goal\n' "$size" \
  "$(awk -v s="$size" 'BEGIN {print s / 1048576}')" \
  "$(awk -v s="$size" 'BEGIN {printf "%.0f%%", 100 * s / 1048576}')"
if command -v busybox >/dev/null; then
  printf '  for comparison, busybox: %d bytes\n' "$(stat -c %s "$(command -v busybox)")"
fi

echo "== tinysh: start and exit (tinysh -c true), median of 200"
t=$(median_us 200 "$bin/tinysh" -c true)
echo "  tinysh -c true: ${t} us"
if [ -x /bin/dash ]; then
  d=$(median_us 200 /bin/dash -c true)
  echo "  dash -c true:   ${d} us (ratio $(awk -v a="$t" -v b="$d" 'BEGIN {printf "%.2f", a / b}'))"
fi

# Later sections (launching boxes, nslab check) add themselves below.
for extra in "$(dirname "$0")"/run-*.sh; do
  [ -e "$extra" ] && bash "$extra" "$bin"
done
exit 0
