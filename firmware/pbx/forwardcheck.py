"""Checking a forwarding change from the web page or the API (issue 11), sans-IO.

Star codes check their one number as it is dialled (``forwarding.dialled_code``); a form
sends every setting at once, so these checks say which field each problem is in, and a
change with any problem changes nothing. Rules:

- Only the settings in ``FIELDS`` change this way; one not sent keeps its value.
- A forward target is a number as a handset dials it (0-9, * and #; the spaces, dashes,
  dots and brackets people write numbers with are dropped); "" switches that forward off.
- A target must lead somewhere (an extension, a group or menu number, or a number an
  outbound route takes), like a star code's. An outside number must be one the port
  itself may call: the forwarded call leaves with the port's permission class (emergency
  numbers always pass), so a forward the toll guard would refuse is refused here, named.
- A target is neither the extension itself nor an extension whose forward-always chain
  leads back to it (102 forwards to 103 while 103 forwards every call to 102). The
  exchange ends such a loop after ``MAX_HOPS`` by ringing someone; a form can say so
  before it exists. Busy and no-answer forwards of the others are not followed: they
  depend on the moment.
- ``forward_after_s`` is a number of seconds from ``AFTER_MIN_S`` to ``AFTER_MAX_S`` (the
  range the configuration's ``[[fxs]] forward_after_s`` takes).
- ``dnd`` and ``call_waiting`` are true or false (on/off, yes/no and 1/0 too). An IP
  phone takes one call at a time (a second caller gets busy, its forward-busy number or
  its mailbox), so its call waiting cannot be turned on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from firmware.pbx.features import LineFeatures
from firmware.pbx.plan import DialPlan, ToExtension, ToTrunk

TARGETS = ("forward_always", "forward_busy", "forward_no_answer")
FIELDS = (*TARGETS, "forward_after_s", "dnd", "call_waiting")
AFTER_MIN_S = 1.0
AFTER_MAX_S = 300.0
MAX_DIGITS = 32

_SEPARATORS = re.compile(r"[\s\-.()/]")
_NUMBER = re.compile(r"[0-9*#]+")
_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0", "")


def check(plan: DialPlan, current: Mapping[str, LineFeatures], extension: str,
          submitted: Mapping[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    """(the new values by field, the problems by field) for ``extension``'s change."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, text in submitted.items():
        if name not in FIELDS:
            errors[name] = f"not a forwarding setting; these are: {', '.join(FIELDS)}"
        elif name in TARGETS:
            number = _SEPARATORS.sub("", text)
            problem = _target_problem(plan, current, extension, number)
            if problem:
                errors[name] = problem
            else:
                values[name] = number
        elif name == "forward_after_s":
            values[name], problem = _seconds(text)
            if problem:
                errors[name] = problem
        else:
            word = text.strip().lower()
            if word not in _TRUE + _FALSE:
                errors[name] = f"must be on or off (true or false), got {text!r}"
            elif name == "call_waiting" and word in _TRUE and _is_phone(plan, extension):
                errors[name] = ("an IP phone takes one call at a time here: a second caller "
                                "gets busy (or the forward-busy number, or the mailbox)")
            values[name] = word in _TRUE
    return ({} if errors else values), errors


def _is_phone(plan: DialPlan, extension: str) -> bool:
    ext = plan.extension(extension)
    return ext is not None and ext.phone


def _target_problem(plan: DialPlan, current: Mapping[str, LineFeatures], extension: str,
                    number: str) -> str:
    if not number:
        return ""
    if len(number) > MAX_DIGITS or not _NUMBER.fullmatch(number):
        return (f"{number!r} is not a phone number: use the digits 0-9 (and * or #), at "
                f"most {MAX_DIGITS}")
    if number == extension:
        return f"{number} is this extension itself: calls would come straight back"
    where = plan.resolve(number)
    if where is None:
        return (f"{number} leads nowhere: no extension, group, menu or outbound route "
                "takes it")
    if isinstance(where, ToTrunk):
        return _permission_problem(plan, extension, number, where)
    if isinstance(where, ToExtension):
        return _loop_problem(plan, current, extension, where.extension.number)
    return ""


def _permission_problem(plan: DialPlan, extension: str, number: str, where: ToTrunk) -> str:
    ext = plan.extension(extension)
    if ext is None:
        return ""
    klass, emergency = plan.numbering.classify(where.number)
    if emergency or klass <= ext.permission:
        return ""
    return (f"{number} is a {klass.label} number and this phone may call only up to "
            f"{ext.permission.label} numbers (its permission class): the forwarded call "
            "would be refused")


def _loop_problem(plan: DialPlan, current: Mapping[str, LineFeatures], extension: str,
                  first: str) -> str:
    """The forward-always chain from ``first``: a problem if it comes back here."""
    chain = [first]
    number = first
    while len(chain) <= len(current) + 1:
        features = current.get(number)
        after = features.forward_always if features is not None else ""
        if not after:
            return ""
        if after == extension:
            steps = " → ".join([extension, *chain, extension])
            return (f"forwards in a loop: {steps} ({chain[-1]} forwards every call back to "
                    "this extension)")
        where = plan.resolve(after)
        if not isinstance(where, ToExtension) or where.extension.number in chain:
            return ""  # leaves the box, a group, or a loop elsewhere (not ours to refuse)
        number = where.extension.number
        chain.append(number)
    return ""


def _seconds(text: str) -> tuple[float, str]:
    try:
        value = float(text.strip().removesuffix("s").strip())
    except ValueError:
        return 0.0, f"must be a number of seconds, got {text!r}"
    if not math.isfinite(value) or not AFTER_MIN_S <= value <= AFTER_MAX_S:
        return value, (f"must be from {AFTER_MIN_S:g} to {AFTER_MAX_S:g} seconds, got "
                       f"{text.strip()}")
    return value, ""


def describe(features: LineFeatures) -> dict[str, object]:
    """The settings a form shows, by field."""
    return {name: getattr(features, name) for name in FIELDS}
