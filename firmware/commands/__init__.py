"""The one command table that every front end uses: the CLI over the control socket, the
web page and the serial console. A command is a name, a description, and an async handler
that takes plain JSON-able arguments and returns a JSON-able result."""
