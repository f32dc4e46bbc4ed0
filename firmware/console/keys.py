"""Bytes from a terminal to keys: a sans-IO decoder for what a VT100 (or anything that
claims to be one) sends.

Rules:
- Printable ASCII (0x20-0x7E) is a key of its own; a VT100 sends nothing else as text, so
  every other byte outside a known control or escape sequence is line noise (a wrong baud
  rate, a cable plugged in) and is dropped and counted, never acted on.
- CR, LF and CR LF are one Enter; BS and DEL both erase backwards (terminals disagree).
- Escape sequences: CSI (``ESC [`` params final) and SS3 (``ESC O`` final) for the arrows,
  Home, End and Delete; any other complete sequence is dropped. A sequence longer than
  MAX_SEQUENCE bytes is noise up to its final byte. A lone ESC waits for the next byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC = 0x1B
MAX_SEQUENCE = 16

# Control bytes a person can type, by name (Ctrl-letter as the shells name them).
CONTROL = {
    0x01: "ctrl-a", 0x02: "left", 0x03: "ctrl-c", 0x04: "ctrl-d", 0x05: "ctrl-e",
    0x06: "right", 0x08: "backspace", 0x09: "tab", 0x0B: "ctrl-k", 0x0C: "ctrl-l",
    0x0E: "down", 0x10: "up", 0x15: "ctrl-u", 0x17: "ctrl-w", 0x7F: "backspace",
}
# The final byte of CSI/SS3 sequences (``ESC [ A``, ``ESC O A``).
FINAL = {"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end"}
# ``ESC [ n ~`` (VT220 editing keypad).
TILDE = {"1": "home", "7": "home", "3": "delete", "4": "end", "8": "end"}


@dataclass
class KeyDecoder:
    """feed(bytes) -> keys: one-character strings for text, names for the others."""

    dropped: int = 0  # noise bytes dropped so far (the shell hints at the baud rate)
    _seq: bytearray = field(default_factory=bytearray)
    _after_cr: bool = False
    _skipping: bool = False

    def feed(self, data: bytes) -> list[str]:
        keys: list[str] = []
        for byte in data:
            if self._skipping:
                # The rest of an over-long sequence, up to its final byte, is noise too.
                if 0x20 <= byte <= 0x7E:
                    self.dropped += 1
                    self._skipping = byte <= 0x3F
                    continue
                self._skipping = False
            if self._seq:
                self._escape(byte, keys)
                continue
            after_cr, self._after_cr = self._after_cr, False
            if byte == 0x0D:
                keys.append("enter")
                self._after_cr = True
            elif byte == 0x0A:
                if not after_cr:
                    keys.append("enter")
            elif byte == ESC:
                self._seq.append(byte)
            elif 0x20 <= byte <= 0x7E:
                keys.append(chr(byte))
            elif byte in CONTROL:
                keys.append(CONTROL[byte])
            else:
                self.dropped += 1
        return keys

    def _escape(self, byte: int, keys: list[str]) -> None:
        seq = self._seq
        if len(seq) == 1:
            if byte in (ord("["), ord("O")):
                seq.append(byte)
                return
            # ESC then something else: the ESC was noise, the byte is read afresh.
            seq.clear()
            self.dropped += 1
            keys.extend(self.feed(bytes([byte])))
            return
        seq.append(byte)
        if 0x40 <= byte <= 0x7E:  # a final byte ends every CSI/SS3 sequence
            keys.extend(_name(bytes(seq)))
            seq.clear()
        elif not 0x20 <= byte <= 0x3F or len(seq) > MAX_SEQUENCE:
            self.dropped += len(seq)
            self._skipping = 0x20 <= byte <= 0x3F
            seq.clear()


def _name(seq: bytes) -> list[str]:
    final = chr(seq[-1])
    params = seq[2:-1].decode("ascii", "replace")
    if final == "~":
        return [TILDE[params]] if params in TILDE else []
    if final in FINAL and (not params or params.startswith("1;") or params == "1"):
        return [FINAL[final]]
    return []
