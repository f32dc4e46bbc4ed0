"""A one-row line editor for a VT100: keys in, the text to send out.

Rules:
- The line lives on one screen row, whatever its length: when it is wider than the row it
  scrolls sideways, with ``$`` at the edge that hides text (as Cisco IOS does). Only CR,
  BS, ``ESC [ K`` (erase to the end of the row) and ``ESC [ n C`` / ``ESC [ n D`` (cursor
  right / left) are sent, so any VT100 or later shows it right at 9600 baud and up.
- The last column is never written: a VT100 wraps (or not) after it, depending on a setup
  switch nobody remembers.
- Typing at the end of a line that fits sends just that character, and BS at the end sends
  BS SP BS; everything else redraws the row (about 80 characters, 83 ms at 9600 baud).
- A line holds at most ``max_len`` characters: the rest of a longer one (a paste, noise) is
  dropped, and the line is marked ``overflowed`` so the shell can say so and refuse to run a
  command that was cut short.
- Secret lines (passwords) echo nothing and never enter the history.
- History: the last ``history_size`` distinct lines; Up/Down walk it, and the line being
  typed is kept while walking.
"""

from __future__ import annotations

MAX_LINE = 1024
CLEAR_EOL = "\x1b[K"


def _right(n: int) -> str:
    return f"\x1b[{n}C" if n > 0 else ""


def _left(n: int) -> str:
    return f"\x1b[{n}D" if n > 0 else ""


class LineEditor:
    def __init__(self, width: int = 80, max_len: int = MAX_LINE, history_size: int = 100) -> None:
        self.width = max(20, width)
        self.max_len = max_len
        self.history_size = history_size
        self.history: list[str] = []
        self.prompt = ""
        self.secret = False
        self.overflowed = False
        self._buf = ""
        self._pos = 0
        self._offset = 0  # first character of the line shown on the row
        self._walk: int | None = None  # index into history while walking it
        self._draft = ""

    # --- what the shell reads -------------------------------------------------------------
    @property
    def line(self) -> str:
        return self._buf

    @property
    def cursor(self) -> int:
        return self._pos

    # --- starting and ending a line -------------------------------------------------------
    def start(self, prompt: str, secret: bool = False, text: str = "") -> str:
        """Begin a new line at the left of the current row; the text to send."""
        self.prompt = prompt[: self.width // 2]
        self.secret = secret
        self.overflowed = False
        self._buf = ""
        self._pos = 0
        self._offset = 0
        self._walk = None
        return self._prompt_and(text)

    def accept(self) -> str:
        """The finished line (the shell sends CR LF); recorded in the history."""
        line = self._buf
        if line.strip() and not self.secret and not self.overflowed and (
                not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[: -self.history_size]
        self._buf = ""
        self._pos = 0
        self._walk = None
        return line

    def set_line(self, text: str, cursor: int | None = None) -> str:
        """Replace the whole line (history, completion); the text to send."""
        self._buf = text[: self.max_len]
        self._pos = len(self._buf) if cursor is None else max(0, min(cursor, len(self._buf)))
        return self.redraw()

    def redraw(self) -> str:
        """The whole row again: after a message, or Ctrl-L."""
        if self.secret:
            return "\r" + self.prompt + CLEAR_EOL
        self._scroll()
        room = self._room()
        shown = self._buf[self._offset:self._offset + room]
        left = "$" if self._offset else ""
        if left:
            shown = shown[1:]
        right = ""
        if len(self._buf) - self._offset > room:
            shown, right = shown[:-1], "$"
        row = left + shown + right
        col = self._pos - self._offset
        return "\r" + self.prompt + row + CLEAR_EOL + _left(len(row) - col)

    # --- editing --------------------------------------------------------------------------
    def insert(self, text: str) -> str:
        room = self.max_len - len(self._buf)
        bell = ""
        if len(text) > room:
            bell = "" if self.overflowed else "\a"  # one bell for a paste, not one per byte
            self.overflowed = True
            text = text[:max(0, room)]
            if not text:
                return bell
        at_end = self._pos == len(self._buf)
        self._buf = self._buf[:self._pos] + text + self._buf[self._pos:]
        self._pos += len(text)
        if self.secret:
            return bell
        if at_end and self._offset == 0 and len(self._buf) < self._room():
            return text + bell
        return self.redraw() + bell

    def handle(self, key: str) -> str | None:
        """Apply an editing key; the text to send, or None if ``key`` is not one."""
        buf, pos = self._buf, self._pos
        if key == "backspace":
            if pos == 0:
                return "\a"
            self._buf, self._pos = buf[:pos - 1] + buf[pos:], pos - 1
            if self.secret:
                return ""
            if pos == len(buf) and self._offset == 0:
                return "\b \b"
        elif key == "delete":
            if pos == len(buf):
                return "\a"
            self._buf = buf[:pos] + buf[pos + 1:]
        elif key == "left":
            if pos == 0:
                return "\a"
            self._pos -= 1
            if not self.secret and self._pos >= self._offset + (1 if self._offset else 0):
                return "\b"
        elif key == "right":
            if pos == len(buf):
                return "\a"
            self._pos += 1
            if not self.secret and self._pos < self._offset + self._room() - 1:
                return _right(1)
        elif key in ("home", "ctrl-a"):
            self._pos = 0
        elif key in ("end", "ctrl-e"):
            self._pos = len(buf)
        elif key == "ctrl-k":
            self._buf = buf[:pos]
        elif key == "ctrl-u":
            self._buf, self._pos = buf[pos:], 0
        elif key == "ctrl-w":
            start = len(buf[:pos].rstrip(" "))
            start = buf.rfind(" ", 0, start) + 1
            self._buf, self._pos = buf[:start] + buf[pos:], start
        elif key == "ctrl-l":
            return "\x1b[H\x1b[2J" + self.redraw()
        elif key in ("up", "down"):
            return self._history(key == "up")
        else:
            return None
        return "" if self.secret else self.redraw()

    # --- inside ---------------------------------------------------------------------------
    def _prompt_and(self, text: str) -> str:
        out = "\r" + self.prompt + CLEAR_EOL
        return out + (self.insert(text) if text else "")

    def _room(self) -> int:
        """Columns for the line: the row less the prompt and the last column."""
        return self.width - len(self.prompt) - 1

    def _scroll(self) -> None:
        room = self._room()
        if len(self._buf) < room:
            self._offset = 0
            return
        # Keep the cursor inside the shown part, away from the `$` marks; jump by a third
        # of the row so that typing on does not redraw at every key.
        step = max(1, room // 3)
        while self._pos < self._offset + (1 if self._offset else 0):
            self._offset = max(0, self._offset - step)
        while self._pos > self._offset + room - 2:
            self._offset += step

    def _history(self, back: bool) -> str:
        if self.secret or not self.history:
            return "\a"
        if self._walk is None:
            if not back:
                return "\a"
            self._draft = self._buf
            self._walk = len(self.history)
        walk = self._walk + (-1 if back else 1)
        if walk < 0:
            return "\a"
        if walk >= len(self.history):
            self._walk = None
            return self.set_line(self._draft)
        self._walk = walk
        return self.set_line(self.history[walk])
