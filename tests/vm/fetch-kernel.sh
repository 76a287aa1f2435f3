#!/bin/sh
# Brings one of Debian's kernels into a cache kept between runs on this machine, and prints the
# directory that holds it ready for qemu:
#   vmlinuz            the kernel
#   version            its release (uname -r)
#   package            the Debian package it came from
#   modules/NAME.ko    the modules the guest loads, decompressed (busybox insmod reads plain .ko)
#   modules/order      their names, in an order insmod accepts (what each needs comes first)
#
# usage: fetch-kernel.sh LINE        LINE: 6.1 (Debian 12's default) or 6.12 (its newer line)
# The cache is $NSLAB_VM_CACHE, default /var/cache/nslab-vm (~/.cache/nslab-vm for a user who
# is not root): outside the source tree and the build, so a new build or a fresh clone does not
# download the kernels again.
#
# The package is found through the meta-package that names today's build of the line
# (linux-image-amd64 depends on linux-image-6.1.0-N-amd64), fetched with `apt-get download` and
# unpacked with `dpkg-deb -x`: nothing is installed into /boot or /lib/modules of this machine.
set -eu

line=${1:?usage: fetch-kernel.sh LINE (6.1 or 6.12)}
default_cache=/var/cache/nslab-vm
[ "$(id -u)" = 0 ] || default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/nslab-vm
cache=${NSLAB_VM_CACHE:-$default_cache}

case "$line" in
  6.1) meta=linux-image-amd64 ;;
  6.12) meta=linux-image-6.12-amd64 ;;
  *) echo "fetch-kernel.sh: unknown kernel line '$line' (6.1 or 6.12)" >&2; exit 2 ;;
esac

# What the guest loads, with what each needs (found by depmod): veth pairs (lessons 6 and 7),
# overlay (--rootfs), dummy and bridge (interfaces for exploring), and the socket-diagnostics
# modules that ss(8) asks the kernel through (lesson 6 lists listening sockets with ss).
# Debian's config builds all of these as modules (Debian 12's 6.1 ships them as plain .ko, the
# 6.12 line as .ko.xz); a name the kernel has built in, or lacks, is skipped.
wanted="veth overlay dummy bridge inet_diag tcp_diag udp_diag raw_diag unix_diag netlink_diag af_packet_diag"

resolve() {
  apt-cache depends "$meta" 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}
package=$(resolve)
if [ -z "$package" ]; then
  # Only when apt knows no such package: its lists are missing or old.
  echo "fetch-kernel.sh: apt knows no $meta; running apt-get update" >&2
  apt-get update -qq >&2 || true
  package=$(resolve)
fi
if [ -z "$package" ]; then
  echo "fetch-kernel.sh: apt knows no $meta even after apt-get update (is Debian 12's archive in the sources?)" >&2
  exit 1
fi

mkdir -p "$cache/debs"
# Two test runs at once (ctest -j) share the cache: one fetches, the other waits.
exec 9> "$cache/lock"
flock 9

dir=$cache/$package
stamp="$package (2): $wanted"
if [ -f "$dir/ready" ] && [ "$(cat "$dir/ready")" = "$stamp" ]; then
  echo "$dir"
  exit 0
fi

deb=$(ls "$cache/debs/${package}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
  echo "fetch-kernel.sh: downloading $package ($meta)" >&2
  # apt-get download as root warns that its _apt user cannot write here; it is harmless.
  if ! (cd "$cache/debs" && apt-get download "$package" > "$cache/debs/download.log" 2>&1); then
    cat "$cache/debs/download.log" >&2
    echo "fetch-kernel.sh: apt-get download $package failed" >&2
    exit 1
  fi
  deb=$(ls "$cache/debs/${package}_"*.deb | head -n 1)
  # Older builds of the same line are not needed any more.
  for old in "$cache/debs"/*.deb; do
    case "$old" in "$deb") continue ;; esac
    old_package=$(basename "$old" | sed 's/_.*//')
    old_line=$(printf '%s\n' "$old_package" | sed -n 's/^linux-image-\([0-9]*\.[0-9]*\).*/\1/p')
    [ "$old_line" != "$line" ] || rm -rf "$old" "$cache/$old_package"
  done
fi

unpacked=$cache/unpack.$$
rm -rf "$unpacked" "$dir"
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
# Debian 12 puts modules under /lib/modules; later packages may use /usr/lib/modules.
modroot=$unpacked/lib/modules
[ -d "$modroot" ] || { modroot=$unpacked/usr/lib/modules; ln -s usr/lib "$unpacked/lib"; }
version=$(ls "$modroot")
tree=$modroot/$version

# The package ships no modules.dep (the postinst runs depmod); make one for the unpacked tree.
depmod -b "$unpacked" "$version"

mkdir -p "$dir/modules"
order=""
add() {  # NAME: the module and, first, every module it needs
  local path dep
  path=$(sed -n "s|^\(\([^:]*/\)\{0,1\}$1\.ko[.a-z]*\):.*|\1|p" "$tree/modules.dep" | head -n 1)
  [ -n "$path" ] || return 0
  case " $order " in *" $1 "*) return 0 ;; esac
  for dep in $(sed -n "s|^$path: *||p" "$tree/modules.dep"); do
    add "$(basename "$dep" | sed 's/\.ko.*//')"
  done
  case "$path" in
    *.ko.xz) xz -dc "$tree/$path" > "$dir/modules/$1.ko" ;;
    *.ko.zst) zstd -qdc "$tree/$path" > "$dir/modules/$1.ko" ;;
    *.ko.gz) gzip -dc "$tree/$path" > "$dir/modules/$1.ko" ;;
    *) cp "$tree/$path" "$dir/modules/$1.ko" ;;
  esac
  order="$order $1"
}
for module in $wanted; do add "$module"; done
echo $order > "$dir/modules/order"

cp "$unpacked/boot/vmlinuz-$version" "$dir/vmlinuz"
echo "$version" > "$dir/version"
echo "$package" > "$dir/package"
echo "$stamp" > "$dir/ready"
echo "$dir"
