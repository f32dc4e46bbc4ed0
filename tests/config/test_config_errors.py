"""Every way a configuration can be refused names the file, the line and the key.

Each case is a small file and the exact message the user reads; the message must also say
what is wrong and, where there is one, the fix.
"""

from __future__ import annotations

import pytest

from firmware.config import InvalidConfigError, parse_config
from firmware.core.errors import ConfigError

PHONES = """\
[[fxs]]
port = 1
extension = "101"

[[fxs]]
port = 2
extension = "102"
"""
"""Two valid handsets on lines 1 to 7, for cases that need extensions to exist."""

TRUNK = """\
[[trunk]]
name = "provider"
host = "sip.example.net"
username = "5551000"
"""


def refusal(text: str) -> str:
    """The message of the error ``text`` is refused with; every problem in it is located."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "config.toml")
    assert isinstance(info.value, InvalidConfigError)
    assert all(p.line is not None and p.key for p in info.value.problems)
    return str(info.value)


CASES = [
    # --- one value on its own: type, range, fixed choices, unknown keys ---
    pytest.param(
        PHONES + "flash_min_ms = 100\nflash_max_ms = 50\n",
        "config.toml:9: fxs[1].flash_max_ms: must be greater than flash_min_ms (100), got 50",
        id="flash-window-reversed",
    ),
    pytest.param(
        PHONES + "debounce_ms = 50\nflash_min_ms = 50\n",
        "config.toml:9: fxs[1].flash_min_ms: must be greater than debounce_ms (50), got 50",
        id="flash-shorter-than-debounce",
    ),
    pytest.param(
        PHONES + "debounce_ms = 3\n",
        "config.toml:8: fxs[1].debounce_ms: must be between 5 and 50, got 3",
        id="debounce-range",
    ),
    pytest.param(
        "[sip]\nport = 70000\n",
        "config.toml:2: sip.port: must be between 0 and 65535, got 70000",
        id="sip-port-range",
    ),
    pytest.param(
        '[sip]\nbind = "0.0.0.0"\nrtp_port = 4001\n',
        "config.toml:3: sip.rtp_port: must be even (RTCP takes the odd port), got 4001",
        id="rtp-port-odd",
    ),
    pytest.param(
        '[sip]\nport = "5060"\n',
        'config.toml:2: sip.port: must be a whole number, got "5060" (text);'
        " write it without quotes",
        id="number-in-quotes",
    ),
    pytest.param(
        "[[fxs]]\nport = 1\nextension = 101\n",
        'config.toml:3: fxs[0].extension: must be text in quotes, got 101; write it as "101"',
        id="extension-without-quotes",
    ),
    pytest.param(
        "[box]\nname = true\n",
        "config.toml:2: box.name: must be text in quotes, got true",
        id="text-expected",
    ),
    pytest.param(
        '[[fxs]]\nport = 1.5\nextension = "101"\n',
        "config.toml:2: fxs[0].port: must be a whole number, got 1.5",
        id="whole-number-float",
    ),
    pytest.param(
        '[dialplan]\ninterdigit_s = "4"\n',
        'config.toml:2: dialplan.interdigit_s: must be a number, got "4" (text);'
        " write it without quotes",
        id="float-in-quotes",
    ),
    pytest.param(
        "[dialplan]\nno_answer_s = 1\n",
        "config.toml:2: dialplan.no_answer_s: must be between 5 and 600, got 1",
        id="float-range",
    ),
    pytest.param(
        TRUNK + 'register = "yes"\n',
        'config.toml:5: trunk[0].register: must be true or false (no quotes), got "yes" (text)',
        id="bool-as-text",
    ),
    pytest.param(
        TRUNK + "register_expires_s = 10\n",
        "config.toml:5: trunk[0].register_expires_s: must be between 60 and 86400, got 10",
        id="register-expires-range",
    ),
    pytest.param(
        '[sip]\ntransports = [\n  "udp",\n  "sctp",\n]\n',
        "config.toml:4: sip.transports[1]: must be 'udp', 'tcp' or 'tls', got \"sctp\" (text)",
        id="enum-in-list",
    ),
    pytest.param(
        '[sip]\ntransports = "udp"\n',
        'config.toml:2: sip.transports: must be a list in brackets, got "udp" (text);'
        ' write ["udp"]',
        id="list-expected",
    ),
    pytest.param(
        PHONES + 'caller_id_standard = "bell"\n',
        "config.toml:8: fxs[1].caller_id_standard: must be '', 'bell202', 'v23', 'v23_jp',"
        " 'dtmf' or 'none', got \"bell\" (text); did you mean 'bell202'?",
        id="enum-typo",
    ),
    pytest.param(
        TRUNK + 'transport = "UDP"\n',
        "config.toml:5: trunk[0].transport: must be 'udp', 'tcp' or 'tls', got \"UDP\" (text);"
        " did you mean 'udp'?",
        id="enum-case",
    ),
    pytest.param(
        PHONES + "flash_max = 900\n",
        "config.toml:8: fxs[1].flash_max: unknown key in [[fxs]]; did you mean 'flash_max_ms'?",
        id="unknown-key-typo",
    ),
    pytest.param(
        '[box]\nname = "x"\nvolume = 3\n',
        "config.toml:3: box.volume: unknown key in [box]; allowed here: name, country, board,"
        " max_international_minutes_per_hour",
        id="unknown-key-listed",
    ),
    pytest.param(
        "[[fxss]]\nport = 1\n",
        "config.toml:1: fxss: unknown table; did you mean 'fxs'?",
        id="unknown-table",
    ),
    pytest.param(
        "[box]\n[box.extra]\nx = 1\n",
        "config.toml:2: box.extra: unknown key in [box]; allowed here: name, country, board,"
        " max_international_minutes_per_hour",
        id="unknown-subtable",
    ),
    pytest.param(
        '[[fxs]]\nport = 1\nextension = "101"\n[fxs.timing]\nflash = 1\n',
        "config.toml:4: fxs[0].timing: unknown key in [[fxs]]; allowed here: port, extension,"
        " name, caller_id, flash_min_ms, flash_max_ms, debounce_ms, caller_id_standard,"
        " ring_pattern, permission, max_outbound_calls, forward_always, forward_busy,"
        " forward_no_answer, forward_after_s, dnd, hotline, warmline_s, caller_id_block,"
        " reject_anonymous, pickup_group, call_waiting, hold_music, voicemail, voicemail_pin,"
        " voicemail_after_s, voicemail_max_s, voicemail_greeting, record, echo_cancel,"
        " echo_tail_ms",
        id="unknown-subtable-of-array",
    ),
    pytest.param(
        '[fxs]\nport = 1\nextension = "101"\n',
        "config.toml:1: fxs: must be an array of tables: write [[fxs]], not [fxs]",
        id="table-for-array",
    ),
    pytest.param(
        '[[box]]\nname = "x"\n',
        "config.toml:1: box: must be a single table: write [box], not [[box]]",
        id="array-for-table",
    ),
    pytest.param(
        'box = "x"\n',
        'config.toml:1: box: must be a table, got "x" (text); write a [box] table',
        id="value-for-table",
    ),
    pytest.param(
        '\n[[trunk]]\nname = "provider"\n',
        "config.toml:2: trunk[0].host: missing; add host = ...,"
        " the provider's SIP server (host name or address, no port)",
        id="required-key-missing",
    ),
    pytest.param(
        '[box]\nname = "front\\u0007desk"\n',
        "config.toml:2: box.name: must not contain control characters, found '\\x07'; remove it",
        id="control-character",
    ),
    pytest.param(
        'sip.port = 70000\n[box]\nname = "x"\n',
        "config.toml:1: sip.port: must be between 0 and 65535, got 70000",
        id="dotted-key",
    ),
    # --- values against each other ---
    pytest.param(
        '[box]\ncountry = "usa"\n',
        "config.toml:2: box.country: unknown country 'usa'; did you mean 'us'?",
        id="country-typo",
    ),
    pytest.param(
        '[box]\ncountry = "zz"\n',
        "config.toml:2: box.country: unknown country 'zz'; known: au, de, et, fr, in, jp, ru,"
        " uk, us",
        id="country-unknown",
    ),
    pytest.param(
        '[box]\nname = " "\n',
        "config.toml:2: box.name: must not be empty",
        id="box-name-empty",
    ),
    pytest.param(
        '[sip]\nbind = "localhost"\n',
        "config.toml:2: sip.bind: must be an IP address such as 0.0.0.0, got 'localhost'",
        id="bind-not-address",
    ),
    pytest.param(
        "[sip]\ntransports = []\n",
        'config.toml:2: sip.transports: must list at least one, e.g. ["udp"]',
        id="no-transport",
    ),
    pytest.param(
        '[sip]\ntransports = ["udp",\n  "udp"]\n',
        "config.toml:3: sip.transports[1]: 'udp' is already listed (item 0);"
        " list each transport once",
        id="transport-twice",
    ),
    pytest.param(
        '[sip]\ntransports = ["udp", "tls"]\n',
        "config.toml:1: sip.tls_cert: the tls transport needs tls_cert and tls_key (PEM files)",
        id="tls-without-cert",
    ),
    pytest.param(
        '[sip]\ntls_cert = "cert.pem"\n',
        "config.toml:1: sip.tls_key: must be set too: TLS needs a certificate and key",
        id="tls-cert-without-key",
    ),
    pytest.param(
        PHONES.replace('"102"', '"101"'),
        "config.toml:7: fxs[1].extension: '101' is already used by fxs[0];"
        " give each port its own extension",
        id="extension-twice",
    ),
    pytest.param(
        PHONES.replace("port = 2", "port = 1"),
        "config.toml:6: fxs[1].port: 1 is already used by fxs[0]; give each port its own number",
        id="fxs-port-twice",
    ),
    pytest.param(
        PHONES + '[[fxo]]\nport = 1\nextension = "101"\n[[fxo]]\nport = 1\nextension = "102"\n',
        "config.toml:12: fxo[1].port: 1 is already used by fxo[0]; give each port its own number",
        id="fxo-port-twice",
    ),
    pytest.param(
        PHONES.replace('"102"', '"10a"'),
        'config.toml:7: fxs[1].extension: must be digits (up to 20, "+" first allowed),'
        " got '10a'",
        id="extension-not-digits",
    ),
    pytest.param(
        PHONES + 'caller_id = "555-1000"\n',
        'config.toml:8: fxs[1].caller_id: must be digits (up to 20, "+" first allowed),'
        " got '555-1000'",
        id="caller-id-not-digits",
    ),
    pytest.param(
        PHONES + 'ring_pattern = "400/200/400"\n',
        "config.toml:8: fxs[1].ring_pattern: must be a ring name from the country profile"
        ' such as "dr2", or on/off pairs in ms, each 50 to 10000, such as "400/200/400/2000",'
        " got '400/200/400'",
        id="ring-pattern-odd",
    ),
    pytest.param(
        PHONES + 'ring_pattern = "DR-2"\n',
        "config.toml:8: fxs[1].ring_pattern: must be a ring name from the country profile"
        ' such as "dr2", or on/off pairs in ms, each 50 to 10000, such as "400/200/400/2000",'
        " got 'DR-2'",
        id="ring-pattern-name",
    ),
    pytest.param(
        PHONES + '[[fxo]]\nport = 1\nextension = "105"\n',
        "config.toml:10: fxo[0].extension: no extension '105'; known extensions: 101, 102",
        id="fxo-unknown-extension",
    ),
    pytest.param(
        '[[fxo]]\nport = 1\nextension = "101"\n',
        "config.toml:3: fxo[0].extension: no extension '101';"
        " known extensions: none yet; add an [[fxs]] table",
        id="fxo-without-handsets",
    ),
    pytest.param(
        PHONES + '[[fxo]]\nport = 1\nextension = "101"\ndisconnect = []\n',
        'config.toml:11: fxo[0].disconnect: must list at least one method, e.g. ["loop_current"]',
        id="no-disconnect-method",
    ),
    pytest.param(
        PHONES + '[[fxo]]\nport = 1\nextension = "101"\ndisconnect = ["tone", "tone"]\n',
        "config.toml:11: fxo[0].disconnect[1]: 'tone' is already listed (item 0);"
        " list each method once",
        id="disconnect-twice",
    ),
    pytest.param(
        TRUNK + TRUNK,
        "config.toml:6: trunk[1].name: 'provider' is already used by trunk[0];"
        " give each its own name",
        id="trunk-name-twice",
    ),
    pytest.param(
        TRUNK.replace('"provider"', '"my provider"'),
        "config.toml:2: trunk[0].name: must be letters, digits, '_', '.' or '-' (at most 32),"
        " got 'my provider'",
        id="trunk-name-space",
    ),
    pytest.param(
        TRUNK.replace('"sip.example.net"', '"sip:sip.example.net:5080"'),
        "config.toml:3: trunk[0].host: must be the host only, got 'sip:sip.example.net:5080';"
        " put a port in port = and drop any sip: prefix",
        id="trunk-host-uri",
    ),
    pytest.param(
        TRUNK.replace('"sip.example.net"', '"sip example"'),
        "config.toml:3: trunk[0].host: must be a host name or address, got 'sip example'",
        id="trunk-host-space",
    ),
    pytest.param(
        TRUNK + 'transport = "tcp"\n',
        "config.toml:5: trunk[0].transport: 'tcp' is not in sip.transports (udp); add it there",
        id="trunk-transport-not-listened",
    ),
    pytest.param(
        TRUNK.replace('username = "5551000"\n', ""),
        "config.toml:1: trunk[0].username: must be set when register = true"
        " (or set register = false)",
        id="register-without-username",
    ),
    pytest.param(
        TRUNK + 'outbound_proxy = "proxy.example.net"\n',
        "config.toml:5: trunk[0].outbound_proxy: must be a SIP URI such as"
        " \"sip:proxy.example.net:5060\", got 'proxy.example.net'",
        id="proxy-not-uri",
    ),
    pytest.param(
        TRUNK + '[[outbound]]\npattern = "9x."\ntrunk = "provder"\n',
        "config.toml:7: outbound[0].trunk: no trunk named 'provder'; did you mean 'provider'?",
        id="route-trunk-typo",
    ),
    pytest.param(
        TRUNK + '[[outbound]]\npattern = "9x."\ntrunk = "other"\n',
        "config.toml:7: outbound[0].trunk: no trunk named 'other'; defined trunks: provider",
        id="route-trunk-unknown",
    ),
    pytest.param(
        '[[outbound]]\npattern = "9x."\ntrunk = "provider"\n',
        "config.toml:3: outbound[0].trunk: no trunk named 'provider';"
        " add a [[trunk]] table with this name",
        id="route-without-trunks",
    ),
    pytest.param(
        TRUNK + '[[outbound]]\npattern = "9[2-9x."\ntrunk = "provider"\n',
        "config.toml:6: outbound[0].pattern: must be a digit map: digits, * #, x (any digit),"
        " [1-5] (a range), . (repeat), T (timer), got '9[2-9x.'",
        id="pattern-unbalanced",
    ),
    pytest.param(
        TRUNK + '[[outbound]]\npattern = "9x."\ntrunk = "provider"\nprepend = "00-"\n',
        "config.toml:8: outbound[0].prepend: must be digits, '*', '#' or '+', got '00-'",
        id="prepend-not-digits",
    ),
    pytest.param(
        TRUNK + '[[outbound]]\npattern = "9x."\ntrunk = "provider"\nstrip = 21\n',
        "config.toml:8: outbound[0].strip: must be between 0 and 20, got 21",
        id="strip-range",
    ),
    pytest.param(
        '[dialplan]\ndigit_map = "(1xx|9x.|@)"\n',
        "config.toml:2: dialplan.digit_map: must be a digit map: digits, * #, x (any digit),"
        " [1-5] (a range), . (repeat), T (timer), got '(1xx|9x.|@)'",
        id="digit-map-bad",
    ),
    pytest.param(
        PHONES + '[[inbound]]\nextension = "103"\n',
        "config.toml:9: inbound[0].extension: no extension '103'; known extensions: 101, 102",
        id="inbound-unknown-extension",
    ),
    pytest.param(
        PHONES + '[[inbound]]\ndid = "any"\nextension = "101"\n',
        'config.toml:9: inbound[0].did: must be "*" (any) or digits'
        " (up to 20, \"+\" first allowed), got 'any'",
        id="did-not-digits",
    ),
    pytest.param(
        PHONES + '[[inbound]]\nextension = "101"\n[[inbound]]\nextension = "102"\n',
        "config.toml:10: inbound[1].did: '*' is already used by inbound[0];"
        " the later one never matches",
        id="did-twice",
    ),
    pytest.param(
        'inbound = [\n  { did = "1", extension = "101" },\n'
        '  { did = "2", extension = "109" },\n]\n' + PHONES,
        "config.toml:3: inbound[1].extension: no extension '109'; known extensions: 101, 102",
        id="inline-array-of-tables",
    ),
    pytest.param(
        '[[trunk]]\nname = "p"\nhost = "192.0.2.1"\nregister = false\n'
        'allow = ["10.0.0.0/8", "10.0.0.300"]\n',
        "config.toml:5: trunk[0].allow[1]: must be an IP address or network like 203.0.113.5"
        " or 203.0.113.0/24, got '10.0.0.300'",
        id="trunk-allow-not-a-network",
    ),
    pytest.param(
        '[box]\nname = """\\\n  board = 1 \\\n  """\ncountry = "xx"\n',
        "config.toml:5: box.country: unknown country 'xx'; known: au, de, et, fr, in, jp, ru,"
        " uk, us",
        id="key-like-text-in-multiline-string",
    ),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_refusal_names_file_line_and_key(text: str, message: str) -> None:
    assert refusal(text) == message
