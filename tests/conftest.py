"""Suite-wide options. Fixtures live next to the tests that use them."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--board", action="store", default=None, metavar="NAME",
        help="run the hardware tests against the real board NAME (a board/*.toml profile); "
             "without it they skip")
