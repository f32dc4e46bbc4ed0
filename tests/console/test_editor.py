"""The sans-IO parts of the console: key decoding, words, the one-row line editor."""

from __future__ import annotations

import re

import pytest

from firmware.console.editor import LineEditor
from firmware.console.keys import KeyDecoder
from firmware.console.words import quote, split


class Screen:
    """A tiny VT100 row model: enough to check what the editor's output leaves visible."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.row = [" "] * width
        self.col = 0
        self.max_col_written = -1

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            m = re.match(r"\x1b\[(\d*)([A-Za-z])", text[i:])
            if m:
                n = int(m.group(1) or 1)
                if m.group(2) == "C":
                    self.col += n
                elif m.group(2) == "D":
                    self.col -= n
                elif m.group(2) == "K":
                    self.row[self.col:] = [" "] * (self.width - self.col)
                i += m.end()
                continue
            ch = text[i]
            if ch == "\r":
                self.col = 0
            elif ch == "\b":
                self.col -= 1
            elif ch != "\a":
                self.row[self.col] = ch
                self.max_col_written = max(self.max_col_written, self.col)
                self.col += 1
            assert 0 <= self.col < self.width
            i += 1

    def text(self) -> str:
        return "".join(self.row).rstrip()


# --- keys --------------------------------------------------------------------------------
def test_keys_printable_controls_and_enter_variants() -> None:
    d = KeyDecoder()
    assert d.feed(b"ab?\t\x03") == ["a", "b", "?", "tab", "ctrl-c"]
    assert d.feed(b"\r\n\r\n") == ["enter", "enter"]  # CR LF is one Enter
    assert d.feed(b"\n\n") == ["enter", "enter"]
    assert d.feed(b"\x7f\x08") == ["backspace", "backspace"]


def test_keys_escape_sequences_split_across_reads() -> None:
    d = KeyDecoder()
    assert d.feed(b"\x1b") == []
    assert d.feed(b"[") == []
    assert d.feed(b"A\x1bOB\x1b[3~\x1b[1;5C\x1b[H\x1b[4~") == ["up", "down", "delete", "right",
                                                              "home", "end"]


def test_keys_noise_is_dropped_and_counted() -> None:
    d = KeyDecoder()
    assert d.feed(bytes(range(0x80, 0x100))) == []
    assert d.dropped == 128
    # An endless escape sequence is noise too, and what follows is read normally.
    assert d.feed(b"\x1b[" + b"1;" * 20 + b"x") == [] and d.dropped == 128 + 43
    assert d.feed(b"y") == ["y"]
    assert d.feed(b"\x1bQz") == ["Q", "z"]  # ESC + not [ or O: the ESC was noise
    assert d.feed(b"\x1b[99Z") == []  # a well-formed sequence we do not know: dropped


# --- words -------------------------------------------------------------------------------
def test_words_with_quotes_and_positions() -> None:
    sp = split('config set box.name "My \\"big\\" office"  ')
    assert [w.text for w in sp.words] == ["config", "set", "box.name", 'My "big" office']
    assert sp.words[3].start == 20 and sp.trailing_space and not sp.open_quote
    assert split('say "open').open_quote
    assert quote("plain") == "plain" and quote("two words") == '"two words"'
    assert quote("") == '""'


# --- editor ------------------------------------------------------------------------------
def type_(ed: LineEditor, screen: Screen, text: str) -> None:
    for ch in text:
        screen.feed(ed.insert(ch))


def test_typing_echoes_just_the_character() -> None:
    ed = LineEditor(80)
    assert ed.start("box> ") == "\rbox> \x1b[K"
    assert ed.insert("s") == "s"
    assert ed.handle("backspace") == "\b \b"


def test_editing_in_the_middle_redraws_the_row() -> None:
    ed, screen = LineEditor(80), Screen(80)
    screen.feed(ed.start("box> "))
    type_(ed, screen, "sttus")
    for _ in range(3):
        screen.feed(ed.handle("left") or "")
    type_(ed, screen, "a")
    assert ed.line == "status" and screen.text() == "box> status" and screen.col == 8
    screen.feed(ed.handle("ctrl-e") or "")
    screen.feed(ed.handle("ctrl-w") or "")
    assert ed.line == "" and screen.text() == "box>"
    type_(ed, screen, "hw ring 1")
    screen.feed(ed.handle("ctrl-a") or "")
    screen.feed(ed.handle("delete") or "")
    screen.feed(ed.handle("ctrl-k") or "")
    assert ed.line == "" and screen.text() == "box>"


@pytest.mark.parametrize("width", [80, 24])
def test_a_long_line_scrolls_sideways_and_never_touches_the_last_column(width: int) -> None:
    ed, screen = LineEditor(width), Screen(width)
    screen.feed(ed.start("office> "))
    text = "config set box.name " + "".join(chr(ord("a") + i % 26) for i in range(150))
    type_(ed, screen, text)
    assert ed.line == text
    assert screen.max_col_written < width - 1
    shown = screen.text()
    assert shown.startswith("office> $") and shown.endswith(text[-5:])
    for _ in range(len(text)):
        screen.feed(ed.handle("left") or "")
    assert screen.text().startswith("office> config") and screen.text().endswith("$")
    assert screen.col == len("office> ")
    assert screen.max_col_written < width - 1


def test_line_length_is_capped_and_flagged() -> None:
    ed = LineEditor(80, max_len=10)
    ed.start("> ")
    assert ed.insert("0123456789abc") == "0123456789\a"
    assert ed.line == "0123456789" and ed.overflowed
    assert ed.insert("x") == "" and ed.insert("y") == ""  # one bell, not one per byte
    assert ed.accept() == "0123456789"
    assert ed.history == []  # a cut line is not worth recalling


def test_secret_lines_echo_nothing_and_skip_history() -> None:
    ed = LineEditor(80)
    ed.start("password: ", secret=True)
    assert ed.insert("hunter22") == ""
    assert ed.handle("backspace") == ""
    assert ed.accept() == "hunter2"
    assert ed.history == []


def test_history_walks_back_and_keeps_the_draft() -> None:
    ed = LineEditor(80)
    for line in ("status", "hw ports", "hw ports", "config diff"):
        ed.start("> ")
        ed.insert(line)
        ed.accept()
    assert ed.history == ["status", "hw ports", "config diff"]
    ed.start("> ")
    ed.insert("draft")
    ed.handle("up")
    assert ed.line == "config diff"
    ed.handle("up")
    ed.handle("up")
    assert ed.line == "status"
    assert ed.handle("up") == "\a"
    ed.handle("down")
    ed.handle("down")
    ed.handle("down")
    assert ed.line == "draft"
