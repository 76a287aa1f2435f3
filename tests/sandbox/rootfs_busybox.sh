#!/bin/sh
# `nslab rootfs busybox DIR` end to end: it makes a root from busybox-static's /bin/busybox whose
# sh runs on the host, and which boots as a box (`nslab run --rootfs DIR ...`), as root and as
# the user student; and it refuses, changing nothing, a DIR that is not empty, a missing busybox
# and a dynamic one; and a tree that cannot be finished (a full filesystem) is removed again.
#
# usage: rootfs_busybox.sh NSLAB
set -u
nslab=$1
if [ ! -e /bin/busybox ]; then
  echo "skipped: no /bin/busybox here (sudo apt-get install busybox-static)"
  exit 77
fi
if command -v readelf >/dev/null && readelf -lW /bin/busybox | grep -q 'program interpreter'; then
  echo "skipped: /bin/busybox is linked dynamically (package busybox, not busybox-static)"
  exit 77
fi
work=$(mktemp -d /var/tmp/nslab-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Copies every user can run, wherever the build tree is.
chmod 755 "$work"
cp "$nslab" "$work/nslab" && cp "$(dirname "$nslab")/tinysh" "$work/tinysh" || exit 1
nslab=$work/nslab
fail=0 skipped=""
miss() { echo "MISS: $*"; fail=1; }
expect() {  # WHAT OUTPUT TEXT
  case "$2" in
    *"$3"*) ;;
    *) miss "$1 does not say: $3" ;;
  esac
}
boot_command='cat /etc/hostname; ls /bin | head -3; grep ^ID= /etc/os-release; ps'

# Made as the caller: the summary, the tree, and a shell that runs on the host.
out=$("$nslab" rootfs busybox "$work/bb" 2>&1)
status=$?
echo "$out"
[ "$status" = 0 ] || miss "nslab rootfs busybox exited $status"
expect "the summary" "$out" "made $work/bb, 1."
expect "the summary" "$out" "applets   linked to it"
expect "the summary" "$out" "nslab run --rootfs $work/bb --user --map-root --mount --pid --proc -- /bin/sh"
applets=$(/bin/busybox --list-full | grep -cv '^bin/busybox$')
links=$(find "$work/bb" -type l | wc -l)
[ "$links" = "$applets" ] || miss "$links symlinks for $applets applets"
[ "$(stat -c %a "$work/bb/bin/busybox")" = 755 ] || miss "bin/busybox is not 0755"
cmp -s /bin/busybox "$work/bb/bin/busybox" || miss "bin/busybox is not a copy of /bin/busybox"
[ "$(stat -c %a "$work/bb/tmp")" = 1777 ] || miss "tmp is not 1777"
[ "$(stat -c %a "$work/bb/root")" = 700 ] || miss "root is not 0700"
for d in dev proc sys etc home sbin usr/bin usr/sbin; do
  [ -d "$work/bb/$d" ] && [ ! -L "$work/bb/$d" ] || miss "no directory $d"
done
[ "$(cat "$work/bb/etc/hostname")" = busybox ] || miss "etc/hostname is not busybox"
grep -qx 'root:x:0:0:root:/root:/bin/sh' "$work/bb/etc/passwd" || miss "no root in etc/passwd"
grep -q '^nobody:x:65534:65534:' "$work/bb/etc/passwd" || miss "no nobody in etc/passwd"
grep -qx 'nogroup:x:65534:' "$work/bb/etc/group" || miss "no nogroup in etc/group"
version=$(/bin/busybox | head -1 | sed 's/^BusyBox v\([^ ]*\).*/\1/')
grep -qx "VERSION_ID=\"$version\"" "$work/bb/etc/os-release" || miss "os-release lacks $version"
grep -q "busybox-static" "$work/bb/etc/motd" || miss "motd does not name busybox-static"
[ "$("$work/bb/bin/busybox" sh -c 'echo ok')" = ok ] || miss "bin/busybox sh -c 'echo ok'"
[ "$("$work/bb/bin/sh" -c 'echo ok')" = ok ] || miss "bin/sh (the link) -c 'echo ok'"
[ "$("$work/bb/usr/bin/env" echo ok)" = ok ] || miss "usr/bin/env (a link two levels down)"

# Booted: the box's files are the busybox root's, its ps shows PID 1 and nothing of the host.
boot() {  # WHO ROOTFS [runner...]
  who=$1 rootfs=$2
  shift 2
  out=$("$@" "$nslab" run --rootfs "$rootfs" --user --map-root --mount --pid --proc \
          -- /bin/sh -c "$boot_command" 2>&1)
  status=$?
  echo "$out"
  [ "$status" = 0 ] || miss "the box booted by $who exited $status"
  expect "the box booted by $who" "$out" "busybox"
  expect "the box booted by $who" "$out" "ID=busybox"
  # ash execs its last command, so PID 1 is ps by then: "{ps} /bin/sh -c ...".
  echo "$out" | grep -Eq '^ +1 +root +.*/bin/sh -c' || miss "ps in $who's box has no PID 1 /bin/sh"
  [ "$(echo "$out" | grep -Ec '^ +[0-9]+ ')" -le 3 ] || miss "ps in $who's box shows more than the box"
  [ "$(echo "$out" | sed -n 2,4p | wc -l)" = 3 ] || miss "ls /bin | head -3 in $who's box"
}
if [ "$(id -u)" = 0 ]; then
  boot root "$work/bb"
else
  boot "$(id -un)" "$work/bb"
  skipped="$skipped the root and student legs need root;"
fi

# As student: their own root, made and booted without root, when user namespaces allow.
if [ "$(id -u)" = 0 ]; then
  as_student="setpriv --reuid=student --regid=student --init-groups env HOME=$work/student"
  if ! id student >/dev/null 2>&1; then
    skipped="$skipped there is no user student;"
  elif ! $as_student unshare --user --map-root-user true 2>/dev/null; then
    skipped="$skipped user namespaces are not allowed to student here;"
  else
    mkdir "$work/student" && chown student: "$work/student"
    out=$($as_student "$nslab" rootfs busybox "$work/student/bb" 2>&1)
    status=$?
    echo "$out"
    [ "$status" = 0 ] || miss "nslab rootfs busybox as student exited $status"
    [ "$(stat -c %U "$work/student/bb/bin/busybox")" = student ] || miss "student's busybox is not theirs"
    boot student "$work/student/bb" $as_student
  fi
fi

# Refused, nothing changed: a DIR with something in it, a file, a missing or dynamic busybox.
mkdir "$work/full" && echo mine > "$work/full/notes"
before=$(ls -lA --time-style=full-iso "$work/full")
out=$("$nslab" rootfs busybox "$work/full" 2>&1)
status=$?
echo "$out"
[ "$status" = 2 ] || miss "a non-empty DIR: status $status, not 2"
expect "a non-empty DIR" "$out" "$work/full is not empty"
[ "$(ls -lA --time-style=full-iso "$work/full")" = "$before" ] || miss "the non-empty DIR changed"
[ "$(cat "$work/full/notes")" = mine ] || miss "the file in the non-empty DIR changed"

out=$("$nslab" rootfs busybox "$work/full/notes" 2>&1)
status=$?
[ "$status" = 2 ] || miss "a file as DIR: status $status, not 2"
expect "a file as DIR" "$out" "is not a directory"

out=$("$nslab" rootfs busybox --busybox "$work/no-busybox" "$work/new" 2>&1)
status=$?
echo "$out"
[ "$status" = 2 ] || miss "a missing busybox: status $status, not 2"
expect "a missing busybox" "$out" "install busybox-static (sudo apt-get install busybox-static)"
expect "a missing busybox" "$out" "$work/no-busybox"
[ -e "$work/new" ] && miss "a missing busybox left $work/new"

dynamic=/usr/bin/ls
if command -v readelf >/dev/null && readelf -lW "$dynamic" | grep -q 'program interpreter'; then
  out=$("$nslab" rootfs busybox --busybox "$dynamic" "$work/new" 2>&1)
  status=$?
  echo "$out"
  [ "$status" = 2 ] || miss "a dynamic busybox: status $status, not 2"
  expect "a dynamic busybox" "$out" "linked dynamically"
  expect "a dynamic busybox" "$out" "install busybox-static"
  [ -e "$work/new" ] && miss "a dynamic busybox left $work/new"
fi

# A tree that cannot be finished: a 1 MiB tmpfs has no room for busybox. Everything made is
# removed again, and the empty DIR stays empty (root only: the tmpfs is mounted in a private
# mount namespace).
if [ "$(id -u)" = 0 ]; then
  mkdir "$work/small"
  out=$(unshare --mount --propagation private sh -c '
          mount -t tmpfs -o size=1m nslab-test "$1" && mkdir -m 700 "$1/bb" || exit 99
          "$2" rootfs busybox "$1/bb"; status=$?
          echo "left: $(cd "$1/bb" && ls -A | wc -l) mode $(stat -c %a "$1/bb")"
          exit $status' sh "$work/small" "$nslab" 2>&1)
  status=$?
  echo "$out"
  [ "$status" = 1 ] || miss "a full filesystem: status $status, not 1"
  expect "a full filesystem" "$out" "No space left on device"
  expect "a full filesystem" "$out" "nothing of it is left"
  expect "a full filesystem" "$out" "left: 0 mode 700"
fi

[ "$fail" = 0 ] || exit 1
if [ -n "$skipped" ]; then
  echo "skipped:$skipped everything else passed"
  exit 77
fi
exit 0
