"""The RTP inactivity timeout: an answered call whose far end sends no RTP for
``[sip] rtp_timeout_s`` is dead (a trunk or peer that stopped answering, a cable pulled at
the far side) and is hung up, so the handset hears a tone instead of silence forever.

pjsua2 has no such timer of its own: the adapter asks each answered call for the RTP
packets its stream has received (``Call.getStreamStat``) about once a second and feeds
them here. Rules:

- the clock of a call starts when it is first seen with active media, and restarts every
  time its received packet count moves;
- a call whose media direction does not include receiving (held by the far end: sendonly
  or inactive) is not judged: no RTP is then expected;
- a call is reported once; forgetting it (it ended) clears it.

Sans-IO: counts and the current time go in, the legs that timed out come out.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.core.events import LegId


@dataclass
class _Seen:
    packets: int
    since: float
    reported: bool = False


class RtpWatch:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._seen: dict[LegId, _Seen] = {}
        self.timeouts = 0

    def observe(self, leg: LegId, packets: int | None, now: float) -> bool:
        """The received packet count of ``leg`` (None: not receiving, e.g. on hold);
        True once when its RTP has been silent for the timeout."""
        seen = self._seen.get(leg)
        if packets is None or seen is None or packets != seen.packets:
            self._seen[leg] = _Seen(packets if packets is not None else -1, now)
            return False
        if self.timeout_s <= 0 or seen.reported or now - seen.since < self.timeout_s:
            return False
        seen.reported = True
        self.timeouts += 1
        return True

    def silent_s(self, leg: LegId, now: float) -> float | None:
        seen = self._seen.get(leg)
        return None if seen is None else now - seen.since

    def forget(self, leg: LegId) -> None:
        self._seen.pop(leg, None)

    def legs(self) -> list[LegId]:
        return list(self._seen)
