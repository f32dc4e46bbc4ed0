"""What the line state machines ask of the board and the media path.

The machines decide; the application carries these out on the port named by ``leg`` and
reports back where a machine waits for completion:

* FXS: ringing, polarity, call-progress tones and caller ID towards the handset. The app
  turns a ``ToneName`` into the country's tone, and caller ID into samples of the configured
  standard (Bell 202, V.23 or DTMF); when the samples have played it calls
  ``FxsLine.signal_done(now)``.
* FXO: seizing and releasing the PSTN loop, DTMF dialling (``FxoLine.signal_done(now)``
  when the digits are out), and switching the line audio to the caller ID receiver (which
  reports through ``FxoLine.caller_id``) and to the disconnect tone detector (which reports
  through ``FxoLine.disconnect_tone``).

Everything a machine returns is a ``LineOutput``: one of these actions, or a core
``CallEvent`` going up to the PBX.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.core.errors import PbxError
from firmware.core.events import CallEvent, LegId, Party, ToneName


@dataclass(frozen=True)
class StartRinging:
    """Ring with on/off steps (ms, starting with on, repeating) until StopRinging."""

    leg: LegId
    cadence_ms: tuple[int, ...]
    frequency_hz: float


@dataclass(frozen=True)
class StopRinging:
    leg: LegId


@dataclass(frozen=True)
class SetPolarity:
    """Normal (False) or reversed (True) line polarity."""

    leg: LegId
    reversed_: bool


@dataclass(frozen=True)
class PlayTone:
    """Play the country's tone of that name into the handset; None stops it."""

    leg: LegId
    tone: ToneName | None


@dataclass(frozen=True)
class SendCallerId:
    """Send caller ID to the handset with the port's standard; report signal_done."""

    leg: LegId
    caller: Party
    call_waiting: bool = False


@dataclass(frozen=True)
class StopSignal:
    """Stop a caller ID (or other generated signal) that is still playing."""

    leg: LegId


@dataclass(frozen=True)
class SeizeLine:
    """Close the FXO loop: go off-hook towards the PSTN."""

    leg: LegId


@dataclass(frozen=True)
class ReleaseLine:
    """Open the FXO loop: go on-hook towards the PSTN."""

    leg: LegId


@dataclass(frozen=True)
class DialDigits:
    """Generate these DTMF digits into the FXO line; report signal_done when out."""

    leg: LegId
    digits: str


@dataclass(frozen=True)
class ListenCallerId:
    """Feed the FXO line audio to the caller ID receiver (on) or stop (off)."""

    leg: LegId
    on: bool


@dataclass(frozen=True)
class WatchDisconnectTone:
    """Run the busy/disconnect tone detector on the FXO line audio (on) or stop (off)."""

    leg: LegId
    on: bool


FxsAction = StartRinging | StopRinging | SetPolarity | PlayTone | SendCallerId | StopSignal
FxoAction = SeizeLine | ReleaseLine | DialDigits | ListenCallerId | WatchDisconnectTone
LineAction = FxsAction | FxoAction
LineOutput = LineAction | CallEvent


class WrongLegError(PbxError, ValueError):
    """A command for one leg was handed to another leg's line machine (a wiring fault)."""


def check_leg(own: LegId, event: CallEvent) -> None:
    """Refuse an event addressed to another leg."""
    if event.leg != own:
        raise WrongLegError(f"line {own} was given {type(event).__name__} for leg "
                            f"{event.leg}; route commands by their leg")


def describe_party(party: Party | None) -> dict[str, object] | None:
    """A caller as ``describe()`` shows it."""
    if party is None:
        return None
    return {"number": party.number, "name": party.name, "presentation": party.presentation}
