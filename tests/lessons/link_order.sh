#!/usr/bin/env bash
# The start-up order list still fits nslab, and the link used it:
#   - most names in lessons/cli/nslab.order are functions nslab has (else the list has gone
#     stale: make it again with bench/hot-order.sh);
#   - those functions lie side by side: their addresses span little more than their own size
#     (a link without the list scatters them over the whole program: the control below).
# Skipped (77) when nslab was not linked by lld, the only linker that orders by symbol (in CI,
# which installs lld, that fails instead).
#   link_order.sh NSLAB ORDER_FILE
set -euo pipefail
nslab=$1 order=$2
if ! readelf -p .comment "$nslab" 2>/dev/null | grep -q 'LLD'; then
  echo "nslab was not linked by lld (apt-get install lld): its code is not ordered; nothing to check"
  # ./nslab.sh test installs lld: in CI a link without it is a lost feature, not a skip.
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
nm -S -t d --defined-only "$nslab" | awk 'NF == 4 && $3 ~ /^[tTwW]$/ { print $4, $1, $2 }' >"${TMPDIR:-/tmp}/nslab-symbols.$$"
trap 'rm -f "${TMPDIR:-/tmp}/nslab-symbols.$$"' EXIT
# NAME ADDRESS SIZE of each listed function that nslab has; then the share found and the span.
awk -v symbols="${TMPDIR:-/tmp}/nslab-symbols.$$" '
  BEGIN {
    while ((getline line < symbols) > 0) {
      split(line, f, " ")
      address[f[1]] = f[2] + 0; size[f[1]] = f[3] + 0
    }
  }
  /^#/ || NF == 0 { next }
  {
    listed++
    if (!($1 in address)) next
    found++; total += size[$1]
    if (lo == "" || address[$1] < lo) lo = address[$1]
    if (address[$1] + size[$1] > hi) hi = address[$1] + size[$1]
  }
  END {
    if (listed == 0) { print "the order list is empty"; exit 1 }
    share = found / listed
    span = hi - lo
    printf "%d of %d listed functions are in nslab (%.0f%%); their %d bytes span %d bytes\n",
      found, listed, share * 100, total, span
    if (share < 0.8) {
      print "the list has gone stale: make it again with bench/hot-order.sh BIN_DIR (as root)"
      exit 1
    }
    if (span > 2 * total) {
      print "the listed functions are spread out: the link did not place them together"
      exit 1
    }
  }' "$order"
