#!/bin/sh
# One result of a guest's plan as a ctest test of its own.
#
# usage: result.sh OUT_DIR NAME
#
# Passes only on the guest's line "NSLAB-VM: NAME PASS (...)". A FAIL shows what the guest
# printed under it; a SKIP (the doctor said the lesson cannot run for this user, and gave a
# reason and a fix) exits 77 with that reason; no line at all is a failure naming the log.
out=$1 name=$2
results=$out/results
if [ -f "$out/skipped" ]; then
  cat "$out/skipped"
  exit 77
fi
if [ ! -f "$results" ]; then
  echo "no results in $out: the guest did not run (see the boot test's output and $out/console.log)"
  exit 1
fi
# The line, and the indented lines under it.
block=$(awk -v prefix="NSLAB-VM: $name " '
  index($0, prefix) == 1 && substr($0, length(prefix) + 1) ~ /^(PASS|FAIL|SKIP) \(/ { on = 1; print; next }
  on && /^    / { print; next }
  { on = 0 }' "$results")
status=$(printf '%s\n' "$block" | head -n 1 | sed -n 's/^NSLAB-VM: .* \(PASS\|FAIL\|SKIP\) (.*)$/\1/p')
[ -z "$block" ] || printf '%s\n' "$block"
case "$status" in
  PASS) exit 0 ;;
  SKIP) exit 77 ;;
  FAIL) exit 1 ;;
esac
if grep -q '^NSLAB-VM: done$' "$results"; then
  echo "the guest ran to its end but gave no result for: $name (see $out/console.log)"
else
  echo "the guest stopped before it gave a result for: $name (see $out/console.log)"
fi
exit 1
