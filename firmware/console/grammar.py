"""The console's grammar: a typed line matched against the command forms
(firmware/console/forms.py), for parsing, ``?`` help and Tab completion alike.

Rules:
- Words may be shortened while they stay unambiguous (``conf comm`` is ``config commit``).
- What may come next at any point is one list (:meth:`Grammar.next_items`), so ``?`` and
  Tab never disagree with what Enter accepts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from firmware.console.forms import (
    GROUP_HELP,
    OVERRIDES,
    SHELL_COMMANDS,
    Form,
    GrammarError,
    Invocation,
    Item,
    NoValues,
    Slot,
    ValueSource,
    convert,
    derive,
    is_hidden,
)
from firmware.console.words import Word


class Grammar:
    def __init__(self, described: Sequence[Mapping[str, Any]],
                 values: ValueSource | None = None) -> None:
        self.values: ValueSource = values or NoValues()
        self.forms: list[Form] = []
        for entry in described:
            if is_hidden(entry):
                continue
            form = derive(entry)
            override = OVERRIDES.get(form.command)
            self.forms.append(override(form) if override else form)
        for word, text in SHELL_COMMANDS.items():
            self.forms.append(Form(f"shell.{word}", (word,), text))

    # --- parsing --------------------------------------------------------------------------
    def parse(self, words: Sequence[Word]) -> Invocation:
        texts = [w.text for w in words]
        if not texts:
            raise GrammarError("empty line")
        live, used = self._walk(texts)
        if not live:
            raise GrammarError(self._why_not(texts, used))
        done = [f for f in live if len(f.elements) <= used]
        if not done:
            wanted: list[str] = []
            for f in live:
                el = f.elements[used]
                for word in [el] if isinstance(el, str) else (el.choices or [el.label]):
                    if word not in wanted:
                        wanted.append(word)
            want = " or ".join(wanted[:6])
            raise GrammarError(f"incomplete command: {' '.join(texts)} needs {want} "
                               "(type ? for help)")
        form = done[0]
        args: dict[str, Any] = {}
        for element, text in zip(form.elements, texts, strict=False):
            if isinstance(element, Slot):
                args[element.arg] = slot_value(element, text)
        local: dict[str, Any] = {}
        self._options(form, texts[len(form.elements):], args, local)
        return Invocation(form, args, local)

    def _options(self, form: Form, texts: list[str], args: dict[str, Any],
                 local: dict[str, Any]) -> None:
        pairs: dict[str, str] = {}
        i = 0
        while i < len(texts):
            text = texts[i]
            slot = form.options.get(text) or self._option_prefix(form, text)
            if slot is not None:
                into = local if slot.arg in form.local else args
                if slot.type == "bool":
                    into[slot.arg] = True
                    i += 1
                    continue
                if i + 1 >= len(texts):
                    raise GrammarError(f"{text} needs a value: {slot.label} {slot.help}")
                into[slot.arg] = slot_value(slot, texts[i + 1])
                i += 2
                continue
            if form.rest is not None and "=" in text and not text.startswith("-"):
                key, _, value = text.partition("=")
                pairs[key] = value
                i += 1
                continue
            hint = (f"; options here: {', '.join(sorted(form.options))}" if form.options
                    else "")
            raise GrammarError(f"unexpected {text!r}{hint} (put a value with spaces in "
                               'double quotes)')
        if form.rest is not None:
            if not pairs:
                raise GrammarError("give the entry's settings as KEY=VALUE, such as "
                                   "port=3 extension=103")
            args[form.rest.arg] = json.dumps(pairs)
        for option in form.required_options:
            slot = form.options[option]
            if slot.arg not in args:
                raise GrammarError(f"missing {option} {slot.label} ({slot.help})")

    def _option_prefix(self, form: Form, text: str) -> Slot | None:
        if not text.startswith("--") or len(text) < 3:
            return None
        found = [o for o in form.options if o.startswith(text)]
        return form.options[found[0]] if len(found) == 1 else None

    def _walk(self, texts: Sequence[str]) -> tuple[list[Form], int]:
        """The forms whose words and slots match ``texts`` as far as they go, and how many
        words that is (the rest are options); no forms, and the bad word's index, if one
        does not fit."""
        live = list(self.forms)
        for i, text in enumerate(texts):
            positional = [f for f in live if i < len(f.elements)]
            finished = [f for f in live if len(f.elements) <= i]
            if not positional or (finished and text.startswith("-")):
                return finished, i
            literals = {e for f in positional if isinstance(e := f.elements[i], str)}
            word = _resolve(text, literals)
            if word is not None:
                live = [f for f in positional if f.elements[i] == word]
                continue
            live = [f for f in positional
                    if isinstance(e := f.elements[i], Slot) and _fits(e, text)]
            if not live:
                return [], i
        return live, len(texts)

    def _why_not(self, texts: Sequence[str], bad_at: int) -> str:
        bad, prefix = texts[bad_at], texts[:bad_at]
        live, _ = self._walk(prefix)
        for f in live:
            el = f.elements[bad_at] if bad_at < len(f.elements) else None
            if isinstance(el, Slot):
                try:
                    slot_value(el, bad)
                except GrammarError as exc:
                    return str(exc)
        items = [i for i in self.next_items(prefix, "") if i.insertable]
        where = " ".join(prefix)
        expected = ", ".join(i.word for i in items[:8])
        more = ", ..." if len(items) > 8 else ""
        after = f" after {where!r}" if where else ""
        return f"unknown word {bad!r}{after}; expected {expected}{more} (? lists them)"

    # --- what may come next ---------------------------------------------------------------
    def next_items(self, before: Sequence[str], partial: str) -> list[Item]:
        """What may be typed after the words ``before``, starting with ``partial``."""
        live, used = self._walk(before)
        if used < len(before):
            # Past the positional part: options and KEY=VALUE words.
            return self._after(live, before, partial)
        words: list[Item] = []  # command words, listed in alphabetical order
        items: list[Item] = []  # values and options, in their own order
        seen: set[str] = set()
        i = len(before)
        args_so_far = self._raw_args(live, before)
        for f in live:
            if i < len(f.elements):
                el = f.elements[i]
                if isinstance(el, str):
                    if el.startswith(partial) and el not in seen:
                        seen.add(el)
                        words.append(Item(el, self._word_help(live, i, el)))
                else:
                    items.extend(self._slot_items(f, el, args_so_far, partial, seen))
            else:
                items.extend(self._after([f], before, partial))
        return _dedupe(sorted(words, key=lambda item: item.word) + items)

    def _after(self, live: list[Form], before: Sequence[str], partial: str) -> list[Item]:
        items: list[Item] = []
        for f in live:
            given = set(before[len(f.elements):])
            last = before[-1] if len(before) > len(f.elements) else None
            pending = f.options.get(last) if last else None
            # After `--seconds`, the value comes; unless it was already given.
            if pending is not None and pending.type != "bool" and _odd_tail(
                    f, before[len(f.elements):]):
                items.extend(self._slot_items(f, pending, self._raw_args([f], before),
                                              partial, set()))
                continue
            for opt, slot in f.options.items():
                if opt not in given and opt.startswith(partial) and not (
                        opt == "-m" and "--message" in given):
                    kind = "" if slot.type == "bool" else f" {slot.label}"
                    items.append(Item(opt, f"{kind.strip()} {slot.help}".strip()))
            if f.rest is not None:
                items.extend(self._slot_items(f, f.rest, self._raw_args([f], before),
                                              partial, set()))
            missing = [o for o in f.required_options if o not in given]
            if not partial and not missing and (f.rest is None or any(
                    "=" in t for t in before[len(f.elements):])):
                items.append(Item("<cr>", "Enter runs it", insertable=False))
        return _dedupe(items)

    def _slot_items(self, form: Form, slot: Slot, args: Mapping[str, str], partial: str,
                    seen: set[str]) -> list[Item]:
        if slot.choices:
            found = [Item(c, slot.help) for c in slot.choices if c.startswith(partial)]
        else:
            found = [i for i in self.values.values(form.command, slot, args, partial)
                     if i.word.startswith(partial) or not i.insertable]
        if not found:
            found = [Item(slot.label, slot.help, insertable=False)]
        out = [i for i in found if i.word not in seen]
        seen.update(i.word for i in out)
        return out

    def _raw_args(self, live: list[Form], before: Sequence[str]) -> dict[str, str]:
        """The words typed so far by argument name (for values that depend on others)."""
        raw: dict[str, str] = {}
        for f in live[:1]:
            for el, text in zip(f.elements, before, strict=False):
                if isinstance(el, Slot):
                    raw[el.arg] = text
            tail = list(before[len(f.elements):])
            for j, text in enumerate(tail[:-1]):
                if text in f.options:
                    raw[f.options[text].arg] = tail[j + 1]
        return raw

    def _word_help(self, live: list[Form], i: int, word: str) -> str:
        if word in GROUP_HELP:  # a group's, or a one-row version of a long command help
            return GROUP_HELP[word]
        under = [f for f in live if i < len(f.elements) and f.elements[i] == word]
        if len(under) == 1 and all(isinstance(e, Slot) for e in under[0].elements[i + 1:]):
            return under[0].help
        return ", ".join(
            sorted({" ".join(e for e in f.elements[i + 1:] if isinstance(e, str))
                    for f in under} - {""}))  # "" is the group word alone as a command

    def top_level(self) -> list[Item]:
        return self.next_items([], "")


def slot_value(slot: Slot, text: str) -> Any:
    """``text`` converted for ``slot``, a choice given by its first letters allowed."""
    return convert(slot, _resolve(text, set(slot.choices)) or text)


def _fits(slot: Slot, text: str) -> bool:
    try:
        slot_value(slot, text)
    except GrammarError:
        return False
    return True


def _resolve(text: str, words: set[str]) -> str | None:
    if text in words:
        return text
    found = [w for w in words if w.startswith(text)]
    return found[0] if len(found) == 1 and text else None


def _odd_tail(form: Form, tail: Sequence[str]) -> bool:
    """Whether the last word of ``tail`` is an option still waiting for its value."""
    i = 0
    waiting = False
    while i < len(tail):
        slot = form.options.get(tail[i])
        if slot is not None and slot.type != "bool":
            waiting = i + 1 >= len(tail)
            i += 2
        else:
            waiting = False
            i += 1
    return waiting


def _dedupe(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.word not in seen:
            seen.add(item.word)
            out.append(item)
    return out
