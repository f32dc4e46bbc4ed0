"""The account commands through the command table, as each role and front end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from firmware.accounts import AccountStore
from firmware.commands.builtin import table
from firmware.commands.caller import ROOT, Caller
from firmware.core.errors import NotFoundError, PermissionDeniedError

ANN = Caller("ann", "admin", "serial")
BOB = Caller("bob", "user", "web", "101")
IVAN = Caller("ivan", "installer", "console")


class _System:
    def __init__(self, store: AccountStore) -> None:
        self._store = store

    def accounts(self) -> AccountStore:
        return self._store


@pytest.fixture()
def system(tmp_path: Path) -> _System:
    return _System(AccountStore(tmp_path / "accounts.json"))


def run(system: _System, command: str, caller: Caller = ROOT, /, **args: Any) -> Any:
    return asyncio.run(table.call(system, command, args, caller))


def test_root_reads_the_setup_code_only_over_the_socket(system: _System) -> None:
    code = run(system, "setup.code")["code"]
    assert code == system.accounts().setup_code()
    with pytest.raises(PermissionDeniedError, match="only root on the box"):
        run(system, "setup.code", Caller("root", "admin", "web"))
    run(system, "user.add", name="ann", role="admin", password="a long password")
    assert run(system, "setup.code") == {"code": None, "has_admin": True}


def test_admin_manages_accounts(system: _System) -> None:
    added = run(system, "user.add", ANN, name="bob", role="user", password="bobs password",
                extension="101")
    assert added == {"name": "bob", "role": "user", "extension": "101"}
    assert [r["name"] for r in run(system, "user.list", ANN)] == ["bob"]
    assert "password" not in str(run(system, "user.list", ANN))
    token = run(system, "user.token", ANN, name="bob")["token"]
    assert system.accounts().verify_token(token) is not None
    run(system, "user.delete", ANN, name="bob")
    with pytest.raises(NotFoundError):
        run(system, "user.delete", ANN, name="bob")


def test_a_user_changes_only_their_own_password_and_token(system: _System) -> None:
    run(system, "user.add", name="bob", role="user", password="bobs password", extension="101")
    run(system, "user.add", name="ivan", role="installer", password="ivans password")
    run(system, "user.passwd", BOB, name="bob", password="bobs new password")
    assert system.accounts().verify("bob", "bobs new password") is not None
    assert run(system, "user.token", BOB, name="bob")["token"].startswith("mpx_")
    with pytest.raises(PermissionDeniedError, match="only their own"):
        run(system, "user.passwd", BOB, name="ivan", password="hijacked password")
    with pytest.raises(PermissionDeniedError, match="only their own"):
        run(system, "user.token", IVAN, name="bob")
    assert system.accounts().verify("ivan", "ivans password") is not None
    with pytest.raises(PermissionDeniedError, match="needs the admin role"):
        run(system, "user.add", IVAN, name="x", role="user", password="whatever12")
    for command in ("user.list", "user.delete"):
        with pytest.raises(PermissionDeniedError, match="needs the admin role"):
            run(system, command, IVAN, name="x")


def test_whoami_names_the_caller(system: _System) -> None:
    assert run(system, "auth.whoami", BOB) == {"name": "bob", "role": "user", "via": "web",
                                               "extension": "101"}
