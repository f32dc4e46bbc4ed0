"""The serial console: a Session on ``[console] device`` at ``baud``, over the event loop.

Rules:
- pyserial opens the device (a UART such as /dev/ttyAMA0, a USB adapter, a pseudo-terminal
  in the tests) raw, 8N1, locked against a second opener; the loop then reads its file
  descriptor directly (``add_reader``): no thread, and no wake-up while nobody types.
- A read or write error, or end of file (a USB adapter pulled, a pty's other end closed),
  logs the session out, closes the device and tries to open it again every REOPEN_S; the
  next session starts with a fresh login. Calls and the daemon never notice.
- Output waits in a buffer of at most MAX_PENDING bytes while the line is slower than the
  text (9600 baud is 960 bytes a second); beyond that it is dropped, and the pager keeps
  ordinary output well below it.
- Failed logins are counted per device, across reopenings (unplugging does not reset them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable

import serial

from firmware.console.session import Session, Throttle

log = logging.getLogger(__name__)

REOPEN_S = 2.0
MAX_PENDING = 64 * 1024
READ_BYTES = 4096

SessionFactory = Callable[[Callable[[bytes], None], Throttle], Session]


class SerialConsole:
    def __init__(self, device: str, baud: int, make_session: SessionFactory,
                 reopen_s: float = REOPEN_S) -> None:
        self.device = device
        self.baud = baud
        self.reopen_s = reopen_s
        self.session: Session | None = None
        self.opened = 0  # how many times the device was opened (tests and the log)
        self._make = make_session
        self._throttle = Throttle()
        self._port: serial.Serial | None = None
        self._fd = -1
        self._pending = bytearray()
        self._dropped = 0
        self._retry: asyncio.TimerHandle | None = None
        self._closed = False
        self._complained = False

    def start(self) -> None:
        self._open()

    def close(self) -> None:
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
        self._shut()

    # --- the device ---------------------------------------------------------------------
    def _open(self) -> None:
        self._retry = None
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        try:
            port = serial.serial_for_url(self.device, baudrate=self.baud, timeout=0,
                                         exclusive=True)
            fd = port.fileno()
        except (serial.SerialException, OSError, ValueError, AttributeError) as exc:
            if not self._complained:
                log.warning("serial console: cannot open %s (%s); trying again every "
                            "%g s", self.device, exc, self.reopen_s)
                self._complained = True
            self._retry = loop.call_later(self.reopen_s, self._open)
            return
        self._complained = False
        os.set_blocking(fd, False)
        self._port, self._fd = port, fd
        self._pending.clear()
        self.opened += 1
        loop.add_reader(fd, self._readable)
        log.info("serial console on %s at %d baud", self.device, self.baud)
        self.session = self._make(self._send, self._throttle)
        self.session.start()

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lost(exc.strerror or str(exc))
            return
        if not data:
            self._lost("end of file")
            return
        if self.session is not None:
            self.session.feed(data)

    def _send(self, data: bytes) -> None:
        if self._fd < 0:
            return
        if self._pending:
            self._queue(data)
            return
        try:
            sent = os.write(self._fd, data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            asyncio.get_running_loop().call_soon(self._lost, exc.strerror or str(exc))
            return
        if sent < len(data):
            self._queue(data[sent:])
            asyncio.get_running_loop().add_writer(self._fd, self._writable)

    def _queue(self, data: bytes) -> None:
        room = MAX_PENDING - len(self._pending)
        if len(data) > room:
            self._dropped += len(data) - room
            data = data[:max(0, room)]
        self._pending += data

    def _writable(self) -> None:
        try:
            sent = os.write(self._fd, self._pending)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lost(exc.strerror or str(exc))
            return
        del self._pending[:sent]
        if not self._pending:
            asyncio.get_running_loop().remove_writer(self._fd)
            if self._dropped:
                log.info("serial console: %d bytes of output dropped (the line was slower "
                         "than the text)", self._dropped)
                self._dropped = 0

    def _lost(self, why: str) -> None:
        if self._fd < 0:
            return
        log.warning("serial console %s lost (%s): logged out; opening it again every %g s",
                    self.device, why, self.reopen_s)
        self._shut()
        if not self._closed:
            self._retry = asyncio.get_running_loop().call_later(self.reopen_s, self._open)

    def _shut(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            session.hangup()
        if self._fd >= 0:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._fd)
            loop.remove_writer(self._fd)
            self._fd = -1
        if self._port is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                self._port.close()
            self._port = None
        self._pending.clear()
