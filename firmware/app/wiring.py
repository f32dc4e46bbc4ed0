"""From the configuration to the pieces: the dial plan, the line machines, the trunks.

Everything here is construction; nothing runs.
"""

from __future__ import annotations

from firmware.app import office_wiring as office
from firmware.app.sitewiring import site_links, site_routes, site_trunks
from firmware.config import Config
from firmware.config import FxoPort as FxoConfig
from firmware.config import FxsPort as FxsConfig
from firmware.config.schema import SipUser as SipUserConfig
from firmware.core.errors import ConfigError
from firmware.dsp.profiles import CountryProfile, load_profile
from firmware.lines.fxo import FxoLine
from firmware.lines.fxs import FxsLine
from firmware.lines.ringing import CallerIdPlan
from firmware.lines.timing import HookTiming
from firmware.pbx.digitmap import DigitMap
from firmware.pbx.features import FeatureCodes, LineFeatures
from firmware.pbx.plan import (
    DialPlan,
    Extension,
    InboundRoute,
    LineRoute,
    OutboundRoute,
    Timers,
    Trunk,
)
from firmware.pbx.recpolicy import RecordingPolicy
from firmware.pbx.tollguard import NumberingPlan, Permission
from firmware.sip.registrar import PhoneAccount, phone_leg
from firmware.sip.trunks import TrunkSpec

# How each country profile's caller ID alerting maps onto the line layer's plan.
_ALERTS: dict[str, CallerIdPlan] = {
    "after_first_ring": CallerIdPlan(placement="after_first_ring"),
    "ring_pulse": CallerIdPlan(placement="before_ring", alert="ring_pulse"),
    "polarity_reversal": CallerIdPlan(placement="before_ring", alert="polarity"),
    "polarity_reversal_dual_tone": CallerIdPlan(placement="before_ring", alert="polarity"),
}


def fxs_leg(port: int) -> str:
    return f"fxs{port}"


def fxo_leg(port: int) -> str:
    return f"fxo{port}"


def numbering(country: str | CountryProfile) -> NumberingPlan:
    """The country profile's number classes, for the toll guard (a code or the profile)."""
    spec = (load_profile(country) if isinstance(country, str) else country).numbers
    return NumberingPlan(country_code=spec.country_code, trunk_prefix=spec.trunk_prefix,
                         international=spec.international, premium=spec.premium,
                         national=spec.national, emergency=spec.emergency)


def build_plan(config: Config, profile: CountryProfile | None = None) -> DialPlan:
    """The dial plan, with who may use which trunk (permissions, limits, the country's
    number classes): live apply rebuilds it on every commit. ``profile``, when the caller
    has it loaded already, is ``config.box.country``'s (saves reading it again)."""
    extensions = tuple(
        Extension(number=p.extension, leg=fxs_leg(p.port), name=p.name or f"Ext {p.extension}",
                  outbound_caller_id=p.caller_id or None,
                  permission=Permission.parse(p.permission),
                  max_outbound_calls=p.max_outbound_calls)
        for p in config.fxs
    ) + tuple(
        Extension(number=u.extension, leg=phone_leg(u.extension),
                  name=u.name or f"Ext {u.extension}", outbound_caller_id=u.caller_id or None,
                  permission=Permission.parse(u.permission), phone=True)
        for u in config.sip_user
    )
    digit_map = DigitMap.parse(config.dialplan.digit_map) if config.dialplan.digit_map else None
    return DialPlan(
        extensions=extensions,
        trunks=tuple(Trunk(t.name, max_calls=t.max_calls) for t in config.trunk)
        + tuple(Trunk(s.name) for s in site_trunks(config)),
        outbound=site_routes(config)
        + tuple(OutboundRoute(DigitMap.parse(r.pattern), r.route_trunks, r.strip,
                              r.prepend)
                for r in config.outbound),
        sites=site_links(config),
        inbound=tuple(InboundRoute(r.did, r.extension,
                                   office.switch(r.to, r.closed_to, r.schedule))
                      for r in config.inbound),
        lines=tuple(LineRoute(fxo_leg(p.port), p.extension,
                              office.switch(p.to, p.closed_to, p.schedule))
                    for p in config.fxo),
        groups=office.groups(config),  # the office (firmware/app/office_wiring.py)
        menus=office.menus(config),
        schedules=office.schedules(config),
        timers=Timers(first_digit_s=config.dialplan.first_digit_s,
                      interdigit_s=config.dialplan.interdigit_s,
                      no_answer_s=config.dialplan.no_answer_s),
        digit_map=digit_map,
        numbering=numbering(profile or config.box.country),
        max_international_minutes_per_hour=config.box.max_international_minutes_per_hour,
        recording=recording_policy(config),
        feature_codes=feature_codes(config),
        forwarding=tuple((p.extension, LineFeatures(
            forward_always=p.forward_always, forward_busy=p.forward_busy,
            forward_no_answer=p.forward_no_answer, forward_after_s=p.forward_after_s,
            dnd=p.dnd, hotline=p.hotline, warmline_s=p.warmline_s,
            caller_id_block=p.caller_id_block, reject_anonymous=p.reject_anonymous,
            pickup_group=p.pickup_group, call_waiting=p.call_waiting,
            hold_music=p.hold_music, voicemail=p.voicemail,
            voicemail_pin=p.voicemail_pin, voicemail_after_s=p.voicemail_after_s,
            voicemail_max_s=p.voicemail_max_s, voicemail_greeting=p.voicemail_greeting))
            for p in config.fxs) + tuple((u.extension, phone_features(u))
                                         for u in config.sip_user),
    )


def phone_features(user: SipUserConfig) -> LineFeatures:
    """An IP phone's forwarding, do-not-disturb and mailbox. It takes one call at a time:
    the box offers it no waiting call (flashcalls.py), so its call waiting is off."""
    return LineFeatures(
        forward_always=user.forward_always, forward_busy=user.forward_busy,
        forward_no_answer=user.forward_no_answer, forward_after_s=user.forward_after_s,
        dnd=user.dnd, call_waiting=False, voicemail=user.voicemail,
        voicemail_pin=user.voicemail_pin, voicemail_after_s=user.voicemail_after_s,
        voicemail_max_s=user.voicemail_max_s, voicemail_greeting=user.voicemail_greeting)


def feature_codes(config: Config) -> FeatureCodes:
    """The star codes of [features] (firmware/pbx/features.py)."""
    f = config.features
    return FeatureCodes(
        forward_always_on=f.forward_always_on, forward_always_off=f.forward_always_off,
        forward_busy_on=f.forward_busy_on, forward_busy_off=f.forward_busy_off,
        forward_no_answer_on=f.forward_no_answer_on,
        forward_no_answer_off=f.forward_no_answer_off, dnd_on=f.dnd_on, dnd_off=f.dnd_off,
        hide_number=f.hide_number, pickup=f.pickup, directed_pickup=f.directed_pickup,
        no_call_waiting=f.no_call_waiting,
        voicemail=f.voicemail)


def recording_policy(config: Config) -> RecordingPolicy:
    """Who is recorded (firmware/pbx/recpolicy.py): the record keys that are set."""
    groups = getattr(config, "group", ())  # [[group]] (issue 9) may carry record too
    return RecordingPolicy(
        extensions=tuple((fxs_leg(p.port), p.record) for p in config.fxs if p.record)
        + tuple((phone_leg(u.extension), u.record) for u in config.sip_user if u.record),
        trunks=tuple((t.name, t.record) for t in config.trunk if t.record),
        inbound=tuple((r.did, r.record) for r in config.inbound if r.record),
        groups=tuple((g.name, g.record) for g in groups if getattr(g, "record", "")),
        toggle=config.features.record_toggle,
        consent=(config.recording.consent,) if config.recording.consent else ())


def cid_standard(configured: str, profile: CountryProfile) -> str | None:
    """The caller ID standard of a port: its own setting, else the country's; None = off."""
    standard = configured or profile.caller_id.standard
    if standard == "none":
        return None
    # Japan's V.23 variant differs in framing we do not generate yet: send ETSI V.23.
    return "v23" if standard == "v23_jp" else standard


def hook_timing(port: FxsConfig) -> HookTiming:
    return HookTiming(debounce_ms=port.debounce_ms, flash_min_ms=port.flash_min_ms,
                      flash_max_ms=port.flash_max_ms)


def build_fxs(port: FxsConfig, profile: CountryProfile) -> FxsLine:
    standard = cid_standard(port.caller_id_standard, profile)
    plan = _ALERTS.get(profile.caller_id.alert, CallerIdPlan())
    if standard is None:
        plan = CallerIdPlan(enabled=False)
    cadence = profile.ring.cadence_ms
    if port.ring_pattern:
        cadence = _ring_pattern(port, profile)
    return FxsLine(
        fxs_leg(port.port),
        hook_timing(port),
        cadence,
        profile.ring.frequency_hz,
        plan,
        ring_patterns=dict(profile.ring.distinctive),
        early_tone="dial",
    )


def _ring_pattern(port: FxsConfig, profile: CountryProfile) -> tuple[int, ...]:
    named = dict(profile.ring.distinctive)
    if port.ring_pattern in named:
        return named[port.ring_pattern]
    try:
        steps = tuple(int(s) for s in port.ring_pattern.split("/"))
    except ValueError:
        steps = ()
    if len(steps) < 2 or any(s <= 0 for s in steps):
        known = ", ".join(sorted(named)) or "none"
        raise ConfigError(
            f"fxs port {port.port}: ring_pattern {port.ring_pattern!r} is neither a pattern of "
            f"country {profile.code} ({known}) nor on/off steps like 400/200/400/2000")
    return steps


def build_fxo(port: FxoConfig, profile: CountryProfile) -> FxoLine:
    return FxoLine(
        fxo_leg(port.port),
        cid_standard=cid_standard(port.caller_id_standard, profile),
        # The exchange rings with the country's cadence: it sets when a caller gave up.
        ring_cadence_ms=profile.ring.cadence_ms,
        disconnect_on_polarity="polarity" in port.disconnect,
    )


def build_trunks(config: Config) -> list[TrunkSpec]:
    return [
        TrunkSpec(name=t.name, host=t.host, port=t.port, transport=t.transport,
                  register=t.register, username=t.username, password=t.password,
                  auth_username=t.auth_username, realm=t.realm,
                  outbound_proxy=t.outbound_proxy, expires_s=t.register_expires_s,
                  caller_id=t.caller_id, caller_name=t.caller_name, allow=t.allow,
                  refer=t.refer)
        for t in config.trunk
    ] + site_trunks(config)


def build_phones(config: Config) -> list[PhoneAccount]:
    """The ``[[sip_user]]`` accounts for the registrar."""
    return [PhoneAccount(extension=u.extension, password=u.password, name=u.name,
                         max_contacts=u.max_contacts, allow=u.allow)
            for u in config.sip_user]
