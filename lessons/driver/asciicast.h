// Recordings in asciicast v2, the format `asciinema play` and its web player read.
//
// A cast is a text file: one JSON object with the terminal's size and a title, then one JSON
// array per write to the terminal, `[seconds, "o", "bytes"]`, in order. The bytes are terminal
// output (colors, "\r\n") inside a JSON string, so everything a terminal accepts must survive
// JSON: quotes, backslashes and control characters are escaped, and the string must be valid
// UTF-8 — a character cut in two by a write boundary is kept whole by holding its first bytes
// back until the rest arrives, and bytes that are not UTF-8 at all become U+FFFD.
//
// The spec: https://docs.asciinema.org/manual/asciicast/v2/
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "result.h"

namespace nslab::lessons {

// `text` as a JSON string literal, quotes included. Valid UTF-8 is kept as it is; '"', '\\' and
// control characters are escaped (\n, \r, \t, \b, \f, else \u00XX); each byte that does not
// belong to a well-formed UTF-8 sequence becomes \ufffd.
std::string json_string(std::string_view text);

// Joins writes so that no UTF-8 character is split between two events.
class Utf8Joiner {
 public:
  // What can be written now: the bytes held back before, then `bytes`, minus an unfinished
  // character at the end, which waits for the next call.
  std::string take(std::string_view bytes);
  // What is still held back (at the end of the recording).
  std::string rest();

 private:
  std::string held_;
};

struct CastHeader {
  int width = 80;
  int height = 24;
  std::optional<long long> timestamp;  // seconds since the epoch, when the recording started
  std::string title;
  std::string term = "xterm-256color";
  std::string shell = "/bin/sh";
};

// The first line of a cast (without "\n"):
// {"version": 2, "width": 80, "height": 24, "timestamp": ..., "title": "...", "env": {...}}
std::string cast_header_line(const CastHeader& header);

// One output event (without "\n"): [1.250, "o", "..."].
std::string cast_output_line(double seconds, std::string_view bytes);

// Why `path` cannot take a recording (its folder does not exist or is not a folder), or empty.
std::string record_path_problem(const std::string& path);

// Writes a cast file as the lesson goes; the file is complete after each event, so a lesson
// stopped half-way leaves a recording of what was shown.
class CastWriter {
 public:
  static sandbox::Result<CastWriter> create(const std::string& path, const CastHeader& header);
  CastWriter(CastWriter&& other) noexcept;
  CastWriter& operator=(CastWriter&&) = delete;
  CastWriter(const CastWriter&) = delete;
  ~CastWriter();

  // Terminal output at `seconds` since the start.
  void output(double seconds, std::string_view bytes);
  // Writes what is still held back and closes the file; the first write error, if any.
  sandbox::Status close();

  const std::string& path() const { return path_; }

 private:
  CastWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void write_line(const std::string& line);

  int fd_ = -1;
  std::string path_;
  Utf8Joiner joiner_;
  double last_seconds_ = 0;
  int write_errno_ = 0;
};

}  // namespace nslab::lessons
