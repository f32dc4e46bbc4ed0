"""Finding a key's line in TOML text: the parts of TOML that could mislead a line scanner."""

from __future__ import annotations

import tomllib

import pytest

from firmware.config.locate import KeyLines, key_at_line

TEXT = """\
# [fxs] in a comment is not a header
top = 1                      # line 2
dotted.inner.key = "x"       # line 3

[[fxs]]
port = 1
note = '''
port = 99
[[fxs]]
'''
"quoted key" = 1
'literal.key' = 2
name = "a \\" [[fxs]] b"

[[fxs]]
port = 2

[fxs.timing]
flash = 1

[[fxo]]
list = [
  1,   # comment ]
  "two, three",
  [3, 4],
]
table = { a = 1, b = { c = 2 } }
"""


def test_sample_is_valid_toml() -> None:
    """KeyLines trusts tomllib to have accepted the text first; so must its test."""
    assert tomllib.loads(TEXT)["fxs"][0]["note"] == "port = 99\n[[fxs]]\n"


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("top",), 2),
        (("dotted",), 3),
        (("dotted", "inner", "key"), 3),
        (("fxs",), 5),
        (("fxs", 0), 5),
        (("fxs", 0, "port"), 6),
        (("fxs", 0, "note"), 7),
        (("fxs", 0, "quoted key"), 11),
        (("fxs", 0, "literal.key"), 12),
        (("fxs", 0, "name"), 13),
        (("fxs", 1), 15),
        (("fxs", 1, "port"), 16),
        (("fxs", 1, "timing"), 18),
        (("fxs", 1, "timing", "flash"), 19),
        (("fxo", 0, "list"), 22),
        (("fxo", 0, "list", 0), 23),
        (("fxo", 0, "list", 1), 24),
        (("fxo", 0, "list", 2), 25),
        (("fxo", 0, "list", 2, 1), 25),
        (("fxo", 0, "table", "b", "c"), 27),
        # no line of their own: the nearest parent's
        (("fxs", 0, "missing"), 5),
        (("fxs", 1, "timing", "missing"), 18),
        (("nowhere", 3), None),
        ((), None),
    ],
)
def test_line_of(path: tuple[str | int, ...], line: int | None) -> None:
    assert KeyLines(TEXT).line_of(path) == line


def test_multiline_basic_string_with_quotes_inside() -> None:
    text = 'a = """x ""quoted"" \\""" y"""\nb = 1\nc = """z""""\nd = 2\n'
    lines = KeyLines(text)
    assert (lines.line_of(("b",)), lines.line_of(("d",))) == (2, 4)


def test_key_at_line_on_broken_text() -> None:
    text = "[box]\nname = Reception\n[[fxs]]\nport = 1\n[[fxs]]\nport = \n[sip\n"
    assert key_at_line(text, 2) == "box.name"
    assert key_at_line(text, 3) == "fxs[0]"
    assert key_at_line(text, 6) == "fxs[1].port"
    assert key_at_line(text, 7) == "fxs[1]"
    assert key_at_line(text, 99) == ""
