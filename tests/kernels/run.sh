#!/bin/sh
# Boots one of Debian's kernels under qemu with the guest of make-guest.sh, and collects what the
# guest's init printed: OUT/console.log (everything) and OUT/results (the NSLAB-VM lines).
#
# usage: run.sh LINE NSLAB TINYSH LESSONS_DIR OUT       LINE: 6.1 | 6.12
# KVM when /dev/kvm can be opened, software emulation (TCG) otherwise: slower, the same guest.
# The kernels are cached in $NSLAB_KERNEL_CACHE (default /var/cache/nslab-kernels for root,
# ~/.cache/nslab-kernels for others).
set -eu
line=$1 nslab=$2 tinysh=$3 lessons=$4 out=$5
here=$(cd "$(dirname "$0")" && pwd)
default_cache=/var/cache/nslab-kernels
[ "$(id -u)" = 0 ] || default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/nslab-kernels
cache=${NSLAB_KERNEL_CACHE:-$default_cache}
command -v qemu-system-x86_64 >/dev/null ||
  { echo "run.sh: qemu-system-x86_64 is needed (Debian: qemu-system-x86)"; exit 1; }
mkdir -p "$out"
kernel=$("$here/fetch-kernel.sh" "$line" "$cache")
"$here/make-guest.sh" "$kernel" "$nslab" "$tinysh" "$lessons" "$out/initrd.gz"
accel=tcg
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accel=kvm; fi
echo "run.sh: booting $(cat "$kernel/version") with $accel"
start=$(date +%s)
# The guest powers itself off when its plan is done; 30 minutes is far beyond that.
timeout 1800 qemu-system-x86_64 -accel "$accel" -m 1536 -smp 2 -nographic -no-reboot \
  -kernel "$kernel/vmlinuz" -initrd "$out/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3" > "$out/console.log" 2>&1 || true
end=$(date +%s)
tr -d '\r' < "$out/console.log" | grep '^NSLAB-VM: ' > "$out/results" || true
echo "run.sh: the guest ran $((end - start)) s; $(grep -c ' PASS$' "$out/results") passed, $(grep -c ' FAIL$' "$out/results") failed"
grep -q '^NSLAB-VM: done$' "$out/results" || { echo "run.sh: the guest did not finish: see $out/console.log"; tail -n 30 "$out/console.log"; exit 1; }
