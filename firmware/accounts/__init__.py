"""Accounts of the box's people: names, roles, hashed passwords, API tokens and the one-time
setup code. Imports only firmware.core; the composition root builds the store and hands it
to the front ends."""

from firmware.accounts.store import Account, AccountStore

__all__ = ["Account", "AccountStore"]
