"""Random call traffic through groups, queues, menus and originated calls (fixed seeds):
nothing raises, no leg is in two calls, no handset is rung while it is busy, and once
everybody hangs up no call is left."""

from __future__ import annotations

import contextlib
import random

import pytest

from firmware.core.events import (
    Answer,
    CallEvent,
    Digit,
    Party,
    PlayDone,
    Release,
    Seize,
    Setup,
)
from firmware.pbx.calls import Call, PbxOutput
from firmware.pbx.destinations import parse_destination as d
from firmware.pbx.office import Group, Menu
from firmware.pbx.schedules import Switch
from firmware.pbx.tollguard import Permission

from .office import Driver
from .office_support import office_plan

SIPS = [f"sip{i}" for i in range(1, 6)]
PHONES = [f"fxs{i}" for i in range(1, 6)]
TARGETS = ["group:sales", "ext:102", "95551234", "menu:main"]


def _driver(rnd: random.Random) -> Driver:
    group = Group("sales", "600", ("102", "103", "104"),
                  strategy=rnd.choice(["ringall", "linear", "circular", "roundrobin",
                                       "leastrecent"]),
                  ring_s=5, total_s=rnd.choice([0, 12, 30]),
                  overflow=rnd.choice([None, d("ext:105"), d("menu:main"), d("hangup")]),
                  skip_busy=rnd.random() < 0.5, queue=rnd.random() < 0.5,
                  max_wait_s=rnd.choice([0, 20]), max_callers=rnd.choice([0, 1, 2]),
                  announce_position=True)
    menu = Menu("main", "builtin:welcome", "700",
                choices={"1": Switch(d("group:sales")), "2": Switch(d("ext:105")),
                         "9": Switch(d("menu:main"))},
                timeout_s=3, repeats=1, on_timeout=d("group:sales"), on_invalid=d("hangup"))
    return Driver(office_plan(group, menus=(menu,),
                              inbound_to=rnd.choice(["group:sales", "menu:main"])))


def _busy(drv: Driver) -> dict[str, Call]:
    return {leg: c for c in drv.pbx._calls.values() for leg in c.legs()}


def _check(before: dict[str, Call], event: CallEvent | None, out: list[PbxOutput]) -> None:
    freed = {event.leg} if isinstance(event, Release) else set()
    for o in out:
        if isinstance(o, Release):
            freed.add(o.leg)
        if isinstance(o, Setup) and o.leg in PHONES and o.leg in before:
            assert o.leg in freed or o.leg in before[o.leg].gone, f"{o.leg} rung while busy"


def _step(drv: Driver, rnd: random.Random, handles: list[str]) -> None:
    r = rnd.random()
    event: CallEvent | None = None
    if r < 0.15:
        event = Setup(rnd.choice(SIPS), "5550100", Party("5557777"))
    elif r < 0.25:
        event = Release(rnd.choice(SIPS))
    elif r < 0.4:
        event = Seize(rnd.choice(PHONES))
    elif r < 0.5:
        event = Release(rnd.choice(PHONES))
    elif r < 0.6:
        event = Digit(rnd.choice(SIPS + PHONES), rnd.choice("12907"))
    elif r < 0.68:
        event = PlayDone(rnd.choice(SIPS + PHONES))
    elif r < 0.82:
        event = Answer(rnd.choice(SIPS + [f"out{i}" for i in range(1, 5)]))
    before = _busy(drv)
    if event is not None:
        _check(before, event, drv.send(event))
    elif r < 0.86:
        handle, out = drv.pbx.originate(rnd.choice(TARGETS), tag="t", caller=Party("1"),
                                        permission=Permission.NATIONAL, now=drv.now)
        handles.append(handle)
        _check(before, None, out)
    elif r < 0.89 and handles:
        _check(before, None, drv.pbx.hangup(rnd.choice(handles), drv.now))
    elif r < 0.92 and len(handles) > 1:
        with contextlib.suppress(ValueError):  # not two calls in the right phases: refused
            drv.pbx.join(rnd.choice(handles), rnd.choice(handles), drv.now)
    else:
        _check(before, None, drv.advance(rnd.choice([0.5, 2, 5, 10])))


@pytest.mark.parametrize("seed", range(40))
def test_random_traffic(seed: int) -> None:
    rnd = random.Random(seed)
    drv = _driver(rnd)
    handles: list[str] = []
    for _ in range(300):
        _step(drv, rnd, handles)
        legs = [leg for c in drv.pbx._calls.values() for leg in c.legs()]
        # Only a handset with a call aside (call waiting: flashcalls.py) is in two.
        twice = {leg for leg in legs if legs.count(leg) > 1}
        assert twice <= set(drv.pbx._handsets.desks), "a leg in two calls"
        assert all(legs.count(leg) == 2 for leg in twice), "a leg in three calls"
    for leg in SIPS:
        drv.send(Release(leg))
    for handle in handles:
        drv.pbx.hangup(handle, drv.now)
    for _ in range(3):
        for leg in PHONES:
            drv.send(Release(leg))
        drv.advance(200)
    assert drv.pbx.calls() == []
