"""Applying a committed configuration to the running box, without a restart.

What changes live, and how:

- the dial plan (extensions, names, routes, timers, trunk names): a new plan goes to the
  exchange at once; calls in progress keep their legs and timers;
- the country profile: the box's tones from the next one played; each line's machine is
  rebuilt with the new cadences and caller ID standard when the line is idle;
- a line whose settings changed (ring pattern, caller ID, hook timing) gets a new machine
  when it is idle (on-hook, not ringing, in no call): a call on it is never cut, and a line
  that is busy now changes once it is free again; its extension number shows at once;
- a line the configuration adds is created on its board port (the simulated board grows
  to it); a port the board does not have waits for a restart (``restart_needed``); a line
  the configuration drops goes when it is idle (its bridge port stays, unused, till exit);
- trunks: a new trunk registers, a changed one is modified in place and registers again
  (its calls go on), a removed one unregisters (and its account goes when its calls end).

What needs a restart (the SIP endpoint's addresses and transports, the board) is judged by
the manager (``firmware.app.manager.restart_paths``); this module adds the entries it could
not place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from drivers.base import Board, FxoPort, FxsPort, LinePort
from drivers.errors import PortError
from drivers.sim import SimBoard
from firmware.app import wiring
from firmware.app.boards import check_board, sim_size
from firmware.app.box import Box, FxoSlot, FxsSlot
from firmware.app.manager import ApplyReport
from firmware.app.recorder import settings_from
from firmware.config import Config
from firmware.config import FxoPort as FxoConfig
from firmware.config import FxsPort as FxsConfig
from firmware.config.paths import PathError
from firmware.core.errors import ConfigError
from firmware.dsp.profiles import CountryProfile, ProfileError, load_profile
from firmware.sip.adapter import SipAdapter

log = logging.getLogger(__name__)

SETTLE_S = 0.5
"""How often lines that were busy at a commit are looked at again."""

# Settings that only the dial plan and the status use: changing them needs no new machine.
_PLAN_ONLY = ("extension", "name", "caller_id", "permission", "max_outbound_calls", "record",
              "to", "closed_to", "schedule",
              # Forwarding, do-not-disturb and line services (firmware/pbx/features.py).
              "forward_always", "forward_busy", "forward_no_answer", "forward_after_s", "dnd",
              "hotline", "warmline_s", "caller_id_block", "reject_anonymous", "pickup_group",
              "voicemail", "voicemail_pin", "voicemail_after_s", "voicemail_max_s",
              "voicemail_greeting")


class LiveBox:
    """The Applier of firmware.app.manager for the running box."""

    def __init__(self, box: Box, board: Board, adapter: SipAdapter, booted: Config,
                 on_profile: Callable[[CountryProfile], None] = lambda p: None) -> None:
        self._box = box
        self._board = board
        self._adapter = adapter
        # SIP addresses cannot change live: new trunks use the ones the box started with.
        self._sip = booted.sip
        self._on_profile = on_profile
        self._waiting: dict[str, Callable[[], None]] = {}  # leg -> change when it is idle
        self._timer: asyncio.TimerHandle | None = None

    # --- Applier -----------------------------------------------------------------------
    def preflight(self, new: Config) -> None:
        profile = self._profile(new.box.country)
        problems: list[tuple[str, str]] = []
        for p in new.fxs:
            try:
                wiring.build_fxs(p, profile)
            except ConfigError as exc:
                problems.append((f"fxs.{p.port}.ring_pattern", str(exc)))
        try:
            check_board(new)
        except ConfigError as exc:
            where, _, what = str(exc).partition(": ")
            problems.append((where, what) if what else ("box.board", where))
        if problems:
            raise PathError(problems)
        try:
            wiring.build_plan(new, profile)
        except ConfigError as exc:
            raise PathError([("", f"the dial plan does not build: {exc}")]) from exc

    async def apply(self, old: Config, new: Config) -> ApplyReport:
        report = ApplyReport()
        country = old.box.country != new.box.country
        profile = self._profile(new.box.country) if country else self._box.profile
        if country:
            self._box.profile = profile
            self._on_profile(profile)
            report.applied.append(f"country {new.box.country}")
        if _plan_inputs(old) != _plan_inputs(new):
            self._box.exchange.replace_plan(wiring.build_plan(new, profile))
            report.applied.append("dial plan")
        self._lines("fxs", old, new, profile, country, report)
        self._lines("fxo", old, new, profile, country, report)
        self._trunks(old, new, report)
        if old.sip_user != new.sip_user:  # IP phones: the registrar's accounts
            self._adapter.set_phones(wiring.build_phones(new), new.sip.phone_min_expires_s)
            report.applied.append("sip_user accounts")
        if old.recording != new.recording and (rec := getattr(self._box, "recorder", None)):
            rec.settings = settings_from(new)  # channels, max_gb, keep_days; path: restart
            report.applied.append("recording settings")
        self._settle()
        if old.box.name != new.box.name:
            report.applied.append(f"box name {new.box.name}")
        return report

    def idle(self) -> bool:
        return not self._box.exchange.calls() and not self._adapter.busy()

    # --- lines -------------------------------------------------------------------------
    def _lines(self, kind: str, old: Config, new: Config, profile: CountryProfile,
               country: bool, report: ApplyReport) -> None:
        """Add, change and remove the lines of one kind ("fxs" or "fxo")."""
        slots: Mapping[str, FxsSlot | FxoSlot] = self._box.fxs if kind == "fxs" else self._box.fxo
        add = self._add_fxs if kind == "fxs" else self._add_fxo
        before = {p.port: p for p in getattr(old, kind)}
        after: tuple[FxsConfig | FxoConfig, ...] = getattr(new, kind)
        for p in after:
            leg = f"{kind}{p.port}"
            slot = slots.get(leg)
            if slot is None:
                port = self._board_port(kind, p.port, new)
                if port is None:
                    report.restart_needed.append(f"{kind}.{p.port}")
                    continue
                self._waiting.pop(leg, None)
                add(port, p, profile)
                report.applied.append(f"{kind}.{p.port} added ({p.extension})")
                continue
            was = before.get(p.port)
            slot.extension = p.extension
            if country or was is None or _line_settings(was) != _line_settings(p):
                def swap(leg: str = leg, port: Any = slot.port, p: Any = p) -> None:
                    self._box.remove_line(leg)
                    add(port, p, self._box.profile)
                self._when_idle(leg, swap)
                report.applied.append(f"{kind}.{p.port} settings")
        for gone in set(before) - {p.port for p in after}:
            self._when_idle(f"{kind}{gone}", self._remover(f"{kind}{gone}"))
            report.applied.append(f"{kind}.{gone} removed")

    def _add_fxs(self, port: Any, p: Any, profile: CountryProfile) -> None:
        assert isinstance(port, FxsPort) and isinstance(p, FxsConfig)
        port.configure_hook(wiring.hook_timing(p))
        self._box.add_fxs(port, wiring.build_fxs(p, profile), p.extension,
                          wiring.cid_standard(p.caller_id_standard, profile))
        self._box.configure_echo(f"fxs{p.port}", p.echo_cancel, p.echo_tail_ms)

    def _add_fxo(self, port: Any, p: Any, profile: CountryProfile) -> None:
        assert isinstance(port, FxoPort) and isinstance(p, FxoConfig)
        self._box.add_fxo(port, wiring.build_fxo(p, profile), p.extension,
                          wiring.cid_standard(p.caller_id_standard, profile))
        self._box.configure_echo(f"fxo{p.port}", p.echo_cancel, p.echo_tail_ms)

    def _remover(self, leg: str) -> Callable[[], None]:
        return lambda: self._box.remove_line(leg)

    def _board_port(self, kind: str, index: int, new: Config) -> LinePort | None:
        """The board's port, growing the simulated board to it; None: needs a restart."""
        if isinstance(self._board, SimBoard):
            try:
                fxs, fxo = sim_size(new)
            except ConfigError:
                return None
            self._board.grow(fxs, fxo)
        try:
            port = self._board.port("fxs" if kind == "fxs" else "fxo", index)
        except PortError:
            return None
        return port

    def _when_idle(self, leg: str, change: Callable[[], None]) -> None:
        self._waiting[leg] = change  # a later commit's change for the same line wins

    def _settle(self) -> None:
        """Make the waiting changes of every idle line; look again soon while any wait."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        for leg, change in list(self._waiting.items()):
            if self._box.line_idle(leg):
                del self._waiting[leg]
                try:
                    change()
                except Exception:  # one line's trouble must not stop the others
                    log.exception("%s: applying the new configuration failed", leg)
        if self._adapter.reap_trunks() or self._waiting:
            self._timer = asyncio.get_running_loop().call_later(SETTLE_S, self._settle)

    # --- trunks ------------------------------------------------------------------------
    def _trunks(self, old: Config, new: Config, report: ApplyReport) -> None:
        before = {t.name: t for t in wiring.build_trunks(old)}
        after = {t.name: t for t in wiring.build_trunks(new)}
        bind, rtp = self._sip.bind, self._sip.rtp_port
        for name in before.keys() - after.keys():
            try:
                self._adapter.remove_trunk(name)
            except Exception:
                log.exception("trunk %s: removing it failed", name)
                report.restart_needed.append(f"trunk.{name}")
                continue
            report.applied.append(f"trunk {name} removed")
        for name, spec in after.items():
            if before.get(name) == spec and name in self._adapter.accounts:
                continue
            try:
                if name in self._adapter.accounts:
                    self._adapter.replace_trunk(spec, bind, rtp)
                    report.applied.append(f"trunk {name} changed")
                else:
                    self._adapter.add_trunk(spec, bind, rtp)
                    report.applied.append(f"trunk {name} added")
            except ValueError as exc:
                log.warning("%s", exc)
                report.restart_needed.append(f"trunk.{name}.transport")
            except Exception:  # pjsua2 refused: the saved configuration waits for a restart
                log.exception("trunk %s: the committed settings could not be applied", name)
                report.restart_needed.append(f"trunk.{name}")

    def _profile(self, country: str) -> CountryProfile:
        if country == self._box.profile.code:
            return self._box.profile
        try:
            return load_profile(country)
        except ProfileError as exc:
            raise PathError([("box.country", str(exc))]) from exc


def _plan_inputs(config: Config) -> tuple[object, ...]:
    """What the dial plan is built from (wiring.build_plan), and nothing else."""
    return (tuple((p.port, p.extension, p.name, p.caller_id, p.permission,
                   p.max_outbound_calls) for p in config.fxs),
            tuple((p.port, p.extension, p.to, p.closed_to, p.schedule) for p in config.fxo),
            tuple((t.name, t.max_calls) for t in config.trunk), config.outbound,
            config.inbound, config.dialplan, config.box.country,
            config.box.max_international_minutes_per_hour,
            # Call recording: who is recorded, the code, the consent prompt (recpolicy).
            tuple(p.record for p in config.fxs), tuple(t.record for t in config.trunk),
            # IP phones are extensions of the plan too (and carry a record key).
            config.sip_user,
            config.features, config.recording.consent,
            # The office: groups, menus, office hours (firmware/app/office_wiring.py).
            config.group, config.menu, config.schedule,
            # Forwarding and do-not-disturb as configured (star codes change them too).
            tuple((p.forward_always, p.forward_busy, p.forward_no_answer, p.forward_after_s,
                   p.dnd, p.hotline, p.warmline_s, p.caller_id_block, p.reject_anonymous,
                   p.pickup_group, p.voicemail, p.voicemail_pin, p.voicemail_after_s,
                   p.voicemail_max_s, p.voicemail_greeting) for p in config.fxs))


def _line_settings(port: FxsConfig | FxoConfig) -> tuple[object, ...]:
    """What a line's machine is built from (the rest is the dial plan's)."""
    return tuple(getattr(port, f) for f in port.__dataclass_fields__ if f not in _PLAN_ONLY)
