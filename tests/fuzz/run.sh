#!/usr/bin/env bash
# Runs one of the fuzz targets (default: the tinysh parser's) for a bounded time.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET]     TARGET: parse (default), size or idmap
#
# BUILD_DIR is a build configured with the `fuzz` preset (clang, NSLAB_FUZZ=ON) in which
# TARGET_fuzz was built. The fuzzer works on a copy of tests/fuzz/corpus/TARGET in a temporary
# directory, so the repository is never modified; inputs that crash are written to a temporary
# directory that is kept (and named) only when there are any. Exit status: 0 when no crash was
# found, 1 on a crash, 2 on a usage or set-up error.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 || ! $2 =~ ^[0-9]+$ || $2 -eq 0 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS [TARGET]" >&2
  exit 2
fi
build_dir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
target=${3:-parse}
name=${target}_fuzz
fuzzer=$build_dir/bin/$name
[[ -x $fuzzer ]] || fuzzer=$build_dir/tests/fuzz/$name
if [[ ! -x $fuzzer ]]; then
  echo "run.sh: no $name in $build_dir (configure with the fuzz preset and build $name)" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/$target-fuzz.XXXXXX")
crashes=$(mktemp -d "${TMPDIR:-/tmp}/$target-fuzz-crashes.XXXXXX")
cleanup() {
  rm -rf "$work"
  rmdir "$crashes" 2>/dev/null || true  # kept only when it holds a crashing input
}
trap cleanup EXIT

cp -r "$here/corpus/$target" "$work/corpus"
seeds=$(find "$work/corpus" -type f | wc -l)

# -dict: the language's tokens. -max_len: room for long lines without spending the whole run on
# huge inputs (the unit tests cover 1 MiB lines).
# -timeout: one input taking over 10 s counts as a hang (a quadratic blow-up), i.e. a crash.
# -rss_limit_mb: the parser must not need much memory for inputs this size.
status=0
dict=()
[[ -f $here/$target.dict ]] && dict=(-dict="$here/$target.dict")
"$fuzzer" "$work/corpus" -max_total_time="$seconds" "${dict[@]}" -max_len=16384 \
  -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 \
  >"$work/log" 2>&1 || status=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || true)

found=$(find "$crashes" -type f | wc -l)
if [[ $status -ne 0 || $found -ne 0 ]]; then
  tail -n 40 "$work/log" >&2
  echo "$name: FAILED after ${runs:-?} runs in up to ${seconds}s from $seeds seeds: exit $status, $found crashing input(s) kept in $crashes"
  exit 1
fi
echo "$name: no crash in ${runs:-?} runs over ${seconds}s from $seeds seeds (corpus copied to a temp dir, repo untouched)"
