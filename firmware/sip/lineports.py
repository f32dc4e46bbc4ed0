"""Which kind of bridge port the media switch gives each line.

* ``native``: the C port (:mod:`firmware.sip.nativeport`), when its library is built and
  passes the start-up check against the running pjproject; the bridge's clock never enters
  Python, and an idle line costs no Python at all.
* ``python``: pjsua2's AudioMediaPort (:mod:`firmware.sip.ports`), the fallback, whose
  callbacks run in Python on every tick.

``$MINIPBX_LINE_PORT`` = ``auto`` (the default: native if it can), ``native`` (the same, but
a fallback is logged as an error) or ``python``. ``status()`` says which kind is in use and
why; ``minipbx status`` shows it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, Protocol

from firmware.sip.frames import FrameIO
from firmware.sip.nativelib import NativeLib, NativeUnavailable, RingPort, load
from firmware.sip.nativeport import (
    HEAR_CAP,
    PLAY_CAP,
    SAY_CAP,
    SAY_KEEP,
    BridgeApi,
    LinePump,
    NativeLinePort,
    check_bridge,
    media_of,
)
from firmware.sip.ports import FrameSink, LineBridgePort

log = logging.getLogger(__name__)

ENV_KIND = "MINIPBX_LINE_PORT"
KINDS = ("auto", "native", "python")


class LinePorts(Protocol):
    kind: str
    why: str

    def make(self, leg: str, io: FrameIO, read: Callable[[], bytes],
             write: FrameSink) -> Any: ...

    def close(self) -> None: ...

    def status(self) -> dict[str, object]: ...


class PythonLinePorts:
    kind = "python"

    def __init__(self, why: str) -> None:
        self.why = why

    def make(self, leg: str, io: FrameIO, read: Callable[[], bytes],
             write: FrameSink) -> LineBridgePort:
        return LineBridgePort(leg, io, read, write)

    def close(self) -> None:
        pass

    def status(self) -> dict[str, object]:
        return {"kind": self.kind, "why": self.why}


class NativeLinePorts:
    kind = "native"

    def __init__(self, native: NativeLib, api: BridgeApi, why: str) -> None:
        self.native = native
        self.api = api
        self.why = why
        self.pump = LinePump(native)
        self.ports: list[NativeLinePort] = []

    def make(self, leg: str, io: FrameIO, read: Callable[[], bytes],
             write: FrameSink) -> NativeLinePort:
        del io  # frames never pass through pjsua2's MediaFrame here
        ring = RingPort(self.native, leg, SAY_CAP, HEAR_CAP, PLAY_CAP, SAY_KEEP)
        slot = self.api.add(ring)
        port = NativeLinePort(leg, ring, slot, media_of(slot), read, write, self.pump)
        self.ports.append(port)
        return port

    def close(self) -> None:
        self.pump.close()
        for port in self.ports:
            self.api.remove(port.slot)  # the memory stays: the bridge lets go on its next tick
        self.ports.clear()

    def status(self) -> dict[str, object]:
        totals: dict[str, int] = {}
        for port in self.ports:
            for key, value in port.ring.stats().items():
                if key not in ("gets", "puts", "heard", "destroyed"):
                    totals[key] = totals.get(key, 0) + value
        return {"kind": self.kind, "why": self.why, "pumped_lines": self.pump.serving,
                **totals}


def choose_line_ports(env: dict[str, str] | None = None) -> LinePorts:
    """Native ports if the library loads and passes its check, else Python ports (why)."""
    env = dict(os.environ) if env is None else env
    want = env.get(ENV_KIND, "auto") or "auto"
    if want not in KINDS:
        log.error("%s=%r is not one of %s; using auto", ENV_KIND, want, ", ".join(KINDS))
        want = "auto"
    if want == "python":
        return _fallback(f"{ENV_KIND}=python", error=False)
    try:
        native = load(env.get("MINIPBX_LINEPORT_LIB") or None)
        api = BridgeApi()
        problem = check_bridge(native, api)
    except (NativeUnavailable, OSError, AttributeError) as exc:
        problem = str(exc)
    if problem is not None:
        return _fallback(problem, error=want == "native")
    why = f"{native.path.name} built for pjproject {native.built_version}, checked on the bridge"
    log.info("line ports: native (%s)", why)
    return NativeLinePorts(native, api, why)


def _fallback(why: str, error: bool) -> PythonLinePorts:
    log.log(logging.ERROR if error else logging.WARNING,
            "line ports: Python AudioMediaPort (%s); the bridge's clock calls Python for every "
            "line 50 times a second", why)
    return PythonLinePorts(why)
