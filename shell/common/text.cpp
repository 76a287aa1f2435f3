#include "common/text.h"

#include <algorithm>

namespace common {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> fields;
  for (;;) {
    size_t end = text.find(separator);
    fields.push_back(text.substr(0, end));
    if (end == std::string_view::npos) return fields;
    text.remove_prefix(end + 1);
  }
}

std::vector<std::string_view> split_nonempty(std::string_view text, char separator) {
  std::vector<std::string_view> fields;
  for (std::string_view field : split(text, separator))
    if (!field.empty()) fields.push_back(field);
  return fields;
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> found;
  size_t i = 0;
  auto blank = [&](size_t at) { return text[at] == ' ' || text[at] == '\t'; };
  while (i < text.size()) {
    while (i < text.size() && blank(i)) ++i;
    size_t start = i;
    while (i < text.size() && !blank(i)) ++i;
    if (i > start) found.push_back(text.substr(start, i - start));
  }
  return found;
}

std::string_view trim(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string text;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) text += separator;
    text += words[i];
  }
  return text;
}

namespace {

// Columns on a terminal: one per UTF-8 code point (the bytes 10xxxxxx continue one).
size_t columns(std::string_view text) {
  size_t count = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  return count;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view without_dashes(std::string_view word) {
  while (!word.empty() && word.front() == '-') word.remove_prefix(1);
  return word;
}

}  // namespace

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // at most 2 edits
  for (const std::string& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // A slip changes a few letters of a word, not most of them ("--utss", not "--x" for "--ipc").
  if (!best.empty() && best_distance * 2 >= without_dashes(word).size()) return {};
  return best;
}

std::string wrap_line(std::string_view text, size_t width, std::string_view indent) {
  size_t lead = text.find_first_not_of(' ');
  if (lead == std::string_view::npos) return std::string(text) + '\n';
  std::string wrapped;
  std::string line(text.substr(0, lead));  // the text's own leading spaces stay
  auto flush = [&] {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    wrapped += line + '\n';
  };
  bool first = true;
  // Split on single spaces: the empty words between two spaces keep a run of them (columns
  // aligned by padding) as it was.
  for (std::string_view word : split(text.substr(lead), ' ')) {
    if (first) {
      line += word;
      first = false;
    } else if (!word.empty() && columns(line) + 1 + columns(word) > width) {
      flush();
      line = std::string(indent) + std::string(word);
    } else {
      line += ' ';
      line += word;
    }
  }
  flush();
  return wrapped;
}

}  // namespace common
