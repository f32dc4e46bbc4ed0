"""The box's one configuration file: its schema, loading, checking, writing and history.

Import from here::

    from firmware.config import load_config, ConfigStore, to_toml

This package imports only ``firmware.core`` and the standard library: the web page and the
serial console reach the system through commands and this package alone.
"""

from firmware.config.loader import check_config, default_config, load_config, parse_config
from firmware.config.problems import InvalidConfigError, Problem
from firmware.config.render import to_toml
from firmware.config.schema import (
    KNOWN_COUNTRIES,
    BoxConfig,
    CallerIdStandard,
    Config,
    ConsoleConfig,
    DialPlanConfig,
    DisconnectMethod,
    DtmfMode,
    FxoPort,
    FxsPort,
    InboundRoute,
    OutboundRoute,
    SipConfig,
    Transport,
    Trunk,
    WebConfig,
)
from firmware.config.store import ConfigStore, Version

__all__ = [
    "KNOWN_COUNTRIES",
    "BoxConfig",
    "CallerIdStandard",
    "Config",
    "ConfigStore",
    "ConsoleConfig",
    "DialPlanConfig",
    "DisconnectMethod",
    "DtmfMode",
    "FxoPort",
    "FxsPort",
    "InboundRoute",
    "InvalidConfigError",
    "OutboundRoute",
    "Problem",
    "SipConfig",
    "Transport",
    "Trunk",
    "Version",
    "WebConfig",
    "check_config",
    "default_config",
    "load_config",
    "parse_config",
    "to_toml",
]
