#!/usr/bin/env bash
# `nslab check` over every lesson: how long the whole course takes unattended (goal: <= 10 s),
# and which lesson costs the most. Three rounds; the median is reported. Only reports: a slow or
# failing run is printed, never an exit status.
#   bench/run-check.sh BIN_DIR
set -uo pipefail
bin=$(cd "${1:?usage: bench/run-check.sh BIN_DIR}" && pwd)
nslab=$bin/nslab

echo "== nslab check, every lesson (goal: <= 10 s)"
if [ "$(id -u)" != 0 ]; then
  echo "  skipped: the lessons need root; e.g. sudo cmake --build build --target bench"
  exit 0
fi
[ -x "$nslab" ] || { echo "  skipped: $nslab is not built"; exit 0; }

now_ms() { date +%s%3N; }
rounds=()
for round in 1 2 3; do
  start=$(now_ms)
  if ! out=$("$nslab" check 2>&1); then
    echo "  round $round: nslab check failed; its last lines:"
    echo "$out" | tail -n 5 | sed 's/^/    /'
  fi
  rounds+=($(($(now_ms) - start)))
done
median=$(printf '%s\n' "${rounds[@]}" | sort -n | sed -n 2p)
echo "  all lessons: median $(awk -v m="$median" 'BEGIN {printf "%.2f", m / 1000}') s" \
     "(rounds: ${rounds[*]} ms) - $(echo "$out" | tail -n 1)"

echo "  per lesson (one round):"
for n in $("$nslab" lessons | awk '$1 ~ /^[0-9]+$/ {print $1}'); do
  start=$(now_ms)
  "$nslab" check "$n" >/dev/null 2>&1 && verdict=passed || verdict=FAILED
  printf '    lesson %-2s %6s ms  %s\n' "$n" "$(($(now_ms) - start))" "$verdict"
done
exit 0
