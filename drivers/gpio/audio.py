"""The audio seam of a GPIO line port.

A GPIO board switches the line (hook, ring, polarity) but carries no audio: each port's
voice goes through a separate codec, usually a USB sound card per port driven by
:class:`drivers.alsa.AlsaAudio`. The port hands frames to whatever endpoint it was given;
the seam itself (:class:`AudioEndpoint`, :class:`SilentAudio`) is shared by every board
and lives in :mod:`drivers.base`.
"""

from drivers.base import AudioEndpoint, SilentAudio

__all__ = ["AudioEndpoint", "SilentAudio"]
