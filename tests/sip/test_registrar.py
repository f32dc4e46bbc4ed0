"""The registrar of IP phones and its digest authentication, without a network."""

from __future__ import annotations

import pytest

from firmware.sip.digest import DigestAuth, answer, parse_params
from firmware.sip.registrar import Binding, PhoneAccount, Registrar

SRC = ("192.168.1.50", 5062)


def registrar() -> Registrar:
    reg = Registrar(DigestAuth("minipbx", b"k" * 32))
    reg.set_accounts([PhoneAccount("110", "s3cret", "Reception", max_contacts=2)])
    return reg


def register(ext: str = "110", contact: str = "<sip:110@192.168.1.50:5062>",
             auth: str | None = None, expires: int | None = None, extra: str = "") -> str:
    lines = ["REGISTER sip:box SIP/2.0",
             "Via: SIP/2.0/UDP 192.168.1.50:5062;branch=z9hG4bKx",
             f"From: <sip:{ext}@box>;tag=1", f"To: <sip:{ext}@box>",
             "Call-ID: abc", "CSeq: 1 REGISTER", f"Contact: {contact}"]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if auth:
        lines.append(f"Authorization: {auth}")
    if extra:
        lines.append(extra)
    return "\r\n".join(lines) + "\r\n\r\n"


def challenge_of(reply_headers: tuple[tuple[str, str], ...], name: str) -> str:
    return dict(reply_headers)[name]


def registered(reg: Registrar, now: float = 100.0, password: str = "s3cret", **kw: object) -> int:
    first = reg.register(register(**kw), SRC, "udp", now)  # type: ignore[arg-type]
    assert first.code == 401
    auth = answer("REGISTER", "sip:box", challenge_of(first.headers, "WWW-Authenticate"),
                  "110", password)
    return reg.register(register(auth=auth, **kw), SRC, "udp", now).code  # type: ignore[arg-type]


def test_register_needs_the_right_password() -> None:
    reg = registrar()
    assert registered(reg) == 200
    [binding] = reg.bindings("110", 101.0)
    assert binding.uri == "sip:110@192.168.1.50:5062"
    reg2 = registrar()
    first = reg2.register(register(), SRC, "udp", 100.0)
    auth = answer("REGISTER", "sip:box", challenge_of(first.headers, "WWW-Authenticate"),
                  "110", "guess")
    wrong = reg2.register(register(auth=auth), SRC, "udp", 100.0)
    assert (wrong.code, wrong.failed_login) == (401, True)
    assert "wrong password" in wrong.note
    assert reg2.bindings("110", 101.0) == []


def test_unknown_user_is_challenged_like_a_known_one_but_counts_as_a_failure() -> None:
    reg = registrar()
    known = reg.register(register("110"), SRC, "udp", 100.0)
    unknown = reg.register(register("199"), SRC, "udp", 100.0)
    assert known.code == unknown.code == 401
    assert [h for h, _ in known.headers] == [h for h, _ in unknown.headers]
    assert (known.failed_login, unknown.failed_login) == (False, True)


def test_outside_the_allow_list_is_forbidden() -> None:
    reg = registrar()
    reply = reg.register(register(), ("203.0.113.9", 5060), "udp", 100.0)
    assert (reply.code, reply.failed_login) == (403, True)


def test_an_answer_for_another_extension_does_not_register() -> None:
    reg = registrar()
    reg.set_accounts([PhoneAccount("110", "a"), PhoneAccount("111", "b")])
    first = reg.register(register("111"), SRC, "udp", 100.0)
    auth = answer("REGISTER", "sip:box", challenge_of(first.headers, "WWW-Authenticate"),
                  "110", "a")
    assert reg.register(register("111", auth=auth), SRC, "udp", 100.0).code == 401


def test_stale_nonce_asks_again_without_a_failure() -> None:
    reg = registrar()
    first = reg.register(register(), SRC, "udp", 100.0)
    auth = answer("REGISTER", "sip:box", challenge_of(first.headers, "WWW-Authenticate"),
                  "110", "s3cret")
    late = reg.register(register(auth=auth), SRC, "udp", 100.0 + 1000)
    assert late.code == 401 and not late.failed_login
    assert "stale=true" in challenge_of(late.headers, "WWW-Authenticate")


def test_an_answer_in_the_same_millisecond_is_not_stale() -> None:
    """The nonce's stamp is milliseconds: a clock of 6164.8626 s must not write "6164.863",
    or an answer 0.2 ms later (a phone on the same host) would come before its own nonce
    and be called stale (seen in the e2e tests)."""
    reg = registrar()
    first = reg.register(register(), SRC, "udp", 6164.8626)
    auth = answer("REGISTER", "sip:box", challenge_of(first.headers, "WWW-Authenticate"),
                  "110", "s3cret")
    assert reg.register(register(auth=auth), SRC, "udp", 6164.8628).code == 200


def test_expiry_min_expires_and_removal() -> None:
    reg = registrar()
    assert registered(reg, expires=30) == 423
    assert registered(reg, expires=120) == 200
    assert len(reg.bindings("110", 219.0)) == 1
    assert reg.bindings("110", 221.0) == []
    assert [ext for ext, _ in reg.expire(221.0)] == ["110"]
    assert registered(reg, now=300.0, expires=120) == 200
    assert registered(reg, now=301.0, contact="*", expires=0) == 200
    assert reg.bindings("110", 302.0) == []


def test_max_contacts_drops_the_oldest() -> None:
    reg = registrar()
    for i, now in enumerate((100.0, 101.0, 102.0)):
        assert registered(reg, now=now, contact=f"<sip:110@192.168.1.50:{5070 + i}>") == 200
    uris = [b.uri for b in reg.bindings("110", 103.0)]
    assert uris == ["sip:110@192.168.1.50:5072", "sip:110@192.168.1.50:5071"]


def test_target_follows_the_source_behind_nat() -> None:
    b = Binding("sip:110@10.0.0.5:5060;ob", ("198.51.100.7", 40001), "udp", 1e9, 0)
    assert b.target() == "sip:110@198.51.100.7:40001;ob"
    b = Binding("sip:110@10.0.0.5;transport=TCP", ("198.51.100.7", 40001), "tcp", 1e9, 0)
    assert b.target() == "sip:110@198.51.100.7:40001;transport=tcp"


def test_invite_from_a_phone_needs_proxy_authorization() -> None:
    reg = registrar()
    invite = ("INVITE sip:101@box SIP/2.0\r\nFrom: <sip:110@box>;tag=9\r\nTo: <sip:101@box>\r\n"
              "Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n")
    assert reg.caller_of(invite, SRC, trunk_source=False) == "110"
    # From a trunk's address, only a registered phone's own source counts as the phone.
    assert reg.caller_of(invite, SRC, trunk_source=True) is None
    first = reg.authorize_invite("110", invite, SRC, 100.0)
    assert first is not None and first.code == 407 and not first.failed_login
    auth = answer("INVITE", "sip:101@box",
                  challenge_of(first.headers, "Proxy-Authenticate"), "110", "s3cret")
    signed = invite.replace("\r\n\r\n", f"\r\nProxy-Authorization: {auth}\r\n\r\n")
    assert reg.authorize_invite("110", signed, SRC, 100.0) is None
    bad = answer("INVITE", "sip:101@box",
                 challenge_of(first.headers, "Proxy-Authenticate"), "110", "nope")
    wrong = invite.replace("\r\n\r\n", f"\r\nProxy-Authorization: {bad}\r\n\r\n")
    reply = reg.authorize_invite("110", wrong, SRC, 100.0)
    assert reply is not None and reply.code == 407 and reply.failed_login


@pytest.mark.parametrize("value", ["Basic abc", "Digest ", 'Digest username="a', "Digest ,,"])
def test_malformed_credentials_are_refused(value: str) -> None:
    reg = registrar()
    reply = reg.register(register(auth=value), SRC, "udp", 100.0)
    assert reply.code == 401 and reply.failed_login


def test_parse_params_handles_quotes_and_commas() -> None:
    params = parse_params('Digest username="a\\"b", uri="sip:x,y", nc=00000001')
    assert params == {"username": 'a"b', "uri": "sip:x,y", "nc": "00000001"}
