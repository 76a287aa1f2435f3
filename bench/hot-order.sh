#!/usr/bin/env bash
# Writes lessons/cli/nslab.order: the functions `nslab run` executes to start a box, which the
# link places side by side (lld --symbol-ordering-file; lessons/CMakeLists.txt).
#
# Why: nslab is one static program of about 3 MB of code, and starting a box runs a little of
# it from all over: C library, C++ library, fmt, CLI11, the sandbox. The kernel maps a program's
# code a fault at a time, and each fault maps up to 16 pages around the one touched
# (fault_around_bytes, 64 KiB), so scattered code costs page faults and resident pages: about
# 3.6 MB resident and 60 faults before the box was even cloned, then the box's child faults in
# the code it runs again (fork copies no page-table entries for a mapped file). Each mapped page
# costs time at start (in a virtual machine each fault is dear) and again at exit. With the code
# that runs placed together, the same work touches a few hundred kilobytes.
#
# The list comes from callgrind (valgrind), which names every function executed, in the runner
# and in the box's child up to its pivot_root; boxes of the benchmark's kinds are started once each.
# A stale list is harmless: names that no longer exist are skipped, new functions land after the
# listed ones. Run it as root after changes to the launch path, and commit the result:
#   bench/hot-order.sh build/bin
set -euo pipefail
bin=$(cd "${1:?usage: bench/hot-order.sh BIN_DIR}" && pwd)
out=$(cd "$(dirname "$0")/.." && pwd)/lessons/cli/nslab.order
command -v valgrind >/dev/null || { echo "needs valgrind: apt-get install valgrind" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root: the boxes with limits and a veth need it" >&2; exit 1; }
busybox=$(command -v busybox) || { echo "needs busybox-static" >&2; exit 1; }

# Not under /tmp: the box's child writes its profile from its own mount namespace, where nslab
# has put a tmpfs of its own on /tmp; and as the box's root, which is nobody outside.
work=$(mktemp -d /var/tmp/nslab-order.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 1777 "$work"
root=$work/rootfs
mkdir -p "$root"/{bin,proc,dev,tmp,etc,sys}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/true"

box=(--user --map-root --mount --rootfs "$root" --pid --proc --uts --ipc --net)
run() {  # NAME FLAGS...
  local name=$1
  shift
  # The box's child writes its profile just before pivot_root, while the host's directories
  # are still in its view; the runner writes its own when it exits.
  valgrind --tool=callgrind --demangle=no --compress-strings=no \
    --dump-before='_ZN7sandbox3sys10pivot_rootEPKcS2_' \
    --callgrind-out-file="$work/$name.%p" "$bin/nslab" run "$@" >"$work/$name.log" 2>&1 ||
    { echo "nslab run $* failed under valgrind:" >&2; cat "$work/$name.log" >&2; exit 1; }
}
run plain "${box[@]}" -- /bin/true
run limits "${box[@]}" --pids 64 --memory 64M --veth -- /bin/true
run tinysh --all -c true

# Every function named in a profile, once. Profile by profile, in the order the boxes were
# started (the benchmark's plain box first), the runner's before its child's, each adding the
# functions not listed yet, sorted: the code of the plainest start lies first and together, and
# the list changes only where the code did.
functions() { sed -n 's/^fn=//p' "$@" | grep -v -e '^0x' -e ' ' | LC_ALL=C sort -u; }
: >"$work/listed"
{
  echo "# The functions nslab runs to start a box, placed together by the link: bench/hot-order.sh"
  for name in plain limits tinysh; do
    runner=$(find "$work" -regex ".*/$name\.[0-9]+" ! -name "$name.1")
    child=$(find "$work" -regex ".*/$name\.1\(\.[0-9]+\)?")
    for files in "$runner" "$child"; do
      # shellcheck disable=SC2086 # file names without blanks (mktemp's and ours)
      functions $files | LC_ALL=C comm -23 - "$work/listed" | tee -a "$work/new"
      LC_ALL=C sort -u "$work/listed" "$work/new" -o "$work/listed"
      : >"$work/new"
    done
  done
} >"$work/order"
# The child is PID 1 of its PID namespace: its files are NAME.1 (and NAME.1.N, one per dump).
children=$(find "$work" -regex '.*/[a-z]+\.1\(\.[0-9]+\)?' -exec cat {} + | grep -c '^fn=' || true)
if [ "$children" -eq 0 ]; then
  echo "no profile of a box's child was written: the list would hold the runner's side only" >&2
  exit 1
fi
mv "$work/order" "$out"
echo "$(($(wc -l <"$out") - 1)) functions -> $out"
