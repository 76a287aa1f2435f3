// The syntax tree of a tinysh command line. The parser (parse.h) builds it from text; the
// executor (exec.h) walks it. Nothing here touches the kernel.
//
//   line      := and_or (( ';' | '&' ) and_or)* [ ';' | '&' ] [ '#' comment ]
//   and_or    := pipeline (( '&&' | '||' ) pipeline)*
//   pipeline  := command ( '|' command )*
//   command   := ( NAME=value )* word* with redirections anywhere among the words
//   redirect  := [fd] ( '<' | '>' | '>>' ) word        e.g. <in  >out  >>log  2>err  2>>err
//              | [fd] '>&' fd                           e.g. 2>&1  >&2
#pragma once

#include <string>
#include <vector>

namespace tinysh {

// One piece of a word. "a$HOME'b'" is three pieces: literal a, variable HOME, literal b.
struct WordPart {
  enum class Kind {
    Literal,   // text, with quotes and backslashes already removed
    Variable,  // $NAME or ${NAME}; `text` holds NAME
    Status,    // $?  the exit status of the last command
    ShellPid,  // $$  the shell's own PID (1 when tinysh is PID 1)
  };
  Kind kind = Kind::Literal;
  std::string text;
  bool quoted = false;  // came from inside '...' or "..." (or a backslash escape)

  bool operator==(const WordPart&) const = default;
};

// A word is the concatenation of its parts after expansion. tinysh does no field splitting and
// no globbing: one word in the source is one argument, whatever $VAR holds.
struct Word {
  std::vector<WordPart> parts;
  bool operator==(const Word&) const = default;
};

struct Redirect {
  enum class Kind {
    Input,      // <    open target for reading
    Output,     // >    create or truncate target
    Append,     // >>   create or append to target
    Duplicate,  // >&   make fd a copy of the fd number in target (2>&1)
  };
  int fd = 0;  // 0 for <, 1 for > >> >&, or the number written before the operator
  Kind kind = Kind::Input;
  Word target;
  bool operator==(const Redirect&) const = default;
};

struct Assignment {
  std::string name;
  Word value;
  bool operator==(const Assignment&) const = default;
};

// `A=1 B=2 cmd arg >out`. With no words, the assignments set shell variables.
struct Command {
  std::vector<Assignment> assignments;
  std::vector<Word> words;
  std::vector<Redirect> redirects;
  bool operator==(const Command&) const = default;
};

// `a | b | c`: every command runs at once, stdout of each feeding stdin of the next.
struct Pipeline {
  std::vector<Command> commands;
  bool operator==(const Pipeline&) const = default;
};

// `a && b || c`: run pipelines left to right; `&&` runs the next only after success (status 0),
// `||` only after failure.
struct AndOr {
  enum class Op { And, Or };
  Pipeline first;
  std::vector<std::pair<Op, Pipeline>> rest;
  bool background = false;  // ended by '&': runs as a job while the shell goes on
  bool operator==(const AndOr&) const = default;
};

// A whole line: items run one after another.
struct Script {
  std::vector<AndOr> items;
  bool operator==(const Script&) const = default;
};

}  // namespace tinysh
