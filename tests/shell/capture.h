// Runs a piece of shell code in this test process with fds 1 and 2 sent to temporary files,
// and returns its status and what it wrote: how builtins are tested without a terminal.
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <string>

namespace testing {

struct Captured {
  int status = -1;
  std::string out, err;
};

// What was written to the temporary file `f`, which it then closes.
inline std::string slurp(FILE* f) {
  std::string text;
  ::fflush(f);
  ::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  ::fclose(f);
  return text;
}

template <typename F>
Captured capture(F&& body) {
  FILE* out = ::tmpfile();
  FILE* err = ::tmpfile();
  int saved_out = ::dup(1), saved_err = ::dup(2);
  ::dup2(::fileno(out), 1);
  ::dup2(::fileno(err), 2);
  Captured c;
  c.status = body();
  ::dup2(saved_out, 1);
  ::dup2(saved_err, 2);
  ::close(saved_out);
  ::close(saved_err);
  c.out = slurp(out);
  c.err = slurp(err);
  return c;
}

}  // namespace testing
