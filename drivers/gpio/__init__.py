"""Direct-GPIO line boards through gpiozero: Ag1171-class SLIC FXS ports, DAA FXO ports.

Only this package imports gpiozero. Pin factories are injectable, so the same code runs on
a Pi (lgpio, pigpio) and in tests (gpiozero's ``MockFactory``).
"""

from drivers.gpio.audio import AudioEndpoint, SilentAudio
from drivers.gpio.board import GpioBoard
from drivers.gpio.fxo import GpioFxoPort
from drivers.gpio.fxs import GpioFxsPort
from drivers.gpio.ringdetect import RingValidator
from drivers.gpio.ringer import RingCadenceError

__all__ = ["AudioEndpoint", "GpioBoard", "GpioFxoPort", "GpioFxsPort", "RingCadenceError",
           "RingValidator", "SilentAudio"]
