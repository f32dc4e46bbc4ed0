"""Caller ID made from a call's Party: what reaches the phone's display."""

from __future__ import annotations

import datetime as dt

import numpy as np

from firmware.core.events import Party
from firmware.dsp.cid_rx import decode_cid
from firmware.media.signals import caller_id_pcm, party_to_cid

WHEN = dt.datetime(2026, 11, 25, 9, 30)


def test_accents_fold_to_ascii_and_long_names_are_cut() -> None:
    info = party_to_cid(Party("5551234", "José Müller-Øberg Company"), WHEN)
    assert info.name == "Jose Muller-?be"  # 15 characters, GR-30's display
    assert info.number == "5551234" and info.datetime == "11250930"


def test_withheld_and_unknown_callers_get_the_reason_codes() -> None:
    private = party_to_cid(Party("5551234", "Ann", "restricted"), WHEN)
    assert (private.number, private.number_absence, private.name_absence) == (None, "P", "P")
    unknown = party_to_cid(Party(None, None), WHEN)
    assert unknown.number_absence == "O"


def test_dtmf_caller_id_carries_digits_only() -> None:
    pcm = caller_id_pcm(Party("+49 30 1234", "Anna"), "dtmf", WHEN)
    result = decode_cid(np.frombuffer(pcm, dtype="<i2"), "dtmf")
    assert result.info is not None and result.info.number == "49301234"
