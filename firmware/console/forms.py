"""The console's command words: how each command of the table reads as CLI words, and the
values its slots take.

Rules:
- Forms come from ``table.describe(caller)``: ``hw.ring`` {port*, seconds} becomes
  ``hw ring <port> [--seconds N]``: the name's parts are words, required arguments follow
  in order, the others are ``--options`` (``cid_number`` is ``--cid-number``; a float named
  ``*_s`` is a duration, ``--confirm 90s``, and a bool is a bare flag). Under ``sim`` the port
  comes before the verb, as in the CLI: ``sim phone 1 dial 102``. A ``password`` is never
  typed on the line: the shell asks for it, twice, without echo.
- OVERRIDES hold only what the CLI says differently (``sim phone 1 offhook``,
  ``user add NAME --role R``, ``config add TABLE KEY=VALUE...``, ``hw hook 1 --watch``,
  ``restart``); HIDDEN the commands a terminal cannot use (audio as base64, benchmark hooks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from firmware.core.durations import parse_duration

ROLES = ("user", "installer", "admin")
SECRET_ARGS = frozenset({"password"})
HIDDEN = frozenset({"help", "setup.code", "sim.phone.timing", "config.load", "config.schema"})

# Help for the group words (the first word of several commands), and one-row help for the
# commands whose own help (the command table's, which `minipbx` and the web page show) is
# too long for the console's lists: `?` at the prompt must fit an 80x24 screen, one row a
# word, rather than stop at --More-- on the first thing a person types.
GROUP_HELP = {
    "calls": "call records: list, get, recording, recording delete",
    "load": "live load: calls up, busy channels, calls per minute",
    "restart": "restart to apply what a commit could not",
    "config": "the staged configuration: show, set, diff, commit, rollback",
    "hw": "line diagnostics: ring, tone, loopback, hook timings",
    "sim": "the simulated board's handsets (phone) and PSTN lines (line)",
    "phone": "a virtual handset on an FXS port",
    "line": "the virtual PSTN line on an FXO port",
    "user": "accounts of the web page and this console",
    "auth": "who you are",
    "me": "your own phone: its port and settings",
    "forwarding": "forwarding and do not disturb (any phone's as admin)",
    "trunk": "SIP trunks: register now",
    "sip": "the SIP guard: banned addresses, unban",
}
# Help for arguments, by name (the command table names them, without help of their own).
ARG_HELP = {
    "port": "port number (status lists the ports)",
    "seconds": "how long, in seconds",
    "digits": "digits to dial: 0-9 * # A-D",
    "path": "setting, such as fxs.1.extension (Tab completes)",
    "value": "new value (in double quotes if it has spaces)",
    "name": "account name",
    "role": "user, installer or admin",
    "extension": "the person's own extension",
    "version": "version number from `config history`",
    "table": "table to add an entry to, such as fxs or trunk",
    "message": "why: kept in the history",
    "confirm_s": "roll back by itself unless `config confirm` comes within this time",
    "cid_number": "caller ID number sent with the ring",
    "cid_name": "caller ID name sent with the ring",
    "tone": "dial or 1000hz",
    "pulse": "dial with hook-switch pulses (rotary)",
    "candidate": "the candidate (staged) configuration, not the running one",
    "json": "as JSON",
    "when_idle": "wait until no call is up",
    "watch": "keep printing until Ctrl-C",
}
SHELL_COMMANDS = {"help": "what you can type here", "exit": "log out",
                  "logout": "log out"}



class GrammarError(ValueError):
    """The line does not make a command; the message says what to type instead."""


@dataclass(frozen=True)
class Slot:
    arg: str  # the command's argument it fills
    type: str  # "int", "float", "str", "bool", "seconds", "pairs" (KEY=VALUE...)
    choices: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"<{self.arg.replace('_', '-')}>"

    @property
    def help(self) -> str:
        return ARG_HELP.get(self.arg, self.type)


@dataclass(frozen=True)
class Form:
    command: str  # the table's name, or "shell.help" / "shell.exit"
    elements: tuple[str | Slot, ...]  # words and positional slots, in order
    help: str
    options: Mapping[str, Slot] = field(default_factory=dict)  # "--seconds" -> its slot
    required_options: tuple[str, ...] = ()
    rest: Slot | None = None  # trailing KEY=VALUE words
    secrets: tuple[str, ...] = ()  # arguments the shell asks for without echo
    local: frozenset[str] = frozenset()  # options the shell handles itself (watch)


@dataclass(frozen=True)
class Item:
    """One thing that may come next: a word to type, or a placeholder such as <port>."""

    word: str
    help: str
    insertable: bool = True  # False for placeholders and <cr>
    complete: bool = True  # Tab adds a space after it (False for "fxs.1.")


@dataclass(frozen=True)
class Invocation:
    form: Form
    args: dict[str, Any]
    local: dict[str, Any]


class ValueSource(Protocol):
    """Values a slot may take right now (ports, config paths, choices of a setting)."""

    def values(self, command: str, slot: Slot, args: Mapping[str, str],
               partial: str) -> list[Item]: ...


class NoValues:
    def values(self, command: str, slot: Slot, args: Mapping[str, str],
               partial: str) -> list[Item]:
        return []


def derive(entry: Mapping[str, Any]) -> Form:
    """The CLI form of one command from its description (name, help, args, required)."""
    name: str = entry["name"]
    types: dict[str, str] = dict(entry.get("args") or {})
    required = [a for a in entry.get("required", ()) if a not in SECRET_ARGS]
    secrets = tuple(a for a in types if a in SECRET_ARGS)
    words: list[str | Slot] = list(name.split("."))
    slots = [_slot(a, types[a]) for a in required]
    if words[0] == "sim" and len(words) == 3 and required[:1] == ["port"]:
        elements: list[str | Slot] = [words[0], words[1], slots[0], words[2], *slots[1:]]
    else:
        elements = [*words, *slots]
    options = {_option(a, t): _slot(a, t) for a, t in types.items()
               if a not in required and a not in SECRET_ARGS}
    return Form(name, tuple(elements), entry.get("help", ""), options, secrets=secrets)


def _slot(arg: str, type_name: str) -> Slot:
    if type_name == "float" and (arg.endswith("_s") or arg == "seconds"):
        return Slot(arg, "seconds")
    return Slot(arg, type_name)


def _option(arg: str, type_name: str) -> str:
    base = arg[:-2] if type_name == "float" and arg.endswith("_s") else arg
    return "--" + base.replace("_", "-")


def _override_sim_hook(form: Form) -> Form:
    port = form.elements[2]
    return replace(form, elements=("sim", "phone", port,
                                   Slot("action", "str", ("offhook", "onhook", "flash"))))


def _override_user_add(form: Form) -> Form:
    return replace(form, elements=("user", "add", Slot("name", "str")),
                   options={"--role": Slot("role", "str", ROLES),
                            "--extension": Slot("extension", "str")},
                   required_options=("--role",))


def _override_hw_hook(form: Form) -> Form:
    return replace(form, elements=("hw", "hook", Slot("port", "int")),
                   options={"--watch": Slot("watch", "bool")}, local=frozenset({"watch"}))


def _override_hw_tone(form: Form) -> Form:
    elements = tuple(Slot("tone", "str", ("dial", "1000hz"))
                     if isinstance(e, Slot) and e.arg == "tone" else e for e in form.elements)
    return replace(form, elements=elements)


def _override_config_add(form: Form) -> Form:
    return replace(form, elements=("config", "add", Slot("table", "str")), options={},
                   rest=Slot("values", "pairs"))


def _override_commit(form: Form) -> Form:
    options = dict(form.options)
    if "--message" in options:
        options["-m"] = options["--message"]
    return replace(form, options=options)


def _override_restart(form: Form) -> Form:
    return replace(form, elements=("restart",))


OVERRIDES: dict[str, Callable[[Form], Form]] = {
    "sim.phone.hook": _override_sim_hook,
    "user.add": _override_user_add,
    "hw.hook": _override_hw_hook,
    "hw.tone": _override_hw_tone,
    "config.add": _override_config_add,
    "config.commit": _override_commit,
    "box.restart": _override_restart,
}


def is_hidden(entry: Mapping[str, Any]) -> bool:
    name: str = entry["name"]
    # Audio travels as base64: a terminal can neither type nor show it.
    return name in HIDDEN or "pcm" in (entry.get("args") or {}) or name.endswith(".record")


def convert(slot: Slot, text: str) -> Any:
    """The value of ``text`` for ``slot``; GrammarError says what was expected."""
    if slot.choices and text not in slot.choices:
        raise GrammarError(f"{slot.label}: {text!r} is not one of {', '.join(slot.choices)}")
    try:
        if slot.type == "int":
            return int(text)
        if slot.type == "float":
            return float(text)
        if slot.type == "seconds":
            return parse_duration(text)
    except ValueError as exc:
        kind = {"int": "a whole number", "float": "a number"}.get(
            slot.type, "a duration such as 90, 90s, 5m or 1h")
        raise GrammarError(f"{slot.label} must be {kind}, got {text!r}") from exc
    return text
