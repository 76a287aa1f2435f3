#!/bin/sh
# Lesson 4 as `sudo nslab check 4` runs it: root, with SUDO_UID and SUDO_GID naming the person
# at the keyboard, whom --map-root maps the box's root to (not root, not nobody). The person is
# uid 1000 here, whether or not such a user exists: nslab reads the ids, not the account.
#
# usage: through_sudo.sh NSLAB LESSONS_DIR
set -u
nslab=$1 lessons=$2
if [ "$(id -u)" != 0 ]; then
  echo "skipped: this runs nslab as root through sudo (CI runs as root)"
  exit 77
fi
# Copies the person can execute, wherever the build tree is (a CI clone may be in /root).
work=$(mktemp -d /var/tmp/nslab-sudo.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp "$nslab" "$work/nslab" && cp "$(dirname "$nslab")/tinysh" "$work/tinysh" || exit 1
out=$(env SUDO_UID=1000 SUDO_GID=1000 SUDO_USER=someone "$work/nslab" check -v --dir "$lessons" 4 2>&1)
status=$?
echo "$out"
[ "$status" = 0 ] || { echo "MISS: nslab check 4 through sudo exited $status"; exit 1; }
case "$out" in
  *"the box's root is uid 1000 on the host"*) ;;
  *) echo "MISS: --map-root did not map to SUDO_UID 1000"; exit 1 ;;
esac
