"""One terminal's session: bytes in, bytes out; login (or first-admin setup), then the
command line, then logout.

Rules:
- On a serial line everyone logs in with an account (firmware.accounts). ``minipbx
  console`` over the control socket is root on the box and skips the login.
- While the box has no admin, the serial console shows the one-time setup code and lets
  the person at it create the admin account at once (physical access is the proof).
- A failed login costs a growing wait (1, 2, 4 ... 60 s, per terminal, kept across a
  replugged cable) during which keys are dropped; a success resets it.
- No key for ``idle_logout_s`` logs out (0 = never), even while a command runs.
- Bytes that are no key (noise at a wrong baud rate, binary garbage) are dropped; past a
  handful, one line says so and names the baud rate to check, at most every 10 s.
- ``hangup()`` (cable pulled, socket closed) logs out without a word.
- Text goes out as ``encoding`` with ``?`` for what it cannot show (a VT100 is ASCII).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from firmware.accounts import Account
from firmware.commands.caller import Caller
from firmware.console.backend import Backend
from firmware.console.editor import LineEditor
from firmware.console.keys import KeyDecoder
from firmware.console.render import wrap
from firmware.console.shell import CommandLine
from firmware.core.errors import PbxError

log = logging.getLogger(__name__)

NOISE_HINT_BYTES = 16
NOISE_HINT_EVERY_S = 10.0
THROTTLE_BASE_S = 1.0
THROTTLE_CAP_S = 60.0
_ASKING = frozenset({"login-name", "login-password", "setup-name", "setup-password",
                     "setup-again"})


@dataclass
class Throttle:
    """The growing wait after failed logins on one terminal."""

    failures: int = 0
    until: float = 0.0

    def failed(self, now: float) -> float:
        self.failures += 1
        delay = min(THROTTLE_CAP_S, THROTTLE_BASE_S * 2.0 ** (self.failures - 1))
        self.until = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.until = 0.0

    def wait(self, now: float) -> float:
        return max(0.0, self.until - now)


class Session:
    def __init__(self, backend: Backend, write: Callable[[bytes], None], *, via: str,
                 login: bool, width: int = 80, height: int = 24,
                 idle_logout_s: float = 600.0, encoding: str = "ascii",
                 close: Callable[[], None] | None = None,
                 throttle: Throttle | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.via = via
        self.login = login
        self.idle_logout_s = idle_logout_s
        self.throttle = throttle or Throttle()
        self.editor = LineEditor(width)
        self.decoder = KeyDecoder()
        self.shell: CommandLine | None = None
        self.state = "new"
        self._send = write
        self._encoding = encoding
        self._close = close
        self._clock = clock
        self._height = height
        self._last_key = clock()
        self._hinted_at = 0
        self._hint_time = -NOISE_HINT_EVERY_S
        self._name = ""
        self._password = ""
        self._setup_code: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._checking: asyncio.Task[None] | None = None

    # --- the adapter's side ---------------------------------------------------------------
    def start(self) -> None:
        self._last_key = self._clock()
        self._arm_idle()
        if self.login:
            self._login_banner()
        else:
            self._say("minipbx console (root). help lists the commands; exit leaves.")
            code = self.backend.accounts.setup_code()
            if code:
                self._say(f"No admin account yet (setup code {code}):\n"
                          "`user add NAME --role admin` makes one.")
            self._enter_shell(Caller("root", "admin", self.via))

    def feed(self, data: bytes) -> None:
        if self.state == "closed":
            return
        keys = self.decoder.feed(data)
        if keys:
            self._last_key = self._clock()
        for key in keys:
            self._key(key)
        self._noise_hint()

    def hangup(self) -> None:
        """The terminal went away: log out quietly."""
        if self.state != "closed":
            log.info("console on %s hung up", self.via)
        self._end()

    def end_of_input(self) -> None:
        """The terminal will send nothing more: commands typed so far still run."""
        if self.state == "shell" and self.shell is not None:
            self.shell.end_of_input()
        else:
            self.hangup()

    def tick(self) -> None:
        """Deadlines (idle logout, the end of a login wait); also run from a timer."""
        now = self._clock()
        if self.state == "throttled" and self.throttle.wait(now) <= 0:
            self._login_prompt()
        if (self.idle_logout_s > 0 and self.state not in ("closed", "new")
                and now - self._last_key >= self.idle_logout_s):
            if self.state in ("login-name", "throttled") and not self.editor.line:
                self._last_key = now  # nobody there: nothing to log out
            else:
                self._logout(f"no key for {self.idle_logout_s:g} s: logged out")

    # --- keys -----------------------------------------------------------------------------
    def _key(self, key: str) -> None:
        if self.state == "shell" and self.shell is not None:
            self.shell.key(key)
            return
        if self.state not in _ASKING:
            return  # checking a password, or waiting after a failure: keys are dropped
        if len(key) == 1:
            self._write_text(self.editor.insert(key))
        elif key == "ctrl-c":
            self._write("^C\r\n")
            self._restart_login()
        elif key == "enter":
            overflowed = self.editor.overflowed
            text = self.editor.accept()
            self._write("\r\n")
            if overflowed:
                self._say(f"% longer than {self.editor.max_len} characters")
                self._restart_login()
            else:
                self._answer(text)
        elif key not in ("up", "down", "tab"):
            self._write_text(self.editor.handle(key) or "")

    def _answer(self, text: str) -> None:
        state = self.state
        if state in ("login-name", "setup-name"):
            if not text.strip():
                return self._restart_login()
            self._name = text.strip()
            self._ask_secret(state.replace("name", "password"), "password: ")
        elif state == "login-password":
            self._check(self._name, text)
        elif state == "setup-password":
            self._password = text
            self._ask_secret("setup-again", "again: ")
        elif state == "setup-again":
            if text != self._password:
                self._say("% the two passwords differ")
                return self._setup_prompt()
            self._create_admin(self._name, text)
        return None

    def _ask_secret(self, state: str, prompt: str) -> None:
        self.state = state
        self._write_text(self.editor.start(prompt, secret=True))

    # --- login ----------------------------------------------------------------------------
    def _login_banner(self) -> None:
        self._setup_code = self.backend.accounts.setup_code()
        if self._setup_code:
            self._say(
                "\nThis box has no admin account yet.\n"
                f"Setup code: {self._setup_code} (the web page's first screen asks for it)."
                "\nOr create the admin account here now.")
            self._setup_prompt()
        else:
            self._say("\nminipbx console")
            self._login_prompt()

    def _restart_login(self) -> None:
        if self.state.startswith("setup"):
            self._setup_prompt()
        else:
            self._login_prompt()

    def _login_prompt(self) -> None:
        self.state = "login-name"
        self._write_text(self.editor.start("login: "))

    def _setup_prompt(self) -> None:
        self.state = "setup-name"
        self._write_text(self.editor.start("new admin name: "))

    def _check(self, name: str, password: str) -> None:
        self.state = "checking"
        self._checking = asyncio.get_running_loop().create_task(self._verify(name, password))

    async def _verify(self, name: str, password: str) -> None:
        account = await asyncio.to_thread(self.backend.accounts.verify, name, password)
        if self.state != "checking":
            return
        if account is None:
            delay = self.throttle.failed(self._clock())
            log.warning("console login failed for %r on %s (%d in a row; next try in %g s)",
                        name, self.via, self.throttle.failures, delay)
            self._say(f"% login incorrect; try again in {delay:g} s")
            self.state = "throttled"
            asyncio.get_running_loop().call_later(delay, self.tick)
            return
        self.throttle.succeeded()
        self._welcome(account)

    def _create_admin(self, name: str, password: str) -> None:
        self.state = "checking"
        self._checking = asyncio.get_running_loop().create_task(self._setup(name, password))

    async def _setup(self, name: str, password: str) -> None:
        accounts = self.backend.accounts
        code = self._setup_code or ""
        try:
            account = await asyncio.to_thread(accounts.complete_setup, code, name, password)
        except PbxError as exc:
            if self.state != "checking":
                return
            self._say(f"% {exc}")
            if accounts.has_admin():  # made meanwhile (the web page): log in instead
                self._login_prompt()
            else:
                self._setup_prompt()
            return
        if self.state != "checking":
            return
        log.info("console: first admin %s created on %s", name, self.via)
        self._say(f"admin account {name} created; the setup code is void now")
        self._welcome(account)

    def _welcome(self, account: Account) -> None:
        log.info("console login %s (%s) on %s", account.name, account.role, self.via)
        self._say(f"logged in as {account.name} ({account.role}); help lists the "
                  "commands")
        self._enter_shell(Caller(account.name, account.role, self.via, account.extension))

    def _enter_shell(self, caller: Caller) -> None:
        self.state = "shell"
        self.shell = CommandLine(self.backend, caller, self.editor, self._write_text,
                                 self._logout, self._height)
        self.shell.begin()

    # --- leaving --------------------------------------------------------------------------
    def _logout(self, why: str) -> None:
        if self.shell is not None:
            log.info("console %s on %s: %s", self.shell.caller.name, self.via, why)
        self._say(f"\n{why}")
        self._end()
        if self.login:
            self.state = "new"
            self._last_key = self._clock()
            self._arm_idle()
            self._login_banner()

    def _end(self) -> None:
        if self.shell is not None:
            self.shell.stop()
            self.shell = None
        if self._checking is not None:
            self._checking.cancel()
            self._checking = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.state = "closed"
        if self._close is not None and not self.login:
            self._close()

    def _arm_idle(self) -> None:
        if self.idle_logout_s <= 0:
            return
        loop = asyncio.get_running_loop()
        due = self._last_key + self.idle_logout_s - self._clock()
        self._timer = loop.call_later(max(0.05, due), self._idle_timer)

    def _idle_timer(self) -> None:
        self._timer = None
        if self.state == "closed":
            return
        self.tick()
        if self.state != "closed" and self._timer is None:
            self._arm_idle()

    # --- output ---------------------------------------------------------------------------
    def _noise_hint(self) -> None:
        dropped = self.decoder.dropped
        now = self._clock()
        if (dropped - self._hinted_at < NOISE_HINT_BYTES
                or now - self._hint_time < NOISE_HINT_EVERY_S):
            return
        self._hinted_at, self._hint_time = dropped, now
        speed = f"{self.backend.baud} baud, " if self.backend.baud else ""
        self._say(f"\n% {dropped} noise bytes dropped: is the terminal at {speed}8N1?")
        editing = (self.state in _ASKING or (self.state == "shell" and self.shell is not None
                       and self.shell.state == "edit"))
        if editing:
            self._write_text(self.editor.redraw())

    def _say(self, text: str) -> None:
        """Message lines, cut to the screen's width."""
        self._write("\r\n".join(wrap(text, self.editor.width)) + "\r\n")

    def _write_text(self, text: str) -> None:
        if text:
            self._write(text)

    def _write(self, text: str) -> None:
        self._send(text.encode(self._encoding, "replace"))
