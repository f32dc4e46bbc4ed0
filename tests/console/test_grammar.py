"""The console's CLI words, derived from the command table: parsing and what may come next."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from firmware.commands.builtin import table as builtin
from firmware.commands.caller import ROOT, Caller
from firmware.commands.table import CommandTable
from firmware.console.forms import GrammarError, Invocation
from firmware.console.grammar import Grammar
from firmware.console.render import items_text
from firmware.console.values import ConsoleValues, Facts, pair_items, path_items, value_items
from firmware.console.words import split
from firmware.core.durations import parse_duration as parse_seconds


def grammar(caller: Caller = ROOT) -> Grammar:
    facts = Facts(ports=[{"leg": "fxs1", "kind": "fxs", "extension": "101"},
                         {"leg": "fxo1", "kind": "fxo"}],
                  paths=["box.name", "box.country", "fxs.1.extension", "fxs.1.ring_pattern",
                         "fxs.2.extension", "trunk.provider.password"],
                  doc={"box": {"country": "us"}, "fxs": [{"port": 1, "extension": "101"}]})
    return Grammar(builtin.describe(caller), ConsoleValues(facts))


def parse(line: str, caller: Caller = ROOT) -> Invocation:
    return grammar(caller).parse(split(line).words)


def words_after(line: str) -> list[str]:
    sp = split(line)
    texts = [w.text for w in sp.words]
    before, partial = (texts, "") if sp.trailing_space or not texts else (texts[:-1], texts[-1])
    return [i.word for i in grammar().next_items(before, partial)]


def test_a_new_command_gets_its_words_from_the_table_alone() -> None:
    t = CommandTable()

    @t.command("trunk.test", "re-register a trunk now", {"name": str, "wait_s": float,
                                                          "verbose": bool}, ("name",))
    async def h(system: Any, args: Mapping[str, Any]) -> Any:
        return None

    g = Grammar(t.describe())
    inv = g.parse(split("trunk test provider --wait 2m --verbose").words)
    assert inv.form.command == "trunk.test"
    assert inv.args == {"name": "provider", "wait_s": 120.0, "verbose": True}
    assert [i.word for i in g.next_items(["trunk", "test", "p"], "")] == [
        "--wait", "--verbose", "<cr>"]


@pytest.mark.parametrize(("line", "command", "args"), [
    ("status", "status", {}),
    ("stat", "status", {}),
    ("sim phone 2 offhook", "sim.phone.hook", {"port": 2, "action": "offhook"}),
    ("sim phone 2 fl", "sim.phone.hook", {"port": 2, "action": "flash"}),
    ("sim phone 1 dial 102 --pulse", "sim.phone.dial",
     {"port": 1, "digits": "102", "pulse": True}),
    ("sim line 1 ring --cid-number 5551234 --cid-name \"A B\"", "sim.line.ring",
     {"port": 1, "cid_number": "5551234", "cid_name": "A B"}),
    ("hw ring 1 --seconds 3", "hw.ring", {"port": 1, "seconds": 3.0}),
    ("hw tone 2 1000hz", "hw.tone", {"port": 2, "tone": "1000hz"}),
    ("config set box.name \"Front office\"", "config.set",
     {"path": "box.name", "value": "Front office"}),
    ("conf comm --confirm 5m -m why", "config.commit", {"confirm_s": 300.0, "message": "why"}),
    ("config rollback 3", "config.rollback", {"version": 3}),
    ("user add bob --role user --extension 101", "user.add",
     {"name": "bob", "role": "user", "extension": "101"}),
    ("restart --when-idle", "box.restart", {"when_idle": True}),
])
def test_cli_words_map_onto_the_table(line: str, command: str, args: dict[str, Any]) -> None:
    inv = parse(line)
    assert (inv.form.command, inv.args) == (command, args)


def test_config_add_takes_key_value_words() -> None:
    inv = parse("config add fxs port=3 extension=103")
    assert inv.form.command == "config.add" and inv.args["table"] == "fxs"
    assert json.loads(inv.args["values"]) == {"port": "3", "extension": "103"}
    with pytest.raises(GrammarError, match="KEY=VALUE"):
        parse("config add fxs")


def test_user_add_asks_for_the_password_and_needs_a_role() -> None:
    inv = parse("user add bob --role admin")
    assert inv.form.secrets == ("password",) and "password" not in inv.args
    with pytest.raises(GrammarError, match="missing --role"):
        parse("user add bob")
    with pytest.raises(GrammarError, match="not one of user, installer, admin"):
        parse("user add bob --role root")


@pytest.mark.parametrize(("line", "message"), [
    ("", "empty line"),
    ("frob", "unknown word 'frob'; expected"),
    ("hw frob", "unknown word 'frob' after 'hw'; expected hook, loopback, ports, ring, tone"),
    ("s", "unknown word 's'"),  # sim or status: ambiguous
    ("hw ring one", "<port> must be a whole number, got 'one'"),
    ("hw ring", "incomplete command: hw ring needs <port>"),
    ("hw ring 1 --seconds", "--seconds needs a value"),
    ("hw ring 1 --seconds soon", "must be a duration such as 90, 90s"),
    ("hw ring 1 now", "unexpected 'now'; options here: --seconds"),
    ("config set box.name two words", "unexpected 'words'"),
])
def test_bad_lines_say_what_to_type(line: str, message: str) -> None:
    with pytest.raises(GrammarError, match=message.replace("<", "<").replace("-", "-")):
        parse(line)


def test_audio_and_benchmark_commands_are_hidden() -> None:
    names = {f.command for f in grammar().forms}
    assert "sim.phone.play" not in names and "sim.line.record" not in names
    assert "sim.phone.timing" not in names and "setup.code" not in names
    assert {"status", "config.set", "hw.hook", "user.add", "shell.help"} <= names


def test_next_items_follow_the_line() -> None:
    assert "config" in words_after("") and "status" in words_after("")
    after_s = words_after("s")
    assert {"sim", "status"} <= set(after_s) and all(w.startswith("s") for w in after_s)
    assert after_s == sorted(after_s) and "config" not in after_s
    assert words_after("sim ") == ["line", "phone"]
    assert words_after("sim phone ") == ["1"]  # FXS ports only
    assert words_after("sim line ") == ["1"]
    assert words_after("sim phone 1 ") == ["dial", "status", "offhook", "onhook", "flash"]
    assert words_after("hw ring 1 ") == ["--seconds", "<cr>"]
    assert words_after("hw ring 1 --seconds ") == ["<seconds>"]
    assert words_after("config set ") == ["box.", "fxs.", "trunk."]
    assert words_after("config set fxs.1.") == ["fxs.1.extension", "fxs.1.ring_pattern"]
    assert words_after("config delete ") == ["fxs.", "trunk."]
    assert words_after("config delete fxs.") == ["fxs.1", "fxs.2"]
    assert words_after("config set fxs.1.extension ") == ["<str>"]  # shown, not inserted


def test_a_user_gets_only_the_words_of_their_role() -> None:
    bob = Caller("bob", "user", "serial", "101")
    top = [i.word for i in grammar(bob).top_level()]
    assert "status" in top and "hw" not in top and "sim" not in top
    with pytest.raises(GrammarError, match="unknown word 'hw'"):
        parse("hw ring 1", bob)


def test_every_word_offered_at_the_top_parses_as_a_start() -> None:
    g = grammar()
    for item in g.top_level():
        more = g.next_items([item.word], "")
        assert more, item.word  # each offered word leads somewhere
        if any(i.word == "<cr>" for i in more):
            g.parse(split(item.word).words)


def test_the_top_level_list_fits_an_80x24_screen() -> None:
    # `?` at the prompt is the first thing a person types: one row a word, no --More--.
    top = grammar().top_level()
    rows = items_text([(i.word, i.help) for i in top], 80).split("\n")
    assert len(rows) == len(top) <= 22, rows
    assert all(i.help and not i.help.startswith(",") for i in top), top


def test_values_of_settings_come_from_the_schema() -> None:
    assert [i.word for i in value_items("fxs.1.caller_id_standard", {})][:3] == [
        '""', "bell202", "v23"]
    assert [i.word for i in value_items("web.enabled", {})] == ["true", "false"]
    [port] = value_items("sip.port", {})
    assert port.word == "<int 0-65535>" and not port.insertable
    [ext] = value_items("fxs.1.extension", {"fxs": [{"port": 1, "extension": "101"}]})
    assert "now 101" in ext.help
    assert [i.word for i in path_items(["box.name", "box.country"], "box.c")] == ["box.country"]
    assert "extension=" in [i.word for i in pair_items("fxs", "ext")]
    assert [i.word for i in pair_items("fxs", "caller_id_standard=b")] == [
        "caller_id_standard=bell202"]


def test_durations() -> None:
    assert parse_seconds("90") == 90 and parse_seconds("90s") == 90
    assert parse_seconds("5m") == 300 and parse_seconds("1h") == 3600
    assert parse_seconds("1.5min") == 90 and parse_seconds("250ms") == 0.25
    with pytest.raises(ValueError, match="duration"):
        parse_seconds("5 days")


def test_installer_commands_ride_on_the_real_table() -> None:
    inv = parse("hw hook 1 --watch")
    assert inv.form.command == "hw.hook" and inv.args == {"port": 1}
    assert inv.local == {"watch": True}
    described = {d["name"] for d in builtin.describe()}
    assert all(f.command in described for f in grammar().forms
               if not f.command.startswith("shell."))
