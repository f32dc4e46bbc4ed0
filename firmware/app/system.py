"""The running system as the command handlers see it (firmware.commands.system.System)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from drivers.base import Board
from drivers.sim import SimBoard
from firmware.accounts import AccountStore
from firmware.accounts.store import FILE_NAME as ACCOUNTS_FILE
from firmware.app import logsink
from firmware.app.box import Box
from firmware.app.callback import CallbackService
from firmware.app.cdrdb import CdrDb
from firmware.app.hwctl import HwControl
from firmware.app.informer import Informer
from firmware.app.load import LoadMeter
from firmware.app.manager import ConfigManager
from firmware.app.promptctl import PromptControl
from firmware.app.simctl import SimControl
from firmware.app.sitewatch import SiteWatch
from firmware.app.trunkctl import register_and_wait
from firmware.config import Config
from firmware.core.errors import CommandError
from firmware.dsp.profiles import CountryProfile
from firmware.records.store import CallStore
from firmware.sip.adapter import SipAdapter
from firmware.sip.endpoint import SipEndpoint
from firmware.sip.guard import Guard


class RunningSystem:
    def __init__(self, config: Config, profile: CountryProfile, box: Box, sip: SipAdapter,
                 endpoint: SipEndpoint, board: Board, state_dir: Path | None = None) -> None:
        self.boot_config = config
        self._config: ConfigManager | None = None
        self.profile = profile
        self.box = box
        self.sip_adapter = sip
        self.endpoint = endpoint
        # The transports are bound before the system is built and only a restart moves them.
        self._listen = {t.kind: f"{t.host}:{t.port}" for t in endpoint.transports.values()}
        self.board = board
        self._hw = HwControl(box)
        # A damaged accounts file stops the start here, with the file named.
        self._accounts = AccountStore(state_dir / ACCOUNTS_FILE) if state_dir else None
        self._sim: SimControl | None = None
        # The auto-informer and the web call-back (issue 9), set by the daemon.
        self.informer_service: Informer | None = None
        self.callback_service: CallbackService | None = None
        self.prompt_control: PromptControl | None = None  # set by the daemon
        self.cdr: CdrDb | None = None  # the call records database, set by the daemon
        # Forwarding / do-not-disturb now in force (firmware/app/linefeatures.py).
        self.line_features: Any = None
        self.voicemail: Any = None  # VoicemailService (firmware/app/voicemail_app.py)
        self.meter: LoadMeter | None = None  # live load, set by the daemon
        self.sites: SiteWatch | None = None  # other sites' state (multi-site), by the daemon
        self._state_dir = state_dir
        self._recordings: Any = None
        self.set_profile(profile)

    @property
    def running_config(self) -> Config:
        """The configuration the box runs now (commits change it)."""
        return self._config.running if self._config is not None else self.boot_config

    def set_profile(self, profile: CountryProfile) -> None:
        """The country profile the box runs (a commit may change it)."""
        self.profile = profile
        if isinstance(self.board, SimBoard):
            config = self.running_config
            pstn_cid = next((p.caller_id_standard for p in config.fxo
                             if p.caller_id_standard), "") or profile.caller_id.standard
            self._sim = SimControl(self.board, profile.ring.cadence_ms,
                                   "bell202" if pstn_cid not in ("v23", "dtmf") else pstn_cid)

    def attach_config(self, manager: ConfigManager) -> None:
        self._config = manager

    def config(self) -> ConfigManager:
        if self._config is None:
            raise CommandError("the configuration manager is not running yet; try again")
        return self._config

    def status(self) -> dict[str, Any]:
        status = self.box.status()
        sip = self.sip_adapter.status()
        sip["listen"] = dict(self._listen)
        config = self.running_config
        status["counts"]["sip_calls"] = len(sip["calls"])  # type: ignore[arg-type]
        status.update({"name": config.box.name, "board": self.board.name,
                       "country": config.box.country, "sip": sip})
        if self._config is not None:
            status["config"] = self._config.pending()
        if self.sites is not None and self.sites.enabled:
            status["sites"] = self.sites.status()
        storage: dict[str, Any] = {}
        if self.cdr is not None:
            storage["cdr"] = self.cdr.status()
        if self.line_features is not None:
            status["features"] = self.line_features.status()
        if self.voicemail is not None:  # mailboxes: counts and the lamp
            status["voicemail"] = self.voicemail.status()
        if (sink := logsink.sink()) is not None:
            storage["log"] = sink.status()
        if storage:
            status["storage"] = storage
        return status

    def hw(self) -> HwControl:
        return self._hw

    def sim(self) -> SimControl:
        if self._sim is None:
            raise CommandError(f"the board is {self.board.name}, not simulated: sim commands "
                               "need `minipbx run --board sim`")
        return self._sim

    async def register_trunk(self, name: str) -> dict[str, Any]:
        return await register_and_wait(self.sip_adapter, name)

    def sip_guard(self) -> Guard:
        return self.sip_adapter.guard

    def informer(self) -> Informer:
        if self.informer_service is None:
            raise CommandError("the auto-informer is not running on this box")
        return self.informer_service

    def callbacks(self) -> CallbackService:
        if self.callback_service is None:
            raise CommandError("the web call-back is not running on this box")
        return self.callback_service

    def prompts(self) -> PromptControl:
        if self.prompt_control is None:
            raise CommandError("this box runs without a prompt cache")
        return self.prompt_control

    def records(self) -> CallStore:
        if self.cdr is None:
            raise CommandError("the call records database is not open")
        try:
            return self.cdr.store
        except (sqlite3.Error, OSError) as exc:
            raise CommandError(f"the call records database {self.cdr.path} cannot be "
                               f"opened: {exc}; see `minipbx status`") from exc

    def recordings(self) -> Any:
        """The recordings (firmware/media/recstore.py): the recorder's store, or one over
        the recordings folder when the box records nothing now; None without either."""
        store = getattr(getattr(self.box, "recorder", None), "store", None)
        if store is None and self._state_dir is not None:
            if self._recordings is None:
                try:
                    from firmware.media.recstore import RecordingStore
                except ImportError:
                    return None
                folder = getattr(getattr(self.running_config, "recording", None), "path", "")
                self._recordings = RecordingStore(Path(folder) if folder
                                                  else self._state_dir / "recordings")
            store = self._recordings
        return store

    def load(self) -> LoadMeter:
        if self.meter is None:
            raise CommandError("live load is not measured yet; try again")
        return self.meter

    def accounts(self) -> AccountStore:
        if self._accounts is None:
            raise CommandError("this box runs without a state dir, so it has no accounts")
        return self._accounts
