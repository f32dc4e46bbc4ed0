"""An IP phone's forwarding and do-not-disturb through the daemon: baresip registers as
``[[sip_user]]`` 110 and dials the star codes (an INVITE to ``*72102``...); a handset's
call to 110 then rings handset 102 instead, or hears busy while 110 is on do-not-disturb;
a forward set in the configuration is followed too."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from firmware.app.status_text import format_status
from tests.e2e.harness import Daemon, tones_in
from tests.e2e.peers import Baresip, Peers, box_config
from tests.e2e.test_sip_phones import PHONE, contacts, phone_account

pytestmark = pytest.mark.slow

HANDSETS = [{"port": 1, "extension": "101", "name": "Reception"},
            {"port": 2, "extension": "102", "name": "Office"},
            {"port": 3, "extension": "103", "name": "Store"}]


def config(phone_keys: str = "") -> str:
    """Two handsets and the phone 110 with ``phone_keys`` added to its [[sip_user]]."""
    return (box_config(fxs=HANDSETS) + "\n" + PHONE + phone_keys
            + "\n[dialplan]\ninterdigit_s = 2\n")


def forwarding(box: Daemon) -> str:
    return format_status(box.call("status"))


def phone_dials(bare: Baresip, number: str) -> None:
    """The phone dials ``number``; a star code's call ends at once (no answer)."""
    closed = len(bare.ctrl.events_of("CALL_CLOSED"))
    assert bare.ctrl.command("dial", number)["ok"]
    bare.ctrl._wait(lambda: len(bare.ctrl.events_of("CALL_CLOSED")) > closed, 10,
                    f"the code call {number} to end")


def hang_up(box: Daemon, port: int) -> None:
    box.phone(port, "onhook")
    time.sleep(1.2)  # longer than a hook flash


def test_star_codes_from_the_phone(daemon_factory: Callable[..., Daemon],
                                   peers: Peers) -> None:
    box = daemon_factory(config())
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)

    phone_dials(bare, "*72102")
    box.wait_for("the forward", lambda: "110: forward always to 102" in forwarding(box),
                 timeout=5)
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("102 to ring instead of 110", lambda: box.port("fxs2")["ringing"], timeout=8)
    shown = box.wait_for("caller ID at 102",
                         lambda: (s := box.phone_status(2))["caller_id"] and s, timeout=8)
    assert shown["caller_id"]["number"] == "101"
    assert not [e for e in bare.ctrl.events_of("CALL_INCOMING")], "the phone rang"
    hang_up(box, 1)
    box.wait_for("102 to stop ringing", lambda: not box.port("fxs2")["ringing"], timeout=8)

    phone_dials(bare, "*73")
    box.wait_for("no forward", lambda: "110: forward" not in forwarding(box), timeout=5)
    phone_dials(bare, "*78")
    box.wait_for("do not disturb", lambda: "110: do not disturb" in forwarding(box),
                 timeout=5)
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("busy tone for 101", lambda: "busy" in tones_in(box.hear(1, 2.0)),
                 timeout=10)
    hang_up(box, 1)
    assert not bare.ctrl.events_of("CALL_INCOMING"), "the phone rang on do-not-disturb"
    box.wait_for("the record of the refused call",
                 lambda: "do not disturb" in str(box.call("calls", limit=3)), timeout=5)

    phone_dials(bare, "*79")
    box.wait_for("do not disturb off", lambda: "110: do not disturb" not in forwarding(box),
                 timeout=5)
    box.phone(1, "offhook")
    box.dial(1, "110")
    box.wait_for("the phone to answer", lambda: box.port("fxs1")["exchange_state"]
                 == "connected", timeout=10)  # baresip answers by itself
    hang_up(box, 1)


def test_forward_busy_from_the_configuration(daemon_factory: Callable[..., Daemon],
                                             peers: Peers) -> None:
    box = daemon_factory(config('forward_busy = "103"\n'))
    bare = peers.baresip(tone_hz=440, account=phone_account(box))
    box.wait_for("the phone's registration", lambda: bool(contacts(box)), timeout=15)
    # The phone calls 101, who answers: 110 is in a call.
    assert bare.ctrl.command("dial", "101")["ok"]
    box.wait_for("101 to ring", lambda: box.port("fxs1")["ringing"], timeout=8)
    box.phone(1, "offhook")
    bare.ctrl.wait_event("CALL_ESTABLISHED", timeout=10)
    box.phone(2, "offhook")
    box.dial(2, "110")
    box.wait_for("103 to ring for the busy phone", lambda: box.port("fxs3")["ringing"],
                 timeout=10)
    assert len(bare.ctrl.events_of("CALL_INCOMING")) == 0, "the busy phone was offered it"
    box.phone(3, "offhook")
    box.wait_for("102 and 103 to talk", lambda: box.port("fxs2")["exchange_state"]
                 == "connected", timeout=5)
    hang_up(box, 2)
    hang_up(box, 3)
    hang_up(box, 1)
