"""Forwarding and do-not-disturb as star codes left them, kept across restarts.

The exchange holds each extension's current values (firmware/pbx/features.py). This
module saves them to ``features.json`` in the state dir (atomically) whenever a star code
changes them, and gives them back at the next start, together with what the
configuration said when they were saved: an extension whose configured values changed
while the box was down takes the configuration's (the newer word wins), as a commit does
while it runs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from firmware.core.files import write_atomic
from firmware.pbx.exchange import Exchange
from firmware.pbx.features import LineFeatures

log = logging.getLogger(__name__)

FILE_NAME = "features.json"


class LineFeatureStore:
    def __init__(self, state_dir: Path, exchange: Exchange) -> None:
        self.path = state_dir / FILE_NAME
        self._exchange = exchange
        self.error = ""

    def load(self) -> None:
        """Give the exchange the saved values where the configuration agrees."""
        try:
            saved: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("%s: not read (%s); the configured forwarding applies", self.path, exc)
            return
        plan = self._exchange.plan
        current = dict(self._exchange.line_features())
        for ext, entry in saved.items() if isinstance(saved, dict) else ():
            try:
                configured = LineFeatures.from_dict(entry["configured"])
                value = LineFeatures.from_dict(entry["current"])
            except (KeyError, TypeError):
                log.warning("%s: the entry of %s is damaged; ignored", self.path, ext)
                continue
            if plan.extension(ext) is None or configured != plan.feature_defaults(ext):
                continue
            current[ext] = value
        self._exchange.set_features(current)

    def save_if_changed(self) -> None:
        if not self._exchange.take_features_changed():
            return
        plan = self._exchange.plan
        data = {ext: {"current": f.as_dict(), "configured": plan.feature_defaults(ext).as_dict()}
                for ext, f in sorted(self._exchange.line_features().items())}
        try:
            write_atomic(self.path, json.dumps(data, indent=1) + "\n")
            self.error = ""
        except OSError as exc:  # a full or read-only disk: the values live on in memory
            self.error = str(exc)
            log.error("%s: not saved (%s); the forwarding set now is lost at restart",
                      self.path, exc)

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {ext: f.as_dict() for ext, f in
                               sorted(self._exchange.line_features().items())
                               if f != LineFeatures(forward_after_s=f.forward_after_s)}
        if self.error:
            out["_error"] = self.error
        return out
