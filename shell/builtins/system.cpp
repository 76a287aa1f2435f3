// System builtins: hostname, uname, id, caps, ps, mount, umount, ns.
//
// These are the probes of every lesson. Each asks the kernel directly, with no cache and no
// helper program, so its output changes exactly when an isolation feature is turned on:
//   hostname, uname  uname(2) reads the UTS namespace; sethostname(2) changes it.
//   id               getuid(2)/getgid(2)/getgroups(2): ids as seen from this user namespace
//                    (65534, the overflow id, for ids it does not map); names from the
//                    current root's /etc/passwd and /etc/group.
//   caps             /proc/self/status: the capability sets, no_new_privs and the seccomp
//                    mode, what the kernel took away from root (caps_status.h).
//   ps               /proc/[0-9]*: the processes of the PID namespace the mounted /proc
//                    belongs to, which is why a box needs its own /proc mount.
//   mount, umount    /proc/self/mountinfo, mount(2), umount2(2): the mount namespace.
//   ns               the /proc/self/ns/* links: one inode number per namespace.
#include <dirent.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "../builtin.h"
#include "common/text.h"
#include "caps_status.h"
#include "file_io.h"
#include "mount_options.h"
#include "proc_read.h"

namespace tinysh {

namespace {

using file_io::Dir;
using file_io::FileText;
using file_io::parse_short_flags;
using file_io::ParsedArgs;
using file_io::read_whole_file;

// Root whose kernel said EPERM: a root box without --user, from which nslab took CAP_SYS_ADMIN
// (its uid 0 is the host's, so the capability would act on the host). Any other root without
// it gets the same truth. capget(2) for this process's effective set.
bool has_sys_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))) != 0;
}

// A process that holds CAP_SYS_ADMIN and is still refused a new proc or sysfs: outside the host's
// user namespace, the kernel mounts one only while a full one of the same kind is visible in the
// mount namespace (it must reveal nothing the box could not already see); after a pivot_root the
// host's went with the old root.
constexpr std::string_view kNotVisibleHint =
    "in a user namespace the kernel mounts a new proc or sysfs only while a full one is still "
    "visible in this mount namespace, and the host's went with the old root: mount it before "
    "pivot_root (nslab run --proc does)";

// Seen: in a box with its own user and mount namespaces (root there, CAP_SYS_ADMIN) but the
// host's cgroup namespace, mounting cgroup2 or a v1 hierarchy is EPERM all the same: the kernel
// asks for CAP_SYS_ADMIN over the user namespace that owns the *cgroup* namespace.
constexpr std::string_view kCgroupNamespaceHint =
    "a cgroup filesystem also needs a cgroup namespace owned by this user namespace, and this "
    "box shares the host's: start it with --cgroup";

constexpr std::string_view kNoAdminHint =
    "this root has no CAP_SYS_ADMIN: nslab takes it from a box without --user, whose root is "
    "the host's root to the kernel; give the box its own root with --user --map-root";

constexpr std::string_view kDroppedAdminHint =
    "this root has no CAP_SYS_ADMIN: it is out of the box's bounding set (nslab run --cap-drop), "
    "and nothing the box runs can get it back";

// A seccomp filter answers before any capability is checked: EPERM with CAP_SYS_ADMIN held.
constexpr std::string_view kSeccompHint =
    "a seccomp filter refused the call before any capability was checked (Seccomp 2 in "
    "`caps`: nslab run --seccomp); being root does not help";

// This process's user namespace is not the host's: its uid_map maps less than every id.
bool in_user_namespace() {
  FileText map = read_whole_file("/proc/self/uid_map");
  if (map.error) return false;
  auto words = common::words(common::trim(map.text));  // one line, and its newline
  return !(words.size() == 3 && words[0] == "0" && words[1] == "0" && words[2] == "4294967295");
}

std::string_view eperm_hint(int err, std::string_view usual) {
  if (err != EPERM) return usual;
  if (has_sys_admin()) {
    FileText status = read_whole_file("/proc/self/status");
    if (!status.error && tinysh::parse_process_powers(status.text).seccomp_mode == 2)
      return kSeccompHint;
    return usual;
  }
  if (::geteuid() != 0) return usual;
  return in_user_namespace() ? kDroppedAdminHint : kNoAdminHint;
}

constexpr std::string_view kMountProcHint =
    "/proc is not mounted here; mount it with: mount -t proc proc /proc";

// "call: errno text — what it usually means"
int fail_call(Args args, std::string_view call, int err, std::string_view hint) {
  if (hint.empty()) return fail(args, "{}: {}", call, errno_text(err));
  return fail(args, "{}: {} — {}", call, errno_text(err), hint);
}

// ---- hostname, uname ------------------------------------------------------------------------

int run_hostname(Shell&, Args args) {
  if (args.size() > 2) return usage_error(args);
  if (args.size() == 2) {
    const std::string& name = args[1];
    if (::sethostname(name.data(), name.size()) == 0) return 0;
    int err = errno;
    if (err == EPERM)
      return fail_call(args, "sethostname", err,
                       eperm_hint(err,
                                  "changing the host name needs root (CAP_SYS_ADMIN) in the user "
                                  "namespace that owns this UTS namespace; in a box with its own "
                                  "UTS namespace only the box's name changes, the host keeps its "
                                  "own"));
    if (err == EINVAL)
      return fail_call(args, "sethostname", err, "a host name has at most 64 bytes");
    return fail_call(args, "sethostname", err, {});
  }
  struct utsname u {};
  if (::uname(&u) != 0) return fail_call(args, "uname", errno, {});
  out("{}\n", u.nodename);
  return 0;
}

int run_uname(Shell&, Args args) {
  ParsedArgs parsed = parse_short_flags(args, "asnrvm");
  if (parsed.unknown || !parsed.operands.empty()) return usage_error(args);
  struct utsname u {};
  if (::uname(&u) != 0) return fail_call(args, "uname", errno, {});
  bool all = parsed.has('a');
  std::string flags = parsed.flags.empty() ? "s" : parsed.flags;
  // Printed in the kernel's order whatever the order of the flags, as uname(1) does.
  const std::array<std::pair<char, const char*>, 5> fields{
      {{'s', u.sysname}, {'n', u.nodename}, {'r', u.release}, {'v', u.version}, {'m', u.machine}}};
  std::string line;
  for (auto [flag, value] : fields) {
    if (!all && flags.find(flag) == std::string::npos) continue;
    if (!line.empty()) line += ' ';
    line += value;
  }
  out("{}\n", line);
  return 0;
}

// ---- id -------------------------------------------------------------------------------------

int run_id(Shell&, Args args) {
  if (args.size() > 1) return usage_error(args);
  IdNames names = file_io::load_id_names();
  uid_t uid = ::getuid(), euid = ::geteuid();
  gid_t gid = ::getgid(), egid = ::getegid();

  int count = ::getgroups(0, nullptr);
  std::vector<gid_t> supplementary(count > 0 ? static_cast<size_t>(count) : 0);
  if (count > 0) {
    count = ::getgroups(count, supplementary.data());
    supplementary.resize(count > 0 ? static_cast<size_t>(count) : 0);
  }
  // Like id(1): the effective group first, then the supplementary groups without repeating it.
  std::vector<gid_t> groups{egid};
  for (gid_t g : supplementary)
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);

  std::string line =
      fmt::format("uid={}({}) gid={}({})", uid, names.user_name(uid), gid, names.group_name(gid));
  if (euid != uid) line += fmt::format(" euid={}({})", euid, names.user_name(euid));
  if (egid != gid) line += fmt::format(" egid={}({})", egid, names.group_name(egid));
  line += " groups=";
  for (size_t i = 0; i < groups.size(); ++i)
    line += fmt::format("{}{}({})", i ? "," : "", groups[i], names.group_name(groups[i]));
  out("{}\n", line);
  return 0;
}

// ---- caps -----------------------------------------------------------------------------------

int run_caps(Shell&, Args args) {
  if (args.size() > 2) return usage_error(args);
  std::string path = "/proc/self/status";
  if (args.size() == 2) {
    if (args[1].empty() || args[1].find_first_not_of("0123456789") != std::string::npos)
      return usage_error(args);
    path = "/proc/" + args[1] + "/status";
  }
  FileText status = read_whole_file(path);
  if (status.error) {
    if (args.size() == 2 && status.error == ENOENT && ::access("/proc/self", F_OK) == 0)
      return fail(args, "{}: {} (no such process in this /proc)", path, errno_text(status.error));
    return fail_call(args, "reading " + path, status.error,
                     status.error == ENOENT ? kMountProcHint : std::string_view{});
  }
  out("{}", format_process_powers(parse_process_powers(status.text)));
  return 0;
}

// ---- ps -------------------------------------------------------------------------------------

struct ProcessRow {
  ProcStat stat;
  std::string user;
  std::string command;
};

// Reads one /proc/PID directory. nullopt when the process ended while we read it: its files
// then fail with ENOENT or ESRCH, and it simply is not listed.
std::optional<ProcessRow> read_process(const std::string& dir, const IdNames& names) {
  FileText stat_text = read_whole_file(dir + "/stat");
  if (stat_text.error) return std::nullopt;
  std::optional<ProcStat> stat = parse_proc_stat(stat_text.text);
  if (!stat) return std::nullopt;
  ProcessRow row{*stat, "?", {}};
  FileText status = read_whole_file(dir + "/status");
  if (!status.error)
    if (auto euid = parse_status_effective_uid(status.text)) row.user = names.user_name(*euid);
  FileText cmdline = read_whole_file(dir + "/cmdline");
  row.command = cmdline.error ? std::string() : cmdline_text(cmdline.text);
  // Kernel threads and zombies have no arguments: show the name the kernel keeps, in brackets.
  if (row.command.empty()) row.command = "[" + row.stat.comm + "]";
  return row;
}

int run_ps(Shell&, Args args) {
  if (args.size() > 1) return usage_error(args);
  Dir proc(::opendir("/proc"));
  if (!proc) {
    int err = errno;
    return fail_call(args, "opendir(\"/proc\")", err,
                     err == ENOENT ? "there is no /proc directory; create it with mkdir /proc, "
                                     "then mount -t proc proc /proc"
                                   : std::string_view{});
  }
  IdNames names = file_io::load_id_names();
  std::vector<ProcessRow> rows;
  bool any_process_dir = false;
  while (const dirent* d = ::readdir(proc.get())) {
    std::string_view name = d->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string_view::npos) continue;
    any_process_dir = true;
    if (auto row = read_process("/proc/" + std::string(name), names)) rows.push_back(*row);
  }
  // A proc filesystem always holds at least the reader itself; no number directories at all
  // means /proc is an empty directory, or something that is not procfs.
  if (!any_process_dir) return fail(args, "/proc has no process directories: {}", kMountProcHint);
  std::sort(rows.begin(), rows.end(),
            [](const ProcessRow& a, const ProcessRow& b) { return a.stat.pid < b.stat.pid; });

  size_t w_pid = 3, w_ppid = 4, w_user = 4;
  for (const ProcessRow& r : rows) {
    w_pid = std::max(w_pid, fmt::formatted_size("{}", r.stat.pid));
    w_ppid = std::max(w_ppid, fmt::formatted_size("{}", r.stat.ppid));
    w_user = std::max(w_user, r.user.size());
  }
  // On a terminal each line ends at its width, as procps' ps does: a command line of hundreds of
  // characters would otherwise wrap over several rows. A pipe or a file gets every character.
  size_t columns = 0;
  winsize ws{};
  if (::isatty(1) && ::ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) columns = ws.ws_col;
  auto cut = [&](std::string line) {
    if (columns == 0) return line;
    size_t shown = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;  // inside a character
      if (++shown > columns) return line.substr(0, i);
    }
    return line;
  };
  std::string text = cut(fmt::format("{:>{}} {:>{}} {:<{}} STAT CMD", "PID", w_pid, "PPID",
                                     w_ppid, "USER", w_user)) +
                     "\n";
  for (const ProcessRow& r : rows)
    text += cut(fmt::format("{:>{}} {:>{}} {:<{}} {:<4} {}", r.stat.pid, w_pid, r.stat.ppid,
                            w_ppid, r.user, w_user, r.stat.state, r.command)) +
            "\n";
  write_all(1, text);
  return 0;
}

// ---- mount, umount --------------------------------------------------------------------------

int list_mounts(Args args, const std::string& only_type) {
  FileText table = read_whole_file("/proc/self/mountinfo");
  if (table.error)
    return fail_call(args, "reading /proc/self/mountinfo", table.error,
                     table.error == ENOENT ? kMountProcHint : std::string_view{});
  std::string text;
  for (const MountInfo& m : parse_mountinfo(table.text))
    if (only_type.empty() || m.fstype == only_type) text += format_mount(m) + '\n';
  write_all(1, text);
  return 0;
}

std::string quoted_or_null(const char* s) {
  return s ? fmt::format("\"{}\"", s) : std::string("NULL");
}

// One mount(2) call, reported as the call itself when it fails.
int call_mount(Args args, const char* source, const std::string& target, const char* type,
               unsigned long flags, const std::string& data) {
  const char* data_arg = data.empty() ? nullptr : data.c_str();
  if (::mount(source, target.c_str(), type, flags, data_arg) == 0) return 0;
  int err = errno;
  std::string call =
      fmt::format("mount({}, \"{}\", {}, {}, {})", quoted_or_null(source), target,
                  quoted_or_null(type), mount_flags_text(flags), quoted_or_null(data_arg));
  std::string_view type_name = type ? type : "";
  if (err == EPERM && has_sys_admin() && (type_name == "proc" || type_name == "sysfs"))
    return fail_call(args, call, err, kNotVisibleHint);
  if (err == EPERM && has_sys_admin() && (type_name == "cgroup2" || type_name == "cgroup"))
    return fail_call(args, call, err, kCgroupNamespaceHint);
  return fail_call(args, call, err, eperm_hint(err, mount_error_hint(err)));
}

int run_mount(Shell&, Args args) {
  std::string type;
  MountOptions options;
  std::vector<std::string> operands;
  bool any_option = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string* { return i + 1 < args.size() ? &args[++i] : nullptr; };
    if (a == "-t") {
      const std::string* v = value();
      if (!v) return usage_error(args);
      type = *v;
    } else if (a == "-o") {
      const std::string* v = value();
      if (!v) return usage_error(args);
      options = split_mount_options(*v, options);
      any_option = true;
    } else if (a == "--bind" || a == "--rbind") {
      options = split_mount_options(a.substr(2), options);
      any_option = true;
    } else if (a == "--move") {
      options.flags |= MS_MOVE;
      any_option = true;
    } else if (a.starts_with("--make-")) {
      // --make-private, --make-rshared, ...: the same words as -o.
      MountOptions made = split_mount_options(a.substr(7));
      if (!made.data.empty() || !(made.flags & propagation_flags())) return usage_error(args);
      options = split_mount_options(a.substr(7), options);
      any_option = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return usage_error(args);
    } else {
      operands.push_back(a);
    }
  }
  if (operands.empty() && !any_option) return list_mounts(args, type);

  unsigned long propagation = options.flags & propagation_flags();
  unsigned long rest = options.flags & ~propagation;
  bool changes_existing = (options.flags & (MS_REMOUNT | MS_BIND | MS_MOVE)) != 0;

  if (operands.size() == 1 && (propagation || (rest & MS_REMOUNT))) {
    // `mount --make-rprivate /`, `mount -o remount,ro DIR`: only a target.
    const std::string& target = operands[0];
    if (rest & ~MS_REC) {
      int status = call_mount(args, nullptr, target, nullptr, rest, options.data);
      if (status) return status;
    }
    if (propagation)
      return call_mount(args, "none", target, nullptr, propagation | (rest & MS_REC), {});
    return 0;
  }
  if (operands.size() != 2) {
    fail(args, "needs SOURCE and DIR (tinysh has no /etc/fstab to look them up in)");
    return usage_error(args);
  }
  if (type.empty() && !changes_existing)
    return fail(args,
                "-t TYPE is needed: tinysh does not guess filesystem types (try -t tmpfs, "
                "-t proc, or --bind)");
  const std::string& source = operands[0];
  const std::string& target = operands[1];
  int status = call_mount(args, source.c_str(), target, type.empty() ? nullptr : type.c_str(), rest,
                          options.data);
  if (status) return status;
  // The kernel takes a propagation type only alone (with MS_REC) in its own call.
  if (propagation)
    return call_mount(args, "none", target, nullptr, propagation | (rest & MS_REC), {});
  return 0;
}

int run_umount(Shell&, Args args) {
  ParsedArgs parsed = parse_short_flags(args, "l");
  if (parsed.unknown || parsed.operands.size() != 1) return usage_error(args);
  const std::string& target = parsed.operands[0];
  // MNT_DETACH: take the mount out of the tree now; the kernel frees it once nothing uses it.
  int flags = parsed.has('l') ? MNT_DETACH : 0;
  if (::umount2(target.c_str(), flags) == 0) return 0;
  int err = errno;
  return fail_call(args, fmt::format("umount2(\"{}\", {})", target, flags ? "MNT_DETACH" : "0"),
                   err, eperm_hint(err, umount_error_hint(err)));
}

// ---- ns -------------------------------------------------------------------------------------

// Every namespace kind the kernel shows in /proc/PID/ns, in a fixed order. The *_for_children
// links name the namespace that children created from now on will get (after unshare(2) of a
// PID or time namespace, the caller itself stays where it was).
constexpr std::array<std::string_view, 10> kNamespaces{
    "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
    "user",   "uts"};

int run_ns(Shell&, Args args) {
  if (args.size() > 2) return usage_error(args);
  std::string base = "/proc/self/ns/";
  if (args.size() == 2) {
    if (args[1].empty() || args[1].find_first_not_of("0123456789") != std::string::npos)
      return usage_error(args);
    base = "/proc/" + args[1] + "/ns/";
  }
  if (::access(base.c_str(), F_OK) != 0) {
    int err = errno;
    if (args.size() == 2 && ::access("/proc/self", F_OK) == 0)
      return fail(args, "{}: {} (no such process in this /proc)", base, errno_text(err));
    return fail(args, "{}: {} — {}", base, errno_text(err), kMountProcHint);
  }
  size_t width = 0;
  for (std::string_view n : kNamespaces) width = std::max(width, n.size());
  std::string text;
  int status = 0;
  for (std::string_view name : kNamespaces) {
    std::string path = base + std::string(name);
    char link[128];
    ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
    std::optional<unsigned long long> inode;
    if (n > 0) inode = parse_ns_link(std::string_view(link, static_cast<size_t>(n)));
    if (inode) {
      text += fmt::format("{:<{}} {}\n", name, width, *inode);
    } else if (n < 0 && errno == ENOENT) {
      // An older kernel without this namespace kind (time arrived in Linux 5.6).
      text += fmt::format("{:<{}} (not in this kernel)\n", name, width);
    } else {
      status = 1;
      text += fmt::format("{:<{}} ({})\n", name, width,
                          n < 0 ? errno_text(errno) : std::string("unexpected link text"));
    }
  }
  write_all(1, text);
  return status;
}

const std::array<Builtin, 8> kSystemBuiltins{{
    {"hostname", "hostname [NAME]", "print this UTS namespace's host name, or set it to NAME",
     "uname(2) nodename, sethostname(2)", RunsIn::Shell, run_hostname},
    {"uname", "uname [-a|-s|-n|-r|-v|-m]",
     "print kernel name, host name, release, version, machine (-a: all)",
     "uname(2)", RunsIn::Shell, run_uname},
    {"id", "id", "print the user and group ids of this shell, with names where known",
     "getuid(2), getgid(2), getgroups(2); names from /etc/passwd and /etc/group", RunsIn::Shell,
     run_id},
    {"caps", "caps [PID]", "capabilities, no_new_privs and seccomp mode of this shell (or of PID)",
     "/proc/PID/status: CapEff, CapPrm, CapBnd, NoNewPrivs, Seccomp", RunsIn::Shell, run_caps},
    {"ps", "ps", "list the processes of the PID namespace that the mounted /proc shows",
     "/proc/[0-9]*/stat, status and cmdline", RunsIn::Shell, run_ps},
    {"mount",
     "mount [-t TYPE] | mount -t TYPE [-o OPTS] SOURCE DIR | mount --bind|--rbind SRC DIR | "
     "mount --make-[r]private|shared|slave DIR | mount -o remount,OPTS DIR",
     "show the mount table of this mount namespace, or mount a filesystem",
     "/proc/self/mountinfo, mount(2)", RunsIn::Shell, run_mount},
    {"umount", "umount [-l] DIR", "unmount the filesystem at DIR; -l detaches it even if busy",
     "umount2(2) (MNT_DETACH for -l)", RunsIn::Shell, run_umount},
    {"ns", "ns [PID]", "print the namespace ids of this shell (or of process PID)",
     "readlink(2) of /proc/self/ns/*", RunsIn::Shell, run_ns},
}};

}  // namespace

std::span<const Builtin> system_builtins() {
  return kSystemBuiltins;
}

}  // namespace tinysh
