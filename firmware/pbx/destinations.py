"""Destinations (``ext:101``, ``group:sales``...): the value type lives in
``firmware.core.destinations`` so that the configuration's checks share it; the exchange
imports it from here."""

from firmware.core.destinations import (
    HANGUP,
    KINDS,
    Destination,
    Kind,
    destination,
    parse_choice,
    parse_destination,
)

__all__ = ["HANGUP", "KINDS", "Destination", "Kind", "destination", "parse_choice",
           "parse_destination"]
