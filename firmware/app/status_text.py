"""``minipbx status`` for people: the same facts as ``--json``, one line each."""

from __future__ import annotations

import time
from typing import Any

from firmware.app.sip_cli import ban_text
from firmware.app.sitewatch import sites_text


def format_status(status: dict[str, Any]) -> str:
    out = [f"{status.get('name', 'minipbx')} on board {status.get('board')}, "
           f"country {status.get('country')}, up {status.get('uptime_s', 0):.0f} s"]
    sip = status.get("sip", {})
    if sip:
        listen = ", ".join(f"{k} {v}" for k, v in sip.get("listen", {}).items())
        out.append(f"SIP: {listen}; calls {len(sip.get('calls', {}))} of "
                   f"{sip.get('max_calls')} (pjsua2 limit)")
        lib = sip.get("library")
        if lib:
            out.append(f"pjsua2: {lib['version']} ({lib['build']} build), {lib['max_calls']} "
                       f"calls at most, TLS {'/'.join(lib['tls']) or 'unknown'}, codecs "
                       f"{', '.join(lib['codecs'])}")
    if (lp := status.get("line_ports")) is not None:  # issue 13: native or Python ports
        out.append(f"Line ports: {lp.get('kind')} ({lp.get('why')})")
    out.append("Ports:")
    for port in status.get("ports", []):
        bits = [f"  {port['leg']:<6} {port.get('extension') or '':<6}"]
        if port["kind"] == "fxs":
            bits.append(f"hook {port.get('hook')}")
            if port.get("ringing"):
                bits.append("ringing")
        elif port.get("seized"):
            bits.append("seized")
        bits.append(f"line {port.get('line_state')}")
        if port.get("link") not in (None, "connected"):
            bits.append(f"DOWN (co-processor link {port['link']})")
        if port.get("with"):
            bits.append(f"in call with {port['with']}")
        if (echo := port.get("echo")) and echo.get("active"):
            bits.append(echo_text(echo))
        out.append(" ".join(bits))
    out.extend(_board_lines(status))
    trunks = sip.get("trunks", {})
    if trunks:
        out.append("Trunks:")
        for name, t in trunks.items():
            out.append(f"  {name:<12} {t['transport']} {t['host']}:{t['port']} "
                       f"{registration_text(t['registration'])}")
    out.extend(sites_text(status.get("sites") or {}))
    out.extend(phones_text(sip.get("phones") or {}))
    out.extend(features_text(status.get("features") or {}))
    out.extend(voicemail_text(status.get("voicemail") or {}))
    guard = sip.get("guard") or {}
    if guard.get("bans"):
        out.append(f"SIP bans ({guard.get('dropped_while_banned', 0)} requests dropped; "
                   "`minipbx sip unban ADDRESS` lifts one):")
        out.extend(f"  {ban_text(row)}" for row in guard["bans"])
    out.extend(_outbound_lines(status.get("outbound")))
    out.extend(_config_lines(status.get("config")))
    logs = (status.get("storage") or {}).get("log") or {}
    if logs and not logs.get("ok", True):
        out.append(f"Log: cannot be written ({logs.get('error')}); {logs.get('lost')} lines "
                   "lost so far")
    cdr = (status.get("storage") or {}).get("cdr") or {}
    if cdr and not cdr.get("ok", True):
        out.append(f"Call records: cannot write {cdr.get('path')}: {cdr.get('error')}; "
                   f"{cdr.get('pending')} waiting in memory, {cdr.get('dropped')} lost")
    rec = status.get("recording") or {}  # firmware/app/recorder.py
    if rec and not rec.get("ok", True):
        out.append(f"Recording: {rec.get('error')}; {(rec.get('free_bytes') or 0) // 1000000} MB"
                   f" free, recording stops below {(rec.get('floor_bytes') or 0) // 1000000} MB"
                   " (calls go on)")
    calls = status.get("calls", [])
    out.append(f"Calls: {len(calls)}")
    for c in calls:
        out.append(f"  {c.get('id')}: {' <-> '.join(c.get('legs', []))} {c.get('state')} "
                   f"{c.get('number') or ''}")
    return "\n".join(out)


def echo_text(echo: dict[str, Any]) -> str:
    """A line's echo canceller on its call (firmware/app/lineecho.py)."""
    if "erle_db" not in echo:
        return "echo canceller on"
    state = "converged" if echo.get("converged") else "learning"
    talk = ", double talk" if echo.get("double_talk") else ""
    return (f"echo canceller {state}: ERLE {echo['erle_db']:.0f} dB, ERL "
            f"{echo['erl_db']:.0f} dB{talk}")


def registration_text(reg: dict[str, Any]) -> str:
    """One trunk's registration in words: "registering (attempt 1, no answer for 12 s)",
    "failed (408 Request Timeout; attempt 2 in about 10 s)", "registered (200 OK)"."""
    state = str(reg.get("state"))
    answer = f"{reg['code']} {reg.get('reason', '')}".strip() if reg.get("code") else ""
    if state == "registering":
        last = f"; last {answer}" if answer else ""  # what the attempt before got
        return (f"registering (attempt {reg.get('attempt') or 1}, no answer for "
                f"{reg.get('for_s', 0):.0f} s{last})")
    if state == "failed":
        retry = reg.get("next_retry_in_s")
        then = ("not retried: check the trunk's settings" if retry is None
                else f"attempt {(reg.get('attempt') or 0) + 1} in about {retry:.0f} s")
        return f"failed ({answer}; {then})" if answer else f"failed ({then})"
    return f"{state} ({answer})" if answer else state


def _board_lines(status: dict[str, Any]) -> list[str]:
    """The co-processor's link (only boards that have one say it), and ports that cannot
    ring: "Co-processor link: connected 120 s, firmware ..., 1 reconnect (1 lost by the
    host), 11 retransmissions; last problem 30 s ago: ..."."""
    out = [f"  {p['ring_problem']}" for p in status.get("ports", [])
           if p.get("ring_problem")]
    link = status.get("link")
    if not link:
        return out
    line = f"Co-processor link: {link.get('state')} {link.get('since_s', 0):.0f} s"
    if link.get("firmware"):
        line += f", firmware {link['firmware']} (boot {link.get('boot_id')})"
    causes = [f"{link[k]} {name}" for k, name in (
        ("resets", "co-processor restarts"), ("lost", "lost by the host"),
        ("dropped_by_mcu", "dropped by the co-processor")) if link.get(k)]
    line += f", {link.get('reconnects', 0)} reconnects"
    if causes:
        line += f" ({', '.join(causes)})"
    line += (f", {link.get('retransmissions', 0)} retransmissions, "
             f"{link.get('frames_dropped', 0)} bad frames")
    if link.get("corrections"):
        line += f", {link['corrections']} line states put right after a reconnect"
    if link.get("refused") or link.get("events_refused"):
        line += (f", refused: {link.get('refused', 0)} commands by the co-processor, "
                 f"{link.get('events_refused', 0)} of its events by the host")
    out.insert(0, line)
    if link.get("last_problem"):
        out.insert(1, f"  last problem {link.get('last_problem_ago_s', 0):.0f} s ago: "
                      f"{link['last_problem']}")
    return out


def _config_lines(config: dict[str, Any] | None) -> list[str]:
    """The configuration's state: version, staged changes, a pending confirm, restart."""
    if not config:
        return []
    out = [f"Configuration: v{config.get('version')}"
           + (", changes staged (minipbx config diff)" if config.get("pending") else "")]
    if config.get("confirm_by"):
        by = time.strftime("%H:%M:%S", time.localtime(config["confirm_by"]))
        out.append(f"  confirm pending: v{config.get('confirm_version')} rolls back at {by} "
                   "unless `minipbx config confirm`")
    if config.get("restart_needed"):
        out.append(f"  restart needed for: {', '.join(config['restart_needed'])} "
                   "(minipbx restart)")
    if config.get("restart"):
        out.append(f"  restart: {config['restart']}")
    return out


def _outbound_lines(outbound: dict[str, Any] | None) -> list[str]:
    """Calls out per trunk, and the spending guard when it has a limit (pbx.tollguard)."""
    if not outbound:
        return []
    out = []
    per_trunk = outbound.get("calls_out") or {}
    if per_trunk:
        out.append("Calls out: " + ", ".join(f"{t} {n}" for t, n in per_trunk.items()))
    limit = outbound.get("max_international_minutes_per_hour") or 0
    if limit:
        used = outbound.get("international_minutes_last_hour", 0)
        state = ("REFUSING new international and premium calls"
                 if outbound.get("international_blocked") else "open")
        out.append(f"Spending guard: {used:g} of {limit:g} international/premium minutes "
                   f"in the last hour; {state}")
    return out


def phones_text(phones: dict[str, Any]) -> list[str]:
    """The IP phones ([[sip_user]]) and where each is registered."""
    if not phones:
        return []
    out = ["IP phones:"]
    for ext, phone in phones.items():
        contacts = phone.get("contacts") or []
        where = ", ".join(f"{c['source']} ({c['transport']}, {c['expires_in']} s left"
                          + (f", {c['user_agent']}" if c.get("user_agent") else "") + ")"
                          for c in contacts) or "not registered"
        name = f" {phone['name']}" if phone.get("name") else ""
        out.append(f"  {ext}{name}: {where}")
    return out


def voicemail_text(boxes: dict[str, Any]) -> list[str]:
    """Mailboxes: new and heard messages, and whether the lamp was last sent on."""
    out = [f"  {ext}: {b['new']} new, {b['old']} heard"
           + {True: ", lamp on", False: ", lamp off"}.get(b.get("lamp"), "")
           for ext, b in sorted(boxes.items())]
    return ["Voicemail:", *out] if out else []


def features_text(features: dict[str, Any]) -> list[str]:
    """Extensions with forwarding or do-not-disturb on (star codes or the configuration)."""
    out: list[str] = []
    for ext, f in features.items():
        if ext.startswith("_"):
            continue
        bits = [f"{label} {f[key]}" for key, label in (
            ("forward_always", "forward always to"), ("forward_busy", "forward busy to"),
            ("forward_no_answer", "forward no answer to")) if f.get(key)]
        if f.get("dnd"):
            bits.append("do not disturb")
        if bits:
            out.append(f"  {ext}: {', '.join(bits)}")
    if features.get("_error"):
        out.append(f"  (not saved: {features['_error']})")
    return ["Forwarding:", *out] if out else []
