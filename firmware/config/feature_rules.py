"""Rules for forwarding, do-not-disturb and the star codes ([[fxs]] and [[sip_user]]
forward_*, [features]).

A forward target is a number as a handset would dial it (0-9, * and #), or "" for off.
The star codes are 1 to 4 keypad symbols, and no two features share one (a code that is
the start of another would never be reached whole).
"""

from __future__ import annotations

import dataclasses
import re

from firmware.config.problems import Issue
from firmware.config.schema import Config, FxsPort, SipUser

_NUMBER = re.compile(r"[0-9*#]{1,32}")
_CODE = re.compile(r"[0-9*#A-D]{1,4}")
FORWARD_KEYS = ("forward_always", "forward_busy", "forward_no_answer", "hotline")


def check_features(config: Config) -> list[Issue]:
    issues: list[Issue] = []
    # A handset port and an IP phone carry the same keys (an IP phone has no hotline).
    extensions: list[tuple[str, int, FxsPort | SipUser]] = [
        ("fxs", i, p) for i, p in enumerate(config.fxs)]
    extensions += [("sip_user", i, u) for i, u in enumerate(config.sip_user)]
    for table, i, port in extensions:
        for key in FORWARD_KEYS:
            value = getattr(port, key, "")
            if value and not _NUMBER.fullmatch(value):
                issues.append(Issue((table, i, key), "must be a number to dial (0-9, * and"
                                    f" #) or \"\" for off, got {value!r}"))
            if value and value == port.extension:
                issues.append(Issue((table, i, key), "forwards the extension to itself"))
        pin = getattr(port, "voicemail_pin", "")
        if pin and not re.fullmatch(r"[0-9]{1,12}", pin):
            issues.append(Issue((table, i, "voicemail_pin"), "must be 1 to 12 digits (0-9)"
                                f" or \"\" for none, got {pin!r}"))
    codes: dict[str, str] = {}
    for f in dataclasses.fields(config.features):
        if f.name == "record_toggle":  # keyed during a call; checked with recording
            continue
        code = getattr(config.features, f.name)
        if not _CODE.fullmatch(code):
            issues.append(Issue(("features", f.name), "must be 1 to 4 keypad symbols"
                                f" (0-9, *, #, A-D), got {code!r}"))
            continue
        for other_name, other in codes.items():
            if code.startswith(other) or other.startswith(code):
                issues.append(Issue(("features", f.name), f"{code!r} clashes with"
                                    f" features.{other_name} ({other!r}); give each its own"))
        codes[f.name] = code
    return issues
