#!/bin/sh
# The Debian package in a fresh Debian root without a compiler: cpack builds it from this build
# tree, mmdebstrap makes a minimal bookworm root (with what the package depends on and
# recommends: procps, iproute2, uidmap; dpkg refuses the package if its Depends are not met),
# dpkg installs it there, and nslab checks every lesson as root and lessons 0 to 4 as a user
# with a range in /etc/subuid. The root is entered with pivot_root in a private mount namespace
# (a chroot may make no user namespace), so nothing of it is mounted on the host.
#
# usage: deb_test.sh BUILD_DIR
set -u
build=$1
if [ "$(id -u)" != 0 ]; then
  echo "skipped: installing a package into a Debian root needs root (CI runs as root)"
  exit 77
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is missing: ./nslab.sh test installs it"; exit 1; }
work=$(mktemp -d /var/tmp/nslab-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "--- cpack"
(cd "$build" && cpack -G DEB -B "$work/package" >/dev/null) || { echo "cpack failed"; exit 1; }
deb=$(ls "$work"/package/nslab_*_amd64.deb) || exit 1
dpkg-deb -c "$deb" | grep -q ' ./usr/bin/nslab$' || { echo "MISS: no /usr/bin/nslab in $deb"; exit 1; }

echo "--- mmdebstrap"
root=$work/root
mmdebstrap --quiet --variant=minbase --include=uidmap,procps,iproute2 bookworm "$root" \
  >/dev/null 2>&1 ||
  { echo "mmdebstrap could not make a bookworm root (no package mirror?)"; exit 1; }
if [ -e "$root/usr/bin/gcc" ] || [ -e "$root/usr/bin/c++" ]; then
  echo "MISS: the root has a compiler"; exit 1
fi

# Inside: install, then the checks. /proc, /sys and /dev are the host's (rbind), /run and /tmp
# fresh tmpfs; the root becomes / with pivot_root.
cat > "$work/inside.sh" <<'INSIDE'
set -u
dpkg -i /tmp/nslab.deb >/dev/null || { echo "MISS: dpkg -i failed"; exit 1; }
nslab --version
command -v gcc cc c++ && { echo "MISS: a compiler"; exit 1; }
fail=0
nslab check || fail=1
useradd --create-home student2 2>/dev/null
grep -q '^student2:' /etc/subuid || usermod --add-subuids 100000-165535 --add-subgids 100000-165535 student2
su student2 -c 'nslab check 0 1 2 3 4' || fail=1
exit $fail
INSIDE
unshare --mount --propagation private sh -c '
  root=$1
  mount --bind "$root" "$root" &&
  mount --rbind /proc "$root/proc" && mount --rbind /sys "$root/sys" &&
  mount --rbind /dev "$root/dev" && mount -t tmpfs run "$root/run" &&
  mount -t tmpfs tmp "$root/tmp" -o mode=1777 || exit 1
  cp "$0" "$root/tmp/inside.sh" && cp "$2" "$root/tmp/nslab.deb" || exit 1
  mkdir -p "$root/.old" && cd "$root" && pivot_root . .old && umount -l /.old && rmdir /.old &&
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb sh /tmp/inside.sh
' "$work/inside.sh" "$root" "$deb"
status=$?
[ "$status" = 0 ] || echo "MISS: the checks in the Debian root exited $status"
exit $status
