"""The ALSA and udev files under board/ and rootfs/ agree with the board profiles."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.profile import BOARD_DIR, available_boards, load_board_profile

ROOT = BOARD_DIR.parent
ASOUND = BOARD_DIR / "alsa" / "asound.conf"
RULES = [*sorted((BOARD_DIR / "udev").glob("*.rules")),
         *sorted((ROOT / "rootfs" / "udev").glob("*.rules"))]
# One udev rule term: KEY, KEY{attr}; an operator; a double-quoted value.
TERM = re.compile(r'^[A-Z_]+(\{[^}]+\})?(==|!=|\+=|-=|:=|=)"[^"]*"$')


def profile_audio() -> list[tuple[str, str, str]]:
    """(card, capture, playback) of every port of every shipped profile."""
    out = []
    for name in available_boards():
        profile = load_board_profile(name)
        for port in (*profile.fxs, *profile.fxo):
            if port.audio is not None:
                out.append((port.audio.card, port.audio.capture, port.audio.playback))
    return out


def test_udev_rules_are_well_formed() -> None:
    assert RULES
    for path in RULES:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            terms = [t.strip() for t in re.split(r',\s*(?=[A-Z_]+[{=!+:-])', line)]
            for term in terms:
                assert TERM.match(term), f"{path}:{n}: {term!r}"


def test_every_codec_card_of_a_profile_gets_its_name_from_udev() -> None:
    ids = set(re.findall(r'ATTR\{id\}="([^"]+)"',
                         "".join(p.read_text() for p in RULES)))
    for card, _, _ in profile_audio():
        assert card in ids
        assert len(card) <= 15  # the kernel's limit for a card id


def test_every_pcm_a_profile_names_is_defined_by_asound_conf(tmp_path: Path) -> None:
    pytest.importorskip("alsaaudio")
    wanted = sorted({dev for _, cap, play in profile_audio() for dev in (cap, play)
                     if not dev.startswith(("plughw:", "hw:"))})
    child = (
        "import alsaaudio, json, sys\n"
        "errors = {}\n"
        "for dev in sys.argv[1:]:\n"
        "    try:\n"
        "        alsaaudio.PCM(alsaaudio.PCM_CAPTURE, device=dev).close()\n"
        "        errors[dev] = ''\n"
        "    except alsaaudio.ALSAAudioError as exc:\n"
        "        errors[dev] = str(exc)\n"
        "print(json.dumps({'pcms': alsaaudio.pcms(), 'errors': errors}))\n")
    env = {**os.environ, "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{ASOUND}"}
    done = subprocess.run([sys.executable, "-c", child, *wanted], env=env,
                          capture_output=True, text=True, timeout=30, check=True)
    result = json.loads(done.stdout)
    for dev in wanted:
        assert dev in result["pcms"], dev
        # Defined, so ALSA looks for the card: "No such device" here (no codec plugged
        # in), never "No such file or directory" (an unknown PCM name).
        assert "No such file" not in result["errors"][dev], result["errors"][dev]
