"""The PATH language of `config set` and the schema description that front ends read."""

from __future__ import annotations

import pytest

from firmware.config import default_config, parse_config
from firmware.config.candidate import (
    check,
    document,
    problems,
    stage_add,
    stage_delete,
    stage_set,
    stage_unset,
)
from firmware.config.describe import field_info, schema_fields, tables
from firmware.config.paths import (
    PathError,
    add_entry,
    concrete_paths,
    delete_path,
    get_path,
    keypath_to_path,
    set_path,
    unset_path,
)

OFFICE = parse_config("""
[[fxs]]
port = 1
extension = "101"
[[fxs]]
port = 2
extension = "102"
[[trunk]]
name = "my.provider"
host = "sip.example.net"
username = "5551000"
password = "secret"
[[outbound]]
pattern = "9x."
trunk = "my.provider"
strip = 1
[[outbound]]
pattern = "911"
trunk = "my.provider"
[[inbound]]
extension = "101"
""")


def refused(fn: object, *args: object) -> list[dict[str, str]]:
    with pytest.raises(PathError) as info:
        fn(*args)  # type: ignore[operator]
    return info.value.fields


def test_set_parses_each_type_and_names_entries_by_their_key() -> None:
    doc = document(OFFICE)
    doc = set_path(doc, "box.country", "de")
    doc = set_path(doc, "fxs.2.name", '"Front \\"desk\\""')
    doc = set_path(doc, "fxs.1.debounce_ms", "20")
    doc = set_path(doc, "dialplan.interdigit_s", "2.5")
    doc = set_path(doc, "trunk.my.provider.register", "no")
    doc = set_path(doc, "sip.transports", "udp, tcp")
    doc = set_path(doc, "outbound.2.prepend", "+1")
    assert get_path(doc, "box.country") == "de"
    assert get_path(doc, "fxs.2.name") == 'Front "desk"'
    assert get_path(doc, "fxs.1.debounce_ms") == 20
    assert get_path(doc, "dialplan.interdigit_s") == 2.5
    assert get_path(doc, "trunk.my.provider.register") is False
    assert get_path(doc, "sip.transports") == ["udp", "tcp"]
    assert get_path(doc, "outbound.2.prepend") == "+1"
    assert set_path(doc, "sip.transports", '["tls"]')["sip"]["transports"] == ["tls"]


def test_the_document_passed_in_is_not_changed() -> None:
    doc = document(OFFICE)
    set_path(doc, "box.name", "other")
    assert doc["box"]["name"] == "minipbx"


@pytest.mark.parametrize(("path", "text", "message"), [
    ("fxs.1.debounce_ms", "abc", "must be a whole number, got 'abc'"),
    ("dialplan.interdigit_s", "nan", "must be a finite number, got 'nan'"),
    ("trunk.my.provider.register", "maybe", "must be true or false, got 'maybe'"),
    ("fxs.3.name", "x", "no entry with port 3 (have: 1, 2); add it with config add fxs port=3"),
    ("outbound.3.strip", "1", "no entry 3; there are 2 (numbered from 1)"),
    ("boxx.name", "x", "unknown table 'boxx'; did you mean 'box'?"),
    ("box.nmae", "x", "unknown key in [box]; did you mean 'name'?"),
    ("fxs.1.extensoin", "1", "unknown key in [[fxs]]; did you mean 'extension'?"),
    ("fxs.1", "x", "names a table or an entry, not one setting"),
    ("fxs.1.port", "2", "port 2 is already used by another entry (fxs.2); choose a free one"),
])
def test_set_refusals_start_with_the_path(path: str, text: str, message: str) -> None:
    fields = refused(set_path, document(OFFICE), path, text)
    assert fields[0]["message"].startswith(message), fields
    assert fields[0]["path"] in (path, ".".join(path.split(".")[:2]))


def test_unset_returns_to_the_default_and_refuses_required_keys() -> None:
    doc = set_path(document(OFFICE), "fxs.1.name", "Desk")
    assert "name" not in unset_path(doc, "fxs.1.name")["fxs"][0]
    assert "web" not in unset_path(doc, "web")
    assert "is required" in refused(unset_path, doc, "fxs.1.extension")[0]["message"]
    assert "config delete fxs.1" in refused(unset_path, doc, "fxs.1")[0]["message"]


def test_add_and_delete_entries() -> None:
    doc, path = add_entry(document(OFFICE), "fxs", {"port": "3", "extension": "103"})
    assert path == "fxs.3" and get_path(doc, "fxs.3.extension") == "103"
    doc, path = add_entry(doc, "outbound", {"pattern": "0x.", "trunk": "fxo1"})
    assert path == "outbound.3"
    assert [e["port"] for e in delete_path(doc, "fxs.1")["fxs"]] == [2, 3]
    assert "trunk" not in delete_path(doc, "trunk.my.provider")
    missing = refused(add_entry, doc, "fxs", {"port": "4"})
    assert missing[0]["path"] == "fxs.extension" and missing[0]["message"].startswith("missing")
    clash = refused(add_entry, doc, "fxs", {"port": "3", "extension": "104"})
    assert clash[0] == {"path": "fxs.3", "message":
                        "already exists; change it with config set fxs.3.KEY VALUE"}
    assert "not a list of entries" in refused(add_entry, doc, "box", {})[0]["message"]
    assert "did you mean 'port'" in refused(add_entry, doc, "fxs", {"prot": "1"})[0]["message"]


def test_loader_key_paths_become_paths() -> None:
    doc = document(OFFICE)
    assert keypath_to_path(doc, ("fxs", 1, "extension")) == "fxs.2.extension"
    assert keypath_to_path(doc, ("outbound", 0, "trunk")) == "outbound.1.trunk"
    assert keypath_to_path(doc, ("trunk", 0, "host")) == "trunk.my.provider.host"
    assert keypath_to_path(doc, ("sip", "transports", 1)) == "sip.transports"
    assert "fxs.2.ring_pattern" in concrete_paths(doc)
    assert "outbound.2.pattern" in concrete_paths(doc)


def test_staging_refuses_a_bad_value_at_its_own_path() -> None:
    with pytest.raises(PathError) as info:
        stage_set(OFFICE, "fxs.1.extension", "abc")
    assert str(info.value).startswith("fxs.1.extension: must be digits")
    with pytest.raises(PathError) as info:
        stage_set(OFFICE, "fxs.1.debounce_ms", "99")
    assert str(info.value) == "fxs.1.debounce_ms: must be between 5 and 50, got 99"
    with pytest.raises(PathError) as info:
        stage_set(OFFICE, "trunk.my.provider.transport", "sctp")
    assert str(info.value).startswith("trunk.my.provider.transport: must be 'udp', 'tcp'")
    with pytest.raises(PathError) as info:
        stage_add(OFFICE, "fxs", {"port": "5", "extension": "102"})
    assert str(info.value).startswith("fxs.5.extension: '102' is already used")


def test_staging_keeps_a_change_that_leaves_another_setting_wrong_until_commit() -> None:
    # Renumbering 101 breaks the inbound route that rings it: kept, refused by check().
    changed = stage_set(OFFICE, "fxs.1.extension", "201")
    assert changed.fxs[0].extension == "201"
    assert problems(changed) == [{"path": "inbound.1.extension", "message":
                                  "no extension '101'; known extensions: 201, 102"}]
    with pytest.raises(PathError):
        check(changed)
    fixed = stage_set(changed, "inbound.1.extension", "201")
    check(fixed)
    renamed = stage_set(OFFICE, "fxs.1.port", "7")
    assert [p.port for p in renamed.fxs] == [7, 2]
    assert stage_unset(renamed, "fxs.7.name").fxs[0].name == ""
    assert [p.port for p in stage_delete(renamed, "fxs.7").fxs] == [2]
    assert stage_add(default_config(), "trunk", {"name": "t", "host": "h", "register": "false"}
                     )[1] == "trunk.t"


def test_description_covers_every_setting_once() -> None:
    fields = schema_fields()
    paths = [f.path for f in fields]
    assert len(paths) == len(set(paths))
    assert "fxs.<port>.extension" in paths and "trunk.<name>.password" in paths
    assert "outbound.<n>.pattern" in paths and "web.port" in paths
    assert "console.device" in paths and "box.country" in paths
    password = field_info("trunk", "password")
    assert password is not None and password.secret and not password.restart
    port = field_info("sip", "port")
    assert port is not None and port.restart and (port.lo, port.hi) == (0, 65535)
    board = field_info("box", "board")
    assert board is not None and board.restart
    transport = field_info("trunk", "transport")
    assert transport is not None and transport.type == "choice"
    assert transport.choices == ("udp", "tcp", "tls")
    transports = field_info("sip", "transports")
    assert transports is not None and transports.type == "list"
    assert transports.default == ["udp"]
    extension = field_info("fxs", "extension")
    assert extension is not None and extension.required and extension.default is None
    assert {(t.name, t.array, t.key) for t in tables()} >= {
        ("box", False, None), ("fxs", True, "port"), ("trunk", True, "name"),
        ("outbound", True, "position"), ("web", False, None), ("console", False, None)}
    assert all(f.help for f in fields) and all(t.help for t in tables())
