"""A power cut or SIGKILL at any moment of a save leaves the live file whole: the old or
the new version, never a mix. A child process saves versions in a loop while this test
kills it at 40 random moments; after each kill the file parses, is one of the versions,
and the next save works. (tests/e2e/test_config_live.py does the same to the daemon.)"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware.config import ConfigStore, default_config, parse_config, to_toml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KILLS = 40
# Long comment lines make each save large enough for a kill to land mid-write.
PADDING = "".join(f"# padding line {i} {'x' * 90}\n" for i in range(300))
VERSIONS = [PADDING + to_toml(default_config()).replace('name = "minipbx"',
                                                        f'name = "office-{i}"')
            for i in range(8)]

SAVER = """
import sys
from pathlib import Path
from firmware.config import ConfigStore
live, history, texts = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
store = ConfigStore(live, history, keep=5)
print("ready", flush=True)
n = 0
while True:
    store.save(texts[n % len(texts)])
    n += 1
"""


def test_sigkill_at_random_moments_never_tears_the_file(tmp_path: Path) -> None:
    live, history = tmp_path / "config.toml", tmp_path / "history"
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    seen: set[str] = set()
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(live), str(history), *VERSIONS],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        if not live.exists():
            continue  # killed before its first save finished: nothing was promised yet
        text = live.read_text()
        assert text in VERSIONS, "the live file is not one whole version"
        parse_config(text, "config.toml")
        seen.add(text)
        store = ConfigStore(live, history, keep=5)
        store.save(VERSIONS[0])  # and the box can save again at once
        assert live.read_text() == VERSIONS[0]
    assert len(seen) > 1, "every kill landed before any save: the test proved nothing"
