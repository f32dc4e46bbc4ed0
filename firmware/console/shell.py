"""The command line of a logged-in person: keys in, text out, commands through the table.

Rules:
- The prompt is the box's name, ``*`` while changes are staged (config.pending), then
  ``> ``; it is refreshed after every command.
- ``?`` anywhere lists what may come next with its help, and the line stays as typed (inside
  an open double quote ``?`` is just a character). Tab completes a word: one choice is
  written out, several are completed to their common start and, if that adds nothing,
  listed. Both read the one grammar that Enter parses (firmware.console.grammar).
- A command runs as its own task; Ctrl-C stops the waiting at once. A table command is
  shielded: the box finishes what it started (a ring stops by itself), so nothing is left
  half done; a watch (``hw hook 1 --watch``) is the console's own loop and simply stops.
- Keys typed while a command runs wait (up to MAX_TYPEAHEAD) and are read at the next
  prompt, as a shell does; Ctrl-C drops them.
- Output longer than the screen stops at ``--More--``: Space for a page, Enter for a line,
  q or Ctrl-C to stop. A height of 0 (a script's pipe) never stops.
- A password argument is asked for twice, without echo, never typed on the line.
- Every error is one ``% `` line (or a few); an unexpected failure inside the box is logged
  with its traceback and shown as one line: the console and the box carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from firmware.commands.caller import Caller
from firmware.console.backend import Backend
from firmware.console.editor import LineEditor
from firmware.console.forms import GrammarError, Invocation, Item
from firmware.console.grammar import Grammar
from firmware.console.render import items_text, render, wrap
from firmware.console.values import ConsoleValues, Facts
from firmware.console.words import split
from firmware.core.errors import PbxError

log = logging.getLogger(__name__)

WATCH_S = 0.2
KEYS_HELP = """Keys: ? lists what may come next, Tab completes, Up/Down walk the history,
  Left/Right/Home/End move, Ctrl-U/Ctrl-K/Ctrl-W erase, Ctrl-L redraws,
  Ctrl-C stops a command; exit logs out. Values with spaces go in double quotes."""
MORE = "--More--"
MAX_TYPEAHEAD = 4096


class CommandLine:
    def __init__(self, backend: Backend, caller: Caller, editor: LineEditor,
                 write: Callable[[str], None], logout: Callable[[str], None],
                 height: int = 24) -> None:
        self.backend = backend
        self.caller = caller
        self.editor = editor
        self.facts = Facts()
        self.grammar = Grammar(backend.describe(caller), ConsoleValues(self.facts))
        self._write = write
        self._logout = logout
        self._height = max(4, height) if height else 0
        self._task: asyncio.Task[None] | None = None
        self._pages: list[str] = []
        self._after_pages: Callable[[], None] = self.prompt
        self._secret: tuple[Invocation, str, str | None] | None = None
        self.state = "busy"  # "edit", "busy", "pager", "secret", "stopped"
        self._interruptible = False  # a command (not a refresh) is being waited for
        self._typeahead: list[str] = []
        self._end_of_input = False

    # --- life ---------------------------------------------------------------------------
    def begin(self) -> None:
        self._spawn(self._refresh(everything=True))

    def stop(self) -> None:
        """Logged out or hung up: stop whatever runs (table commands finish in the box)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self.state = "stopped"

    def prompt(self) -> None:
        self.state = "edit"
        name = self.facts.name + ("*" if self.facts.pending else "")
        self._write(self.editor.start(f"{name}> "))
        # Keys typed while the last command ran, as if typed now (until one starts another).
        while self._typeahead and self.state == "edit":
            self.key(self._typeahead.pop(0))
        if self._end_of_input and self.state == "edit" and not self._typeahead:
            self._write("\r\n")
            self._logout("end of input")

    def end_of_input(self) -> None:
        """The terminal sends no more (a script's stdin ended): finish, then log out."""
        self._end_of_input = True
        if self.state == "edit" and not self._typeahead:
            self.prompt()

    # --- keys ---------------------------------------------------------------------------
    def key(self, key: str) -> None:
        if self.state == "busy":
            if key == "ctrl-c":
                self._typeahead.clear()
                if self._task is not None and self._interruptible:
                    self._task.cancel()
            elif len(self._typeahead) < MAX_TYPEAHEAD:
                self._typeahead.append(key)
            return
        if self.state == "pager":
            self._page_key(key)
            return
        if self.state == "secret":
            self._secret_key(key)
            return
        if self.state != "edit":
            return
        if len(key) == 1:
            if key == "?" and not split(self.editor.line[:self.editor.cursor]).open_quote:
                self._help_here()
            else:
                self._write(self.editor.insert(key))
        elif key == "enter":
            self._enter()
        elif key == "tab":
            self._complete()
        elif key == "ctrl-c":
            self._write("^C\r\n")
            self.editor.accept()
            self.prompt()
        elif key == "ctrl-d":
            # Deletes forward; never logs out (a stray 0x04 in line noise would).
            self._write(self.editor.handle("delete") or "")
        else:
            out = self.editor.handle(key)
            if out is not None:
                self._write(out)

    def print_lines(self, text: str) -> None:
        self._write("\r\n".join(wrap(text, self.editor.width)) + "\r\n")

    # --- Enter --------------------------------------------------------------------------
    def _enter(self) -> None:
        overflowed = self.editor.overflowed
        line = self.editor.accept()
        self._write("\r\n")
        if overflowed:
            self._fail(f"line longer than {self.editor.max_len} characters: not run")
            return self.prompt()
        words = split(line).words
        if not words:
            return self.prompt()
        if words[0].text == "help":
            return self._help([w.text for w in words[1:]])
        try:
            inv = self.grammar.parse(words)
        except GrammarError as exc:
            self._fail(str(exc))
            return self.prompt()
        if inv.form.command in ("shell.exit", "shell.logout"):
            return self._logout("logged out")
        if inv.form.command == "shell.help":
            return self._help([])
        if inv.form.secrets:
            self._secret = (inv, inv.form.secrets[0], None)
            self.state = "secret"
            self._write(self.editor.start(f"{inv.form.secrets[0]}: ", secret=True))
            return None
        self._spawn(self._run(inv))
        return None

    def _secret_key(self, key: str) -> None:
        assert self._secret is not None
        inv, arg, first = self._secret
        if key == "ctrl-c":
            self._write("^C\r\n")
            self._secret = None
            return self.prompt()
        if len(key) == 1:
            self._write(self.editor.insert(key))
            return None
        if key != "enter":
            self._write(self.editor.handle(key) or "")
            return None
        text = self.editor.accept()
        self._write("\r\n")
        if first is None:
            self._secret = (inv, arg, text)
            self._write(self.editor.start("again: ", secret=True))
            return None
        self._secret = None
        if text != first:
            self._fail(f"the two {arg}s differ; nothing changed")
            return self.prompt()
        inv.args[arg] = text
        self._spawn(self._run(inv))
        return None

    # --- running ------------------------------------------------------------------------
    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self.state = "busy"
        self._task = asyncio.get_running_loop().create_task(work)

    async def _run(self, inv: Invocation) -> None:
        command = inv.form.command
        text: str | None = None
        self._interruptible = True
        try:
            if inv.local.get("watch"):
                await self._watch(command, inv.args)
            else:
                result = await self._shielded(command, inv.args)
                text = render(command, result, self.backend.formatters)
        except asyncio.CancelledError:
            if self.state == "stopped":
                raise
            self._write("^C\r\n")
        except PbxError as exc:
            self._fail(str(exc))
        except Exception as exc:
            log.exception("console command %s failed", command)
            self._fail(f"{command}: internal error: {type(exc).__name__}: {exc}")
        finally:
            self._interruptible = False
        await self._refresh(everything=command.startswith(("config.", "box.", "user.")),
                            then_prompt=text is None)
        if text is not None and self.state != "stopped":
            self._show(text)

    async def _shielded(self, command: str, args: dict[str, Any]) -> Any:
        inner = asyncio.ensure_future(self.backend.call(command, args, self.caller))
        # If we stop waiting, the result (or error) is still collected: no "never retrieved".
        inner.add_done_callback(_consume)
        return await asyncio.shield(inner)

    async def _watch(self, command: str, args: dict[str, Any]) -> None:
        first = await self.backend.call(command, {**args, "since": 0}, self.caller)
        since = int(first.get("last", 0))
        self.print_lines(f"watching port {args.get('port')}; Ctrl-C stops")
        while True:
            await asyncio.sleep(WATCH_S)
            result = await self.backend.call(command, {**args, "since": since}, self.caller)
            for ev in result.get("events", []):
                extra = " ".join(f"{k}={v}" for k, v in ev.items()
                                 if k not in ("seq", "type", "port", "at"))
                self.print_lines(f"{ev.get('at', 0):.3f} port {ev.get('port')} "
                                 f"{ev.get('type')} {extra}".rstrip())
            since = int(result.get("last", since))

    async def _refresh(self, everything: bool, then_prompt: bool = True) -> None:
        """What the prompt and completion show: the name, '*', ports, PATHs, accounts."""
        facts = self.facts
        status = await self._quiet("status", {})
        if isinstance(status, dict):
            facts.name = str(status.get("name") or facts.name)
            facts.ports = [p for p in status.get("ports", []) if isinstance(p, dict)]
        pending = await self._quiet("config.pending", {})
        facts.pending = bool(pending.get("pending")) if isinstance(pending, dict) else False
        if everything:
            paths = await self._quiet("config.paths", {})
            facts.paths = [str(p) for p in paths] if isinstance(paths, list) else []
            shown = await self._quiet("config.show", {"candidate": True, "json": True})
            facts.doc = shown.get("config", {}) if isinstance(shown, dict) else {}
            users = await self._quiet("user.list", {})
            facts.accounts = ([str(u.get("name")) for u in users if isinstance(u, dict)]
                              if isinstance(users, list) else [])
        if then_prompt and self.state != "stopped":
            self.prompt()

    async def _quiet(self, name: str, args: dict[str, Any]) -> Any:
        if not self.backend.may(self.caller, name):
            return None
        try:
            return await self.backend.call(name, args, self.caller)
        except asyncio.CancelledError:
            raise
        except Exception:  # the prompt goes on without the fact
            log.debug("console could not read %s", name, exc_info=True)
            return None

    # --- ? and Tab ----------------------------------------------------------------------
    def _here(self) -> tuple[list[str], str, int]:
        text = self.editor.line[:self.editor.cursor]
        sp = split(text)
        words = [w.text for w in sp.words]
        if sp.trailing_space or not words:
            return words, "", len(text)
        return words[:-1], words[-1], sp.words[-1].start

    def _help_here(self) -> None:
        before, partial, _ = self._here()
        self._write("?\r\n")
        items = self.grammar.next_items(before, partial)
        if not items:
            self._fail(self._why(before, partial))
        self._show(items_text([(i.word, i.help) for i in items], self.editor.width),
                   then=self._redraw)

    def _complete(self) -> None:
        before, partial, start = self._here()
        if split(self.editor.line[:self.editor.cursor]).open_quote:
            self._write("\a")
            return
        items = [i for i in self.grammar.next_items(before, partial) if i.insertable]
        if not items:
            self._write("\a")
            return
        if len(items) == 1:
            word = items[0].word + (" " if items[0].complete else "")
        else:
            word = _common_prefix([i.word for i in items])
            if len(word) <= len(partial):
                self._write("\r\n")
                self._show(items_text([(i.word, i.help) for i in items], self.editor.width),
                           then=self._redraw)
                return
        line, cursor = self.editor.line, self.editor.cursor
        rest = line[cursor:]
        if rest.startswith(" ") and word.endswith(" "):
            word = word[:-1]
        self._write(self.editor.set_line(line[:start] + word + rest, start + len(word)))

    def _why(self, before: list[str], partial: str) -> str:
        try:
            self.grammar.parse(split(" ".join([*before, partial or "?"])).words)
        except GrammarError as exc:
            return str(exc)
        return "nothing can follow here"

    def _redraw(self) -> None:
        self.state = "edit"
        self._write(self.editor.redraw())

    def _help(self, words: list[str]) -> None:
        items: list[Item] = self.grammar.next_items(words, "")
        text = items_text([(i.word, i.help) for i in items], self.editor.width)
        if not words:
            text = "Commands:\n" + text + "\n" + KEYS_HELP
        elif not items:
            text = "% " + self._why(words, "")
        self._show(text)

    # --- output -------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self.print_lines("\n".join(f"% {line}" for line in message.split("\n")))

    def _show(self, text: str, then: Callable[[], None] | None = None) -> None:
        rows = wrap(text, self.editor.width) if text else []
        self._after_pages = then or self.prompt
        self._pages = rows
        self._page(self._height - 1 if self._height else len(rows))

    def _page(self, count: int) -> None:
        chunk, self._pages = self._pages[:count], self._pages[count:]
        if chunk:
            self._write("\r\n".join(chunk) + "\r\n")
        if self._pages:
            self.state = "pager"
            self._write(MORE)
        else:
            self._after_pages()

    def _page_key(self, key: str) -> None:
        self._write("\r" + " " * len(MORE) + "\r")
        if key == " ":
            self._page(self._height - 1)
        elif key == "enter":
            self._page(1)
        elif key in ("q", "Q", "ctrl-c"):
            self._pages = []
            self._after_pages()
        else:
            self._write(MORE)


def _common_prefix(words: list[str]) -> str:
    first, last = min(words), max(words)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def _consume(fut: asyncio.Future[Any]) -> None:
    with contextlib.suppress(asyncio.CancelledError, Exception):
        fut.result()
