"""The web call-back at run time: take a request (``callback.request``), ring the office,
tell the member who answers whose call-back it is, dial the visitor, bridge them.

Screening (token, then the rules of ``firmware/pbx/callback.py``, then office hours)
answers at once; a refused request is logged with its address and reason and nothing is
dialled. An accepted one is queued and driven from the loop:

1. ``to`` (``[callback] to``, e.g. ``group:sales``) rings, tag ``callback:ID:office``,
   showing the visitor's number as caller ID;
2. the member who answers hears ``builtin:callback_request`` and the number
   (``digits:NUMBER``);
3. then the visitor's number is placed like a dialled one (outbound routes, toll guard
   with ``[callback] permission``), tag ``callback:ID:visitor``, while the member hears
   music; the visitor answers and the two are joined into one ordinary call: *done*;
4. nobody in the office answers, the member hangs up first, or the visitor does not
   answer: the attempt failed, the other call is hung up, and the request is tried again
   ``retry_after_s`` later until ``attempts`` ran out (*failed*). A visitor's number the
   toll guard refuses is not tried again.

Requests live in memory (``minipbx callback status`` lists the last MAX_KEPT): a restart
forgets the queue, which a visitor's request may lose; a campaign (informer) is saved.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.app.dialer import Dialer, News, Rearm
from firmware.config.schema import CallbackConfig
from firmware.core.causes import Cause
from firmware.core.events import Party
from firmware.pbx.callback import Refusal, Request, Requests, Screen
from firmware.pbx.plan import DialPlan, ToTrunk
from firmware.pbx.tollguard import Permission

log = logging.getLogger(__name__)

PREFIX = "callback:"
TICK_S = 2.0
REQUEST_PROMPT = "builtin:callback_request"
HOLD_MUSIC = "builtin:music"
_FOR_GOOD = (Cause.OUTGOING_CALL_BARRED, Cause.UNALLOCATED_NUMBER,
             Cause.INVALID_NUMBER_FORMAT)


class CallbackRefused(Exception):
    """A request refused: ``refusal`` says why (code, HTTP status, message)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass
class _Calls:
    """The two calls of a request's attempt."""

    office: str = ""  # handle
    member: str = ""  # the leg that answered
    visitor: str = ""  # handle


class CallbackService:
    def __init__(self, dialer: Dialer, settings: Callable[[], CallbackConfig],
                 plan: Callable[[], DialPlan],
                 is_open: Callable[[str, float], bool]) -> None:
        self._dialer = dialer
        self._settings = settings
        self._plan = plan
        self._is_open = is_open
        self._config: CallbackConfig | None = None
        self._screen: Screen | None = None
        self.requests = Requests()
        self._calls: dict[int, _Calls] = {}
        self._tick = Rearm(dialer, self.tick)
        dialer.subscribe(PREFIX, self._on_news)

    # -- taking a request ----------------------------------------------------------------

    def _current(self) -> tuple[CallbackConfig, Screen]:
        config = self._settings()
        if config != self._config or self._screen is None:  # a commit changed [callback]
            self._screen = Screen.build(config.allowed, config.per_address_per_hour,
                                        config.per_number_per_hour)
            self._config = config
            self.requests.attempts = config.attempts
            self.requests.retry_after_s = config.retry_after_s
        return config, self._screen

    def request(self, token: str, number: str, address: str) -> dict[str, Any]:
        """``take`` for the command table: a refusal is an answer, {"refused": ...}."""
        try:
            return self.take(token, number, address)
        except CallbackRefused as exc:
            r = exc.refusal
            return {"refused": {"code": r.code, "status": r.status, "message": r.message}}

    def info(self) -> dict[str, Any]:
        config = self._settings()
        return {"enabled": config.enabled, "origins": list(config.origins)}

    def take(self, token: str, number: str, address: str) -> dict[str, Any]:
        """Take a visitor's request, or raise CallbackRefused (logged)."""
        config, screen = self._current()
        cleaned, refusal = self._screen_request(config, screen, token, number, address)
        if refusal is not None:
            log.warning("call-back request from %s for %r refused: %s (%s)", address,
                        number[:40], refusal.message, refusal.code)
            raise CallbackRefused(refusal)
        open_one = self.requests.open_for(cleaned)
        if open_one is not None:
            return {"id": open_one.id, "state": open_one.state, "number": cleaned,
                    "message": "this number's call-back is already on its way"}
        request = self.requests.add(cleaned, address, self._dialer.wall())
        log.info("call-back request %d from %s: %s (ringing %s)", request.id, address,
                 cleaned, config.to)
        self._tick.after(0.0)
        return {"id": request.id, "state": request.state, "number": cleaned,
                "message": "thank you: the office will call you back shortly"}

    def _screen_request(self, config: CallbackConfig, screen: Screen, token: str,
                        number: str, address: str) -> tuple[str, Refusal | None]:
        if not config.enabled:
            return number, Refusal("disabled", 404, "call-back requests are not taken on "
                                                    "this box")
        now = self._dialer.wall()
        if not hmac.compare_digest(token.encode(), config.token.encode()):
            # A wrong token counts against the address like any refused request: a
            # guesser meets the rate limit, and hears nothing more about the number.
            if screen.per_address.over(address, now):
                return number, screen.address_refusal(address)
            screen.per_address.add(address, now)
            return number, Refusal("bad_token", 403, "the request's token is wrong: the web "
                                                     "page must send the box's [callback] "
                                                     "token")
        cleaned, refusal = screen.check(number, address, now, self._way_out)
        if refusal is None and config.schedule and not self._is_open(config.schedule, now):
            refusal = Refusal("closed", 409, "the office is closed now (office hours: "
                                             f"schedule {config.schedule}); try again later")
        return cleaned, refusal

    def _way_out(self, number: str) -> str | None:
        """Why the dial plan or the toll guard's classes refuse calling ``number``."""
        plan = self._plan()
        target = plan.resolve(number)
        if target is None:
            return "no outbound route takes it"
        if not isinstance(target, ToTrunk):
            return None  # an extension, group or menu of the box: no cost
        klass, emergency = plan.numbering.classify(target.number)
        if emergency:
            return "it is an emergency number"
        if klass is Permission.PREMIUM:
            return "it is a premium-rate number"
        allowed = Permission.parse(self._settings().permission)
        if klass > allowed:
            return (f"it is a {klass.label} number; call-backs may reach "
                    f"{allowed.label} numbers at most ([callback] permission)")
        return None

    def listing(self) -> list[dict[str, Any]]:
        return self.requests.listing()

    # -- driving -------------------------------------------------------------------------

    def tick(self) -> None:
        now = self._dialer.wall()
        config, _ = self._current()
        while (request := self.requests.next_due(now)) is not None:
            self._ring_office(config, request)
        later = self.requests.next_deadline(now)
        if later is not None:
            self._tick.after(min(TICK_S, later - now))

    def _ring_office(self, config: CallbackConfig, request: Request) -> None:
        calls = self._calls[request.id] = _Calls()
        handle = self._dialer.originate(
            config.to, f"{PREFIX}{request.id}:office", Party(request.number, "Call-back"),
            Permission.parse(config.permission), self._plan().timers.no_answer_s)
        if request.id in self._calls:
            calls.office = calls.office or handle

    def _on_news(self, news: News) -> None:
        _, _, rest = news.tag.partition(PREFIX)
        ident, _, which = rest.partition(":")
        request = self.requests.get(int(ident)) if ident.isdigit() else None
        calls = self._calls.get(int(ident)) if ident.isdigit() else None
        if request is None or calls is None:
            return
        if which == "office":
            self._office_news(request, calls, news)
        else:
            self._visitor_news(request, calls, news)

    def _office_news(self, request: Request, calls: _Calls, news: News) -> None:
        calls.office = calls.office or news.handle
        if news.state == "answered":
            calls.member = news.leg
            self.requests.office_answered(request, news.leg)
            self._dialer.play(news.leg, (REQUEST_PROMPT, f"digits:{request.number}"))
        elif news.state == "played" and request.state == "office":
            config, _ = self._current()
            self._dialer.play(calls.member, (HOLD_MUSIC,), loop=True)
            self.requests.visitor_dialled(request)
            handle = self._dialer.originate(
                request.number, f"{PREFIX}{request.id}:visitor", Party(None, None),
                Permission.parse(config.permission), self._plan().timers.no_answer_s)
            if request.id in self._calls and request.state == "visitor":
                calls.visitor = calls.visitor or handle
        elif news.state == "ended":
            if request.state == "office":
                who = "nobody in the office answered" if not calls.member else \
                      "the office member hung up before the visitor was called"
                self._fail(request, f"{who} ({_cause(news)})")
            elif request.state == "visitor":
                if calls.visitor:
                    self._dialer.hangup(calls.visitor)
                self._fail(request, f"the office member hung up while the visitor rang "
                                    f"({_cause(news)})")

    def _visitor_news(self, request: Request, calls: _Calls, news: News) -> None:
        calls.visitor = calls.visitor or news.handle
        if news.state == "answered" and request.state == "visitor":
            self._dialer.play(calls.member, ())
            try:
                self._dialer.join(calls.office or calls.member, calls.visitor)
            except ValueError as exc:  # the member's call ended in the same instant
                self._dialer.hangup(calls.visitor)
                self._fail(request, f"could not join the two calls: {exc}")
                return
            self.requests.connected(request)
            self.requests.finished(request, self._dialer.wall())
            self._calls.pop(request.id, None)
            log.info("call-back %d: %s joined with %s", request.id, request.member,
                     request.number)
        elif news.state == "ended" and request.state == "visitor":
            self._dialer.hangup(calls.office or calls.member)
            final = news.cause in _FOR_GOOD
            self._fail(request, f"the visitor did not answer ({_cause(news)})", final=final)

    def _fail(self, request: Request, reason: str, *, final: bool = False) -> None:
        self._calls.pop(request.id, None)
        self.requests.failed(request, self._dialer.wall(), reason, final=final)
        log.info("call-back %d to %s: attempt %d failed: %s%s", request.id, request.number,
                 request.attempts, reason, "" if request.state == "queued" else "; given up")
        self._tick.after(0.0)


def _cause(news: News) -> str:
    text = news.cause.name if news.cause is not None else "ended"
    return f"{text}: {news.reason}" if news.reason else text
