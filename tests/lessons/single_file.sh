#!/bin/sh
# The one file a teacher hands out: nslab copied alone into an empty folder (no tinysh beside
# it, no lessons folder, no source tree) lists its lessons and passes them, writing what it
# carries into the caller's own folder: /run/nslab for root, ~/.cache/nslab for a user.
#
# usage: single_file.sh NSLAB
set -u
nslab=$1
if [ "$(id -u)" != 0 ]; then
  echo "skipped: this runs the copy as root and as nobody (CI runs as root)"
  exit 77
fi
work=$(mktemp -d /var/tmp/nslab-alone.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir "$work/bin" "$work/home"
strip -o "$work/bin/nslab" "$nslab" || cp "$nslab" "$work/bin/nslab"
fail=0
expect() {  # WHAT OUTPUT TEXT
  case "$2" in
    *"$3"*) ;;
    *) echo "MISS: $1 does not say: $3"; fail=1 ;;
  esac
}

cd "$work/bin"
out=$(env -u NSLAB_LESSONS -u NSLAB_TINYSH ./nslab 2>&1)
echo "$out"
expect "nslab alone" "$out" "7   All together: a container"
out=$(env -u NSLAB_LESSONS -u NSLAB_TINYSH ./nslab check 1 4 2>&1)
status=$?
echo "$out"
[ "$status" = 0 ] || { echo "MISS: nslab check 1 4 as root exited $status"; fail=1; }
[ -x /run/nslab/tinysh ] || { echo "MISS: no /run/nslab/tinysh"; fail=1; }
[ -f /run/nslab/lessons/01-uts.md ] || { echo "MISS: no /run/nslab/lessons"; fail=1; }
ls "$work/bin" | grep -qv '^nslab$' && { echo "MISS: files were written beside nslab"; fail=1; }

# A user (nobody, with a home of its own): lesson 1 runs rootless.
chown 65534:65534 "$work/home"
out=$(env -u NSLAB_LESSONS -u NSLAB_TINYSH -u XDG_RUNTIME_DIR HOME="$work/home" \
        setpriv --reuid=65534 --regid=65534 --clear-groups ./nslab check 1 2>&1)
status=$?
echo "$out"
[ "$status" = 0 ] || { echo "MISS: nslab check 1 as nobody exited $status"; fail=1; }
[ -x "$work/home/.cache/nslab/tinysh" ] || { echo "MISS: no ~/.cache/nslab/tinysh"; fail=1; }

# A user whose HOME is root's (su without -): a clear error that names the folder, no crash.
out=$(env -u NSLAB_LESSONS -u NSLAB_TINYSH -u XDG_RUNTIME_DIR HOME=/root \
        setpriv --reuid=65534 --regid=65534 --clear-groups ./nslab check 1 2>&1)
status=$?
echo "$out"
[ "$status" = 0 ] && { echo "MISS: nslab with HOME=/root as nobody succeeded"; fail=1; }
[ "$status" -ge 128 ] && { echo "MISS: nslab with HOME=/root as nobody died (status $status)"; fail=1; }
expect "nslab with HOME=/root" "$out" "/root/.cache"
case "$out" in *terminate*) echo "MISS: an exception escaped"; fail=1 ;; esac
case "$out" in *"no lesson 1 in"*) echo "MISS: a lesson looked up in no folder"; fail=1 ;; esac
exit $fail
