"""``minipbx run``: build the box from the configuration and run it until stopped.

Order matters: pjsua2 first (the media switch's ports need its bridge), then the board,
the box, the SIP adapter, and the control socket last, so a client never reaches a half
built daemon. Shutdown runs in reverse and drops every pjsua2 object before the library.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from drivers.base import FxsPort
from drivers.sim import SimBoard
from firmware import __version__
from firmware.app import logsink, office_wiring, wiring
from firmware.app.boards import build_board
from firmware.app.box import Box
from firmware.app.cdrdb import CdrDb, open_records, store_or_none
from firmware.app.consoleapp import start_console
from firmware.app.control import SOCKET_NAME, ControlServer
from firmware.app.lifecycle import RESTART, build_manager, reexec
from firmware.app.linefeatures import LineFeatureStore
from firmware.app.load import LoadMeter, sample_load
from firmware.app.notify import sd_notify, watchdog_period_s
from firmware.app.officecalls import start_office_calls
from firmware.app.promptctl import start_prompts
from firmware.app.recorder import start_recorder
from firmware.app.sippoll import poll_sip
from firmware.app.sitewatch import SiteWatch
from firmware.app.startup import Startup, start_config
from firmware.app.system import RunningSystem
from firmware.app.voicemail_app import start_voicemail
from firmware.app.webapp import start_web
from firmware.commands.builtin import table
from firmware.config import Config
from firmware.core.errors import ConfigError
from firmware.dsp.profiles import ProfileError, available_profiles, load_profile
from firmware.pbx.exchange import Exchange
from firmware.sip.adapter import MAX_CALLS, SipAdapter
from firmware.sip.endpoint import SipEndpoint, TransportError, TransportSpec
from firmware.sip.switch import MediaSwitch

log = logging.getLogger("minipbx")

# How often call records a full disk refused are written again (firmware/app/cdrlog.py).
RECORDS_RETRY_S = 2.0


def run_daemon(state_dir: Path, config_path: Path | None, board: str | None,
               log_level: str = "info") -> int:
    logsink.install(log_level)
    logging.getLogger("pjsip").setLevel(logging.WARNING)
    try:
        # The state dir's saved configuration runs; --config seeds or replaces it.
        startup = start_config(state_dir, config_path, available_profiles())
        config = startup.config
        if board:
            config = replace(config, box=replace(config.box, board=board))
        profile = load_profile(config.box.country)
    except (ConfigError, ProfileError, OSError) as exc:
        print(f"minipbx: {exc}", file=sys.stderr)
        return 2
    log.info("configuration: %s", startup.origin)
    try:
        code = asyncio.run(_serve(config, profile, state_dir, startup, board))
    except (ConfigError, TransportError) as exc:
        print(f"minipbx: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    if code == RESTART:
        reexec()
    return code


async def _serve(config: Config, profile: Any, state_dir: Path, startup: Startup,
                 board_override: str | None) -> int:
    loop = asyncio.get_running_loop()
    endpoint = SipEndpoint(config.sip.user_agent or f"minipbx/{__version__}")
    try:
        return await _serve_with(loop, endpoint, config, profile, state_dir, startup,
                                 board_override)
    finally:
        endpoint.shutdown()


async def _serve_with(loop: asyncio.AbstractEventLoop, endpoint: SipEndpoint, config: Config,
                      profile: Any, state_dir: Path, startup: Startup,
                      board_override: str | None) -> int:
    sip = config.sip
    port = sip.port
    for kind in sip.transports:
        bound = endpoint.add_transport(TransportSpec(
            kind, sip.bind, port, sip.tls_cert, sip.tls_key))
        # Later transports take the next port; with port 0 every one picks its own.
        port = bound.port + 1 if port else 0
    endpoint.start()
    switch = MediaSwitch(endpoint.null_sink())
    endpoint.on_shutdown(switch.close)
    built = build_board(config.box.board, config)
    board = built.board
    exchange = Exchange(wiring.build_plan(config, profile),
                        wall=office_wiring.wall_clock())  # office hours' clock
    for p in config.fxs:
        # Boards that classify pulses and flashes in hardware use the port's windows too.
        line_port = board.port("fxs", p.port)
        assert isinstance(line_port, FxsPort)
        line_port.configure_hook(wiring.hook_timing(p))
    fxs = [(board.port("fxs", p.port), wiring.build_fxs(p, profile), p.extension,
            wiring.cid_standard(p.caller_id_standard, profile)) for p in config.fxs]
    fxo = [(board.port("fxo", p.port), wiring.build_fxo(p, profile), p.extension,
            wiring.cid_standard(p.caller_id_standard, profile)) for p in config.fxo]
    box = Box(loop, board, profile, exchange, switch, fxs, fxo)  # type: ignore[arg-type]
    for line_kind, ports in (("fxs", config.fxs), ("fxo", config.fxo)):  # lineecho.py
        for q in ports:
            box.configure_echo(f"{line_kind}{q.port}", q.echo_cancel, q.echo_tail_ms)
    endpoint.on_shutdown(box.close)
    endpoint.on_shutdown(built.close)
    first = next(iter(endpoint.transports.values()))

    def defer(fn: Callable[[], None]) -> None:
        loop.call_soon(fn)

    adapter = SipAdapter(endpoint, switch, wiring.build_trunks(config), sip.bind, first.port,
                         sip.rtp_port, emit=box.deliver_up, defer=defer, max_calls=MAX_CALLS,
                         rtp_timeout_s=sip.rtp_timeout_s)
    box.sip = adapter
    exchange.set_refer_check(adapter.can_refer)  # transfers by REFER (pbx/referral.py)
    box.recorder = start_recorder(loop, config, state_dir, switch)  # firmware/app/recorder.py
    # [[sip_user]]: the box's IP phones, for the registrar.
    adapter.set_phones(wiring.build_phones(config), config.sip.phone_min_expires_s)
    cdr = open_records(state_dir, config, box)  # call records (firmware/app/cdrdb.py)
    box.on_records = cdr.append
    # Forwarding and do-not-disturb as star codes set them (firmware/app/linefeatures.py).
    line_features = LineFeatureStore(state_dir, exchange)
    line_features.load()
    box.after_run.append(line_features.save_if_changed)
    box.start()
    built.start_audio()

    system = RunningSystem(config, profile, box, adapter, endpoint, board, state_dir=state_dir)
    system.cdr = cdr
    system.line_features = line_features
    system.sites = SiteWatch(config, lambda: _register_hub(adapter))
    await system.sites.start()
    system.meter = LoadMeter(lambda: store_or_none(cdr), system.status, groups=lambda: {
        g.name: g.members for g in system.running_config.group})
    # The auto-informer and the web call-back (firmware/app/officecalls.py).
    start_office_calls(loop, box, adapter, system, state_dir)
    stop = asyncio.Event()
    restart = asyncio.Event()
    manager = build_manager(startup, state_dir, system, board_override, restart, stop)
    manager.watch(cdr.follow)  # [records] retention changes apply at once
    system.prompt_control = start_prompts(loop, state_dir, config, box, manager)
    # Voicemail: messages, the mailbox menu's files, the lamp (firmware/app/voicemail_app.py).
    system.voicemail = start_voicemail(loop, state_dir, box, exchange,
                                       system.prompt_control.cache,
                                       lambda: system.running_config)
    endpoint.on_shutdown(system.voicemail.close)
    manager.watch(system.voicemail.reconfigured)  # a mailbox switched on by a commit
    control = ControlServer(state_dir / SOCKET_NAME, table, system)
    await control.start()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    poller = asyncio.create_task(poll_sip(endpoint, adapter, stop))  # sippoll.py
    _announce(config, endpoint, state_dir, simulated=isinstance(board, SimBoard))
    web = await start_web(config.web, table, system)
    consoles = await start_console(config.console, table, system, state_dir)
    sd_notify("READY=1\nSTATUS=running")
    watchdog = asyncio.create_task(_watchdog(stop))
    records = asyncio.create_task(_retry_records(cdr, stop))
    sampler = asyncio.create_task(sample_load(system.meter, stop))
    try:
        await stop.wait()
    finally:
        log.info("restarting" if restart.is_set() else "stopping")
        sd_notify("RELOADING=1" if restart.is_set() else "STOPPING=1")
        watchdog.cancel()
        records.cancel()
        sampler.cancel()
        manager.close()
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
        await consoles.close()
        await web.close()
        await control.close()
        await system.sites.close()
        cdr.flush()
        cdr.close()
    return RESTART if restart.is_set() else 0


def _register_hub(adapter: SipAdapter) -> None:
    """The hub forgot this site (it restarted) or is back: REGISTER now."""
    if "hub" in adapter.trunks:
        adapter.register_now("hub")


async def _watchdog(stop: asyncio.Event) -> None:
    """WATCHDOG=1 from the loop at half systemd's interval (firmware/app/notify.py): a loop
    stuck anywhere stops the pings, and systemd restarts the box."""
    period = watchdog_period_s()
    if period is None:
        return
    log.info("systemd watchdog: pinging every %.1f s", period)
    while not stop.is_set():
        sd_notify("WATCHDOG=1")
        await asyncio.sleep(period)


async def _retry_records(cdr: CdrDb, stop: asyncio.Event) -> None:
    """Records that wait in memory go out once the disk has room again, whether or not
    anyone asks for the status."""
    while not stop.is_set():
        await asyncio.sleep(RECORDS_RETRY_S)
        cdr.flush()  # nothing waiting: returns at once


def _me() -> str:
    """How the person who started us runs minipbx (`minipbx`, or `.venv/bin/minipbx`)."""
    argv0 = sys.argv[0]
    found = shutil.which("minipbx")
    if found and Path(argv0).name == "minipbx" and Path(found).resolve() == Path(argv0).resolve():
        return "minipbx"
    return argv0 if Path(argv0).name == "minipbx" else "minipbx"


def _announce(config: Config, endpoint: SipEndpoint, state_dir: Path,
              simulated: bool) -> None:
    listen = ", ".join(f"{t.kind} {t.host}:{t.port}" for t in endpoint.transports.values())
    exts = ", ".join(f"phone {p.port} = {p.extension}" for p in config.fxs)
    sd = f"{_me()} --state-dir {state_dir}"
    callee = config.fxs[1].extension if len(config.fxs) > 1 else "101"
    head = (f"minipbx {__version__} running on board {config.box.board}, country "
            f"{config.box.country}; SIP on {listen}\n  handsets: {exts}")
    if not simulated:
        print(f"{head}\n  {sd} status shows the ports; Ctrl-C stops the box.",
              file=sys.stderr, flush=True)
        return
    print(
        f"{head}\n"
        f"  try:  {sd} sim phone 1 offhook\n"
        f"        {sd} sim phone 1 dial {callee}\n"
        f"        {sd} sim phone 2 offhook   (answers)\n"
        f"        {sd} status\n"
        f"  Ctrl-C stops the box.",
        file=sys.stderr, flush=True)
