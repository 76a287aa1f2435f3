#!/bin/sh
# The ctest test that boots one kernel line's guest and runs the plan (the fixture of that
# line's result tests, see CMakeLists.txt).
#
# usage: boot-test.sh LINE NSLAB TINYSH LESSONS_DIR OUT_DIR EXPECTED_RESULTS_FILE
#
# Exit 77 (ctest: skipped) when this machine cannot run it, saying why, and leaving the reason in
# OUT_DIR/skipped for the result tests: not root, or qemu, busybox-static, depmod, cpio, xz or
# apt missing. Exit 1 when the guest did not run to its end, or reported a result that no ctest
# test reads (EXPECTED_RESULTS_FILE lists the names ctest knows), so the two lists cannot drift
# apart. The results themselves are judged by the result tests.
set -eu
line=$1 nslab=$2 tinysh=$3 lessons=$4 out=$5 expected=$6
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
# Nothing of an earlier run may be read as this run's.
rm -f "$out/results" "$out/skipped" "$out/console.log" "$out/summary"

skip() {
  echo "skipped: $*" | tee "$out/skipped"
  exit 77
}
[ "$(id -u)" = 0 ] ||
  skip "the VM test runs as root, as CI does (it keeps kernels in /var/cache/nslab-vm and runs apt-get); tests/vm/run.sh works for any user"
PATH=$PATH:/usr/sbin:/sbin
command -v qemu-system-x86_64 > /dev/null || skip "qemu-system-x86_64 is missing (Debian: qemu-system-x86; ./nslab.sh test installs it)"
command -v busybox > /dev/null || skip "busybox is missing (Debian: busybox-static)"
command -v depmod > /dev/null || skip "depmod is missing (Debian: kmod)"
command -v cpio > /dev/null || skip "cpio is missing (Debian: cpio)"
command -v xz > /dev/null || skip "xz is missing (Debian: xz-utils)"
command -v apt-get > /dev/null && command -v dpkg-deb > /dev/null ||
  skip "apt-get and dpkg-deb are missing: the kernels come from Debian's archive"

"$here/run.sh" "$line" "$nslab" "$tinysh" "$lessons" "$out"

# Every result the guest reported has a ctest test that reads it.
unknown=$(sed -n 's/^NSLAB-VM: \(.*\) \(PASS\|FAIL\|SKIP\) (.*)$/\1/p' "$out/results" |
  grep -vxF -f "$expected" || true)
if [ -n "$unknown" ]; then
  echo "the guest reported results that no ctest test reads (add them to tests/vm/CMakeLists.txt):"
  echo "$unknown" | sed 's/^/    /'
  exit 1
fi
cat "$out/results" | grep '^NSLAB-VM: ' | sed 's/^NSLAB-VM: //'
