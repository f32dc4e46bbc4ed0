"""The one command, ``minipbx``: the daemon (``run``), signal tools (``signal``), and
subcommands that talk to a running daemon over its control socket."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from firmware.app.calls_cli import add_calls_parser
from firmware.app.client import call
from firmware.app.config_cli import add_config_parser
from firmware.app.hub_cli import add_hub_parser
from firmware.app.inform_cli import add_callback_parser, add_inform_parser
from firmware.app.mcu_cmd import add_mcu_parser
from firmware.app.paths import chosen_state_dir
from firmware.app.prompt_cli import add_prompt_parser
from firmware.app.signal_cmd import add_signal_parser
from firmware.app.sip_cli import add_sip_parser
from firmware.app.update_cli import add_update_parser
from firmware.app.user_cli import add_user_parser
from firmware.app.voicemail_cli import add_voicemail_parser
from firmware.core.errors import PbxError
from firmware.media.wavfile import WavError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except (PbxError, WavError, OSError) as exc:
        print(f"minipbx: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minipbx", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="the daemon's runtime folder (default: .state/ in a checkout, "
                             "/var/lib/minipbx on a device)")
    sub = parser.add_subparsers(metavar="COMMAND")
    # --state-dir may also follow the subcommand: `minipbx run --state-dir D`.
    here = argparse.ArgumentParser(add_help=False)
    here.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS,
                      help="the daemon's runtime folder")

    run = sub.add_parser("run", help="run the exchange in the foreground", parents=[here])
    run.add_argument("--board", default=None, help="board profile (default: from config)")
    run.add_argument("--config", type=Path, default=None,
                     help="configuration file (TOML) that seeds the state dir's saved one;"
                          " the same file again keeps the changes committed since, an edited"
                          " file replaces it (default: the saved one, else the built-in)")
    run.add_argument("--log-level", default="info",
                     choices=["debug", "info", "warning", "error"])
    run.set_defaults(func=_run)

    status = sub.add_parser("status", help="ports, trunks and calls of the running box",
                            parents=[here])
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)

    add_signal_parser(sub)
    _add_sim(sub)
    _add_hw(sub)
    add_mcu_parser(sub)
    add_config_parser(sub, here)
    add_user_parser(sub)
    _add_trunk(sub)
    add_sip_parser(sub)
    add_hub_parser(sub)
    add_update_parser(sub)
    add_inform_parser(sub)
    add_callback_parser(sub)
    add_prompt_parser(sub)
    add_calls_parser(sub)
    add_voicemail_parser(sub)
    return parser


def _add_trunk(sub: Any) -> None:
    trunk = sub.add_parser("trunk", help="SIP trunks of the running box")
    verbs = trunk.add_subparsers(metavar="VERB")
    reg = verbs.add_parser("register", help="send the trunk's REGISTER now and show the "
                                            "answer (test registration)")
    reg.add_argument("name", help="the trunk's name, as in [[trunk]] name")
    reg.set_defaults(func=_hw_simple, cmd="trunk.register", keys=("name",))


def _add_hw(sub: Any) -> None:
    hw = sub.add_parser("hw", help="installer diagnostics on the running box's line board")
    verbs = hw.add_subparsers(metavar="VERB")
    ports = verbs.add_parser("ports", help="backend and live state of each port")
    ports.add_argument("--json", action="store_true")
    ports.set_defaults(func=_hw_ports)
    ring = verbs.add_parser("ring", help="ring an idle FXS port (lifting the handset stops it)")
    ring.add_argument("port", type=int)
    ring.add_argument("--seconds", type=float, default=10.0)
    ring.set_defaults(func=_hw_simple, cmd="hw.ring", keys=("port", "seconds"))
    tone = verbs.add_parser("tone", help="play dial tone or 1 kHz into a port")
    tone.add_argument("port", type=int)
    tone.add_argument("tone", choices=["dial", "1000hz"])
    tone.add_argument("--seconds", type=float, default=5.0)
    tone.set_defaults(func=_hw_simple, cmd="hw.tone", keys=("port", "tone", "seconds"))
    loop = verbs.add_parser("loopback", help="play and record on a port: level and delay")
    loop.add_argument("port", type=int)
    loop.set_defaults(func=_hw_simple, cmd="hw.loopback", keys=("port",))
    hook = verbs.add_parser("hook", help="hook events with their timings (tune flash/pulse)")
    hook.add_argument("port", type=int)
    hook.add_argument("--watch", action="store_true", help="keep printing until Ctrl-C")
    hook.set_defaults(func=_hw_hook)


def _add_sim(sub: Any) -> None:
    sim = sub.add_parser("sim", help="drive the simulated board's handsets and PSTN lines")
    kinds = sim.add_subparsers(metavar="phone|line")
    phone = kinds.add_parser("phone", help="a virtual handset on an FXS port")
    phone.add_argument("port", type=int)
    verbs = phone.add_subparsers(metavar="VERB")
    for action in ("offhook", "onhook", "flash"):
        v = verbs.add_parser(action, help=f"{action} the handset")
        v.set_defaults(func=_sim_call, cmd="sim.phone.hook", extra={"action": action})
    dial = verbs.add_parser("dial", help="dial DTMF tones into the line, or pulses")
    dial.add_argument("digits")
    dial.add_argument("--pulse", action="store_true", help="rotary: hook-switch pulses")
    dial.set_defaults(func=_sim_dial)
    _add_audio_verbs(verbs, "sim.phone", play="send a WAV file into the line",
                     record="record what the handset hears (on-hook too)",
                     status="hook, ringing, polarity, decoded caller ID")

    line = kinds.add_parser("line", help="the virtual PSTN line on an FXO port")
    line.add_argument("port", type=int)
    lverbs = line.add_subparsers(metavar="VERB")
    ring = lverbs.add_parser("ring", help="ring the FXO port, with caller ID")
    ring.add_argument("--cid-number")
    ring.add_argument("--cid-name")
    ring.set_defaults(func=_sim_ring)
    hang = lverbs.add_parser("hangup", help="the far end hangs up")
    hang.set_defaults(func=_sim_call, cmd="sim.line.hangup", extra={})
    _add_audio_verbs(lverbs, "sim.line", play="the far end speaks a WAV file",
                     record="record what the box sends into the line",
                     status="seized, ringing, digits the box dialled")


def _add_audio_verbs(verbs: Any, prefix: str, play: str, record: str, status: str) -> None:
    """play / record / status: the same three verbs for a virtual handset and a PSTN line."""
    p = verbs.add_parser("play", help=play)
    p.add_argument("file", type=Path)
    p.set_defaults(func=_sim_play, cmd=f"{prefix}.play")
    r = verbs.add_parser("record", help=record)
    r.add_argument("file", type=Path)
    r.add_argument("--seconds", type=float, required=True)
    r.set_defaults(func=_sim_record, cmd=f"{prefix}.record")
    st = verbs.add_parser("status", help=status)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_sim_status, cmd=f"{prefix}.status")


def _run(args: argparse.Namespace) -> int:
    from firmware.app.daemon import run_daemon  # pjsua2 is loaded only by the daemon

    return run_daemon(state_dir=chosen_state_dir(args), config_path=args.config, board=args.board,
                      log_level=args.log_level)


def _status(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "status")
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        from firmware.app.status_text import format_status

        print(format_status(result))
    return 0


def _sim_call(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), args.cmd, {"port": args.port, **args.extra})
    _print_brief(result)
    return 0


def _sim_dial(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "sim.phone.dial",
                  {"port": args.port, "digits": args.digits, "pulse": args.pulse},
                  timeout=120.0)
    _print_brief(result)
    return 0


def _sim_play(args: argparse.Namespace) -> int:
    from firmware.media.wavfile import read_wav

    wav = read_wav(args.file)
    if wav.converted:
        print(f"minipbx: {args.file}: converted {wav.original_rate} Hz, "
              f"{wav.original_channels} channel(s) to 8000 Hz mono", file=sys.stderr)
    pcm = wav.samples.astype("<i2").tobytes()
    result = call(chosen_state_dir(args), args.cmd,
                  {"port": args.port, "pcm": base64.b64encode(pcm).decode("ascii")})
    _print_brief(result)
    return 0


def _sim_record(args: argparse.Namespace) -> int:
    import numpy as np

    from firmware.media.wavfile import write_wav

    result = call(chosen_state_dir(args), args.cmd, {"port": args.port, "seconds": args.seconds},
                  timeout=args.seconds + 30.0)
    pcm = base64.b64decode(result["pcm"])
    write_wav(args.file, np.frombuffer(pcm, dtype="<i2"), 8000)
    print(f"{args.file}: {len(pcm) / 16000:.2f} s recorded")
    return 0


def _sim_status(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), args.cmd, {"port": args.port})
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def _sim_ring(args: argparse.Namespace) -> int:
    result = call(chosen_state_dir(args), "sim.line.ring", {"port": args.port,
                  "cid_number": args.cid_number, "cid_name": args.cid_name})
    _print_brief(result)
    return 0


def _hw_ports(args: argparse.Namespace) -> int:
    ports = call(chosen_state_dir(args), "hw.ports")
    if args.json:
        print(json.dumps(ports, indent=2, sort_keys=True))
        return 0
    for p in ports:
        state = (f"hook {p.get('hook')}{' ringing' if p.get('ringing') else ''}"
                 if p["kind"] == "fxs" else ("seized" if p.get("seized") else "idle"))
        link = f", link {p['link']}" if p.get("link") else ""  # a co-processor board
        print(f"{p['leg']:<6} {p['board']:<18} ext {p.get('extension') or '-':<6} {state}, "
              f"line {p.get('line_state')}{link}")
    return 0


def _hw_simple(args: argparse.Namespace) -> int:
    payload = {k: getattr(args, k) for k in args.keys}
    timeout = float(payload.get("seconds", 5.0)) + 30.0
    _print_brief(call(chosen_state_dir(args), args.cmd, payload, timeout=timeout))
    return 0


def _hw_hook(args: argparse.Namespace) -> int:
    import time

    since = 0
    first = True
    while True:
        result = call(chosen_state_dir(args), "hw.hook", {"port": args.port, "since": since})
        if first and args.watch:
            since = result["last"]  # --watch shows what happens from now on
            first = False
            continue
        for ev in result["events"]:
            extra = " ".join(f"{k}={v}" for k, v in ev.items()
                             if k not in ("seq", "type", "port", "at"))
            print(f"{ev['at']:.3f} port {ev['port']} {ev['type']} {extra}", flush=True)
        since = result["last"]
        if not args.watch:
            return 0
        time.sleep(0.2)


def _print_brief(result: Any) -> None:
    if isinstance(result, dict):
        print(" ".join(f"{k}={v}" for k, v in result.items()))
    elif result is not None:
        print(result)


if __name__ == "__main__":
    sys.exit(main())
