#include "cli_errors.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

namespace nslab::cli {

namespace {

// "0.100000" -> "0.1", "50.000000" -> "50"; other text unchanged.
std::string short_number(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') return text;
  return fmt::format("{:g}", value);
}

// How the parser's name for a value reads: a flag stays a flag, a positional gets words.
std::string value_name(const std::string& name) {
  if (name.starts_with("-")) return name;
  if (name == "number" || name == "numbers") return "the lesson number";
  return "the " + name;
}

std::string after_colon(std::string_view what) {
  size_t at = what.find(": ");
  return at == std::string_view::npos ? std::string() : std::string(what.substr(at + 2));
}

}  // namespace

std::string explain_parse_error(std::string_view what, const ParseContext& context) {
  const std::string& cmd = context.command;
  const std::string help = cmd == "nslab" ? "`nslab help` lists the commands"
                                          : fmt::format("`{} --help` lists what it takes", cmd);
  std::smatch m;
  const std::string text(what);

  if (text.starts_with("The following argument")) {
    // CLI11 lists the unexpected words last first.
    std::string words = after_colon(text);
    std::string word = words.substr(words.rfind(' ') == std::string::npos ? 0 : words.rfind(' ') + 1);
    if (word.starts_with("-")) {
      std::string flag = word.substr(0, word.find('='));
      std::string guess = closest(flag, context.flags);
      return fmt::format("{}: there is no flag {}{}. {}.", cmd, flag,
                         guess.empty() ? "" : fmt::format(" (did you mean {}?)", guess), help);
    }
    if (cmd == "nslab") {
      std::string guess = closest(word, context.commands);
      return fmt::format("nslab: there is no command '{}'{}. {}.", word,
                         guess.empty() ? "" : fmt::format(" (did you mean {}?)", guess), help);
    }
    return fmt::format("{}: '{}' was not expected here{}. {}.", cmd, word,
                       cmd == "nslab run" || cmd == "nslab enter"
                           ? " (tinysh commands go after -c, in quotes; a program after --)"
                           : "",
                       help);
  }
  static const std::regex convert("^Could not convert: (.*) = (.*)$");
  if (std::regex_match(text, m, convert))
    return fmt::format("{}: {} takes a number, not '{}'. {}.", cmd, value_name(m[1]), m[2].str(),
                       help);
  static const std::regex not_allowed("^The value (.*) is not an allowed value for (.*)$");
  if (std::regex_match(text, m, not_allowed))
    return fmt::format("{}: {} cannot be '{}'. {}.", cmd, value_name(m[2]), m[1].str(), help);
  static const std::regex range("^(.*): Value (.*) not in range (\\S+) to (\\S+)$");
  if (std::regex_match(text, m, range))
    return fmt::format("{}: {} {} is out of range: give {} to {}.", cmd, value_name(m[1]),
                       m[2].str(), short_number(m[3]), short_number(m[4]));
  static const std::regex required("^(.*) is required$");
  if (std::regex_match(text, m, required))
    return fmt::format("{}: {} is missing. {}.", cmd, value_name(m[1]), help);
  static const std::regex missing_value("^(.*): [0-9]+ required .* missing$");
  if (std::regex_match(text, m, missing_value))
    return fmt::format("{}: {} needs a value. {}.", cmd, value_name(m[1]), help);
  return fmt::format("{}: {}. {}.", cmd, text, help);
}

}  // namespace nslab::cli
