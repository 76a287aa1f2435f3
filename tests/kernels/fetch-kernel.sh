#!/bin/sh
# Brings one of Debian's kernels, unpacked, into a cache kept between runs on this machine, and
# prints the directory: vmlinuz, the modules as insmod takes them, and their load order.
#
# usage: fetch-kernel.sh LINE CACHE      LINE: 6.1 (Debian 12's own) or 6.12 (its newer line)
#
# The package comes from Debian's archive with `apt-get download`, through the meta-package that
# names today's build of that line; it is unpacked with dpkg-deb -x, never installed into /boot.
set -eu
line=$1 cache=$2
case "$line" in
  6.1) meta=linux-image-amd64 ;;
  6.12) meta=linux-image-6.12-amd64 ;;
  *) echo "fetch-kernel.sh: unknown kernel line $line (6.1 or 6.12)" >&2; exit 2 ;;
esac
resolve() { apt-cache depends "$meta" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1; }
package=$(resolve)
if [ -z "$package" ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  package=$(resolve)
fi
[ -n "$package" ] || { echo "fetch-kernel.sh: apt knows no $meta (is Debian's archive in the sources?)" >&2; exit 1; }
dir=$cache/$package
# What the lessons and tests load: veth pairs, bridges, overlay roots, and the socket-diag modules
# behind ss(8). A cache made for another list, or by an older version of this script (the number
# after the list), is made again.
modules="veth bridge overlay dummy inet_diag tcp_diag udp_diag unix_diag netlink_diag"
wanted="$modules; 2"
if [ ! -f "$dir/ready" ] || [ "$(cat "$dir/wanted" 2>/dev/null)" != "$wanted" ]; then
  mkdir -p "$cache"
  rm -rf "$dir" "$cache/$package.tmp"
  mkdir -p "$cache/$package.tmp"
  (cd "$cache/$package.tmp" && apt-get download "$package" >/dev/null 2>&1) ||
    { echo "fetch-kernel.sh: apt-get download $package failed" >&2; exit 1; }
  dpkg-deb -x "$cache/$package.tmp"/*.deb "$cache/$package.tmp/root"
  version=$(ls "$cache/$package.tmp/root/lib/modules")
  mkdir -p "$dir/modules"
  cp "$cache/$package.tmp/root/boot/vmlinuz-$version" "$dir/vmlinuz"
  tree=$cache/$package.tmp/root/lib/modules/$version
  # The package ships no modules.dep; depmod makes one for the unpacked tree.
  depmod -b "$cache/$package.tmp/root" "$version"
  # Each of $modules with what it depends on, in an order insmod accepts, decompressed
  # (Debian's 6.12 ships .ko.xz, which busybox's insmod does not read).
  order=""
  add() {
    path=$(sed -n "s|^\([^:]*/$1\.ko[.a-z]*\):.*|\1|p" "$tree/modules.dep" | head -n 1)
    [ -n "$path" ] || return 0  # built in, or not in this kernel
    case " $order " in *" $1 "*) return 0 ;; esac
    for dep in $(sed -n "s|^$path: *||p" "$tree/modules.dep"); do
      add "$(basename "$dep" | sed 's/\.ko.*//')"
    done
    # sh has no local variables: the dependencies' calls changed $path, so find it again.
    path=$(sed -n "s|^\([^:]*/$1\.ko[.a-z]*\):.*|\1|p" "$tree/modules.dep" | head -n 1)
    case "$path" in
      *.xz) xz -dc "$tree/$path" > "$dir/modules/$1.ko" ;;
      *.zst) zstd -qdc "$tree/$path" > "$dir/modules/$1.ko" ;;
      *) cp "$tree/$path" "$dir/modules/$1.ko" ;;
    esac
    order="$order $1"
  }
  for m in $modules; do add "$m"; done
  echo "$order" > "$dir/modules/order"
  echo "$wanted" > "$dir/wanted"
  echo "$version" > "$dir/version"
  rm -rf "$cache/$package.tmp"
  touch "$dir/ready"
fi
echo "$dir"
