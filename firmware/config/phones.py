"""Rules for ``[[sip_user]]``, the box's IP phones: a number no handset has, a password
worth the name, networks that parse.

A phone's password guards calls out through the box's trunks from anywhere in its
``allow`` networks, so it must be at least ``MIN_PASSWORD`` characters and not the
extension number itself (the first guess of every SIP scanner).
"""

from __future__ import annotations

import re

from firmware.config.problems import Issue, network_issues
from firmware.config.schema import Config

MIN_PASSWORD = 8
_EXTENSION = re.compile(r"[0-9*#]{1,20}")


def check_sip_users(config: Config) -> list[Issue]:
    issues: list[Issue] = []
    handsets = {p.extension: i for i, p in enumerate(config.fxs)}
    seen: dict[str, int] = {}
    for i, user in enumerate(config.sip_user):
        at = ("sip_user", i)
        if not _EXTENSION.fullmatch(user.extension):
            issues.append(Issue((*at, "extension"),
                                f"must be digits (up to 20), got {user.extension!r}"))
        if user.extension in handsets:
            issues.append(Issue((*at, "extension"),
                                f"{user.extension!r} is already the extension of fxs"
                                f"[{handsets[user.extension]}]; give the phone its own number"))
        if user.extension in seen:
            issues.append(Issue((*at, "extension"),
                                f"{user.extension!r} is already used by sip_user"
                                f"[{seen[user.extension]}]"))
        seen.setdefault(user.extension, i)
        if len(user.password) < MIN_PASSWORD or user.password == user.extension:
            issues.append(Issue((*at, "password"),
                                f"must be at least {MIN_PASSWORD} characters and not the"
                                " extension number"))
        issues += network_issues(user.allow, (*at, "allow"))
        if user.caller_id and not re.fullmatch(r"\+?[0-9]{1,20}", user.caller_id):
            issues.append(Issue((*at, "caller_id"), f"must be digits, got {user.caller_id!r}"))
    return issues
