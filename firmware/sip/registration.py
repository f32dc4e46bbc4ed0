"""What a trunk's registration is doing, for ``status``: the state, which attempt, since
when, and when pjsua tries again. Pure bookkeeping: the pjsua2 account
(``firmware.sip.trunks.SipAccount``) feeds it; the clock is given (a fake one in tests).

Rules:

* States: ``not registering``, ``registering`` (a REGISTER is out, no final answer yet),
  ``registered``, ``unregistered`` (the registrar accepted an un-REGISTER), ``failed``.
* ``attempt`` counts the REGISTERs pjsua sent since the last success (1 for the first);
  ``since`` is when the current state began. A dead registrar over UDP answers nothing,
  and pjsua gives up only at Timer F (64 x T1 = 32 s, TELEPHONY.md): until then the
  state is ``registering`` with its attempt and ``since``, so ``status`` says from the
  start how long the registrar has been silent.
* Retries are pjsua's (``pjsua_acc.c``): only after the failures it deems temporary, the
  retried codes below; the first retry after ``REG_FIRST_RETRY_S``, the next ones every
  ``REG_RETRY_S``, each moved by up to ``REG_RETRY_JITTER_S`` either way (so many boxes
  behind one registrar that failed together do not retry in step). ``next_retry_in_s``
  is that nominal time; after any other failure (a wrong password, 403, 404) pjsua does
  not retry, and ``next_retry_in_s`` is None: the trunk's settings need a change.
* The app sets ``wanted`` (``state = "registering"`` or ``"not registering"``) when it
  turns registration on or off. Turning it on changes nothing once pjsua has reported
  an attempt or an answer: what the registrar said is newer than the app's intent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

REG_FIRST_RETRY_S: Final = 10
REG_RETRY_S: Final = 60
REG_RETRY_JITTER_S: Final = 5

# The failures pjsua retries by itself (pjsua_acc.c, regc_cb): 408 Request Timeout (also
# no answer at all), 480 Temporarily Unavailable, 500 Server Internal Error, 502 Bad
# Gateway, 503 Service Unavailable (also a transport error), 504 Server Time-out, 6xx.
RETRIED_CODES: Final = frozenset({408, 480, 500, 502, 503, 504})

NOT_REGISTERING: Final = "not registering"


def is_retried(code: int) -> bool:
    return code in RETRIED_CODES or 600 <= code < 700


class RegistrationState:
    """One trunk's registration, as pjsua reported it."""

    code: int  # the last final answer (pjsua's own 408 or 503 when none came)
    reason: str
    expires_s: int
    attempt: int  # REGISTERs since the last success
    failures: int  # failed in a row since the last success
    since: float  # when the current state began
    next_retry_at: float | None

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget attempts and answers: registration is off, or about to start anew."""
        self._state, self.code, self.reason, self.expires_s = NOT_REGISTERING, 0, "", 0
        self.attempt = self.failures = 0
        self.since, self.next_retry_at = self._clock(), None

    # --- the app's intent -----------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @state.setter
    def state(self, wanted: str) -> None:
        if wanted == NOT_REGISTERING:
            self.reset()
        elif self._state == NOT_REGISTERING and self.attempt == 0:
            self._enter(wanted)

    # --- what pjsua reports ---------------------------------------------------------------
    def started(self) -> None:
        """pjsua sent a REGISTER (the first, or a retry after a failure)."""
        self.attempt += 1
        self._enter("registering")
        self.next_retry_at = None

    def answered(self, code: int, reason: str, expires_s: int) -> None:
        """The registrar's final answer, or pjsua's own 408/503 when none came."""
        self.code, self.reason, self.next_retry_at = code, reason, None
        # pjsua reports the expiry it asked for even when refused: only a 2xx grants one.
        self.expires_s = expires_s if 200 <= code < 300 else 0
        if 200 <= code < 300:
            self.attempt = self.failures = 0
            self._enter("registered" if expires_s > 0 else "unregistered")
            return
        self.failures += 1
        self._enter("failed")
        if is_retried(code):
            wait = REG_FIRST_RETRY_S if self.failures == 1 else REG_RETRY_S
            self.next_retry_at = self._clock() + wait

    @property
    def next_retry_in_s(self) -> float | None:
        """Seconds to pjsua's next REGISTER (give or take the jitter); None: no retry."""
        if self.next_retry_at is None:
            return None
        return round(max(0.0, self.next_retry_at - self._clock()), 1)

    def as_dict(self) -> dict[str, object]:
        return {"state": self._state, "code": self.code, "reason": self.reason,
                "expires_s": self.expires_s, "attempt": self.attempt,
                "since": self.since, "for_s": round(max(0.0, self._clock() - self.since), 1),
                "next_retry_in_s": self.next_retry_in_s,
                "retry_jitter_s": REG_RETRY_JITTER_S}

    def _enter(self, state: str) -> None:
        if state != self._state:
            self.since = self._clock()
        self._state = state
