#include "probes.h"
#include "text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

namespace nslab::lessons {

namespace {

constexpr std::string_view kHighlight = "\x1b[1;33m";  // bold yellow: changed in this lesson
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kSeparator = " │ ";
constexpr int kNarrowestTable = 40;

const std::vector<Probe> kProbes = {
    {"hostname", "hostname"}, {"ls /", "ls /"},     {"ps", "ps"}, {"id", "id"}, {"ns", "ns"},
    {"cgroup", "cgroup"},     {"ifaces", "ifaces"},
};

// ---- text helpers ---------------------------------------------------------------------------

using text::trim;

// The non-blank lines of `text`, trimmed.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(start, end - start));
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Whitespace-separated words.
std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    size_t b = line.find_first_not_of(" \t", i);
    if (b == std::string_view::npos) break;
    size_t e = line.find_first_of(" \t", b);
    if (e == std::string_view::npos) e = line.size();
    words.push_back(line.substr(b, e - b));
    i = e;
  }
  return words;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += separator;
    out += w;
  }
  return out;
}

std::string cell(std::string_view text) {
  return fit(text, kProbeCellColumns);
}

// The probe's complaint instead of its answer ("ps: /proc has no process directories: ...",
// "tinysh: ifaces: command not found"), summed up; nullopt when the output is an answer.
std::optional<std::string> complaint(std::string_view output, std::string_view command) {
  auto lines = lines_of(output);
  if (lines.empty()) return std::nullopt;
  std::string_view line = lines.front();
  std::string own_prefix = std::string(command) + ": ";
  std::string_view message;
  if (line.starts_with(own_prefix))
    message = line.substr(own_prefix.size());
  else if (line.starts_with("tinysh: "))
    message = line.substr(8);
  else
    return std::nullopt;
  if (contains(message, "command not found")) return "no such command";
  // Every way tinysh says that /proc is missing or empty mentions /proc and what to mount.
  if (contains(message, "/proc") &&
      (contains(message, "not mounted") || contains(message, "mount -t proc") ||
       contains(message, "No such file or directory")))
    return "no /proc";
  return cell("error: " + std::string(message));
}

// "/a/b/c" cut from the left to fit: whole trailing components when they fit ("…/b/c").
std::string shorten_path(std::string_view path, int width) {
  if (display_width(path) <= width) return std::string(path);
  for (size_t slash = path.find('/', 1); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    std::string tail = "…" + std::string(path.substr(slash));
    if (display_width(tail) <= width) return tail;
  }
  // The last component alone is too long: its end, cut between characters.
  std::string_view rest = path;
  while (!rest.empty() && display_width(rest) > width - 1) {
    size_t skip = 1;
    while (skip < rest.size() && (static_cast<unsigned char>(rest[skip]) & 0xc0) == 0x80) ++skip;
    rest.remove_prefix(skip);
  }
  return "…" + std::string(rest);
}

// ---- ns -------------------------------------------------------------------------------------

// "uts 4026531838" lines of `ns`: kind -> inode number. Lines without a number (a kind the
// kernel lacks, an unreadable link) are left out.
std::vector<std::pair<std::string, std::string>> parse_ns(std::string_view output) {
  std::vector<std::pair<std::string, std::string>> ids;
  for (std::string_view line : lines_of(output)) {
    auto words = words_of(line);
    if (words.size() == 2 && all_digits(words[1]))
      ids.emplace_back(std::string(words[0]), std::string(words[1]));
  }
  return ids;
}

std::optional<std::string> find_id(const std::vector<std::pair<std::string, std::string>>& ids,
                                   std::string_view kind) {
  for (const auto& [k, id] : ids)
    if (k == kind) return id;
  return std::nullopt;
}

// In the order of the lessons; pid and time also have a *_for_children link, which is new as
// soon as the box has a namespace of that kind.
constexpr std::array<std::string_view, 8> kNamespaceKinds{"uts",    "mnt", "pid", "user",
                                                          "cgroup", "net", "ipc", "time"};

constexpr std::string_view kAllTheHosts = "all the host's";

// ---- the probes' outputs --------------------------------------------------------------------

struct ProcessLine {
  std::string_view pid, command;
};

// "  1    0 root S    /sbin/init splash" -> pid "1", command "/sbin/init splash".
std::optional<ProcessLine> parse_ps_line(std::string_view line) {
  std::string_view rest = line;
  std::string_view fields[4];
  for (auto& field : fields) {
    size_t b = rest.find_first_not_of(" \t");
    if (b == std::string_view::npos) return std::nullopt;
    size_t e = rest.find_first_of(" \t", b);
    if (e == std::string_view::npos) e = rest.size();
    field = rest.substr(b, e - b);
    rest = rest.substr(e);
  }
  if (!all_digits(fields[0]) || !all_digits(fields[1])) return std::nullopt;
  return ProcessLine{fields[0], trim(rest)};
}

// The program's name from a command line: "/sbin/init splash" -> "init"; a kernel thread keeps
// its brackets ("[kthreadd]").
std::string program_name(std::string_view command) {
  if (command.starts_with('[')) {
    size_t close = command.find(']');
    return std::string(
        command.substr(0, close == std::string_view::npos ? command.size() : close + 1));
  }
  auto words = words_of(command);
  if (words.empty()) return "?";
  std::string_view first = words.front();
  size_t slash = first.rfind('/');
  if (slash != std::string_view::npos && slash + 1 < first.size()) first.remove_prefix(slash + 1);
  return std::string(first);
}

struct Interface {
  std::string name;
  bool up = false;
  std::string ipv4;  // the first IPv4 address with its prefix length, if any
};

// The lines of `ifaces`: "2: eth0  UP LOWER_UP  mtu 1500  mac ..." then "   inet A/P".
std::vector<Interface> parse_ifaces(std::string_view output) {
  std::vector<Interface> links;
  for (std::string_view line : lines_of(output)) {
    auto words = words_of(line);
    if (words.size() >= 3 && words[0].size() > 1 && words[0].back() == ':' &&
        all_digits(words[0].substr(0, words[0].size() - 1))) {
      links.push_back({std::string(words[1]), words[2] == "UP", {}});
    } else if (words.size() >= 2 && words[0] == "inet" && !links.empty() &&
               links.back().ipv4.empty()) {
      links.back().ipv4 = std::string(words[1]);
    }
  }
  return links;
}

// ---- tables ---------------------------------------------------------------------------------

using text::repeat;
using text::rstrip;

// A table of a first column and two compared columns, as the probe table draws it:
// "  first  left │ right", each cut to the width.
struct TableLayout {
  int first = 0, left = 0, right = 0, right_rule = 0;
};

TableLayout lay_out(int width, std::vector<int> first, std::vector<int> left,
                    std::vector<int> right) {
  auto widest = [](const std::vector<int>& w) { return *std::max_element(w.begin(), w.end()); };
  TableLayout t;
  t.first = widest(first);
  int avail = width - 2 - t.first - 2 - display_width(kSeparator);
  int right_need = widest(right);
  t.left = split_width(avail, widest(left), right_need);
  t.right = avail - t.left;
  t.right_rule = std::min(t.right, right_need);
  return t;
}

std::string rule(const TableLayout& t) {
  return "  " + repeat("─", t.first + 2 + t.left) + "─┼─" + repeat("─", t.right_rule) + "\n";
}

std::string host_script(std::string_view command) {
  return fmt::format("\"$TINYSH\" -c '{}'", command);
}

}  // namespace

const std::vector<Probe>& standard_probes() {
  return kProbes;
}

// ---- summaries --------------------------------------------------------------------------------

std::string summarise_hostname(std::string_view output) {
  if (auto problem = complaint(output, "hostname")) return *problem;
  auto lines = lines_of(output);
  return lines.empty() ? "(empty)" : cell(lines.front());
}

std::string summarise_ls(std::string_view output) {
  if (auto problem = complaint(output, "ls")) return *problem;
  auto entries = lines_of(output);
  if (entries.empty()) return "(empty)";
  std::string count =
      entries.size() == 1 ? "(1 entry)" : fmt::format("({} entries)", entries.size());
  std::string all;
  for (std::string_view e : entries) all += std::string(e) + " ";
  if (display_width(all + count) <= kProbeCellColumns) return all + count;
  // As many names as fit before "… (N entries)".
  std::string tail = "… " + count;
  std::string shown;
  for (std::string_view e : entries) {
    std::string next = shown + std::string(e) + " ";
    if (display_width(next + tail) > kProbeCellColumns) break;
    shown = std::move(next);
  }
  return shown.empty() ? count : shown + tail;
}

std::string summarise_ps(std::string_view output) {
  if (auto problem = complaint(output, "ps")) return *problem;
  size_t count = 0;
  std::optional<std::string> first;
  for (std::string_view line : lines_of(output)) {
    auto process = parse_ps_line(line);
    if (!process) continue;  // the header, or a line that is not a process
    ++count;
    if (process->pid == "1") first = program_name(process->command);
  }
  if (count == 0) return "no processes listed";
  std::string processes = fmt::format("{} process{}", count, count == 1 ? "" : "es");
  return cell(first ? processes + ", PID 1 " + *first : processes + ", no PID 1");
}

std::string summarise_id(std::string_view output) {
  if (auto problem = complaint(output, "id")) return *problem;
  auto lines = lines_of(output);
  if (lines.empty()) return "(empty)";
  auto words = words_of(lines.front());
  return cell(words.front());
}

std::string summarise_cgroup(std::string_view output) {
  if (auto problem = complaint(output, "cgroup")) return *problem;
  // The report ("cgroup v1  pids  /path  ...") or, without a cgroup filesystem mounted, the
  // lines of /proc/self/cgroup ("8:pids:/path", "0::/path"). The controllers the lessons limit
  // say where the box is; the v2 line counts on a host where it has them.
  std::vector<std::string> measured, unified;
  auto is_measured = [](std::string_view c) { return c == "pids" || c == "memory" || c == "cpu"; };
  for (std::string_view line : lines_of(output)) {
    auto words = words_of(line);
    if (words.size() >= 4 && words[0] == "cgroup" && (words[1] == "v1" || words[1] == "v2")) {
      if (is_measured(words[2]))
        measured.emplace_back(words[3]);
      else if (words[1] == "v2")
        unified.emplace_back(words[3]);
      continue;
    }
    size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) continue;
    if (!all_digits(line.substr(0, first))) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (controllers.empty()) {
      unified.emplace_back(path);
      continue;
    }
    size_t start = 0;
    while (start <= controllers.size()) {
      size_t end = controllers.find(',', start);
      if (end == std::string_view::npos) end = controllers.size();
      if (is_measured(controllers.substr(start, end - start))) {
        measured.emplace_back(path);
        break;
      }
      start = end + 1;
    }
  }
  const auto& paths = measured.empty() ? unified : measured;
  if (paths.empty()) return "(no cgroup listed)";
  // The deepest membership is where the box was put (the others stay at the host's).
  auto deepest = std::max_element(paths.begin(), paths.end(), [](const auto& a, const auto& b) {
    return std::count(a.begin(), a.end(), '/') < std::count(b.begin(), b.end(), '/') ||
           (std::count(a.begin(), a.end(), '/') == std::count(b.begin(), b.end(), '/') &&
            a.size() < b.size());
  });
  return shorten_path(*deepest, kProbeCellColumns);
}

std::string summarise_ifaces(std::string_view output) {
  if (auto problem = complaint(output, "ifaces")) return *problem;
  auto links = parse_ifaces(output);
  if (links.empty()) return "no interfaces";
  auto item = [](const Interface& i) {
    // The loopback's 127.0.0.1 says nothing; whether it is up does.
    if (i.ipv4.empty() || i.name == "lo") return i.name + (i.up ? " up" : " down");
    return i.name + " " + i.ipv4;
  };
  std::vector<std::string> items;
  for (const auto& i : links) items.push_back(item(i));
  std::string all = join(items, ", ");
  if (display_width(all) <= kProbeCellColumns) return all;
  // Too many: the interfaces that are down and have no address become a count.
  items.clear();
  int down = 0;
  for (const auto& i : links) {
    if (i.name != "lo" && !i.up && i.ipv4.empty())
      ++down;
    else
      items.push_back(item(i));
  }
  if (down) items.push_back(fmt::format("{} down", down));
  return cell(join(items, ", "));
}

std::string summarise_ns(std::string_view box_output, std::string_view host_output) {
  auto box = parse_ns(box_output);
  if (box.empty()) {
    if (auto problem = complaint(box_output, "ns")) return *problem;
    return "no namespace ids";
  }
  auto host = parse_ns(host_output);
  if (host.empty()) return "no host ids to compare";
  std::vector<std::string> own, shared;
  for (std::string_view kind : kNamespaceKinds) {
    auto b = find_id(box, kind), h = find_id(host, kind);
    if (!b || !h) continue;
    std::string children = std::string(kind) + "_for_children";
    auto bc = find_id(box, children), hc = find_id(host, children);
    bool differs = *b != *h || (bc && hc && *bc != *hc);
    (differs ? own : shared).emplace_back(kind);
  }
  if (own.empty()) return std::string(kAllTheHosts);
  if (shared.empty()) return "all its own";
  if (own.size() > shared.size()) return cell("all its own but " + join(shared, " "));
  return cell("own: " + join(own, " "));
}

std::string summarise(std::string_view probe, std::string_view output) {
  if (probe == "hostname") return summarise_hostname(output);
  if (probe == "ls /") return summarise_ls(output);
  if (probe == "ps") return summarise_ps(output);
  if (probe == "id") return summarise_id(output);
  if (probe == "ns") return summarise_ns(output, output);
  if (probe == "cgroup") return summarise_cgroup(output);
  if (probe == "ifaces") return summarise_ifaces(output);
  auto lines = lines_of(output);
  return lines.empty() ? "(empty)" : cell(lines.front());
}

std::string comparable(std::string_view probe, std::string_view cell) {
  if (probe != "ps") return std::string(cell);
  // "97 processes, PID 1 systemd" -> "PID 1 systemd": a busy host starts and ends processes
  // between two looks; whose PID 1 it is changes only with a PID namespace and its /proc.
  size_t comma = cell.find(", ");
  size_t space = cell.find(' ');
  if (comma != std::string_view::npos && all_digits(cell.substr(0, space)) &&
      cell.substr(space + 1).starts_with("process"))
    return std::string(cell.substr(comma + 2));
  return std::string(cell);
}

// ---- collecting -----------------------------------------------------------------------------

sandbox::Result<ProbeTable> collect_probes(BoxSession& box, const DriverConfig& config) {
  const std::vector<std::string> env = {"TINYSH=" + config.tinysh};
  ProbeTable table;
  for (const Probe& probe : kProbes) {
    std::string command(probe.command);
    auto typed = box.type(command, config.command_timeout);
    if (!typed) {
      sandbox::Error e = typed.error();
      if (e.step.empty()) e.step = fmt::format("the probe `{}` in the box", command);
      return e;
    }
    auto host = run_on_host(host_script(command), env, 2 * config.command_timeout);
    if (!host) {
      sandbox::Error e = host.error();
      if (e.step.empty()) e.step = fmt::format("the probe `{}` on the host", command);
      return e;
    }
    ProbeRow row{std::string(probe.name), {}, {}};
    if (probe.name == "ns") {
      std::string box_ns = typed->output;
      // Without /proc the box cannot read its own namespace links; the host reads them at
      // /proc/BOX_PID/ns, the same kernel objects.
      if (parse_ns(box_ns).empty() && box.box_pid() > 0) {
        std::vector<std::string> with_pid = env;
        with_pid.push_back(fmt::format("BOX_PID={}", box.box_pid()));
        auto seen =
            run_on_host("\"$TINYSH\" -c \"ns $BOX_PID\"", with_pid, 2 * config.command_timeout);
        if (seen && seen->status == 0) box_ns = seen->output;
      }
      row.inside = summarise_ns(box_ns, host->output);
      row.outside = summarise_ns(host->output, host->output);
    } else {
      row.inside = summarise(probe.name, typed->output);
      row.outside = summarise(probe.name, host->output);
    }
    row.differs = comparable(row.probe, row.inside) != comparable(row.probe, row.outside);
    table.rows.push_back(std::move(row));
  }
  return table;
}

sandbox::Result<ProbeTable> probes_for_flags(const std::vector<std::string>& flags,
                                             const DriverConfig& config) {
  auto box = BoxSession::start(config.nslab, flags, config.command_timeout);
  if (!box) {
    sandbox::Error e = box.error();
    if (e.step.empty())
      e.step = fmt::format("start a box for the probes (nslab run {})", fmt::join(flags, " "));
    return e;
  }
  auto table = collect_probes(*box, config);
  // The probes are what was wanted; how the shell ended does not change them, and the
  // session's destructor makes sure the box is gone.
  (void)box->finish(config.command_timeout);
  return table;
}

void mark_changes(ProbeTable& now, const ProbeTable* previous) {
  for (ProbeRow& row : now.rows) {
    const ProbeRow* before = nullptr;
    if (previous)
      for (const ProbeRow& p : previous->rows)
        if (p.probe == row.probe) before = &p;
    row.changed =
        row.differs && (!before || !before->differs ||
                        comparable(row.probe, before->inside) != comparable(row.probe, row.inside));
  }
}

// ---- rendering ------------------------------------------------------------------------------

std::string render_probe_table(const ProbeTable& table, const Columns& columns) {
  Columns c = columns;
  c.width = std::max(c.width, kNarrowestTable);
  std::vector<int> first{display_width("probe")}, left{display_width("inside the box")},
      right{display_width("on the host")};
  for (const ProbeRow& r : table.rows) {
    first.push_back(display_width(r.probe));
    left.push_back(display_width(r.inside));
    right.push_back(display_width(r.outside));
  }
  TableLayout t = lay_out(c.width, first, left, right);

  std::string out = "  " + cell("probe", t.first, kBold, c.color) + "  " +
                    cell("inside the box", t.left, kBold, c.color) + std::string(kSeparator) +
                    styled("on the host", kBold, c.color) + "\n";
  out += rule(t);
  bool any_changed = false, any_differs = false;
  for (const ProbeRow& r : table.rows) {
    any_changed = any_changed || r.changed;
    any_differs = any_differs || (r.differs && !r.changed);
    std::string_view marker = r.changed ? "» " : r.differs ? "* " : "  ";
    // Changed rows stand out whole; rows that already differed show the box's side in bold.
    std::string_view row_style = r.changed ? kHighlight : std::string_view{};
    std::string_view inside_style = r.changed ? kHighlight : r.differs ? kBold : std::string_view{};
    std::string line = styled(marker, row_style, c.color) +
                       cell(r.probe, t.first, row_style, c.color) + "  " +
                       cell(r.inside, t.left, inside_style, c.color) + std::string(kSeparator) +
                       styled(fit(r.outside, t.right), row_style, c.color);
    out += rstrip(std::move(line)) + "\n";
  }
  std::string legend;
  if (any_changed) legend += styled("»", kHighlight, c.color) + " changed in this lesson";
  if (any_differs) legend += std::string(legend.empty() ? "" : "   ") + "* differs from the host";
  if (legend.empty()) legend = "the box sees everything as the host does";
  return out + legend + "\n";
}

}  // namespace nslab::lessons
