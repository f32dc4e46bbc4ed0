"""Errors of the line co-processor backend (all under :class:`drivers.errors.DriverError`)."""

from __future__ import annotations

from drivers.errors import DriverError


class CoprocError(DriverError):
    """Root of the co-processor backend's errors."""


class FrameError(CoprocError, ValueError):
    """A frame or message body that does not follow board/PROTOCOL.md."""


class CommandError(CoprocError, ValueError):
    """A command the co-processor cannot carry out as asked (cadence, frequency, timing)."""


class LinkOpenError(CoprocError, OSError):
    """The UART named by the URL could not be opened."""


class RingError(CommandError):
    """An FXS port cannot ring: no frequency both the board profile and the co-processor
    support, or a co-processor that does not ring at all."""
