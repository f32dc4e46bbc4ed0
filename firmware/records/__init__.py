"""Call records in SQLite (issue 10): the store, its queries and the live load figures.

Imports only the standard library and firmware.core: the daemon writes through
:class:`~firmware.records.store.CallStore`, commands read through the same class.
"""
