// `nslab ps`: the boxes running now, found in /proc (sandbox/boxes.h says how), as a table that
// fits 80 columns. Needs no root: a non-root user sees every box, and the namespaces and
// hostname of their own boxes.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "boxes.h"

namespace nslab::cli {

struct PsOptions {};

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
// "45s", "12m03s", "3h07m", "2d05h".
std::string format_uptime(double seconds);
// The table (header, rows, and the legend of the NS letters), every line at most 80 columns;
// "no boxes are running\n" when there are none.
std::string format_box_table(const std::vector<BoxRow>& rows);

// What /proc says now: every box, with its user, hostname and age filled in.
std::vector<BoxRow> running_box_rows();

}  // namespace nslab::cli
