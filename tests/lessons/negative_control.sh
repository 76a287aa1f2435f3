#!/bin/sh
# A negative control for one lesson: copy it with flags removed from (or added to) every flags
# block, run `nslab check` on the copy, and require that it fails, naming the lesson, the step
# that should miss, what was expected and what was seen.
#
# The copy runs inside throw-away UTS, mount and PID namespaces (unshare(1)) with tmpfs over
# /tmp and /mnt: without its isolation, a lesson's `hostname NAME` or `mount` would otherwise
# reach the host. Everything ends with the namespaces.
#
# usage: negative_control.sh NSLAB LESSONS_DIR N 'FLAGS TO REMOVE' 'FLAGS TO ADD' 'STEP TITLE'
# The word "unsolved" among the flags to remove empties the challenge's solution block instead:
# the student did nothing, and the challenge's check must say so.
set -u
nslab=$1 lessons=$2 n=$3 remove=$4 add=$5 step=$6

if [ "$(id -u)" != 0 ]; then
  echo "skipped: the lessons and this control need root (CI runs as root)"
  exit 77
fi
command -v unshare >/dev/null || { echo "unshare(1) from util-linux is needed"; exit 1; }

# Not under /tmp, which gets a tmpfs of its own below.
work=$(mktemp -d /var/tmp/nslab-control.XXXXXX)
trap 'rm -rf "$work"' EXIT
# mktemp makes it 0700: a box whose root is an unprivileged uid on the host (--map-uid) could
# not reach the tinysh copied into it.
chmod 755 "$work"
# The tmpfs over /tmp below would hide a build tree that lives there (a CI clone may): run
# copies of nslab and of the tinysh next to it (where nslab looks for it) from the work dir.
cp "$nslab" "$work/nslab" && cp "$(dirname "$nslab")/tinysh" "$work/tinysh" || exit 1
nslab=$work/nslab
source=$(ls "$lessons"/$(printf %02d "$n")-*.md)
copy="$work/$(basename "$source")"

# Inside ```flags blocks only: drop each word of $remove, then add $add on a line of its own.
awk -v remove="$remove" -v add="$add" '
  BEGIN { n = split(remove, drop, " "); for (i = 1; i <= n; i++) gone[drop[i]] = 1 }
  /^```solution/ && ("unsolved" in gone) { print; print "echo the challenge was left undone"; insolution = 1; next }
  insolution && /^```/ { insolution = 0; print; next }
  insolution { next }
  /^```flags/ { print; if (add != "") print add; inflags = 1; next }
  inflags && /^```/ { inflags = 0; print; next }
  inflags {
    line = ""
    m = split($0, words, " ")
    for (i = 1; i <= m; i++) if (!(words[i] in gone)) line = line (line == "" ? "" : " ") words[i]
    print line
    next
  }
  { print }
' "$source" > "$copy"

if cmp -s "$source" "$copy"; then
  echo "the control changed nothing in $source: check the flags it removes"
  exit 1
fi

out=$(unshare --uts --mount --propagation private --pid --fork --mount-proc \
        sh -c 'mount -t tmpfs control /tmp && mount -t tmpfs control /mnt && exec "$@"' sh \
        "$nslab" check --dir "$work" "$n" 2>&1)
status=$?
echo "$out"
echo "--- nslab check exited with $status"

fail=0
[ "$status" = 1 ] || { echo "MISS: expected exit status 1"; fail=1; }
for want in "lesson $n (" "FAILED" "step \"$step\"" "expected:" "seen:" "0 passed, 1 failed"; do
  case "$out" in
    *"$want"*) ;;
    *) echo "MISS: the report does not say: $want"; fail=1 ;;
  esac
done
[ "$(echo "$out" | tail -n 1)" = "0 passed, 1 failed" ] || { echo "MISS: last line"; fail=1; }
exit $fail
