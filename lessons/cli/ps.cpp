#include "ps.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "namespaces.h"
#include "text.h"

namespace nslab::cli {

namespace {

constexpr size_t kWidth = 80;

// nsenter(1)'s option letters, in namespace_kinds() order (user, mnt, uts, ipc, pid, net,
// cgroup, time), so the column reads like the command that would enter the box.
constexpr std::string_view kLetters = "UmuipnCT";
constexpr std::string_view kLegend =
    "NS: U user  m mnt  u uts  i ipc  p pid  n net  C cgroup  T time  - shared\n";

// Columns on a terminal: UTF-8 continuation bytes take none.
size_t columns(std::string_view text) {
  return nslab::text::code_points(text);
}

// At most `width` columns; a cut ends in "..." so it is seen as one.
std::string fit(std::string_view text, size_t width) {
  if (columns(text) <= width) return std::string(text);
  size_t keep = width > 3 ? width - 3 : 0, seen = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((text[i] & 0xC0) != 0x80) {
      if (seen == keep) break;
      ++seen;
    }
  }
  return std::string(text.substr(0, i)) + std::string("...").substr(0, std::min<size_t>(3, width));
}

// Wide enough for one whole IPv4 address and the count of the others: "10.213.188.134,+2".
constexpr size_t kAddressWidth = 18;

// An address list ("a,b,c") in at most `width` columns, cut between addresses: as many whole ones
// as fit and how many more there are ("10.213.1.9,+2"), so that no address is shown half.
std::string fit_addresses(std::string_view list, size_t width) {
  if (columns(list) <= width) return std::string(list);
  std::vector<std::string_view> addresses;
  for (size_t start = 0; start <= list.size();) {
    size_t comma = std::min(list.find(',', start), list.size());
    addresses.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  for (size_t shown = addresses.size() - 1; shown > 0; --shown) {
    std::string text;
    for (size_t i = 0; i < shown; ++i) text += std::string(addresses[i]) + ",";
    text += fmt::format("+{}", addresses.size() - shown);
    if (columns(text) <= width) return text;
  }
  return fit(list, width);
}

std::string pad(std::string_view text, size_t width) {
  std::string out(text);
  size_t used = columns(text);
  if (used < width) out.append(width - used, ' ');
  return out;
}

// An argument as a shell would need it typed: quoted when it holds anything but plain word
// characters.
std::string shell_word(std::string_view arg) {
  bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-_./=:,+%@").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(arg);
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string command_text(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) text += (text.empty() ? "" : " ") + shell_word(arg);
  return text;
}

}  // namespace

std::string namespace_letters(const sandbox::BoxInfo& box) {
  if (!box.namespaces_known) return std::string(kLetters.size(), '?');
  std::string letters;
  size_t i = 0;
  for (const auto& kind : sandbox::namespace_kinds()) {
    bool own = std::find(box.namespaces.begin(), box.namespaces.end(), kind.proc_name) !=
               box.namespaces.end();
    letters += own ? kLetters[i] : '-';
    ++i;
  }
  return letters;
}

std::string address_text(const sandbox::BoxInfo& box) {
  if (!box.namespaces_known) return "?";
  bool own_network =
      std::find(box.namespaces.begin(), box.namespaces.end(), "net") != box.namespaces.end();
  if (!own_network) return "-";
  if (!box.ipv4_addresses) return "?";
  if (box.ipv4_addresses->empty()) return "none";
  std::string text;
  for (const auto& address : *box.ipv4_addresses) text += (text.empty() ? "" : ",") + address;
  return text;
}

std::string format_uptime(double seconds) {
  auto s = static_cast<long long>(seconds < 0 ? 0 : seconds);
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

std::string format_box_table(const std::vector<BoxRow>& rows, size_t line_width) {
  if (rows.empty()) return "no boxes are running\n";
  // No limit: wide enough for every cell whole.
  const size_t limit = line_width == 0 ? size_t{1} << 20 : std::max(line_width, kWidth);
  struct Cells {
    std::string id, pid, runner, user, ns, hostname, address, up, command;
  };
  std::vector<Cells> cells;
  for (const auto& row : rows) {
    cells.push_back({row.box.id, std::to_string(row.box.pid), std::to_string(row.box.runner),
                     row.user, namespace_letters(row.box), row.hostname.value_or("?"),
                     address_text(row.box), format_uptime(row.uptime_seconds),
                     command_text(row.box.command)});
  }
  Cells header{"BOX", "PID", "RUNNER", "USER", "NS", "HOSTNAME", "ADDRESS", "UP", "COMMAND"};
  auto width = [&](auto member, size_t cap) {
    size_t w = columns(header.*member);
    for (const auto& c : cells) w = std::max(w, columns(c.*member));
    return line_width == 0 ? w : std::min(w, cap);
  };
  // Ids, pids, NS and UP are never cut, nor is one whole address (ADDRESS is the box's own
  // network, what the column is for). Names are: first at a width that shows a usual name, then,
  // while the command would have less than kMinCommand columns, one column at a time from the
  // wider of them, down to its heading's width.
  constexpr size_t kRoomForWideGaps = 16, kMinCommand = 12;
  size_t w_id = width(&Cells::id, kWidth), w_pid = width(&Cells::pid, kWidth),
         w_runner = width(&Cells::runner, kWidth), w_user = width(&Cells::user, 10),
         w_ns = kLetters.size(), w_host = width(&Cells::hostname, 16),
         w_address = width(&Cells::address, kAddressWidth), w_up = width(&Cells::up, kWidth);
  constexpr size_t kGaps = 8;
  auto fixed = [&] { return w_id + w_pid + w_runner + w_user + w_ns + w_host + w_address + w_up; };
  size_t gap = fixed() + kGaps * 2 + kRoomForWideGaps <= limit ? 2 : 1;
  const size_t least_host = columns(header.hostname), least_user = columns(header.user);
  while (fixed() + kGaps * gap + kMinCommand > limit) {
    if (w_host > least_host && w_host >= w_user)
      --w_host;
    else if (w_user > least_user)
      --w_user;
    else if (w_host > least_host)
      --w_host;
    else
      break;
  }
  size_t used = fixed() + kGaps * gap;
  size_t w_command = used < limit ? limit - used : 0;
  std::string spaces(gap, ' ');

  auto line = [&](const Cells& c) {
    std::string text = pad(c.id, w_id) + spaces +
                       pad(std::string(w_pid - columns(c.pid), ' ') + c.pid, w_pid) + spaces +
                       pad(std::string(w_runner - columns(c.runner), ' ') + c.runner, w_runner) +
                       spaces + pad(fit(c.user, w_user), w_user) + spaces + pad(c.ns, w_ns) +
                       spaces + pad(fit(c.hostname, w_host), w_host) + spaces +
                       pad(fit_addresses(c.address, w_address), w_address) + spaces +
                       pad(c.up, w_up) + spaces + fit(c.command, w_command);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  };
  std::string table = line(header);
  for (const auto& c : cells) table += line(c);
  return table + std::string(kLegend);
}

std::vector<BoxRow> running_box_rows() {
  auto boxes = sandbox::find_boxes(sandbox::read_processes());
  double now = sandbox::seconds_since_boot();
  double hz = static_cast<double>(sandbox::clock_ticks_per_second());
  std::vector<BoxRow> rows;
  for (auto& box : boxes) {
    BoxRow row;
    row.user = box.uid ? sandbox::user_name(*box.uid) : "?";
    row.hostname = sandbox::box_hostname(box);
    box.ipv4_addresses = sandbox::box_ipv4_addresses(box);
    row.uptime_seconds = now - static_cast<double>(box.start_ticks) / hz;
    row.box = std::move(box);
    rows.push_back(std::move(row));
  }
  return rows;
}

CLI::App* setup_ps(CLI::App& app, PsOptions& options) {
  CLI::App* ps = app.add_subcommand("ps", "list the boxes running now (from /proc)");
  ps->add_flag("-w,--wide", options.wide,
               "cut nothing: whole commands, names and addresses, however long the lines get");
  ps->footer(
      "A box is the first process of an `nslab run`, found in /proc (nslab writes no\n"
      "state to disk). PID: its pid on the host (PID 1 inside with --pid). RUNNER: the\n"
      "nslab that started it. NS: the namespaces it does not share with its runner.\n"
      "HOSTNAME is read in the box's own UTS namespace. ADDRESS: the IPv4 addresses\n"
      "of the box's own network namespace, from /proc/PID/net/fib_trie (loopback left\n"
      "out); none: it has no other; -: it shares its runner's network (the host's);\n"
      "?: you cannot tell (another user's box). `nslab enter BOX` opens a second\n"
      "shell in a box. Lines fit the terminal (80 columns when the output is not one);\n"
      "a cut ends in \"...\", and --wide cuts nothing.");
  return ps;
}

// The columns of the terminal on stdout, or 80 when it is not one (a pipe, a file): as ps(1).
size_t terminal_width() {
  winsize size{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return kWidth;
}

int run_ps(const PsOptions& options) {
  fmt::print("{}", format_box_table(running_box_rows(), options.wide ? 0 : terminal_width()));
  return 0;
}

}  // namespace nslab::cli
