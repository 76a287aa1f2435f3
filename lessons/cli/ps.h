// `nslab ps`: the boxes running now, found in /proc (sandbox/boxes.h says how), as a table that
// fits 80 columns. Needs no root: a non-root user sees every box, and the namespaces, hostname
// and addresses of their own boxes.
//
// ADDRESS is the box's IPv4 addresses (loopback left out), read from its network namespace's
// routing trie, /proc/BOX/net/fib_trie:
//   10.213.0.2   the box has a network namespace of its own with these addresses (a comma
//                between several; where the table has no room for them all, as many as fit
//                and how many more: "10.213.1.9,+2");
//   none         it has a network namespace of its own with no address but loopback (--net);
//   -            it shares its runner's network namespace: the host's addresses, not its own
//                (as '-' in the NS column says "shared");
//   ?            this caller cannot tell: another user's box, whose namespaces a non-root
//                caller may not read (its fib_trie can be read by anyone, but then nothing
//                says whether those addresses are the box's or the host's), or a fib_trie
//                that could not be read (the box ended meanwhile).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "boxes.h"

namespace nslab::cli {

struct PsOptions {
  bool wide = false;  // -w, --wide: nothing is cut, whatever the width
};

CLI::App* setup_ps(CLI::App& app, PsOptions& options);
int run_ps(const PsOptions& options);

// One row of the table, with everything already read.
struct BoxRow {
  sandbox::BoxInfo box;
  std::string user;                     // the name of the box's uid
  std::optional<std::string> hostname;  // nullopt: this caller may not look
  double uptime_seconds = 0;
};

// The namespaces as nsenter's letters in a fixed order, '-' where the box shares the runner's:
// "Umuip-CT" for --all. "????????" when they could not be read.
std::string namespace_letters(const sandbox::BoxInfo& box);
// The ADDRESS cell: "10.213.0.2", "10.213.0.2,10.0.0.5", "none", "-" or "?" (see above).
std::string address_text(const sandbox::BoxInfo& box);
// "45s", "12m03s", "3h07m", "2d05h".
std::string format_uptime(double seconds);
// The table (header, rows, and the legend of the NS letters), every line at most `width`
// columns (at least 80 is used; 0: no limit, nothing is cut); "no boxes are running\n" when
// there are none.
std::string format_box_table(const std::vector<BoxRow>& rows, size_t width = 80);

// What /proc says now: every box, with its addresses, user, hostname and age filled in.
std::vector<BoxRow> running_box_rows();

}  // namespace nslab::cli
