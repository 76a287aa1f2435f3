// side_by_side(): the box's output beside the host's, differing lines marked, every line within
// the width in display columns, and one above the other below 80 columns. Pure: no root.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "side_by_side.h"
#include "text_lines.h"

using namespace nslab::lessons;

namespace {

using testing::line_with;
using testing::split_lines;
using testing::without_colors;

int widest_line(const std::string& text) {
  int w = 0;
  for (const auto& l : split_lines(without_colors(text))) w = std::max(w, display_width(l));
  return w;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

const std::string kBoxNs =
    "cgroup            4026531835\n"
    "ipc               4026531839\n"
    "mnt               4026531832\n"
    "uts               4026532177\n";
const std::string kHostNs =
    "cgroup            4026531835\n"
    "ipc               4026531839\n"
    "mnt               4026531832\n"
    "uts               4026531838\n";

}  // namespace

TEST_CASE("display width counts code points, wide characters as two, never bytes") {
  CHECK(display_width("tinyhost") == 8);
  CHECK(display_width("a…b") == 3);        // '…' is three bytes, one column
  CHECK(display_width("✓ · ok") == 6);     // check mark and middle dot: one column each
  CHECK(display_width("名前") == 4);       // East Asian wide
  CHECK(display_width("e\xcc\x81") == 1);  // e + combining acute accent
  CHECK(display_width("\xff") == 1);       // a stray byte is one replacement character
}

TEST_CASE("fit cuts between characters and ends with an ellipsis, never past the width") {
  CHECK(fit("short", 10) == "short");
  CHECK(fit("exactly10!", 10) == "exactly10!");
  CHECK(fit("one two three", 8) == "one two…");
  CHECK(fit("one two three", 9) == "one two…");  // no space left before the ellipsis
  CHECK(fit("……………", 3) == "………");               // multi-byte characters are kept whole
  CHECK(valid_utf8(fit("ééééé", 3)));
  CHECK(fit("名前名前", 4) == "名…");  // a wide character that would cross the edge is left out
  CHECK(display_width(fit("名前名前", 4)) <= 4);
  CHECK(fit("anything", 0).empty());
  CHECK(fit("anything", 1) == "…");
}

TEST_CASE("split width: natural widths when both fit, otherwise the short side keeps its own") {
  CHECK(split_width(70, 10, 20) == 10);
  CHECK(split_width(70, 10, 100) == 10);  // the long right side takes the rest
  CHECK(split_width(70, 100, 10) == 60);  // the long left side takes the rest
  CHECK(split_width(70, 100, 100) == 35);
}

TEST_CASE("at 80 columns the box is left, the host right, and only the differing line is marked") {
  std::string out = side_by_side(kBoxNs, kHostNs, {80, false});
  INFO(out);
  auto lines = split_lines(out);
  REQUIRE(lines.size() >= 7);
  CHECK(lines[0].find("inside the box") == 2);
  CHECK(lines[0].find("on the host") > lines[0].find("inside the box"));
  CHECK(line_with(out, "4026532177").starts_with("* "));
  CHECK(line_with(out, "4026532177").find("4026531838") != std::string::npos);  // same row
  CHECK(line_with(out, "4026531835").starts_with("  "));                        // same: unmarked
  CHECK(line_with(out, "4026531839").starts_with("  "));
  CHECK(lines.back().starts_with("* "));  // the legend says what the mark means
  CHECK(widest_line(out) <= 80);
}

TEST_CASE("identical outputs mark nothing and need no legend") {
  std::string out = side_by_side(kHostNs, kHostNs, {80, false});
  INFO(out);
  for (const auto& line : split_lines(out)) CHECK_FALSE(line.starts_with("* "));
  CHECK(out.find("not the same") == std::string::npos);
}

TEST_CASE("at 120 columns long lines get the room and short ones stay short") {
  std::string long_box(55, 'b'), long_host(55, 'h');
  std::string at80 = side_by_side(long_box, long_host, {80, false});
  std::string at120 = side_by_side(long_box, long_host, {120, false});
  INFO(at80, at120);
  CHECK(widest_line(at80) <= 80);
  CHECK(widest_line(at120) <= 120);
  CHECK(widest_line(at120) > 100);  // the wider terminal is used, side by side
  CHECK(line_with(at120, "bbb").find("hhh") != std::string::npos);
  // At 80 the two would be cut side by side: one above the other, each whole.
  CHECK(at80.find("…") == std::string::npos);
  CHECK(line_with(at80, "bbb").find(long_box) != std::string::npos);
  CHECK(line_with(at80, "bbb").find("hhh") == std::string::npos);
  CHECK(at80.find("inside the box") < at80.find(long_box));
  CHECK(at80.find(long_box) < at80.find("on the host"));
  // Lines too long for any layout stay side by side, cut.
  std::string longest = side_by_side(std::string(100, 'b'), std::string(100, 'h'), {80, false});
  INFO(longest);
  CHECK(line_with(longest, "bbb").find("…") != std::string::npos);
  CHECK(line_with(longest, "bbb").find("hhh") != std::string::npos);
  // A short host side leaves the rest of the width to the box's long line.
  std::string uneven = side_by_side(std::string(90, 'b') + "\n", "vm\n", {120, false});
  INFO(uneven);
  CHECK(line_with(uneven, "bbb").find(std::string(90, 'b')) != std::string::npos);
}

TEST_CASE("a line too long for its column is cut with an ellipsis, never wrapped") {
  std::string ps_line =
      "    1     0 root S    /process_api --firecracker-init --addr 0.0.0.0:2024 --max-ws-buffer "
      "--block-local-connections\n";
  std::string out = side_by_side("tinyhost\n", ps_line, {80, false});
  INFO(out);
  auto lines = split_lines(out);
  CHECK(widest_line(out) <= 80);
  std::string row = line_with(out, "/process_api");
  CHECK(row.find("tinyhost") != std::string::npos);  // the cut line stays on its row
  CHECK(row.ends_with("…"));
  CHECK(line_with(out, "--block-local-connections").empty());  // the rest is not wrapped below
}

TEST_CASE("multi-byte text is measured in columns, so the separator stays aligned") {
  std::string box = "✓ name · tinyhost\nplain line\n";
  std::string host = "✓ name · vm\nplain line\n";
  std::string out = side_by_side(box, host, {80, false});
  INFO(out);
  auto a = line_with(out, "tinyhost"), b = line_with(out, "plain line");
  CHECK(display_width(a.substr(0, a.find("│"))) == display_width(b.substr(0, b.find("│"))));
  // Cut in the middle of multi-byte text, the result is still valid UTF-8.
  std::string dots;
  for (int i = 0; i < 100; ++i) dots += "·…✓";
  std::string cut = side_by_side(dots, dots, {80, false});
  CHECK(valid_utf8(cut));
  CHECK(widest_line(cut) <= 80);
}

TEST_CASE("unequal line counts: the missing lines count as differences") {
  std::string out = side_by_side("bin\ndev\netc\nproc\n", "bin\ndev\n", {80, false});
  INFO(out);
  CHECK(line_with(out, "bin").starts_with("  "));
  CHECK(line_with(out, "dev").starts_with("  "));
  CHECK(line_with(out, "etc").starts_with("* "));
  CHECK(line_with(out, "proc").starts_with("* "));
  std::string other_way = side_by_side("bin\n", "bin\nboot\n", {80, false});
  CHECK(line_with(other_way, "boot").starts_with("* "));
}

TEST_CASE("an empty side says so instead of showing nothing") {
  std::string out = side_by_side("", "vm\n", {80, false});
  INFO(out);
  CHECK(out.find("(no output)") != std::string::npos);
  CHECK(line_with(out, "vm").starts_with("* "));
}

TEST_CASE("color highlights the differing lines instead of the star, titles bold") {
  std::string out = side_by_side(kBoxNs, kHostNs, {80, true});
  INFO(out);
  std::string differing = line_with(out, "4026532177");
  CHECK(differing.find("\x1b[1;33m") != std::string::npos);
  CHECK_FALSE(differing.starts_with("* "));
  CHECK(line_with(out, "4026531835").find("\x1b[") == std::string::npos);
  CHECK(line_with(out, "inside the box").find("\x1b[1m") != std::string::npos);
  CHECK(widest_line(out) <= 80);  // colors take no columns
  // Plain text has no escape at all (negative control for the checks above).
  CHECK(side_by_side(kBoxNs, kHostNs, {80, false}).find('\x1b') == std::string::npos);
}

TEST_CASE("below 80 columns the box comes first and the host below it") {
  std::string out = side_by_side(kBoxNs, kHostNs, {60, false});
  INFO(out);
  size_t box_title = out.find("inside the box"), host_title = out.find("on the host");
  REQUIRE(box_title != std::string::npos);
  REQUIRE(host_title != std::string::npos);
  CHECK(box_title < out.find("4026532177"));
  CHECK(out.find("4026532177") < host_title);
  CHECK(host_title < out.find("4026531838"));
  CHECK(out.find("│") == std::string::npos);  // not side by side
  CHECK(line_with(out, "4026532177").starts_with("* "));
  CHECK(line_with(out, "4026531838").starts_with("* "));
  CHECK(widest_line(out) <= 60);
  std::string tiny = side_by_side(std::string(200, 'x'), "vm", {30, false});
  CHECK(widest_line(tiny) <= 30);
}

TEST_CASE("at exactly 80 columns it is side by side, at 79 stacked") {
  CHECK(side_by_side("a", "b", {80, false}).find("│") != std::string::npos);
  CHECK(side_by_side("a", "b", {79, false}).find("│") == std::string::npos);
}

TEST_CASE("control sequences in the outputs are dropped, not counted or printed") {
  std::string out = side_by_side("\x1b[31mred\x1b[0m\r\n", "red\n", {80, false});
  INFO(out);
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(line_with(out, "red").starts_with("  "));  // the same text once the colors are gone
}
