// libFuzzer entry for the tinysh parser. Any bytes must give either a tree or one clear error,
// never a crash, a leak or undefined behaviour (ASan and UBSan watch). Beyond "no crash" it
// checks what the executor relies on:
//   - an error has a one-line message and an offset inside the input;
//   - a tree has no empty item, pipeline, command or word, only fds 0..1023 and valid names;
//   - every word expands;
//   - the tree written back as text (to_source) parses to the same tree;
//   - a final newline changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "expand.h"
#include "parse.h"
#include "vars.h"

namespace {

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "parse_fuzz: invariant broken: %s\n", what);
  std::abort();
}

void check_word(const tinysh::Word& word, const tinysh::ExpandContext& ctx) {
  require(!word.parts.empty(), "a word with no parts");
  for (const tinysh::WordPart& part : word.parts) {
    if (part.kind == tinysh::WordPart::Kind::Variable) {
      require(tinysh::Vars::valid_name(part.text), "a variable part with a bad name");
    }
  }
  (void)tinysh::expand(word, ctx);
}

void check_command(const tinysh::Command& command, const tinysh::ExpandContext& ctx) {
  require(!(command.assignments.empty() && command.words.empty() && command.redirects.empty()),
          "an empty command");
  for (const tinysh::Assignment& a : command.assignments) {
    require(tinysh::Vars::valid_name(a.name), "an assignment with a bad name");
    (void)tinysh::expand(a.value, ctx);
  }
  for (const tinysh::Word& word : command.words) check_word(word, ctx);
  for (const tinysh::Redirect& r : command.redirects) {
    require(r.fd >= 0 && r.fd <= tinysh::kMaxRedirectFd, "a redirection fd out of range");
    check_word(r.target, ctx);
  }
}

void check_pipeline(const tinysh::Pipeline& pipeline, const tinysh::ExpandContext& ctx) {
  require(!pipeline.commands.empty(), "an empty pipeline");
  for (const tinysh::Command& command : pipeline.commands) check_command(command, ctx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  tinysh::ParseResult result = tinysh::parse(input);
  if (!result.ok()) {
    const tinysh::SyntaxError& error = result.error();
    require(error.offset <= size, "an error offset past the end of the input");
    require(!error.message.empty(), "an error without a message");
    require(error.message.find('\n') == std::string::npos, "an error message of several lines");
    return 0;
  }
  require(!result.needs_more_input, "needs_more_input on a successful parse");

  tinysh::ExpandContext ctx;
  ctx.lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name.size() % 2) return std::nullopt;  // some names unset, some set
    return std::string(name) + " value";
  };
  ctx.last_status = 1;
  ctx.shell_pid = 1;
  const tinysh::Script& script = result.script();
  for (const tinysh::AndOr& item : script.items) {
    check_pipeline(item.first, ctx);
    for (const auto& [op, pipeline] : item.rest) check_pipeline(pipeline, ctx);
  }

  std::string source = tinysh::to_source(script);
  tinysh::ParseResult again = tinysh::parse(source);
  require(again.ok(), "to_source wrote text that does not parse");
  require(again.script() == script, "to_source wrote text that parses to another tree");

  tinysh::ParseResult with_newline = tinysh::parse(std::string(input) + "\n");
  require(with_newline.ok() && with_newline.script() == script, "a final newline changed the tree");
  return 0;
}
