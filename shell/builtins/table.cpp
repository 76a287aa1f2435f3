// The list of builtins, and the small helpers they share.
#include <string.h>
#include <unistd.h>

#include <cerrno>

#include "../builtin.h"

namespace tinysh {

std::vector<const Builtin*> all_builtins() {
  std::vector<const Builtin*> all;
  for (auto group : {core_builtins(), file_builtins(), system_builtins(), init_builtins(),
                     limit_builtins(), net_builtins()})
    for (const Builtin& b : group) all.push_back(&b);
  return all;
}

const Builtin* find_builtin(std::string_view name) {
  for (const Builtin* b : all_builtins())
    if (b->name == name) return b;
  return nullptr;
}

namespace {

int g_output_error = 0;  // see take_output_error()

}  // namespace

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A short write is followed by one more try, which gives the reason (ENOSPC, EFBIG, EPIPE);
      // a write that takes nothing without saying why is counted as an I/O error.
      if (fd == 1 && g_output_error == 0) g_output_error = n < 0 ? errno : EIO;
      return false;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int take_output_error() {
  int err = g_output_error;
  g_output_error = 0;
  return err;
}

int usage_error(Args args) {
  std::string_view name = args.empty() ? "tinysh" : std::string_view(args[0]);
  if (const Builtin* b = find_builtin(name))
    write_all(2, fmt::format("{}: usage: {}\n", name, b->usage));
  return 2;
}

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns the message, possibly not in buf.
  return ::strerror_r(err, buf, sizeof buf);
}

}  // namespace tinysh
