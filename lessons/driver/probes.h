// The standard probes: the same seven tinysh commands typed inside the box and run on the host,
// each summed up in one short cell, so that a lesson can show in one table what its isolation
// changed.
//
//   probe     inside the box                   │ on the host
//   hostname  tinyhost                         │ vm
//   ls /      NSLAB-ROOTFS bin … (7 entries)   │ bin boot … (26 entries)
//   ps        1 process, PID 1 tinysh          │ 97 processes, PID 1 systemd
//
// The summaries are pure code (a probe's output in, a cell out) and never longer than
// kProbeCellColumns, so the whole table fits an 80-column terminal. Collecting them needs a box.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "box_pty.h"
#include "result.h"
#include "side_by_side.h"
#include "steps.h"

namespace nslab::lessons {

// The widest a summary gets: two of them, the probe names and the separators fit 80 columns.
inline constexpr int kProbeCellColumns = 32;

// One probe: its name in the table and the tinysh command that asks the kernel.
struct Probe {
  std::string_view name;
  std::string_view command;
};
// hostname, ls /, ps, id, ns, cgroup, ifaces: in the order of the lessons that change them.
const std::vector<Probe>& standard_probes();

struct ProbeRow {
  std::string probe, inside, outside;
  bool differs = false;  // the box sees something else than the host
  bool changed = false;  // ... and it did not, or saw something else, in the previous lesson
};
struct ProbeTable {
  std::vector<ProbeRow> rows;
};

// Types each probe into the box (the box's shell history keeps them) and runs the same command
// with the same tinysh ($TINYSH -c) on the host; fills `differs`. A box without /proc cannot
// read its own namespace ids: the ns row then reads them from the host (`ns BOX_PID`).
sandbox::Result<ProbeTable> collect_probes(BoxSession& box, const DriverConfig& config);

// Marks the rows that changed since `previous` (the same probes with the previous lesson's
// flags): a row changed when it differs now and did not differ then, or when what the box sees
// is not what it saw then. Without a previous table every differing row is a change.
void mark_changes(ProbeTable& now, const ProbeTable* previous);

// Three columns (probe, inside, outside) sized to the width: changed rows marked '»' (and
// highlighted when color), other differing rows '*', and a one-line legend.
std::string render_probe_table(const ProbeTable& table, const Columns& columns);

// Starts a box with `flags`, collects its probes and ends it: the previous lesson's table for
// mark_changes.
sandbox::Result<ProbeTable> probes_for_flags(const std::vector<std::string>& flags,
                                             const DriverConfig& config);

// --- The summaries: one probe's output (screen text or host output) in, one cell out ---------

std::string summarise_hostname(std::string_view output);  // "tinyhost"
std::string summarise_ls(std::string_view output);        // "bin dev etc … (9 entries)"
std::string summarise_ps(std::string_view output);        // "3 processes, PID 1 tinysh"
std::string summarise_id(std::string_view output);        // "uid=0(root)"
std::string summarise_cgroup(std::string_view output);    // "/", "…/user.slice/nslab-box-7"
std::string summarise_ifaces(std::string_view output);    // "lo up, eth0 10.1.2.2/30"
// Which namespaces of the box are not the host's, from `ns` inside and on the host: "all the
// host's", "own: uts mnt", "all its own but time".
std::string summarise_ns(std::string_view box_output, std::string_view host_output);
// The summary of the probe called `probe` (ns: compared with itself, "all the host's").
std::string summarise(std::string_view probe, std::string_view output);

// What `differs` and `changed` compare: the cell without what changes from one second to the
// next (the number of processes on a busy host), so that only isolation marks a row.
std::string comparable(std::string_view probe, std::string_view cell);

}  // namespace nslab::lessons
