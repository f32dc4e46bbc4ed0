"""The office and multi-site tables of the configuration file: hunt groups, voice menus,
office hours, the auto-informer, the web call-back, this site and its hub and peer sites.
``firmware.config.schema`` holds the rest and the whole file (``Config``); the rules of
that module's docstring hold here too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from firmware.config.fields import PermissionClass, RecordMode, Transport, meta, required, setting

GroupStrategy = Literal["ringall", "linear", "circular", "roundrobin", "leastrecent"]


@dataclass(frozen=True, kw_only=True)
class GroupConfig:
    """[[group]]: a hunt group: several members behind one number (docs/office.md)."""

    name: str = required('the group\'s name; destinations say "group:NAME"')
    number: str = setting("", 'internal number that rings the group ("" = none)')
    members: tuple[str, ...] = setting((), "member extensions, in hunt order")
    strategy: GroupStrategy = field(default="ringall", metadata=meta(
        "ringall (all at once), linear (in order), circular (each call starts one further),"
        " roundrobin (after who answered last), leastrecent (who answered longest ago)"))
    ring_s: float = setting(15.0, "ring each member this long (sequential strategies)",
                            lo=1.0, hi=600.0)
    total_s: float = setting(60.0, "give up (overflow) after this long; 0 = once round"
                                   " (without queue)", lo=0.0, hi=3600.0)
    overflow: str = setting("", 'destination when nobody answers or all are busy ("" ='
                                " the caller is told busy or no answer)")
    skip_busy: bool = setting(True, "pass a busy member at once (else wait its ring_s)")
    queue: bool = setting(False, "callers wait with music while every member is busy")
    max_wait_s: float = setting(300.0, "queue: longest wait from arrival, then overflow"
                                       " (0 = no limit)", lo=0.0, hi=86400.0)
    max_callers: int = setting(0, "queue: most callers waiting; more go to overflow"
                                  " (0 = no limit)", lo=0, hi=1000)
    announce_position: bool = setting(False, "queue: tell a caller their place in line")
    announce_every_s: float = setting(0.0, "queue: tell a waiting caller their place again"
                                           " this often (0 = on arrival only; 15 to 600)",
                                      lo=0.0, hi=600.0)
    record: RecordMode = field(
        default="", metadata=meta(
            'call recording of the group\'s calls: always, never, on_demand ("" = not set)'))


@dataclass(frozen=True, kw_only=True)
class MenuConfig:
    """[[menu]]: a voice menu (IVR): a prompt, and a destination per key (docs/office.md)."""

    name: str = required('the menu\'s name; destinations say "menu:NAME"')
    number: str = setting("", 'internal number that reaches the menu ("" = none)')
    prompt: str = required("what the caller hears: builtin:NAME, file:NAME.wav or"
                           " say:LANG:TEXT")
    language: str = setting("", 'language of the prompts such as "am", "en" ("" = the'
                                " box's)")
    choices: tuple[str, ...] = field(default=(), metadata={**meta(
        'key=destination such as "1=group:sales", or "0=ext:101|announce:closed@office" for'
        " office hours; in the file also a table { \"1\" = \"group:sales\" }"),
        "pairs": True})
    dial_extensions: bool = setting(True, "typing a whole internal number works too")
    timeout_s: float = setting(5.0, "silence after the prompt before it counts as no"
                                    " answer", lo=1.0, hi=120.0)
    repeats: int = setting(2, "how many more times the prompt plays after the first",
                           lo=0, hi=10)
    on_timeout: str = setting("hangup", "destination when no choice came")
    on_invalid: str = setting("hangup", "destination after too many invalid choices")


@dataclass(frozen=True, kw_only=True)
class ScheduleConfig:
    """[[schedule]]: office hours, for to/closed_to on routes and menu choices."""

    name: str = required("the schedule's name; routes and choices say schedule = NAME")
    weekdays: tuple[str, ...] = setting(("mon-fri",), 'open days: mon..sun or ranges'
                                                      ' such as "mon-fri"')
    hours: str = setting("09:00-18:00", 'open hours such as "09:00-13:00,14:00-18:00"'
                                        ' (24:00 = midnight)')
    holidays: tuple[str, ...] = setting((), 'closed dates such as "2026-12-25"')
    timezone: str = setting("UTC", 'IANA time zone such as "Europe/Berlin"')


@dataclass(frozen=True, kw_only=True)
class InformConfig:
    """[inform]: the auto-informer's campaigns (``minipbx inform start``, docs/informer.md)."""

    permission: PermissionClass = field(
        default="national",
        metadata=meta(
            "farthest calls a campaign may make through trunks: internal (extensions only),"
            " local, national, international, premium (the toll guard's classes)"))
    reserve: int = setting(
        1, "channels of each way out (SIP call slots, a trunk's max_calls, an FXO line) a"
           " campaign leaves free for people", lo=1, hi=8)
    confirm_wait_s: float = setting(
        10.0, "after the message, wait this long for the confirmation digit", lo=1, hi=120)
    no_answer_s: float = setting(30.0, "ring a campaign's number this long", lo=5, hi=300)


@dataclass(frozen=True, kw_only=True)
class CallbackConfig:
    """[callback]: the web call-back (POST /callback, /callback/widget.js)."""

    enabled: bool = setting(False, "take call-back requests from web sites")
    to: str = setting("", 'who is rung first, a destination such as "group:sales" or'
                          ' "ext:101"; the member who answers hears the visitor\'s number')
    allowed: tuple[str, ...] = setting(
        (), 'digit-map patterns of the numbers that may be called back, as the visitor types'
            ' them and as dialled here, such as ["9x."]')
    token: str = field(default="", repr=False, metadata=meta(
        "shared secret the web site's form sends with each request (16 characters or more)"))
    per_address_per_hour: int = setting(
        5, "requests one address may make in any hour (0 = no limit)", lo=0, hi=10000)
    per_number_per_hour: int = setting(
        2, "requests for one number in any hour (0 = no limit)", lo=0, hi=1000)
    schedule: str = setting(
        "", 'office hours: a [[schedule]] name; outside them requests are refused'
            ' ("" = always)')
    origins: tuple[str, ...] = setting(
        (), 'web sites whose pages may send requests from the browser (CORS), such as'
            ' ["https://www.example.com"]')
    attempts: int = setting(3, "tries per request (office and visitor)", lo=1, hi=10)
    retry_after_s: float = setting(120.0, "wait between tries", lo=10, hi=86400)
    permission: PermissionClass = field(
        default="national",
        metadata=meta("farthest calls back the box may make (the toll guard's classes);"
                      " premium-rate numbers are always refused"))


@dataclass(frozen=True, kw_only=True)
class SiteConfig:
    """[site]: this box's office in an organisation of several (docs/multisite.md)."""

    name: str = setting(
        "", 'this office\'s site name: its user name at the hub, and "site:NAME" in the'
            ' routes of other sites ("" = a single box, no sites)')
    prefix: str = setting(
        "", 'short numbers of this site, a fixed-length digit-map pattern such as "1xx"'
            ' (100-199) or "2[0-4]x"; alternatives joined by |')
    transit: PermissionClass = field(
        default="internal",
        metadata=meta(
            "farthest calls other sites may send out through this site's trunks and lines"
            ' (their routes with via = "site:NAME"): internal (none), local, national,'
            " international, premium"))


@dataclass(frozen=True, kw_only=True)
class HubConfig:
    """[hub]: the Kamailio proxy every site registers to (minipbx hub render)."""

    host: str = setting("", 'the hub\'s host name or address ("" = no hub)')
    port: int = setting(5060, "the hub's SIP port", lo=1, hi=65535)
    transport: Transport = field(
        default="udp", metadata=meta("udp, tcp or tls (must be in sip.transports; tls uses"
                                     " sip.tls_cert and sip.tls_key)"))
    username: str = setting("", 'user name for digest authentication ("" = site.name)')
    password: str = field(default="", repr=False,
                          metadata=meta("this site's password at the hub"))
    realm: str = setting("*", 'authentication realm ("*" = the hub\'s)')
    register_expires_s: int = setting(120, "registration lifetime; the box registers again"
                                           " by itself when the hub comes back", lo=60,
                                      hi=3600)
    ping_interval_s: int = setting(
        10, "OPTIONS to the hub and through it to each other site, for status (state and"
            " round-trip time) (0 = off)", lo=0, hi=3600)
    shared: tuple[str, ...] = setting(
        (), 'numbers several sites serve, such as ["500"] (the [[shared]] of the hub): dialled'
            " here they go to the hub, which tries those sites in order")


@dataclass(frozen=True, kw_only=True)
class PeerSite:
    """[[peer_site]]: another office of the organisation and its numbers."""

    name: str = required('the other site\'s [site] name; routes say "site:NAME"')
    prefix: str = required('its short numbers, a pattern like "2xx" (see [site] prefix)')
    host: str = setting("", '"" = reached through the [hub]; else that site\'s box,'
                            " reached directly")
    port: int = setting(5060, "its SIP port, when reached directly", lo=1, hi=65535)
    transport: Transport = field(default="udp", metadata=meta(
        "udp, tcp or tls, when reached directly (must be in sip.transports)"))
    fallback: str = setting(
        "", 'local extension that rings instead when the site cannot be reached'
            ' ("" = the caller hears the congestion tone)')
