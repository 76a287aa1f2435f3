#include "asciicast.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

namespace nslab::lessons {

namespace {

constexpr int kTruncated = -1;

// The length of the well-formed UTF-8 character at s[i] (Unicode's table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF); 0 when s[i] starts none; kTruncated when the
// bytes so far are a correct beginning but the text ends before the character does.
int well_formed(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char lead = b(i);
  if (lead < 0x80) return 1;
  int length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range allowed for the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  for (int k = 1; k < length; ++k) {
    if (i + k >= s.size()) return kTruncated;
    unsigned char c = b(i + k);
    unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
    if (c < lo || c > hi) return 0;
  }
  return length;
}

}  // namespace

std::string json_string(std::string_view text) {
  std::string out = "\"";
  out.reserve(text.size() + 2);
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          out += fmt::format("\\u{:04x}", c);
          break;
      }
      ++i;
      continue;
    }
    int length = well_formed(text, i);
    if (length <= 0) {
      out += "\\ufffd";  // one replacement character per stray byte
      ++i;
      continue;
    }
    out.append(text.substr(i, static_cast<size_t>(length)));
    i += static_cast<size_t>(length);
  }
  out += '"';
  return out;
}

std::string Utf8Joiner::take(std::string_view bytes) {
  std::string all = std::move(held_);
  held_.clear();
  all.append(bytes);
  // An unfinished character starts at the last lead byte, which is among the last three.
  size_t stop = all.size() > 3 ? all.size() - 3 : 0;
  for (size_t i = all.size(); i-- > stop;) {
    unsigned char c = static_cast<unsigned char>(all[i]);
    if (c >= 0x80 && c < 0xC0) continue;  // a continuation byte: look further back
    if (c >= 0xC0 && well_formed(all, i) == kTruncated) {
      held_ = all.substr(i);
      all.resize(i);
    }
    break;
  }
  return all;
}

std::string Utf8Joiner::rest() {
  std::string r = std::move(held_);
  held_.clear();
  return r;
}

std::string cast_header_line(const CastHeader& h) {
  std::string line = fmt::format(R"({{"version": 2, "width": {}, "height": {})", h.width, h.height);
  if (h.timestamp) line += fmt::format(R"(, "timestamp": {})", *h.timestamp);
  if (!h.title.empty()) line += R"(, "title": )" + json_string(h.title);
  line += R"(, "env": {"TERM": )" + json_string(h.term) + R"(, "SHELL": )" + json_string(h.shell) +
          "}}";
  return line;
}

std::string cast_output_line(double seconds, std::string_view bytes) {
  return fmt::format(R"([{:.3f}, "o", {}])", seconds, json_string(bytes));
}

std::string record_path_problem(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) return "the file name is empty";
  fs::path p(path);
  if (!p.has_filename() || p.filename() == "." || p.filename() == "..")
    return "it names a folder; give a file name such as lesson.cast";
  fs::path dir = p.parent_path();
  if (dir.empty()) return {};
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (!fs::exists(status)) return fmt::format("the folder {} does not exist", dir.string());
  if (!fs::is_directory(status)) return fmt::format("{} is not a folder", dir.string());
  std::error_code ec2;
  if (fs::is_directory(p, ec2)) return "it is a folder; give a file name such as lesson.cast";
  return {};
}

sandbox::Result<CastWriter> CastWriter::create(const std::string& path, const CastHeader& header) {
  if (auto problem = record_path_problem(path); !problem.empty())
    return sandbox::plain_error(fmt::format("cannot record to {}: {}", path, problem));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return sandbox::make_error(fmt::format("open(\"{}\", O_WRONLY|O_CREAT|O_TRUNC)", path), errno);
  CastWriter writer(fd, path);
  writer.write_line(cast_header_line(header));
  if (writer.write_errno_)
    return sandbox::make_error(fmt::format("write(\"{}\")", path), writer.write_errno_);
  return writer;
}

CastWriter::CastWriter(CastWriter&& o) noexcept
    : fd_(o.fd_),
      path_(std::move(o.path_)),
      joiner_(std::move(o.joiner_)),
      last_seconds_(o.last_seconds_),
      write_errno_(o.write_errno_) {
  o.fd_ = -1;
}

CastWriter::~CastWriter() {
  (void)close();
}

void CastWriter::write_line(const std::string& line) {
  if (fd_ < 0 || write_errno_) return;
  std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_errno_ = n < 0 ? errno : EIO;
      return;
    }
    done += static_cast<size_t>(n);
  }
}

void CastWriter::output(double seconds, std::string_view bytes) {
  // Timestamps never go backwards, whatever the caller's clock did.
  if (seconds < last_seconds_) seconds = last_seconds_;
  std::string whole = joiner_.take(bytes);
  if (whole.empty()) return;
  last_seconds_ = seconds;
  write_line(cast_output_line(seconds, whole));
}

sandbox::Status CastWriter::close() {
  if (fd_ < 0) return sandbox::ok();
  std::string rest = joiner_.rest();
  if (!rest.empty()) write_line(cast_output_line(last_seconds_, rest));
  int err = write_errno_;
  if (::close(fd_) != 0 && !err) err = errno;
  fd_ = -1;
  if (err) return sandbox::make_error(fmt::format("write(\"{}\")", path_), err);
  return sandbox::ok();
}

}  // namespace nslab::lessons
