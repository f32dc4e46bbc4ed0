"""Known SIP scanners, by the User-Agent header their tools send by default.

The list is data: add a tool's string here (lower case; it matches anywhere in the
header's value). A request that names one is swallowed unanswered and its address banned
(firmware/sip/guard.py). A scanner that changes its User-Agent is not caught here but by
the rate limits and the failed-authentication count.

Sources: the defaults of SIPVicious (svmap, svwar, svcrack: "friendly-scanner" and, in
0.3, "sipvicious"), sipcli, VaxSIPUserAgent, sundayddr, iWar, SIPScan, pplsip, sip-scan,
Smap, and the User-Agent values that public PBX hardening guides drop. Tools an installer
uses on purpose (sipsak, sipp) are not listed.
"""

from __future__ import annotations

SCANNER_AGENTS: tuple[str, ...] = (
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "vaxsipuseragent",
    "sundayddr",
    "iwar",
    "sipscan",
    "sip-scan",
    "pplsip",
    "smap",
    "siparmyknife",
    "sip auditor",
    "voip scanner",
    "cpxsip",
)

_HEADER = b"\nuser-agent:"


def scanner_in(head: bytes, agents: tuple[str, ...] = SCANNER_AGENTS) -> str | None:
    """The scanner named by the User-Agent header in a request's ``head`` (its first bytes,
    any case), or None. Cheap: one lower-casing and one search of the bytes."""
    low = head.lower()
    at = low.find(_HEADER)
    if at < 0:
        return None
    end = low.find(b"\n", at + len(_HEADER))
    value = low[at + len(_HEADER):end if end >= 0 else len(low)].decode("latin-1")
    for agent in agents:
        if agent in value:
            return agent
    return None
