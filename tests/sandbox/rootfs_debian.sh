#!/bin/sh
# `nslab rootfs debian DIR` end to end, as root: mmdebstrap makes a bookworm root from the package
# mirror, its files are shifted to the range --map-range maps (100000 on, set-user-ID kept), and
# a box on it with --user --map-range --overlay is root over its files: useradd, su to the new
# user and to nobody, apt-get check and dpkg work. The control: the same box with --map-root (one
# id) sees every file as nobody's, and su fails. Nothing is left: DIR is removed at the end, and
# a DIR that is not empty is refused without a change.
#
# usage: rootfs_debian.sh NSLAB
set -u
nslab=$1
if [ "$(id -u)" != 0 ]; then
  echo "skipped: the Debian root is made as root here (a user's is made with mmdebstrap's unshare mode)"
  exit 77
fi
command -v mmdebstrap >/dev/null || { echo "MISS: mmdebstrap is missing: ./nslab.sh test installs it"; exit 1; }
work=$(mktemp -d /var/tmp/nslab-debian.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The box's root (100000 outside, or nobody) must be able to reach the image.
chmod 755 "$work"
fail=0
miss() { echo "MISS: $*"; fail=1; }
expect() {  # WHAT OUTPUT TEXT
  case "$2" in
    *"$3"*) ;;
    *) miss "$1 does not say: $3" ;;
  esac
}

# A DIR with something in it is refused, and keeps what it had.
mkdir "$work/full" && echo mine > "$work/full/file"
out=$("$nslab" rootfs debian "$work/full" --suite bookworm 2>&1)
status=$?
[ "$status" = 2 ] || miss "a DIR that is not empty: exit status $status, not 2 ($out)"
[ "$(cat "$work/full/file")" = mine ] || miss "the DIR that was not empty changed"

root=$work/root
out=$("$nslab" rootfs debian "$root" --suite bookworm 2>&1)
status=$?
echo "$out" | tail -n 4
[ "$status" = 0 ] || { echo "MISS: nslab rootfs debian exited $status"; exit 1; }
expect "the summary" "$out" "owned by 100000..165535 on the host"
expect "the summary" "$out" "--map-range"
# On the host: owners shifted by 100000, su still set-user-ID.
[ "$(stat -c %u:%g "$root/etc/passwd")" = 100000:100000 ] || miss "/etc/passwd is $(stat -c %u:%g "$root/etc/passwd") on the host"
[ "$(stat -c %A "$root/usr/bin/su")" = "-rwsr-xr-x" ] || miss "su lost its set-user-ID bit: $(stat -c %A "$root/usr/bin/su")"

boot() {  # MAP-FLAG COMMANDS
  "$nslab" run --user "$1" --mount --pid --proc --rootfs "$root" --overlay -- /bin/bash -c "$2" 2>&1
}
out=$(boot --map-range 'id -u; ls -ln /etc/passwd; useradd -m alice && su alice -c "id -un; touch ~/hi && ls -ln ~/hi"; su -s /bin/sh nobody -c "id -un"; apt-get check > /dev/null && echo apt check ok; dpkg -s bash | grep ^Status')
echo "$out"
expect "root's id in the box" "$out" "0"
expect "the box's /etc/passwd" "$out" " 0 0 "
expect "su to the new user" "$out" "alice"
expect "alice's file" "$out" " 1000 1000 "
expect "su to nobody" "$out" "nobody"
expect "apt-get check" "$out" "apt check ok"
expect "dpkg" "$out" "Status: install ok installed"
# The layer was in memory: the image did not change.
[ -e "$root/home/alice" ] && miss "the box's useradd reached the image on the host"

# The control: one id mapped, so every file of the image is nobody's and su cannot switch.
out=$(boot --map-root 'ls -ln /etc/passwd; su -s /bin/sh nobody -c "id -un" || echo su failed')
echo "$out"
expect "the control's /etc/passwd" "$out" " 65534 65534 "
expect "the control's su" "$out" "su failed"

rm -rf "$root"
[ "$fail" = 0 ] && echo "rootfs debian: made, booted with --map-range (su, apt-get), refused without one"
exit $fail
