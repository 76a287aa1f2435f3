#!/bin/sh
# One result of a guest run as a test of its own: passes on the guest's "NSLAB-VM: NAME PASS"
# line, and otherwise shows what the guest printed for it.
# usage: result.sh OUT NAME
out=$1 name=$2
if grep -qxF "NSLAB-VM: $name PASS" "$out/results" 2>/dev/null; then
  echo "passed in the guest: $name"
  exit 0
fi
if [ ! -f "$out/results" ]; then
  echo "no results: the guest did not run (see the boot test's output)"
  exit 1
fi
if grep -qxF "NSLAB-VM: $name FAIL" "$out/results"; then
  echo "failed in the guest: $name"
  tr -d '\r' < "$out/console.log" | awk -v line="NSLAB-VM: $name FAIL" '$0 == line {on=1; print; next} on && /^NSLAB-VM: / {exit} on'
else
  echo "the guest gave no result for: $name (see $out/console.log)"
fi
exit 1
