// The live shell: the student at the box's own terminal.
//
// In guided mode `s`, and the challenge, hand the student the shell of the box the lesson runs.
// Their keys go to the box's pseudo-terminal as they are typed, raw (pty(7)), so Ctrl-C, arrows
// and Tab reach tinysh's line editor; what the box draws comes back to the screen unchanged. The
// box's terminal takes the student's size (TIOCSWINSZ, ioctl_tty(2)), again at each resize.
// The way back to the lesson is found in the keys themselves: WayBack follows the line the
// student types (pure, unit-tested).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nslab::lessons {

class BoxSession;
class Keyboard;

// The live shell's way back to the lesson: Ctrl-], or Enter on a line that is `exit` (or
// `exit N`), or Ctrl-D on an empty line. Follows what the student types into the line editor;
// after keys it cannot follow (arrows, history), it lets `exit` through to the shell.
class WayBack {
 public:
  // The position in `keys` of the key that asks to go back, or npos. Keys before it go to the
  // box; that key and what follows do not.
  size_t feed(std::string_view keys);

 private:
  std::string line_;
  bool known_ = true;  // line_ is what the editor holds
  int escape_ = 0;     // inside an escape sequence: 1 after ESC, 2 inside CSI/SS3
};

// How a live shell ended: the student asked to go back, the box's terminal closed (the box
// ended), or the student's keyboard did (the terminal was closed).
enum class ShellEnd { Back, BoxEnded, KeyboardGone };

// Hands `box`'s terminal to the student until WayBack sees the way back or one side ends. The
// keyboard is raw meanwhile and in single_keys mode after. Throws LessonStopped when a stop
// signal came.
ShellEnd live_shell(BoxSession& box, Keyboard& keys);

}  // namespace nslab::lessons
