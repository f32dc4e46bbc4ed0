"""The exception root of the hardware layer."""


class DriverError(Exception):
    """Root of every error raised by a line-board backend."""


class BoardProfileError(DriverError, ValueError):
    """A board profile (board/*.toml) is wrong; the message names the file and key."""


class PortError(DriverError, LookupError):
    """A port number or kind that the board does not have."""
