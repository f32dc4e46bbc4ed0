"""The shape of the box's one configuration file, as frozen dataclasses.

Each dataclass is one TOML table; its field names are the TOML keys, in the order the
renderer writes them. A field without a default is required. ``field`` metadata carries the
one-line help text (written as a comment by the renderer) and the allowed range of a number;
``firmware.config.build`` reads it, so a range is stated once, here. Rules that span more
than one value (duplicates, references between tables, flash window) live in
``firmware.config.validate``. The value types and field helpers are in
``firmware.config.fields``, the office and multi-site tables in
``firmware.config.office_schema`` (both importable from here too).

An empty string means "use the default that depends on something else" (the country's
caller ID standard, the trunk's username, the firmware version); the value stays ``""`` in
the configuration so that a file round-trips unchanged, and the ``effective_*`` properties
give the value to use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata

from firmware.config.fields import (
    KNOWN_COUNTRIES,
    MAX_LINE_PORT,
    CallerIdStandard,
    DisconnectMethod,
    DtmfMode,
    PermissionClass,
    RecordChannels,
    RecordMode,
    Transport,
    meta,
    required,
    service,
    setting,
)
from firmware.config.office_schema import (
    CallbackConfig,
    GroupConfig,
    GroupStrategy,
    HubConfig,
    InformConfig,
    MenuConfig,
    PeerSite,
    ScheduleConfig,
    SiteConfig,
)

# Importable from here as before (firmware.config and its users read the whole file's
# shape from one module).
__all__ = [
    "KNOWN_COUNTRIES", "MAX_LINE_PORT", "CallbackConfig", "CallerIdStandard",
    "DisconnectMethod", "DtmfMode", "GroupConfig", "GroupStrategy", "HubConfig",
    "InformConfig", "MenuConfig", "PeerSite", "PermissionClass", "RecordChannels",
    "RecordMode", "ScheduleConfig", "SiteConfig", "Transport", "meta", "required", "service",
    "setting",
]


@dataclass(frozen=True, kw_only=True)
class BoxConfig:
    """[box]: the box itself."""

    name: str = setting("minipbx", "shown in status and in the SIP User-Agent")
    country: str = setting("us", "country profile: tones, ring cadence, caller ID standard")
    board: str = setting("sim", "board profile name (board/<name>.toml) or a path to one")
    max_international_minutes_per_hour: float = setting(
        0.0, "spending guard: international and premium minutes talked in any rolling hour;"
             " once reached, new such calls are refused until the hour frees minutes"
             " (0 = no limit)", lo=0, hi=100000)


@dataclass(frozen=True, kw_only=True)
class SipConfig:
    """[sip]: the box's own SIP and RTP endpoint."""

    bind: str = setting("127.0.0.1", "IP address for SIP and RTP (0.0.0.0 = all)")
    port: int = setting(5060, "SIP port; 0 lets the OS choose (tests)", lo=0, hi=65535)
    transports: tuple[Transport, ...] = setting(("udp",), "SIP transports: udp, tcp, tls")
    rtp_port: int = setting(4000, "first RTP port (even)", lo=1, hi=65534)
    user_agent: str = setting("", 'SIP User-Agent; "" = minipbx/<version>')
    tls_cert: str = setting("", "certificate file (PEM), needed for the tls transport")
    tls_key: str = setting("", "private key file (PEM), needed for the tls transport")
    rtp_timeout_s: int = setting(
        30, "hang up an answered SIP call that has received no RTP this long (0 = never)",
        lo=0, hi=3600)
    phone_min_expires_s: int = setting(
        60, "shortest registration an IP phone ([[sip_user]]) may ask for; shorter gets"
            " 423 Interval Too Brief", lo=10, hi=3600)

    @property
    def effective_user_agent(self) -> str:
        return self.user_agent or f"minipbx/{firmware_version()}"


@dataclass(frozen=True, kw_only=True)
class FxsPort:
    """[[fxs]]: one analog handset port."""

    port: int = required("board port number, from 1", lo=1, hi=MAX_LINE_PORT)
    extension: str = required("the extension number that rings this port")
    name: str = setting("", "caller ID name shown on internal calls")
    caller_id: str = setting("", 'number presented on outbound trunk calls ("" = the trunk\'s)')
    flash_min_ms: int = setting(100, "shortest on-hook taken as a hook flash", lo=50, hi=1500)
    flash_max_ms: int = setting(900, "longest on-hook taken as a hook flash", lo=50, hi=2500)
    debounce_ms: int = setting(12, "hook switch debounce", lo=5, hi=50)
    caller_id_standard: CallerIdStandard = field(
        default="",
        metadata=meta(
            'caller ID sent to the phone: bell202, v23, v23_jp, dtmf, none ("" = the country\'s)'
        ),
    )
    ring_pattern: str = setting(
        "",
        'distinctive ring: a name from the country profile such as "dr2", or on/off ms such'
        ' as "400/200/400/2000" ("" = the country\'s normal ring)',
    )
    permission: PermissionClass = field(
        default="national",
        metadata=meta(
            "farthest calls this port may make through trunks: internal (none), local,"
            " national, international, premium; emergency numbers always pass"
        ),
    )
    max_outbound_calls: int = setting(
        0, "calls this port may have out through trunks at once (0 = no limit)", lo=0, hi=16)
    forward_always: str = service("forward_always")
    forward_busy: str = service("forward_busy")
    forward_no_answer: str = service("forward_no_answer")
    forward_after_s: float = service("forward_after_s")
    dnd: bool = service("dnd")
    hotline: str = setting("", 'lifting the handset dials this number ("" = off); with'
                               " warmline_s, only after that long without a key")
    warmline_s: float = setting(0.0, "warm line: seconds of dial tone before hotline is"
                                     " dialled (0 = at once, a hotline)", lo=0.0, hi=60.0)
    caller_id_block: bool = setting(False, "withhold this port's caller ID on every call"
                                           " (*67 withholds it for one call)")
    reject_anonymous: bool = setting(False, "refuse callers who withhold their number")
    pickup_group: str = setting("", "*8 answers a phone ringing in the same group (\"\" is"
                                    " the group of every port that names none)")
    call_waiting: bool = setting(True, "a call to this handset in a call waits (tone; flash"
                                       " answers it) instead of getting busy (*70 + number"
                                       " turns it off for one call)")
    hold_music: str = setting("builtin:music", 'what a party this handset holds hears: a'
                                                ' prompt such as "builtin:music" or'
                                                ' "file:NAME.wav" ("" = silence)')
    voicemail: bool = service("voicemail")
    voicemail_pin: str = service("voicemail_pin")
    voicemail_after_s: float = service("voicemail_after_s")
    voicemail_max_s: float = service("voicemail_max_s")
    voicemail_greeting: str = service("voicemail_greeting")
    record: RecordMode = field(
        default="", metadata=meta(
            'call recording: always, never, on_demand (the [features] record_toggle code'
            ' starts and stops it) ("" = not set; never wins, then always, then on_demand)'))
    echo_cancel: bool = setting(True, "cancel the line's hybrid echo on calls that leave the"
                                      " box (SIP, FXO lines); never between two handsets")
    echo_tail_ms: int = setting(64, "longest echo the canceller models (bulk delay included)",
                                lo=8, hi=64)

    @property
    def ring_cadence_ms(self) -> tuple[int, ...]:
        """The ring pattern when given in ms; empty when it is "" or a profile name."""
        if not self.ring_pattern[:1].isdigit():
            return ()
        return tuple(int(p) for p in self.ring_pattern.split("/"))


@dataclass(frozen=True, kw_only=True)
class FxoPort:
    """[[fxo]]: one PSTN line port."""

    port: int = required("board port number, from 1", lo=1, hi=MAX_LINE_PORT)
    extension: str = setting(
        "", 'the extension that rings for an incoming PSTN call (or use to = "menu:main")')
    to: str = setting("", 'where an incoming PSTN call goes, a destination such as'
                          ' "group:sales" or "menu:main" (in place of extension)')
    closed_to: str = setting("", 'where it goes while schedule is closed ("" = to)')
    schedule: str = setting("", 'the [[schedule]] whose hours choose to or closed_to')
    caller_id_standard: CallerIdStandard = field(
        default="",
        metadata=meta(
            'caller ID the line sends: bell202, v23, v23_jp, dtmf, none ("" = the country\'s)'
        ),
    )
    disconnect: tuple[DisconnectMethod, ...] = setting(
        ("loop_current", "tone"), "far-end hang-up detection: loop_current, polarity, tone, silence"
    )
    echo_cancel: bool = setting(True, "cancel the line's hybrid echo while it is in a call")
    echo_tail_ms: int = setting(64, "longest echo the canceller models (bulk delay included)",
                                lo=8, hi=64)


@dataclass(frozen=True, kw_only=True)
class Trunk:
    """[[trunk]]: one SIP provider or peer box."""

    name: str = required("the trunk's name, used by outbound routes")
    host: str = required("the provider's SIP server (host name or address, no port)")
    port: int = setting(5060, "the provider's SIP port", lo=1, hi=65535)
    transport: Transport = field(
        default="udp", metadata=meta("udp, tcp or tls (must be in sip.transports)")
    )
    register: bool = setting(True, "register to the provider")
    username: str = setting("", "account user name")
    password: str = field(default="", repr=False, metadata=meta("account password"))
    auth_username: str = setting("", 'user name for authentication ("" = username)')
    realm: str = setting("*", 'authentication realm ("*" = any)')
    outbound_proxy: str = setting("", 'send everything through this proxy, "sip:host:port"')
    register_expires_s: int = setting(300, "registration lifetime", lo=60, hi=86400)
    caller_id: str = setting("", 'number presented (From user) ("" = username)')
    caller_name: str = setting("", "name presented (From display name)")
    dtmf: DtmfMode = field(default="rfc4733", metadata=meta("how digits are sent: rfc4733"))
    refer: bool = setting(
        True, "hand a transfer between two of this trunk's calls to the far end by REFER"
              " where it allows REFER (false: the box always bridges them itself)")
    allow: tuple[str, ...] = setting(
        (), "more addresses or networks (203.0.113.0/24) that may send this trunk's calls; "
            "host and outbound_proxy always may")
    max_calls: int = setting(
        0, "calls out through this trunk at once; when full, routes try their next trunk"
           " (0 = no limit)", lo=0, hi=1000)
    record: RecordMode = field(
        default="", metadata=meta(
            'call recording: always, never, on_demand (the [features] record_toggle code'
            ' starts and stops it) ("" = not set; never wins, then always, then on_demand)'))

    @property
    def effective_auth_username(self) -> str:
        return self.auth_username or self.username

    @property
    def effective_caller_id(self) -> str:
        return self.caller_id or self.username


@dataclass(frozen=True, kw_only=True)
class SipUser:
    """[[sip_user]]: an IP phone or softphone that registers here as an extension."""

    extension: str = required("the extension number; the phone registers with it as user")
    password: str = required("the phone's SIP password (digest authentication)")
    name: str = setting("", "caller ID name shown on internal calls")
    max_contacts: int = setting(3, "registrations kept at once (a new one pushes out the"
                                   " oldest)", lo=1, hi=10)
    allow: tuple[str, ...] = setting(
        ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "fc00::/7",
         "fe80::/10", "::1/128"),
        "networks the phone may register and call from (default: private networks)")
    caller_id: str = setting("", 'number presented on outbound trunk calls ("" = the trunk\'s)')
    permission: PermissionClass = field(
        default="national",
        metadata=meta(
            "farthest calls this phone may make through trunks: internal (none), local,"
            " national, international, premium; emergency numbers always pass"
        ),
    )
    forward_always: str = service("forward_always")
    forward_busy: str = service("forward_busy")
    forward_no_answer: str = service("forward_no_answer")
    forward_after_s: float = service("forward_after_s")
    dnd: bool = service("dnd")
    voicemail: bool = service("voicemail")
    voicemail_pin: str = service("voicemail_pin")
    voicemail_after_s: float = service("voicemail_after_s")
    voicemail_max_s: float = service("voicemail_max_s")
    voicemail_greeting: str = service("voicemail_greeting")
    record: RecordMode = field(
        default="", metadata=meta(
            'call recording: always, never, on_demand (the phone keys [features]'
            ' record_toggle) ("" = not set)'))


@dataclass(frozen=True, kw_only=True)
class DialPlanConfig:
    """[dialplan]: digit collection."""

    digit_map: str = setting("", 'digit map ("" = built from extensions and routes)')
    interdigit_s: float = setting(4.0, "wait for the next digit", lo=1.0, hi=60.0)
    first_digit_s: float = setting(15.0, "wait for the first digit", lo=1.0, hi=120.0)
    no_answer_s: float = setting(60.0, "ring an extension this long", lo=5.0, hi=600.0)


@dataclass(frozen=True, kw_only=True)
class OutboundRoute:
    """[[outbound]]: dialled numbers that leave through a trunk; the first match wins."""

    pattern: str = required('digit map pattern such as "9x."')
    trunk: str = setting("", 'the [[trunk]] (or PSTN line "fxo<port>") to use; or use trunks')
    trunks: tuple[str, ...] = setting(
        (), 'failover order such as ["provider", "backup", "fxo1"]: a new call tries the next'
            " when one is full, unregistered or fails (503, 408, no circuit, line busy)")
    strip: int = setting(0, "digits removed from the front before sending", lo=0, hi=20)
    prepend: str = setting("", "digits added to the front after stripping")
    via: str = setting(
        "", 'another office whose trunk or line carries these calls first, "site:NAME";'
            " if it is unreachable, trunk or trunks are tried next")

    @property
    def route_trunks(self) -> tuple[str, ...]:
        """The trunks to try, in order (``trunk`` is a list of one; ``via`` comes first)."""
        first = (self.via,) if self.via else ()
        return first + (self.trunks or ((self.trunk,) if self.trunk else ()))


@dataclass(frozen=True, kw_only=True)
class InboundRoute:
    """[[inbound]]: calls from trunks, by the number they were made to."""

    did: str = setting("*", 'the called number (DID); "*" = any')
    extension: str = setting("", 'the extension that rings (or use to = "menu:main")')
    to: str = setting("", 'where the call goes, a destination: ext:101, group:sales,'
                          ' menu:main, announce:PROMPT, voicemail:101, dial:NUMBER, hangup'
                          ' (in place of extension)')
    closed_to: str = setting("", 'where it goes while schedule is closed ("" = to)')
    schedule: str = setting("", 'the [[schedule]] whose hours choose to or closed_to')
    record: RecordMode = field(
        default="", metadata=meta(
            'call recording: always, never, on_demand (the [features] record_toggle code'
            ' starts and stops it) ("" = not set; never wins, then always, then on_demand)'))


@dataclass(frozen=True, kw_only=True)
class FeaturesConfig:
    """[features]: codes a handset keys during a call."""

    record_toggle: str = setting(
        "*1", "keyed in a call whose recording is on_demand: starts or stops recording")
    forward_always_on: str = setting("*72", "dialled with a number: forward every call")
    forward_always_off: str = setting("*73", "forward-always off")
    forward_busy_on: str = setting("*90", "dialled with a number: forward when busy")
    forward_busy_off: str = setting("*91", "forward-busy off")
    forward_no_answer_on: str = setting("*92", "dialled with a number: forward when not"
                                               " answered")
    forward_no_answer_off: str = setting("*93", "forward-no-answer off")
    dnd_on: str = setting("*78", "do not disturb on")
    dnd_off: str = setting("*79", "do not disturb off")
    hide_number: str = setting("*67", "dialled before a number: that call shows no caller ID")
    pickup: str = setting("*8", "answer a phone ringing in one's pickup group")
    directed_pickup: str = setting("**", "dialled with an extension: answer it while it"
                                         " rings")
    no_call_waiting: str = setting("*70", "dialled before a number: no call waiting during"
                                          " that call")
    voicemail: str = setting("*98", "one's mailbox by phone; dialled with an extension:"
                                    " that mailbox (PIN asked)")


@dataclass(frozen=True, kw_only=True)
class RecordingConfig:
    """[recording]: where and how calls are recorded (who is recorded: the record keys)."""

    channels: RecordChannels = field(
        default="stereo",
        metadata=meta("stereo (caller left, callee right) or mono (both mixed)"))
    path: str = setting("", 'folder for recordings ("" = recordings/ in the state dir)')
    max_gb: float = setting(
        0.0, "recordings may use this much disk; the oldest go first (0 = no limit)",
        lo=0, hi=100000)
    keep_days: int = setting(0, "delete recordings older than this (0 = keep)", lo=0,
                             hi=36500)
    consent: str = setting(
        "", 'prompt played to both sides before recording starts, such as'
            ' "builtin:recording_notice" ("" = none)')


@dataclass(frozen=True, kw_only=True)
class RecordsConfig:
    """[records]: how long call records (cdr.sqlite in the state dir) are kept."""

    keep_days: int = setting(
        400, "delete call records that ended longer ago than this (0 = keep)", lo=0,
        hi=36500)
    max_records: int = setting(
        500000, "keep at most this many call records; the oldest go first (0 = no limit)",
        lo=0, hi=100_000_000)


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    """[web]: the setup web page served by the box."""

    enabled: bool = setting(True, "serve the setup web page")
    bind: str = setting("127.0.0.1", "IP address of the web page (0.0.0.0 = all)")
    port: int = setting(8080, "TCP port of the web page; 0 lets the OS choose (tests)",
                        lo=0, hi=65535)
    tls_cert: str = setting("", 'certificate file (PEM) for HTTPS ("" = plain HTTP)')
    tls_key: str = setting("", "private key file (PEM) for HTTPS")


@dataclass(frozen=True, kw_only=True)
class ConsoleConfig:
    """[console]: the installer's serial console."""

    device: str = setting("", 'serial device such as "/dev/ttyAMA0" ("" = no console)')
    baud: int = setting(115200, "serial speed in bit/s", lo=300, hi=4000000)
    idle_logout_s: int = setting(600, "log out after this long without a key (0 = never)",
                                 lo=0, hi=86400)


@dataclass(frozen=True, kw_only=True)
class Config:
    """The whole configuration file."""

    box: BoxConfig = field(default_factory=BoxConfig)
    sip: SipConfig = field(default_factory=SipConfig)
    fxs: tuple[FxsPort, ...] = ()
    fxo: tuple[FxoPort, ...] = ()
    trunk: tuple[Trunk, ...] = ()
    sip_user: tuple[SipUser, ...] = ()
    dialplan: DialPlanConfig = field(default_factory=DialPlanConfig)
    outbound: tuple[OutboundRoute, ...] = ()
    inbound: tuple[InboundRoute, ...] = ()
    group: tuple[GroupConfig, ...] = ()
    menu: tuple[MenuConfig, ...] = ()
    schedule: tuple[ScheduleConfig, ...] = ()
    web: WebConfig = field(default_factory=WebConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    hub: HubConfig = field(default_factory=HubConfig)
    peer_site: tuple[PeerSite, ...] = ()
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    records: RecordsConfig = field(default_factory=RecordsConfig)
    inform: InformConfig = field(default_factory=InformConfig)
    callback: CallbackConfig = field(default_factory=CallbackConfig)

    @property
    def extensions(self) -> tuple[str, ...]:
        """Every extension a call can ring: the FXS ports' and the IP phones'."""
        return tuple(p.extension for p in self.fxs) + tuple(u.extension for u in self.sip_user)


def firmware_version() -> str:
    try:
        return metadata.version("minipbx")
    except metadata.PackageNotFoundError:
        return "0+unknown"
