"""The pure parts of the SIP screen: finding rx_data's fields from a probe, reading a
request's start, and the trunk addresses that may call in."""

from __future__ import annotations

import ipaddress
import struct

from firmware.sip.screen import layout_from_probe, parse_request
from firmware.sip.trunks import TrunkSpec
from firmware.sip.trusted import proxy_host, trunk_sources

MARKER = b"OPTIONS sip:minipbx-probe-abc@"


def fake_rx_data(packet_at: int, pkt_len: int, text: bytes, ip: str, port: int) -> bytes:
    """A pjsip_rx_data image laid out as pjsip lays it out for PJSIP_MAX_PKT_LEN."""
    mem = bytearray(packet_at + pkt_len + 200)
    mem[packet_at:packet_at + len(text)] = text
    zero = packet_at + pkt_len
    length = (zero + 4 + 7) // 8 * 8
    mem[length:length + 8] = struct.pack("<q", len(text))
    name = length + 8 + 28 + 4
    mem[name:name + len(ip)] = ip.encode()
    port_at = (name + 46 + 3) // 4 * 4
    mem[port_at:port_at + 4] = struct.pack("<i", port)
    return bytes(mem)


def test_the_probe_finds_packet_length_and_source() -> None:
    text = MARKER + b"127.0.0.1:5060 SIP/2.0\r\n\r\n"
    for pkt_len in (4000, 8000):
        mem = fake_rx_data(320, pkt_len, text, "127.0.0.1", 40123)
        layout = layout_from_probe(mem[:1024], MARKER, len(text), "127.0.0.1", 40123,
                                   lambda off, n, m=mem: m[off:off + n])
        assert layout is not None and layout.packet == 320
        assert mem[layout.src_name:layout.src_name + 9] == b"127.0.0.1"
        assert struct.unpack_from("<i", mem, layout.src_port)[0] == 40123


def test_a_probe_whose_source_does_not_match_gives_no_layout() -> None:
    text = MARKER + b"x SIP/2.0\r\n\r\n"
    mem = fake_rx_data(320, 4000, text, "127.0.0.1", 40123)
    assert layout_from_probe(mem[:1024], MARKER, len(text), "127.0.0.1", 40124,
                             lambda off, n: mem[off:off + n]) is None
    assert layout_from_probe(mem[:1024], b"OPTIONS sip:other@", len(text), "127.0.0.1",
                             40123, lambda off, n: mem[off:off + n]) is None


def test_parse_request_tells_new_calls_from_reinvites() -> None:
    new = parse_request("INVITE sip:1@h SIP/2.0\r\nTo: <sip:1@h>\r\n\r\n")
    again = parse_request("INVITE sip:1@h SIP/2.0\r\nt: <sip:1@h> ; tag=abc\r\n\r\n")
    assert new is not None and new.method == "INVITE" and new.new_dialog
    assert again is not None and not again.new_dialog
    assert parse_request("garbage") is None


def test_trunk_sources_take_host_proxy_and_allow_list() -> None:
    specs = [TrunkSpec("a", "sip.example.net", outbound_proxy="sip:[2001:db8::5]:5070;lr",
                       allow=("203.0.113.0/24",)),
             TrunkSpec("b", "192.0.2.1")]
    sources = trunk_sources(specs, resolve=lambda host: {"sip.example.net": ["192.0.2.50"]}
                            .get(host, []))
    assert set(sources["a"]) == {ipaddress.ip_network("203.0.113.0/24"),
                                 ipaddress.ip_network("192.0.2.50/32"),
                                 ipaddress.ip_network("2001:db8::5/128")}
    assert sources["b"] == (ipaddress.ip_network("192.0.2.1/32"),)


def test_proxy_host_forms() -> None:
    assert proxy_host("sip:proxy.example.net:5070;lr") == "proxy.example.net"
    assert proxy_host("sip:10.0.0.1") == "10.0.0.1"
    assert proxy_host("sips:[::1]:5061") == "::1"
