"""Building HTML safely from Python strings.

Rule: every value that reaches a page goes through :func:`esc` unless it is already
:class:`Html` (built here from escaped parts). Templates are ``string.Template`` texts with
``$name`` holes; :class:`Tpl` escapes every value put in a hole, so a template author can
not forget to.
"""

from __future__ import annotations

import html
import string
from collections.abc import Iterable, Mapping


class Html(str):
    """Text that is safe to put in a page as it is."""

    __slots__ = ()


def esc(value: object) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    return Html(sep.join(esc(p) for p in parts))


class Tpl:
    """A page fragment with ``$holes``; values are escaped unless they are Html."""

    def __init__(self, text: str) -> None:
        self._template = string.Template(text)

    def __call__(self, **values: object) -> Html:
        return Html(self._template.substitute({k: esc(v) for k, v in values.items()}))


def attrs(values: Mapping[str, object]) -> Html:
    """` name="value"` pairs; True gives a bare attribute, False and None leave it out."""
    out = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {esc(key)}")
        else:
            out.append(f' {esc(key)}="{esc(value)}"')
    return Html("".join(out))


def element(tag: str, body: object = "", /, **attributes: object) -> Html:
    """``<tag attrs>body</tag>``; a trailing underscore in an attribute name is dropped
    (``class_``) and other underscores become dashes (``aria_describedby``)."""
    fixed = {k.rstrip("_").replace("_", "-"): v for k, v in attributes.items()}
    return Html(f"<{tag}{attrs(fixed)}>{esc(body)}</{tag}>")


def void(tag: str, /, **attributes: object) -> Html:
    fixed = {k.rstrip("_").replace("_", "-"): v for k, v in attributes.items()}
    return Html(f"<{tag}{attrs(fixed)}>")
