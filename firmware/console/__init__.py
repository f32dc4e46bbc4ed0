"""The installer's console: a login and a command line over a byte stream (a serial port,
or ``minipbx console`` over a local socket).

Layers, each with one job: ``keys`` (bytes to keys), ``editor`` (one VT100 row),
``words`` and ``grammar`` (CLI words onto the command table, for Enter, ``?`` and Tab),
``values`` (what a slot may take now), ``render`` (results as text), ``shell`` (the
command line), ``session`` (login, setup, idle logout), and two thin adapters over the event
loop: ``serial_port`` and ``socket_console``. Like the web page it is a front end only: it
reaches the box through the command table (``backend.Backend``) and the configuration
schema, never directly.
"""
