"""The exception root of the firmware.

Every error a user can meet says what was wrong, where, and what to do. Subclasses also
inherit the matching built-in, so callers that only know Python still catch them.
"""


class PbxError(Exception):
    """Root of every error raised by the firmware."""


class ConfigError(PbxError, ValueError):
    """A configuration value is wrong; the message names the file, line and key."""


class CommandError(PbxError, ValueError):
    """A management command was given bad arguments (unknown port, bad number, ...)."""


class NotFoundError(CommandError, LookupError):
    """A command named something that does not exist (a port, a trunk, a call)."""


class PermissionDeniedError(CommandError, PermissionError):
    """The caller's role does not allow the command (firmware.commands.caller)."""
