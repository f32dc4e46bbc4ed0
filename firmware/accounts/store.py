"""The account store: one JSON file, ``state_dir/accounts.json``, mode 0600.

Rules:
- No account and no password ship with the box (California SB-327, UK PSTI). While there is
  no admin, :meth:`AccountStore.setup_code` hands out a random one-time code (a new one each
  time the daemon starts; only its hash is on disk). Whoever shows the code creates the
  first admin with :meth:`AccountStore.complete_setup`; from then on there is no code.
- Passwords, the setup code and API tokens are stored only as hashes (firmware.accounts.
  hashing); the configuration TOML never holds any of them.
- Every change rewrites the file atomically (temp file, fsync, rename, fsync of the folder):
  a power cut leaves the old or the new file, never a torn one.
- The daemon is the only writer; the store keeps the file's content in memory and is safe to
  use from several threads (password hashing is slow by design and runs off the loop).
- Names are ``[a-z0-9_.-]{1,32}``; passwords have 8 to 256 characters, no control
  characters, and are not the name. One API token per account: a new one replaces the old.
- The last admin cannot be deleted (the box would be left with no way in but a reinstall).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from firmware.accounts import hashing
from firmware.core.errors import (
    CommandError,
    ConfigError,
    NotFoundError,
    PermissionDeniedError,
)
from firmware.core.files import write_atomic

log = logging.getLogger(__name__)

Role = Literal["user", "installer", "admin"]
# The same order as firmware.commands.caller.ROLES (accounts may not import commands; a test
# holds the two equal).
ROLES: tuple[Role, ...] = ("user", "installer", "admin")

FILE_NAME = "accounts.json"
FORMAT = 1
NAME_RE = re.compile(r"[a-z0-9_.-]{1,32}")
EXTENSION_RE = re.compile(r"[0-9]{1,16}")
MIN_PASSWORD = 8
MAX_PASSWORD = 256

AccountRow = dict[str, Any]


class AccountsFileError(ConfigError):
    """accounts.json cannot be read; the message says which file and what to do."""


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    extension: str | None = None


class AccountStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        # Held through a whole complete_setup, so two people racing make one admin.
        self._setup_lock = threading.Lock()
        self._setup_plain: str | None = None
        self._data = self._load()

    # --- reading ------------------------------------------------------------------------
    def get(self, name: str) -> Account | None:
        with self._lock:
            entry = self._data["accounts"].get(name)
            return _account(name, entry) if entry else None

    def list(self) -> list[AccountRow]:
        with self._lock:
            return [{"name": name, "role": e["role"], "extension": e.get("extension"),
                     "created": e.get("created")}
                    for name, e in sorted(self._data["accounts"].items())]

    def has_admin(self) -> bool:
        with self._lock:
            return self._admins() > 0

    def verify(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is its password, else None (slow: scrypt)."""
        with self._lock:
            entry = self._data["accounts"].get(name) if isinstance(name, str) else None
        if entry is None or not isinstance(password, str):
            hashing.burn_time(password if isinstance(password, str) else "")
            return None
        if not hashing.verify_secret(password, entry["password"]):
            return None
        return _account(name, entry)

    def verify_token(self, token: str) -> Account | None:
        if not isinstance(token, str) or not token.startswith(hashing.TOKEN_PREFIX):
            return None
        digest = hashing.token_digest(token)
        with self._lock:
            held = self._data["tokens"].get(digest)
            if held is None:
                return None
            entry = self._data["accounts"].get(held["name"])
            return _account(held["name"], entry) if entry else None

    # --- changing -----------------------------------------------------------------------
    def add(self, name: str, role: str, password: str, extension: str | None = None) -> Account:
        _check_name(name)
        checked_role = _check_role(role)
        _check_extension(extension)
        _check_password(name, password)
        hashed = hashing.hash_secret(password)
        with self._lock:
            if name in self._data["accounts"]:
                raise CommandError(f"account {name!r} exists already; `user passwd {name}` "
                                   "changes its password, `user delete` removes it")
            self._change(lambda d: d["accounts"].__setitem__(name, {
                "role": checked_role, "extension": extension or None,
                "created": round(time.time(), 3), "password": hashed}))
        log.info("account %s added (role %s)", name, checked_role)
        return Account(name, checked_role, extension or None)

    def passwd(self, name: str, password: str) -> None:
        _check_password(name, password)
        hashed = hashing.hash_secret(password)
        with self._lock:
            self._need(name)
            self._change(lambda d: d["accounts"][name].__setitem__("password", hashed))
        log.info("password of %s changed", name)

    def delete(self, name: str) -> None:
        with self._lock:
            entry = self._need(name)
            if entry["role"] == "admin" and self._admins() == 1:
                raise CommandError(f"{name} is the last admin: add another admin before "
                                   "deleting this one")

            def drop(d: dict[str, Any]) -> None:
                del d["accounts"][name]
                d["tokens"] = {k: v for k, v in d["tokens"].items() if v["name"] != name}
            self._change(drop)
        log.info("account %s deleted", name)

    def new_token(self, name: str) -> str:
        """A new API token for ``name`` (shown once; replaces the account's old token)."""
        token = hashing.new_token()
        digest = hashing.token_digest(token)
        with self._lock:
            self._need(name)

            def put(d: dict[str, Any]) -> None:
                d["tokens"] = {k: v for k, v in d["tokens"].items() if v["name"] != name}
                d["tokens"][digest] = {"name": name, "created": round(time.time(), 3)}
            self._change(put)
        log.info("new API token for %s", name)
        return token

    # --- first start --------------------------------------------------------------------
    def setup_code(self) -> str | None:
        """The one-time setup code while no admin exists, else None."""
        with self._lock:
            if self._admins():
                return None
            if self._setup_plain is None:
                code = hashing.new_setup_code()
                hashed = hashing.hash_secret(hashing.normalise_setup_code(code))
                self._change(lambda d: d.__setitem__("setup", hashed))
                self._setup_plain = code
            return self._setup_plain

    def complete_setup(self, code: str, name: str, password: str) -> Account:
        """Create the first admin, given the setup code (PermissionDeniedError if wrong)."""
        with self._setup_lock:
            return self._complete_setup(code, name, password)

    def _complete_setup(self, code: str, name: str, password: str) -> Account:
        with self._lock:
            stored = self._data.get("setup")
            done = self._admins() > 0
        if done:
            raise PermissionDeniedError("the box has an admin already: log in with that "
                                        "account (setup runs only once)")
        if not isinstance(code, str) or not stored or not hashing.verify_secret(
                hashing.normalise_setup_code(code), stored):
            raise PermissionDeniedError("wrong setup code: it is in the daemon's log, on the "
                                        "serial console, and from `minipbx setup-code`")
        account = self.add(name, "admin", password)
        with self._lock:
            self._change(lambda d: d.__setitem__("setup", None))
            self._setup_plain = None
        log.info("first admin %s created with the setup code; the code is now void", name)
        return account

    # --- the file -----------------------------------------------------------------------
    def _admins(self) -> int:
        return sum(1 for e in self._data["accounts"].values() if e["role"] == "admin")

    def _need(self, name: str) -> dict[str, Any]:
        entry = self._data["accounts"].get(name)
        if entry is None:
            raise NotFoundError(f"no account {name!r}; `user list` shows the accounts")
        return cast(dict[str, Any], entry)

    def _change(self, edit: Any) -> None:
        """Apply ``edit`` to a copy, write it, and only then keep it (caller holds the lock)."""
        data = json.loads(json.dumps(self._data))
        edit(data)
        self._write(data)
        self._data = data

    def _load(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"format": FORMAT, "accounts": {}, "tokens": {}, "setup": None}
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty
        except OSError as exc:
            raise AccountsFileError(f"{self.path}: cannot read the accounts: {exc.strerror}; "
                                    "check its owner and mode (0600)") from exc
        try:
            data = json.loads(raw)
            _check_file(data)
        except (ValueError, TypeError, KeyError) as exc:
            raise AccountsFileError(
                f"{self.path}: the accounts file is damaged ({exc}); restore it from a backup, "
                "or move it aside to start again with a setup code") from exc
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("%s was mode %o; setting 0600", self.path, mode)
            os.chmod(self.path, 0o600)
        return cast(dict[str, Any], data)

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def _account(name: str, entry: dict[str, Any]) -> Account:
    return Account(name, cast(Role, entry["role"]), entry.get("extension"))


def _check_file(data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"format is not {FORMAT}")
    for name, entry in data["accounts"].items():
        if not NAME_RE.fullmatch(name) or entry["role"] not in ROLES or not isinstance(
                entry["password"], str):
            raise ValueError(f"account {name!r} is malformed")
    for entry in data["tokens"].values():
        if entry["name"] not in data["accounts"]:
            raise ValueError("a token names no account")
    data.setdefault("setup", None)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise CommandError(f"account name {name!r}: use 1 to 32 of a-z 0-9 _ . - "
                           "(lower case)")


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise CommandError(f"role {role!r}: use one of {', '.join(ROLES)}")
    return role


def _check_extension(extension: str | None) -> None:
    if extension is not None and extension != "" and (
            not isinstance(extension, str) or not EXTENSION_RE.fullmatch(extension)):
        raise CommandError(f"extension {extension!r}: digits only, like 101")


def _check_password(name: str, password: str) -> None:
    if not isinstance(password, str):
        raise CommandError("password must be text")
    if len(password) < MIN_PASSWORD:
        raise CommandError(f"password too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise CommandError(f"password too long: at most {MAX_PASSWORD} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        raise CommandError("password must not contain control characters")
    if password.lower() == name.lower():
        raise CommandError("password must not be the account name")
