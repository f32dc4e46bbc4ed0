"""Who is recorded: the ``record`` settings of a call's parties and how they combine.

Every party to a call may carry a setting (``always``, ``never``, ``on_demand``, or ""
for not set): the caller's extension and the callee's, the trunk the call uses (going out,
or the trunk it came in by), the inbound route (DID) it came by, and the group it rang.

Rules:

- ``never`` wins: a party that must never be recorded (a doctor's line, a works council)
  is not, whatever the others say.
- Else ``always`` wins over ``on_demand``: a trunk recorded for compliance records every
  call on it, even with an extension that would record on demand.
- Else ``on_demand`` when any party says so: the toggle code keyed in the call starts and
  stops recording.
- Nothing set: the call is not recorded.

The inbound route counted is the one the plan rings: the DID exactly, else the ``*`` route.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from firmware.core.errors import ConfigError

RecordMode = Literal["always", "never", "on_demand"]
MODES: tuple[str, ...] = ("always", "never", "on_demand")
# The strongest first: the first of these any party says is the call's mode.
PRECEDENCE: tuple[RecordMode, ...] = ("never", "always", "on_demand")
KEYPAD = "0123456789*#ABCD"


def combine(settings: Iterable[str]) -> RecordMode:
    """The call's mode from its parties' settings ("" = not set; see the module rules)."""
    given = set(settings)
    for mode in PRECEDENCE:
        if mode in given:
            return mode
    return "never"


Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RecordingPolicy:
    """The ``record`` settings by party, the toggle code and the consent prompts.

    ``extensions`` maps a line leg (``fxs1``) to its setting, ``trunks`` a trunk name (or
    an FXO line leg), ``inbound`` a DID (``*`` = any), ``groups`` a group name. Only set
    values need be given.
    """

    extensions: Pairs = ()
    trunks: Pairs = ()
    inbound: Pairs = ()
    groups: Pairs = ()
    toggle: str = "*1"
    consent: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.toggle or any(c not in KEYPAD for c in self.toggle):
            raise ConfigError(f"recording toggle code {self.toggle!r}: use keypad keys "
                              "(0-9 * # A-D), such as *1")
        for kind in ("extensions", "trunks", "inbound", "groups"):
            for name, mode in getattr(self, kind):
                if mode not in ("", *MODES):
                    raise ConfigError(f"record setting of {kind[:-1]} {name!r}: {mode!r}; "
                                      f"use one of {', '.join(MODES)}")

    @property
    def records_anything(self) -> bool:
        """False when no party has always or on_demand: no call needs the recorder."""
        return any(mode in ("always", "on_demand")
                   for kind in (self.extensions, self.trunks, self.inbound, self.groups)
                   for _, mode in kind)

    def mode(self, *, lines: Iterable[str] = (), trunk: str | None = None,
             did: str | None = None, groups: Iterable[str] = ()) -> RecordMode:
        """The mode of a call between ``lines`` (its extensions' legs), through ``trunk``, that
        came in for ``did`` (None: it did not come in by a trunk), ringing ``groups``."""
        ext = dict(self.extensions)
        settings = [ext.get(leg, "") for leg in lines]
        if trunk is not None:
            settings.append(dict(self.trunks).get(trunk, ""))
        if did is not None:
            routes = dict(self.inbound)
            settings.append(routes[did] if did in routes else routes.get("*", ""))
        grp = dict(self.groups)
        settings += [grp.get(name, "") for name in groups]
        return combine(settings)
