"""Forwarding and do-not-disturb as star codes and the web page left them, kept across
restarts.

The exchange holds each extension's current values (firmware/pbx/features.py). This
module saves them to ``features.json`` in the state dir (atomically) whenever a star code
changes them, and gives them back at the next start, together with what the
configuration said when they were saved: an extension whose configured values changed
while the box was down takes the configuration's (the newer word wins), as a commit does
while it runs.

The web page and the API change the same values through :meth:`LineFeatureStore.change`
(the ``forwarding.*`` commands): checked field by field (firmware/pbx/forwardcheck.py),
put in the exchange's own objects (so the next call, the next dial tone and the next star
code see them at once) and saved at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firmware.core.errors import CommandError, NotFoundError
from firmware.core.files import write_atomic
from firmware.pbx import forwardcheck
from firmware.pbx.exchange import Exchange
from firmware.pbx.features import LineFeatures, log_change
from firmware.pbx.plan import Extension

log = logging.getLogger(__name__)

FILE_NAME = "features.json"


class ForwardingError(CommandError):
    """A forwarding change refused; ``fields`` says which setting, as forms show it."""

    def __init__(self, extension: str, errors: Mapping[str, str]) -> None:
        self.fields = [{"path": k, "message": v} for k, v in errors.items()]
        super().__init__("\n".join(f"{k}: {v}" for k, v in errors.items())
                         or f"extension {extension}: refused")


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
        self._save()

    def view(self, extension: str) -> dict[str, Any]:
        """``extension``'s forwarding now and as configured (forwardcheck.FIELDS)."""
        plan = self._exchange.plan
        if extension not in dict(plan.forwarding):
            raise NotFoundError(f"extension {extension!r} is no phone port or IP phone: "
                                "forwarding and do-not-disturb are set per extension")
        now = self._exchange.line_features().get(extension) or plan.feature_defaults(extension)
        c = plan.feature_codes  # the star codes that do the same on the handset
        ext = plan.extension(extension)
        return {"extension": extension, "phone": ext is not None and ext.phone,
                "current": forwardcheck.describe(now),
                "configured": forwardcheck.describe(plan.feature_defaults(extension)),
                "codes": {"forward_always": [c.forward_always_on, c.forward_always_off],
                          "forward_busy": [c.forward_busy_on, c.forward_busy_off],
                          "forward_no_answer": [c.forward_no_answer_on,
                                                c.forward_no_answer_off],
                          "dnd": [c.dnd_on, c.dnd_off]}}

    def change(self, extension: str, submitted: Mapping[str, str]) -> dict[str, Any]:
        """Check and apply a change (all of it or nothing); saved before it returns."""
        self.view(extension)  # a phone port's extension, or NotFoundError
        features = self._exchange.line_features()
        values, errors = forwardcheck.check(self._exchange.plan, features, extension,
                                            submitted)
        if errors:
            raise ForwardingError(extension, errors)
        line = features.setdefault(extension, self._exchange.plan.feature_defaults(extension))
        changed = sorted(k for k, v in values.items() if getattr(line, k) != v)
        for key in changed:
            setattr(line, key, values[key])
        if changed:
            log_change(extension, line)
            self._exchange.take_features_changed()  # saved here, with any star code's
            self._save()
        return dict(self.view(extension), changed=changed, saved=not self.error)

    def _save(self) -> None:
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
        plan = self._exchange.plan
        out: dict[str, Any] = {ext: f.as_dict() for ext, f in
                               sorted(self._exchange.line_features().items())
                               if f != _untouched(plan.extension(ext), f)}
        if self.error:
            out["_error"] = self.error
        return out


def _untouched(ext: Extension | None, features: LineFeatures) -> LineFeatures:
    """``features`` with nothing on (status lists the others); an IP phone's call waiting
    is always off (it takes one call at a time)."""
    phone = ext is not None and ext.phone
    return LineFeatures(forward_after_s=features.forward_after_s, call_waiting=not phone)
