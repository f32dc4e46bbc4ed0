"""systemd readiness and watchdog (sd_notify) without linking libsystemd: one datagram to
``$NOTIFY_SOCKET``. Outside systemd (no socket named) it does nothing.

The watchdog rule (sd_watchdog_enabled(3)): systemd sets ``WATCHDOG_USEC`` (and
``WATCHDOG_PID``, the process it means) when the unit has ``WatchdogSec=``; the service
sends ``WATCHDOG=1`` more often than that, and systemd kills and restarts it when a ping is
late. The pings come from the asyncio loop itself (firmware/app/daemon.py), so a loop that
hangs stops them even while other threads (pjmedia's clock, the serial reader) run on.
"""

from __future__ import annotations

import os
import socket


def sd_notify(state: str) -> bool:
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    if path.startswith("@"):  # abstract namespace
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(path)
            sock.sendall(state.encode())
        except OSError:
            return False
    return True


def watchdog_period_s() -> float | None:
    """How often to send WATCHDOG=1: half the interval systemd gave (sd_watchdog_enabled's
    advice), or None when no watchdog is asked of this process."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or not os.environ.get("NOTIFY_SOCKET"):
        return None
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (a parent that exec'd us keeps its pid)
    return int(usec) / 2e6
