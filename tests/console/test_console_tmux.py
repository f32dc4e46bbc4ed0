"""What a person sees: ``minipbx console`` in a real 80x24 terminal (tmux), keys typed with
send-keys and the screen read back with capture-pane. The last screen is saved as
console-screen.txt in the test's folder for a look."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import MINIPBX, ROOT, Daemon

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]


class Tmux:
    def __init__(self, folder: Path, command: list[str]) -> None:
        self.sock = folder / "tmux.sock"
        self._tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "t",
                   " ".join(command))

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", str(self.sock), *args], check=True,
                              capture_output=True, text=True, timeout=10).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def screen(self) -> list[str]:
        return self._tmux("capture-pane", "-p", "-t", "t").split("\n")

    def wait(self, text: str, timeout: float = 10.0) -> list[str]:
        text = text.rstrip()  # capture-pane drops the spaces at the end of a row
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.screen()
            if any(text in row for row in rows):
                return rows
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on the screen:\n" + "\n".join(self.screen()))

    def wait_last(self, text: str, timeout: float = 10.0) -> list[str]:
        """Wait until the last row with anything on it starts with ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = [r for r in self.screen() if r.strip()]
            if rows and rows[-1].startswith(text.rstrip()):
                return rows
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not the last row:\n" + "\n".join(self.screen()))

    def close(self) -> None:
        subprocess.run(["tmux", "-S", str(self.sock), "kill-server"], capture_output=True,
                       timeout=10)


@pytest.fixture()
def screen(tmp_path: Path) -> Iterator[Tmux]:
    from tests.e2e.conftest import default_config_text

    d = Daemon(tmp_path, default_config_text().replace("enabled = true", "enabled = false"),
               extra_args=["--board", "sim"])
    d.wait_ready()
    cmd = [f"cd {ROOT} &&", *MINIPBX, "--state-dir", str(d.state), "console"]
    tmux = Tmux(tmp_path, cmd)
    yield tmux
    (tmp_path / "console-screen.txt").write_text("\n".join(tmux.screen()))
    tmux.close()
    assert d.stop() == 0, d.log()


def test_a_person_at_80x24_sees_prompt_help_status_and_completion(screen: Tmux) -> None:
    screen.wait("minipbx>")
    screen.keys("st", "Tab")
    rows = screen.wait("minipbx> status ")
    screen.keys("Enter")
    rows = screen.wait("Ports:")
    assert any("fxs1" in r for r in rows)
    screen.keys("?")
    rows = screen.wait("  user")
    assert all(len(r) < 80 for r in rows)  # nothing reaches the last column
    screen.keys("config set fxs.1.", "Tab")
    rows = screen.wait("fxs.1.extension")
    # The list is longer than the screen (every key of a port, with its help): it stops at
    # --More--, and q leaves it with the prompt drawn again under it.
    screen.wait("--More--")
    screen.keys("q")
    screen.wait_last("minipbx> config set fxs.1.")
    screen.keys("C-u", "config set fxs.1.extension 111", "Enter")
    screen.wait("minipbx*>")  # the star: a change is staged
    screen.keys("config diff", "Enter")
    rows = screen.wait("+extension")
    screen.keys("config discard", "Enter")
    screen.wait("pending")
    # History: Up brings back the last command.
    screen.keys("Up")
    rows = screen.wait("minipbx> config discard")
    screen.keys("C-u", "exit", "Enter")
    screen.wait("logged out")
