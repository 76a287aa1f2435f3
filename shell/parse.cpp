// The tinysh parser: one line of shell text in, a Script (ast.h) out.
//
// Two layers, both single passes from left to right:
//   1. The Lexer cuts the bytes into tokens: words (quotes and $ expansions already sorted into
//      WordPart pieces), control operators (; & && || | newline) and redirection operators
//      (< > >> >&, with the fd number written before them).
//   2. The Parser feeds the tokens into Command -> Pipeline -> AndOr -> Script.
//
// The grammar (ast.h) has no nesting: no subshells, no { } groups, no if/while. So both layers
// are flat loops with a little state and no recursion: a megabyte of `|` or of quotes costs time
// in proportion to its length and no stack.
//
// The rules are those of POSIX "Shell Command Language" (sections 2.2 Quoting, 2.3 Token
// Recognition, 2.6.2 Parameter Expansion, 2.7 Redirection, 2.9 Shell Commands) for the part of
// the language tinysh has.
#include "parse.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

#include "vars.h"

namespace tinysh {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || is_digit(c);
}

// Unquoted, these end a word and start an operator.
bool is_operator_start(char c) {
  return c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '\n';
}

// Why parsing stopped. `needs_more_input`: the text was fine so far but ended too early.
struct Failure {
  std::string message;
  size_t offset = 0;
  bool needs_more_input = false;
};

enum class Control { Semicolon, Newline, Background, And, Or, Pipe, End };

std::string_view spelling(Control op) {
  switch (op) {
    case Control::Semicolon:
      return ";";
    case Control::Newline:
      return "newline";
    case Control::Background:
      return "&";
    case Control::And:
      return "&&";
    case Control::Or:
      return "||";
    case Control::Pipe:
      return "|";
    case Control::End:
      return "end of input";
  }
  return "?";
}

struct Token {
  enum class Type { Word, Control, Redirect };
  Type type = Type::Control;
  size_t offset = 0;                                // where the token starts in the input
  Word word;                                        // Type::Word
  bool assignment_shape = false;                    // Type::Word: see WordBuilder::assignment_shape
  Control control = Control::End;                   // Type::Control
  Redirect::Kind redirect = Redirect::Kind::Input;  // Type::Redirect
  int fd = 0;                                       // Type::Redirect
  std::string text;  // Type::Redirect: as written, "2>>", for messages
};

// Collects the pieces of one word. Adjacent literal text with the same `quoted` mark is merged,
// so `abc` is one part and `a'b'` two.
class WordBuilder {
 public:
  void add_char(char c, bool quoted) {
    started_ = true;
    if (quoted || !is_digit(c)) plain_digits_ = false;
    if (quoted) plain_ = false;
    if (c == '=' && plain_) assignment_shape_ = true;
    if (!parts_.empty() && parts_.back().kind == WordPart::Kind::Literal &&
        parts_.back().quoted == quoted) {
      parts_.back().text += c;
    } else {
      parts_.push_back({WordPart::Kind::Literal, std::string(1, c), quoted});
    }
  }

  void add_quoted_text(std::string_view text) {
    for (char c : text) add_char(c, true);
    mark_quoted();
  }

  void add_expansion(WordPart::Kind kind, std::string name, bool quoted) {
    started_ = true;
    plain_digits_ = false;
    plain_ = false;
    parts_.push_back({kind, std::move(name), quoted});
  }

  // A quote pair was seen: `''` and `""` make a word even though they hold no text, and quoted
  // digits are no fd number (`echo "2">f` writes 2 into f).
  void mark_quoted() {
    started_ = true;
    plain_digits_ = false;
    plain_ = false;
  }

  bool started() const { return started_; }

  // True when everything so far is unquoted digits: then a directly following < or > makes
  // those digits the redirection's fd (POSIX calls the token an IO_NUMBER).
  bool plain_digits() const { return started_ && plain_digits_; }
  const std::string& first_text() const { return parts_.front().text; }

  // True when an unquoted '=' came before any quote, escape or expansion: only such a word can
  // be an assignment (`A=1`, `A="x"`, but not `''A=1`, `"A"=1` or `$A=1`).
  bool assignment_shape() const { return assignment_shape_; }

  Word finish() {
    // `''` is one empty argument, not none: keep it as an empty quoted literal.
    if (parts_.empty()) parts_.push_back({WordPart::Kind::Literal, "", true});
    return Word{std::move(parts_)};
  }

 private:
  std::vector<WordPart> parts_;
  bool started_ = false;
  bool plain_digits_ = true;
  bool plain_ = true;  // no quote, escape or expansion yet
  bool assignment_shape_ = false;
};

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  // Reads the next token into `token`; false on a syntax error (see failure()).
  bool next(Token& token) {
    for (;;) {
      skip_continuations();
      if (at_end()) {
        token = Token{};
        token.type = Token::Type::Control;
        token.control = Control::End;
        token.offset = pos_;
        return true;
      }
      char c = in_[pos_];
      if (is_blank(c)) {
        ++pos_;
      } else if (c == '#') {
        // A comment runs to the end of the line. We only get here at the start of a word:
        // inside a word (`a#b`) '#' is an ordinary character. Backslashes are not special in a
        // comment, so skip raw bytes.
        size_t newline = in_.find('\n', pos_);
        pos_ = newline == std::string_view::npos ? in_.size() : newline;
      } else if (is_operator_start(c)) {
        return read_operator(token);
      } else {
        return read_word(token);
      }
    }
  }

  Failure take_failure() { return std::move(*failure_); }

 private:
  bool at_end() const { return pos_ >= in_.size(); }

  bool fail(std::string message, size_t offset, bool needs_more_input = false) {
    failure_ = Failure{std::move(message), offset, needs_more_input};
    return false;
  }

  // A backslash right before a newline joins two lines: both bytes vanish before anything else
  // looks at the text (outside single quotes and comments). This is how `echo a \` followed by
  // a continuation line becomes one command.
  void skip_continuations() {
    while (pos_ + 1 < in_.size() && in_[pos_] == '\\' && in_[pos_ + 1] == '\n') pos_ += 2;
  }

  bool read_operator(Token& token) {
    token = Token{};
    token.type = Token::Type::Control;
    token.offset = pos_;
    char c = in_[pos_];
    if (c == '<' || c == '>') return read_redirect(token, -1, "");
    ++pos_;
    skip_continuations();
    bool doubled = !at_end() && in_[pos_] == c;
    switch (c) {
      case '\n':
        token.control = Control::Newline;
        break;
      case ';':
        token.control = Control::Semicolon;
        break;
      case '&':
        token.control = doubled ? Control::And : Control::Background;
        break;
      case '|':
        token.control = doubled ? Control::Or : Control::Pipe;
        break;
    }
    if (doubled && (c == '&' || c == '|')) ++pos_;
    return true;
  }

  // At '<' or '>'. `fd` is the number written before it, or -1 for the default.
  bool read_redirect(Token& token, int fd, std::string digits) {
    token.type = Token::Type::Redirect;
    token.text = std::move(digits);
    size_t op_offset = pos_;
    char c = in_[pos_++];
    token.text += c;
    skip_continuations();
    if (c == '<') {
      if (!at_end() && in_[pos_] == '<') {
        return fail("here-documents (<<) are not supported by tinysh", op_offset);
      }
      token.redirect = Redirect::Kind::Input;
      token.fd = fd < 0 ? 0 : fd;
      return true;
    }
    token.redirect = Redirect::Kind::Output;
    if (!at_end() && (in_[pos_] == '>' || in_[pos_] == '&')) {
      token.redirect = in_[pos_] == '>' ? Redirect::Kind::Append : Redirect::Kind::Duplicate;
      token.text += in_[pos_++];
    }
    token.fd = fd < 0 ? 1 : fd;
    return true;
  }

  bool read_word(Token& token) {
    size_t start = pos_;
    WordBuilder word;
    for (;;) {
      skip_continuations();
      if (at_end()) break;
      char c = in_[pos_];
      if (is_blank(c) || is_operator_start(c)) {
        if ((c == '<' || c == '>') && word.plain_digits())
          return read_fd_redirect(token, word, start);
        break;
      }
      bool ok = true;
      switch (c) {
        case '\0':
          return fail_nul();
        case '\'':
          ok = read_single_quoted(word);
          break;
        case '"':
          ok = read_double_quoted(word);
          break;
        case '$':
          ok = read_dollar(word, /*quoted=*/false);
          break;
        case '\\':
          // Outside quotes a backslash makes the next character literal, whatever it is.
          // (Backslash-newline was already removed by skip_continuations.)
          if (pos_ + 1 >= in_.size()) {
            return fail("backslash at the end of the input: nothing to escape", pos_, true);
          }
          if (in_[pos_ + 1] == '\0') {
            ++pos_;
            return fail_nul();
          }
          word.add_char(in_[pos_ + 1], true);
          pos_ += 2;
          break;
        default:
          word.add_char(c, false);
          ++pos_;
      }
      if (!ok) return false;
    }
    token = Token{};
    token.type = Token::Type::Word;
    token.offset = start;
    token.assignment_shape = word.assignment_shape();
    token.word = word.finish();
    return true;
  }

  // `2>err`: the digits just read are the fd of the redirection that follows.
  bool read_fd_redirect(Token& token, const WordBuilder& word, size_t start) {
    const std::string& digits = word.first_text();
    long fd = 0;
    for (char d : digits) {
      fd = fd * 10 + (d - '0');
      if (fd > kMaxRedirectFd) {
        return fail(fmt::format("file descriptor number too large (at most {})", kMaxRedirectFd),
                    start);
      }
    }
    token = Token{};
    token.offset = start;
    return read_redirect(token, static_cast<int>(fd), digits);
  }

  // '...': every byte up to the next ' is literal; there is no escape inside.
  bool read_single_quoted(WordBuilder& word) {
    size_t open = pos_;
    size_t close = in_.find('\'', open + 1);
    if (close == std::string_view::npos) {
      return fail("unterminated single quote: no closing '", open, true);
    }
    std::string_view text = in_.substr(open + 1, close - open - 1);
    if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
      pos_ = open + 1 + nul;
      return fail_nul();
    }
    word.add_quoted_text(text);
    pos_ = close + 1;
    return true;
  }

  // "...": $ still expands; a backslash escapes only " \ $ ` and newline, and stays literal
  // before anything else ("\n" is a backslash and an n).
  bool read_double_quoted(WordBuilder& word) {
    size_t open = pos_++;
    word.mark_quoted();
    for (;;) {
      skip_continuations();
      if (at_end()) return fail("unterminated double quote: no closing \"", open, true);
      char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\0') return fail_nul();
      if (c == '$') {
        if (!read_dollar(word, /*quoted=*/true)) return false;
        continue;
      }
      if (c == '\\' && pos_ + 1 < in_.size()) {
        char next = in_[pos_ + 1];
        if (next == '"' || next == '\\' || next == '$' || next == '`') {
          word.add_char(next, true);
          pos_ += 2;
          continue;
        }
      }
      word.add_char(c, true);
      ++pos_;
    }
  }

  // At '$': $NAME, ${NAME}, $?, $$; anything else leaves the '$' as a literal character.
  bool read_dollar(WordBuilder& word, bool quoted) {
    size_t dollar = pos_++;
    skip_continuations();
    if (at_end()) {
      word.add_char('$', quoted);
      return true;
    }
    char c = in_[pos_];
    if (c == '?' || c == '$') {
      ++pos_;
      word.add_expansion(c == '?' ? WordPart::Kind::Status : WordPart::Kind::ShellPid, "", quoted);
      return true;
    }
    if (is_name_start(c)) {
      word.add_expansion(WordPart::Kind::Variable, read_name(), quoted);
      return true;
    }
    if (c != '{') {
      word.add_char('$', quoted);
      return true;
    }
    // ${NAME}: the braces end the name, so ${HOME}x is $HOME followed by x.
    ++pos_;
    skip_continuations();
    std::optional<WordPart::Kind> kind;
    std::string name;
    if (!at_end() && (in_[pos_] == '?' || in_[pos_] == '$')) {
      kind = in_[pos_] == '?' ? WordPart::Kind::Status : WordPart::Kind::ShellPid;
      ++pos_;
      skip_continuations();
    } else {
      name = read_name();
      if (Vars::valid_name(name)) kind = WordPart::Kind::Variable;
    }
    if (kind && !at_end() && in_[pos_] == '}') {
      ++pos_;
      word.add_expansion(*kind, std::move(name), quoted);
      return true;
    }
    if (in_.find('}', pos_) == std::string_view::npos) {
      return fail("unterminated ${: no closing }", dollar);
    }
    return fail("bad variable name in ${...}: use letters, digits and _, not starting with a digit",
                dollar);
  }

  std::string read_name() {
    std::string name;
    while (!at_end() && is_name_char(in_[pos_])) {
      name += in_[pos_++];
      skip_continuations();
    }
    return name;
  }

  bool fail_nul() {
    return fail("NUL byte in the input: a command or argument cannot contain one", pos_);
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::optional<Failure> failure_;
};

// `NAME=value` before the command name sets a variable; `=x`, `1A=x`, `"A"=x` are plain words.
// The name and the '=' must be unquoted text.
std::optional<Assignment> as_assignment(Word& word, bool assignment_shape) {
  if (!assignment_shape || word.parts.empty()) return std::nullopt;
  const WordPart& head = word.parts.front();
  if (head.kind != WordPart::Kind::Literal || head.quoted) return std::nullopt;
  size_t eq = head.text.find('=');
  if (eq == std::string::npos || !Vars::valid_name(std::string_view(head.text).substr(0, eq))) {
    return std::nullopt;
  }
  Assignment assignment;
  assignment.name = head.text.substr(0, eq);
  if (eq + 1 < head.text.size()) {
    assignment.value.parts.push_back({WordPart::Kind::Literal, head.text.substr(eq + 1), false});
  }
  for (size_t i = 1; i < word.parts.size(); ++i) {
    assignment.value.parts.push_back(std::move(word.parts[i]));
  }
  return assignment;
}

bool is_empty(const Command& command) {
  return command.assignments.empty() && command.words.empty() && command.redirects.empty();
}

class Parser {
 public:
  explicit Parser(std::string_view input) : lexer_(input) {}

  ParseResult run() {
    ParseResult result;
    if (std::optional<Failure> failure = parse_all()) {
      result.value = SyntaxError{std::move(failure->message), failure->offset};
      result.needs_more_input = failure->needs_more_input;
    } else {
      result.value = std::move(script_);
    }
    return result;
  }

 private:
  std::optional<Failure> parse_all() {
    Token token;
    for (;;) {
      if (!lexer_.next(token)) return lexer_.take_failure();
      switch (token.type) {
        case Token::Type::Word:
          add_word(std::move(token.word), token.assignment_shape);
          break;
        case Token::Type::Redirect:
          if (std::optional<Failure> failure = add_redirect(std::move(token))) return failure;
          break;
        case Token::Type::Control:
          if (std::optional<Failure> failure = add_control(token)) return failure;
          if (token.control == Control::End) return std::nullopt;
          break;
      }
    }
  }

  void add_word(Word word, bool assignment_shape) {
    if (command_.words.empty()) {
      if (std::optional<Assignment> assignment = as_assignment(word, assignment_shape)) {
        command_.assignments.push_back(std::move(*assignment));
        return;
      }
    }
    command_.words.push_back(std::move(word));
  }

  std::optional<Failure> add_redirect(Token op) {
    Token target;
    if (!lexer_.next(target)) return lexer_.take_failure();
    bool duplicate = op.redirect == Redirect::Kind::Duplicate;
    if (target.type != Token::Type::Word) {
      return Failure{fmt::format("expected {} after '{}'",
                                 duplicate ? "a file descriptor number" : "a file name", op.text),
                     op.offset, false};
    }
    if (duplicate) {
      if (std::optional<Failure> failure = check_fd_target(op, target)) return failure;
    }
    command_.redirects.push_back(Redirect{op.fd, op.redirect, std::move(target.word)});
    return std::nullopt;
  }

  // `2>&1`: a target written out in the line must be an fd number. One that comes from a
  // variable (`2>&$FD`) can only be checked when the command runs.
  static std::optional<Failure> check_fd_target(const Token& op, const Token& target) {
    std::string text;
    for (const WordPart& part : target.word.parts) {
      if (part.kind != WordPart::Kind::Literal) return std::nullopt;
      text += part.text;
    }
    bool digits = !text.empty();
    long fd = 0;
    for (char c : text) {
      digits = digits && is_digit(c);
      if (digits && fd <= kMaxRedirectFd) fd = fd * 10 + (c - '0');
    }
    if (!digits) {
      return Failure{fmt::format("expected a file descriptor number after '{}'", op.text),
                     target.offset, false};
    }
    if (fd > kMaxRedirectFd) {
      return Failure{fmt::format("file descriptor number too large (at most {})", kMaxRedirectFd),
                     target.offset, false};
    }
    return std::nullopt;
  }

  std::optional<Failure> add_control(const Token& token) {
    Control op = token.control;
    if (is_empty(command_)) {
      // A newline may follow | && || (the command goes on on the next line), and blank lines
      // are nothing at all.
      if (op == Control::Newline) return std::nullopt;
      if (waiting_for_) {
        return Failure{fmt::format("expected a command after '{}'", spelling(*waiting_for_)),
                       op == Control::End ? waiting_offset_ : token.offset,
                       /*needs_more_input=*/op == Control::End};
      }
      if (op == Control::End) return std::nullopt;
      return Failure{fmt::format("expected a command before '{}'", spelling(op)), token.offset,
                     false};
    }
    switch (op) {
      case Control::Pipe:
        end_command();
        wait_for(op, token.offset);
        break;
      case Control::And:
      case Control::Or:
        end_pipeline();
        next_op_ = op == Control::And ? AndOr::Op::And : AndOr::Op::Or;
        wait_for(op, token.offset);
        break;
      case Control::Semicolon:
      case Control::Newline:
      case Control::End:
        end_item(/*background=*/false);
        break;
      case Control::Background:
        end_item(/*background=*/true);
        break;
    }
    return std::nullopt;
  }

  void wait_for(Control op, size_t offset) {
    waiting_for_ = op;
    waiting_offset_ = offset;
  }

  void end_command() {
    pipeline_.commands.push_back(std::move(command_));
    command_ = Command{};
  }

  void end_pipeline() {
    end_command();
    if (!item_started_) {
      item_.first = std::move(pipeline_);
      item_started_ = true;
    } else {
      item_.rest.emplace_back(next_op_, std::move(pipeline_));
    }
    pipeline_ = Pipeline{};
  }

  void end_item(bool background) {
    end_pipeline();
    item_.background = background;
    script_.items.push_back(std::move(item_));
    item_ = AndOr{};
    item_started_ = false;
    waiting_for_.reset();
  }

  Lexer lexer_;
  Script script_;
  AndOr item_;                          // the && || chain being read
  bool item_started_ = false;           // item_.first is filled
  AndOr::Op next_op_ = AndOr::Op::And;  // joins the pipeline being read to item_
  Pipeline pipeline_;                   // the commands of the pipeline being read, before command_
  Command command_;                     // the command being read
  std::optional<Control> waiting_for_;  // | && || still waiting for the command after it
  size_t waiting_offset_ = 0;
};

// --- to_source -------------------------------------------------------------------------------

void append_single_quoted(std::string& out, std::string_view text) {
  out += '\'';
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";  // close the quote, an escaped ', open again
    } else {
      out += c;
    }
  }
  out += '\'';
}

// Where a word is written decides what must be guarded so it reads back the same.
enum class Position { Argument, FirstWord, Value };

void append_word(std::string& out, const Word& word, Position position) {
  // No parts is the empty string: an argument must be written '' to exist, an assignment's
  // value (A=) as nothing at all.
  if (word.parts.empty() && position != Position::Value) out += "''";
  // A word that starts with a bare '#' (or, as the first word, holds a bare '=') came after an
  // empty quote: `''#x`, `''A=1`. Without it, it would read back as a comment or an assignment.
  if (!word.parts.empty() && position != Position::Value) {
    const WordPart& head = word.parts.front();
    if (head.kind == WordPart::Kind::Literal && !head.quoted &&
        (head.text.starts_with('#') ||
         (position == Position::FirstWord && head.text.find('=') != std::string::npos))) {
      out += "''";
    }
  }
  for (size_t i = 0; i < word.parts.size(); ++i) {
    const WordPart& part = word.parts[i];
    std::string_view open_close = part.quoted ? "\"" : "";
    switch (part.kind) {
      case WordPart::Kind::Literal:
        if (part.quoted) {
          append_single_quoted(out, part.text);
        } else {
          // An unquoted literal holds only bytes that were plain in the source. One catch: a
          // literal '$' may have been kept from what follows by an empty quote (`$''x` is the
          // text $x); written as `$x` it would expand, so put the empty quote back.
          const WordPart* next = i + 1 < word.parts.size() ? &word.parts[i + 1] : nullptr;
          bool next_expands = next && !next->quoted && next->kind != WordPart::Kind::Literal;
          for (size_t k = 0; k < part.text.size(); ++k) {
            out += part.text[k];
            if (part.text[k] != '$') continue;
            char after = k + 1 < part.text.size() ? part.text[k + 1] : next_expands ? '$' : ' ';
            if (is_name_start(after) || after == '{' || after == '?' || after == '$') out += "''";
          }
        }
        break;
      case WordPart::Kind::Variable:
        out += fmt::format("{0}${{{1}}}{0}", open_close, part.text);
        break;
      case WordPart::Kind::Status:
        out += fmt::format("{0}$?{0}", open_close);
        break;
      case WordPart::Kind::ShellPid:
        out += fmt::format("{0}$${0}", open_close);
        break;
    }
  }
}

void append_command(std::string& out, const Command& command) {
  std::string_view sep;
  for (const Assignment& assignment : command.assignments) {
    out += sep;
    out += assignment.name;
    out += '=';
    append_word(out, assignment.value, Position::Value);
    sep = " ";
  }
  for (const Word& word : command.words) {
    out += sep;
    append_word(out, word,
                &word == &command.words.front() ? Position::FirstWord : Position::Argument);
    sep = " ";
  }
  for (const Redirect& redirect : command.redirects) {
    out += sep;
    out += std::to_string(redirect.fd);
    switch (redirect.kind) {
      case Redirect::Kind::Input:
        out += '<';
        break;
      case Redirect::Kind::Output:
        out += '>';
        break;
      case Redirect::Kind::Append:
        out += ">>";
        break;
      case Redirect::Kind::Duplicate:
        out += ">&";
        break;
    }
    append_word(out, redirect.target, Position::Argument);
    sep = " ";
  }
}

void append_pipeline(std::string& out, const Pipeline& pipeline) {
  for (size_t i = 0; i < pipeline.commands.size(); ++i) {
    if (i > 0) out += " | ";
    append_command(out, pipeline.commands[i]);
  }
}

}  // namespace

ParseResult parse(std::string_view input) {
  return Parser(input).run();
}

std::string to_source(const Script& script) {
  std::string out;
  for (const AndOr& item : script.items) {
    if (!out.empty()) out += ' ';
    append_pipeline(out, item.first);
    for (const auto& [op, pipeline] : item.rest) {
      out += op == AndOr::Op::And ? " && " : " || ";
      append_pipeline(out, pipeline);
    }
    out += item.background ? " &" : ";";
  }
  return out;
}

}  // namespace tinysh
