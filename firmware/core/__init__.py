"""Core vocabulary shared by every layer: call-control events, causes, errors, time.

Nothing here does I/O. ``firmware.lines`` and ``firmware.pbx`` may import only this package.
"""
