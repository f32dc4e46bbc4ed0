"""The commands of the box: status and the simulated board's verbs."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from firmware.commands import (
    calls_cmds,
    config_cmds,
    debug_cmds,
    forwarding_cmds,
    me_cmds,
    sip_cmds,
    trunk_cmds,
    user_cmds,
    voicemail_cmds,
)
from firmware.commands.caller import current_caller
from firmware.commands.inform_cmds import register as register_inform
from firmware.commands.prompt_cmds import register as register_prompts
from firmware.commands.system import System
from firmware.commands.table import CommandTable
from firmware.core.errors import CommandError

MAX_RECORD_S = 120.0

table = CommandTable()
user_cmds.register(table)
config_cmds.register(table)
me_cmds.register(table)
trunk_cmds.register(table)
sip_cmds.register(table)
debug_cmds.register(table)
register_inform(table)
register_prompts(table)
calls_cmds.register(table)
voicemail_cmds.register(table)
forwarding_cmds.register(table)


@table.command("status", "ports, trunks and calls", role="user")
async def status(system: System, args: Mapping[str, Any]) -> Any:
    return system.status()


@table.command("help", "the commands this box knows", role="user")
async def help_(system: System, args: Mapping[str, Any]) -> Any:
    return table.describe(current_caller())


_PORT = {"port": int}


@table.command("sim.phone.hook", "lift, hang up or flash a virtual handset",
               {"port": int, "action": str}, ("port", "action"), role="installer")
async def phone_hook(system: System, args: Mapping[str, Any]) -> Any:
    if args["action"] not in ("offhook", "onhook", "flash"):
        raise CommandError(f"unknown hook action {args['action']!r}; use offhook, onhook "
                           "or flash")
    return system.sim().phone_hook(args["port"], args["action"])


@table.command("sim.phone.dial", "dial digits on a virtual handset (DTMF tones or pulses)",
               {"port": int, "digits": str, "pulse": bool}, ("port", "digits"), role="installer")
async def phone_dial(system: System, args: Mapping[str, Any]) -> Any:
    digits = args["digits"].upper()
    allowed = "0123456789" if args.get("pulse") else "0123456789*#ABCD"
    bad = sorted({d for d in digits if d not in allowed})
    if not digits or bad:
        kind = "pulse dialing takes 0-9" if args.get("pulse") else "DTMF takes 0-9 * # A-D"
        raise CommandError(f"cannot dial {args['digits']!r}: {kind}")
    return await system.sim().phone_dial(args["port"], digits, bool(args.get("pulse")))


@table.command("sim.phone.play", "send audio (s16le 8 kHz, base64) into the line",
               {"port": int, "pcm": str}, ("port", "pcm"), role="installer")
async def phone_play(system: System, args: Mapping[str, Any]) -> Any:
    return system.sim().phone_play(args["port"], _pcm(args["pcm"]))


@table.command("sim.phone.record", "what the handset hears for S seconds (base64 s16le)",
               {"port": int, "seconds": float}, ("port", "seconds"), role="installer")
async def phone_record(system: System, args: Mapping[str, Any]) -> Any:
    seconds = _seconds(args["seconds"])
    pcm = await system.sim().phone_record(args["port"], seconds)
    return {"pcm": base64.b64encode(pcm).decode("ascii"), "rate": 8000}


@table.command("sim.phone.status", "hook, ringing, polarity and decoded caller ID", _PORT,
               ("port",), role="installer")
async def phone_status(system: System, args: Mapping[str, Any]) -> Any:
    return system.sim().phone_status(args["port"])


@table.command("sim.phone.timing",
               "benchmark hook: monotonic instants of the last hook edge and of the first "
               "sample >= level spoken and heard since S (default: that edge)",
               {"port": int, "since": float, "level": int}, ("port",), role="installer")
async def phone_timing(system: System, args: Mapping[str, Any]) -> Any:
    return system.sim().phone_timing(args["port"], args.get("since"),
                                     int(args.get("level", 100)))


@table.command("sim.line.ring", "the virtual PSTN line rings the FXO port",
               {"port": int, "cid_number": str, "cid_name": str}, ("port",), role="installer")
async def line_ring(system: System, args: Mapping[str, Any]) -> Any:
    return system.sim().line_ring(args["port"], args.get("cid_number"), args.get("cid_name"))


@table.command("sim.line.hangup", "the far end of the virtual PSTN line hangs up", _PORT,
               ("port",), role="installer")
async def line_hangup(system: System, args: Mapping[str, Any]) -> Any:
    return system.sim().line_hangup(args["port"])


@table.command("sim.line.play", "the far end of the PSTN line speaks (base64 s16le)",
               {"port": int, "pcm": str}, ("port", "pcm"), role="installer")
async def line_play(system: System, args: Mapping[str, Any]) -> Any:
    return system.sim().line_play(args["port"], _pcm(args["pcm"]))


@table.command("sim.line.record", "what the box sends into the PSTN line for S seconds",
               {"port": int, "seconds": float}, ("port", "seconds"), role="installer")
async def line_record(system: System, args: Mapping[str, Any]) -> Any:
    pcm = await system.sim().line_record(args["port"], _seconds(args["seconds"]))
    return {"pcm": base64.b64encode(pcm).decode("ascii"), "rate": 8000}


@table.command("sim.line.status", "seized or not, ringing, digits the box dialled", _PORT,
               ("port",), role="installer")
async def line_status(system: System, args: Mapping[str, Any]) -> Any:
    return system.sim().line_status(args["port"])


@table.command("hw.ports", "backend and live state of each port", role="installer")
async def hw_ports(system: System, args: Mapping[str, Any]) -> Any:
    return system.hw().ports()


@table.command("hw.ring", "ring an idle FXS port with the country's cadence",
               {"port": int, "seconds": float}, ("port",), role="installer")
async def hw_ring(system: System, args: Mapping[str, Any]) -> Any:
    return await system.hw().ring(args["port"], args.get("seconds", 10.0))


@table.command("hw.tone", "play dial tone or 1 kHz into a port not in a call",
               {"port": int, "tone": str, "seconds": float}, ("port", "tone"), role="installer")
async def hw_tone(system: System, args: Mapping[str, Any]) -> Any:
    return await system.hw().tone(args["port"], args["tone"], args.get("seconds", 5.0))


@table.command("hw.loopback", "play 1 kHz into a port and measure what comes back", _PORT,
               ("port",), role="installer")
async def hw_loopback(system: System, args: Mapping[str, Any]) -> Any:
    return await system.hw().loopback(args["port"])


@table.command("hw.hook", "board signals (hook edges with timings, pulses, rings) after seq",
               {"port": int, "since": int}, role="installer")
async def hw_hook(system: System, args: Mapping[str, Any]) -> Any:
    return system.hw().hook_events(args.get("port"), args.get("since", 0))


def _pcm(text: str) -> bytes:
    try:
        pcm = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CommandError(f"audio is not valid base64: {exc}") from exc
    if len(pcm) % 2:
        raise CommandError("audio must be 16-bit samples (an even number of bytes)")
    return pcm


def _seconds(value: float) -> float:
    if not 0 < value <= MAX_RECORD_S:
        raise CommandError(f"seconds must be more than 0 and at most {MAX_RECORD_S:g}")
    return value
