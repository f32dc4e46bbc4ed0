"""The site tables in the schema-driven front ends: the forms and completion see them with
their help, and the PATH language edits them (the hub's password is a secret)."""

from __future__ import annotations

from firmware.config.describe import fields_of, tables
from firmware.config.paths import get_path, set_path


def test_site_tables_are_described_with_help() -> None:
    names = {t.name: t for t in tables()}
    assert names["peer_site"].array and names["peer_site"].key == "name"
    assert not names["site"].array and not names["hub"].array
    for table in ("site", "hub", "peer_site"):
        for key, field in fields_of(table).items():
            assert field.help, f"{table}.{key} has no help text"
    assert fields_of("hub")["password"].secret
    assert "1xx" in fields_of("site")["prefix"].help


def test_paths_edit_sites() -> None:
    doc = {"peer_site": [{"name": "office2", "prefix": "2xx"}]}
    doc = set_path(doc, "peer_site.office2.prefix", "2[0-4]x")
    doc = set_path(doc, "site.name", "office1")
    doc = set_path(doc, "hub.shared", "500,510")
    assert get_path(doc, "peer_site.office2.prefix") == "2[0-4]x"
    assert get_path(doc, "hub.shared") == ["500", "510"]
    assert get_path(doc, "site.name") == "office1"
