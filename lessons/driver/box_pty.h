// The box as a person meets it: `nslab run FLAGS` on a pseudo-terminal, tinysh's prompt, keys
// typed, text read back from the screen.
//
// forkpty(3) gives the runner a new terminal whose slave end becomes its controlling terminal,
// exactly as a terminal emulator would; the box's tinysh inherits it. The driver writes keys to
// the master end and reads what tinysh draws. Two details make this reliable without sleeps:
//   - The terminal starts with ECHO off. tinysh's line editor echoes what it reads itself (in
//     raw mode), so keys typed ahead while a command still runs are not echoed by the kernel's
//     line discipline into the middle of that command's output.
//   - After each command the driver types `echo ::nslab:"N":$?`. The shell prints ::nslab:N:S
//     only once the command has finished, and the quotes make the typed line differ from the
//     printed one, so the echo of the typing is never mistaken for the answer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace nslab::lessons {

using namespace std::chrono_literals;

// What one typed command printed (screen text, without the prompt lines) and its $?.
struct Typed {
  std::string output;
  int status = 0;
};

// A box started with --veth: the host end of its cable and the two addresses, as the runner
// prints them once the box runs ("nslab: veth nslab-N: box 10.213.a.b, host 10.213.a.c").
struct VethLine {
  std::string host_link;     // "nslab-1037", in the host's network namespace
  std::string box_address;   // eth0's address inside the box
  std::string host_address;  // the host end's address (the bridge's, on a bridge)
  std::string bridge;        // with --bridge: "nslab-br-NAME"; "" otherwise
  size_t end = 0;            // just after the line and its line break, in the text searched
};

// Finds the runner's veth line in what the terminal showed; nullopt when there is none. Pure,
// for the tests.
std::optional<VethLine> find_veth_line(std::string_view raw);

class BoxSession {
 public:
  // Starts `nslab run FLAGS` on a new pty `columns` wide and waits until its shell answers.
  static sandbox::Result<BoxSession> start(const std::string& nslab,
                                           const std::vector<std::string>& flags,
                                           std::chrono::milliseconds timeout = 10s,
                                           int columns = 120);
  BoxSession(BoxSession&& other) noexcept;
  BoxSession& operator=(BoxSession&& other) = delete;
  BoxSession(const BoxSession&) = delete;
  ~BoxSession();  // ends the box: `exit`, then SIGTERM, then SIGKILL; always reaps the runner

  // Types one line into the shell and waits for its marker.
  sandbox::Result<Typed> type(const std::string& command, std::chrono::milliseconds timeout = 10s);

  // The runner (`nslab run`) and the box's first process as the host sees them.
  pid_t runner_pid() const { return runner_; }
  pid_t box_pid() const { return box_; }
  // With --veth: the host link and the addresses of both ends; nullopt otherwise. start() also
  // exports BOX_ADDR and HOST_ADDR in the box's shell.
  const std::optional<VethLine>& veth() const { return veth_; }

  // Everything the box drew so far, as raw bytes (for recordings) and as screen text.
  const std::string& raw() const { return raw_; }

  // Types `exit` and waits for the runner to end; returns its status as $? (128+N for signal N).
  sandbox::Result<int> finish(std::chrono::milliseconds timeout = 10s);

  // The live shell (guided mode): the student types straight into the master end of the box's
  // terminal and reads what it draws. Afterwards resync() drops what they left running or
  // half-typed (Ctrl-C) and waits for a marker, so the next type() starts at a fresh prompt.
  int terminal() const { return master_; }
  sandbox::Status resync(std::chrono::milliseconds timeout = 10s);

 private:
  BoxSession(int master, pid_t runner) : master_(master), runner_(runner) {}
  void send(const std::string& keys);
  // Reads until `pattern_found` says the raw output holds what it waits for; false on timeout
  // or when the terminal closes.
  bool read_until(const std::function<bool()>& found, std::chrono::milliseconds timeout);
  sandbox::Result<Typed> await_marker(int n, const std::string& what,
                                      std::chrono::milliseconds timeout,
                                      std::string_view command = {});
  void stop();

  int master_ = -1;
  pid_t runner_ = -1;
  pid_t box_ = -1;
  bool reaped_ = false;
  bool terminal_closed_ = false;  // a read said EIO: no process holds the box's terminal any more
  int next_marker_ = 0;
  size_t consumed_ = 0;  // raw_ up to here belongs to earlier commands
  std::string raw_;
  std::optional<VethLine> veth_;
};

// Output and status of a host script.
struct HostRun {
  std::string output;  // stdout and stderr, interleaved as written
  int status = 0;      // as $?: 128+N for signal N
};

// Runs `script` with /bin/sh -c, with `env` added to the environment, no stdin, and no fd beyond
// 0-2 inherited; the whole process group is killed after `timeout`.
sandbox::Result<HostRun> run_on_host(const std::string& script, const std::vector<std::string>& env,
                                     std::chrono::milliseconds timeout = 20s);

// Finds the marker line "::nslab:N:S" in `raw` from `from` on; returns its offset and S, or
// npos. Pure, for the tests.
struct MarkerHit {
  size_t begin = std::string::npos;  // start of the marker line
  size_t end = 0;                    // just after it
  int status = 0;
};
MarkerHit find_marker(const std::string& raw, size_t from, int n);

// The output of one command from the screen text between two markers: the line where `command`
// was typed (prompt and command; the first line when `command` is empty or not found) with
// anything above it, and the last line (prompt and the typed marker), are dropped.
std::string command_output(std::string screen, std::string_view command = {});

}  // namespace nslab::lessons
