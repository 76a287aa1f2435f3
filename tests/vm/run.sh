#!/bin/sh
# Boots one of Debian's kernels under qemu, in a guest laid out as systemd lays out a student's
# laptop (pure cgroup v2: see guest/init), and runs the test plan there (guest/plan.sh), a
# script of yours, or a shell.
#
# usage: run.sh [OPTIONS]
#        run.sh LINE NSLAB TINYSH LESSONS_DIR OUT_DIR        (the plan; as ctest runs it)
#
#   --kernel LINE      6.1 (Debian 12's default, the default here) or 6.12
#   --nslab PATH       nslab to test (default: build/bin/nslab of this source tree)
#   --tinysh PATH      tinysh to test (default: the one next to nslab)
#   --lessons DIR      lessons folder (default: lessons/ of this source tree)
#   --out DIR          where the console log and results go (default: a new /tmp/nslab-vm.*)
#   --script FILE      run FILE with sh in the guest as root, in the login session's scope,
#                      print what it prints, and power off; exit with its status.
#                      In the script, `as-student CMD` runs CMD as the student in its
#                      delegated scope, and nslab, tinysh and the lessons are installed.
#   --plan             with --script: run the test plan after the script
#   --shell            a shell in the guest on this terminal (Ctrl-A X quits qemu)
#   --timeout MINUTES  the host kills qemu after this long (default 25)
#   --memory MB        guest memory (default 1024)
#   -v, --verbose      print the guest's console as it runs (always so with --script)
#
# Out: OUT/console.log (all the guest printed), OUT/results (the NSLAB-VM result lines, each
# failure followed by its indented output), OUT/summary (kernel, accelerator, wall time).
# Exit status: 0 when the guest ran to its end (results may hold failures; see OUT/results),
# 1 when it did not (hung, panicked, timed out), 2 for a usage error; with --script, the
# script's own status.
#
# Kernels and the guest's userland are cached in $NSLAB_VM_CACHE (default /var/cache/nslab-vm,
# or ~/.cache/nslab-vm for a user who is not root). No root needed otherwise.
# KVM when /dev/kvm can be opened, else software emulation (TCG): a few times slower, the same
# guest.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
line=6.1 nslab="" tinysh="" lessons="" out="" script="" mode=plan minutes=25 memory=1024 verbose=0

usage() { sed -n '6,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
if [ $# -ge 1 ] && [ "${1#-}" = "$1" ]; then
  [ $# -eq 5 ] || usage
  line=$1 nslab=$2 tinysh=$3 lessons=$4 out=$5
else
  while [ $# -gt 0 ]; do
    case "$1" in
      --kernel) line=${2:?}; shift ;;
      --nslab) nslab=${2:?}; shift ;;
      --tinysh) tinysh=${2:?}; shift ;;
      --lessons) lessons=${2:?}; shift ;;
      --out) out=${2:?}; shift ;;
      --script) script=${2:?}; shift; [ "$mode" = plan ] && mode=script ;;
      --plan) mode=script+plan ;;
      --shell) mode=shell ;;
      --timeout) minutes=${2:?}; shift ;;
      --memory) memory=${2:?}; shift ;;
      -v | --verbose) verbose=1 ;;
      -h | --help) usage ;;
      *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
    shift
  done
  [ "$mode" != script+plan ] || [ -n "$script" ] || { echo "run.sh: --plan goes with --script" >&2; exit 2; }
fi
[ -n "$nslab" ] || nslab=$source_dir/build/bin/nslab
[ -n "$tinysh" ] || tinysh=$(dirname "$nslab")/tinysh
[ -n "$lessons" ] || lessons=$source_dir/lessons
[ -n "$out" ] || out=$(mktemp -d /tmp/nslab-vm.XXXXXX)
for file in "$nslab" "$tinysh"; do
  [ -x "$file" ] || { echo "run.sh: $file is not there (build it first)" >&2; exit 2; }
done
[ -n "$(ls "$lessons"/[0-9][0-9]-*.md 2>/dev/null)" ] || { echo "run.sh: no lessons in $lessons" >&2; exit 2; }
[ -z "$script" ] || [ -r "$script" ] || { echo "run.sh: cannot read $script" >&2; exit 2; }
command -v qemu-system-x86_64 > /dev/null ||
  { echo "run.sh: qemu-system-x86_64 is needed (Debian: qemu-system-x86)" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out/console.log" "$out/results" "$out/summary"

kernel=$("$here/fetch-kernel.sh" "$line")
version=$(cat "$kernel/version")

accel=tcg
if [ -e /dev/kvm ] && (exec 3<> /dev/kvm) 2> /dev/null; then accel=kvm; fi

# What the guest runs, and for how long each command may take there. Under emulation a guest
# runs several times slower than the machine, and a box with --cpus 0.2 gets a fifth of that:
# `nslab check --timeout` (seconds a typed command may take; a host block gets twice as long)
# is raised from its 10 to 30, which changes how long a check waits, not what it checks.
check_timeout=
[ $accel = kvm ] || check_timeout=30
cat > "$out/run.conf" <<EOF
NSLAB_VM_MODE=$mode
NSLAB_VM_SCRIPT_TIMEOUT=$((minutes * 60 - 60))
NSLAB_VM_COMMAND_TIMEOUT=${NSLAB_VM_COMMAND_TIMEOUT:-300}
NSLAB_VM_CHECK_TIMEOUT=${NSLAB_VM_CHECK_TIMEOUT-$check_timeout}
EOF
"$here/make-initramfs.sh" "$kernel" "$nslab" "$tinysh" "$lessons" "$out/run.conf" ${script:+"$script"} \
  > "$out/initramfs.cpio.gz"

if [ $accel = kvm ]; then
  echo "run.sh: booting $version with KVM"
else
  echo "run.sh: booting $version with software emulation (TCG): /dev/kvm is not usable here"
fi

# quiet: the kernel's boot messages stay in dmesg (printed at the end), not on the console.
# cgroup_no_v1=all: no v1 hierarchy can be mounted, as on a pure v2 system.
# panic=-1 with -no-reboot: a panic (or init dying) ends qemu at once instead of hanging.
append="console=ttyS0 panic=-1 quiet cgroup_no_v1=all"
set -- qemu-system-x86_64 -accel $accel -m "$memory" -smp 2 -no-reboot -nodefaults -no-user-config \
  -kernel "$kernel/vmlinuz" -initrd "$out/initramfs.cpio.gz" -append "$append"
if [ $mode = shell ]; then
  exec "$@" -nographic -serial mon:stdio
fi

start=$(date +%s)
timeout -k 10 "${minutes}m" "$@" -display none -monitor none -serial "file:$out/console.log" \
  < /dev/null > "$out/qemu.log" 2>&1 &
qemu=$!
if [ $verbose = 1 ] || [ -n "$script" ]; then
  # The console as it comes, without the serial line's carriage returns.
  i=0
  while [ ! -e "$out/console.log" ] && [ $i -lt 100 ] && kill -0 $qemu 2> /dev/null; do
    sleep 0.1
    i=$((i + 1))
  done
  # The kernel's messages, printed by the guest at its end, stay in the log.
  tail -n +1 -f --pid=$qemu "$out/console.log" 2> /dev/null | tr -d '\r' |
    sed -u '/^---- kernel messages/,$d' &
fi
status=0
wait $qemu || status=$?
end=$(date +%s)
wait 2> /dev/null || true

# The result lines, and the indented output under each.
tr -d '\r' < "$out/console.log" | awk '
  /^NSLAB-VM: / { on = 1; print; next }
  on && /^    / { print; next }
  { on = 0 }' > "$out/results"
{
  echo "kernel $version ($(cat "$kernel/package"))"
  echo "accelerator $accel"
  echo "seconds $((end - start))"
} > "$out/summary"
[ $status != 124 ] && [ $status != 137 ] || echo "run.sh: qemu was still running after $minutes minutes: killed"
[ -s "$out/qemu.log" ] && sed 's/^/qemu: /' "$out/qemu.log"

if ! grep -q '^NSLAB-VM: done$' "$out/results"; then
  echo "run.sh: the guest did not run to its end in $((end - start)) s; the last of $out/console.log:"
  tr -d '\r' < "$out/console.log" | tail -n 40 | sed 's/^/    /'
  exit 1
fi
passed=$(grep -c ' PASS\( (.*)\)\{0,1\}$' "$out/results" || true)
failed=$(grep -c ' FAIL\( (.*)\)\{0,1\}$' "$out/results" || true)
skipped=$(grep -c ' SKIP\( (.*)\)\{0,1\}$' "$out/results" || true)
if [ -n "$script" ] && [ $mode = script ]; then
  echo "run.sh: $version ran $((end - start)) s ($accel); the console and the kernel's messages: $out/console.log"
else
  echo "run.sh: $version ran $((end - start)) s ($accel): $passed passed, $failed failed, $skipped skipped; $out"
fi
if [ -n "$script" ]; then
  exit "$(sed -n 's/^NSLAB-VM: script exit \([0-9]*\)$/\1/p' "$out/results" | tail -n 1)"
fi
