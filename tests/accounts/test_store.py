"""The account store: hashes, the one-time setup code, tokens, the file on disk."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from firmware.accounts import Account, AccountStore, hashing
from firmware.accounts.store import ROLES, AccountsFileError
from firmware.commands import caller
from firmware.core.errors import CommandError, NotFoundError, PermissionDeniedError


@pytest.fixture()
def store(tmp_path: Path) -> AccountStore:
    return AccountStore(tmp_path / "accounts.json")


def test_roles_are_the_command_tables_roles() -> None:
    assert ROLES == caller.ROLES


def test_password_is_stored_as_scrypt_and_verifies(store: AccountStore) -> None:
    store.add("ivan", "installer", "correct horse", extension="105")
    raw = store.path.read_text()
    assert "correct horse" not in raw
    entry = json.loads(raw)["accounts"]["ivan"]
    fields = entry["password"].split("$")
    assert fields[:4] == ["scrypt", "16384", "8", "1"] and len(fields) == 6
    assert store.verify("ivan", "correct horse") == Account("ivan", "installer", "105")
    assert store.verify("ivan", "correct hors") is None
    assert store.verify("nobody", "correct horse") is None
    assert store.get("ivan") == Account("ivan", "installer", "105")
    assert [r["name"] for r in store.list()] == ["ivan"]
    assert set(store.list()[0]) == {"name", "role", "extension", "created"}


def test_same_password_gets_a_different_salt(store: AccountStore) -> None:
    assert hashing.hash_secret("same secret") != hashing.hash_secret("same secret")
    assert not hashing.verify_secret("x", "scrypt$bad")
    assert not hashing.verify_secret("x", "md5$1$1$1$AA==$AA==")


def test_file_is_0600_and_survives_a_reload(store: AccountStore) -> None:
    store.add("ann", "admin", "a long password")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    again = AccountStore(store.path)
    assert again.verify("ann", "a long password") == Account("ann", "admin", None)
    # No temporary file left behind.
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["accounts.json"]


def test_loose_file_mode_is_tightened(store: AccountStore) -> None:
    store.add("ann", "admin", "a long password")
    os.chmod(store.path, 0o644)
    AccountStore(store.path)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_and_memory(store: AccountStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store.add("ann", "admin", "a long password")
    before = store.path.read_bytes()

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        store.add("bob", "user", "another password")
    assert store.path.read_bytes() == before
    assert store.get("bob") is None
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["accounts.json"]


def test_damaged_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text("{not json")
    with pytest.raises(AccountsFileError, match=r"damaged.*move it aside"):
        AccountStore(path)
    path.write_text(json.dumps({"format": 1, "accounts": {"Bad Name": {}}, "tokens": {}}))
    with pytest.raises(AccountsFileError, match="damaged"):
        AccountStore(path)


@pytest.mark.parametrize("name", ["", "Ann", "a b", "x" * 33, "ann;rm", "ä", "../x"])
def test_bad_names_are_refused(store: AccountStore, name: str) -> None:
    with pytest.raises(CommandError, match="account name"):
        store.add(name, "user", "a long password")


@pytest.mark.parametrize(("password", "why"), [
    ("short", "too short"), ("x" * 257, "too long"), ("with\nnewline", "control"),
    ("bob.smith", "not be the account name"), ("BOB.SMITH", "not be the account name"),
])
def test_bad_passwords_are_refused(store: AccountStore, password: str, why: str) -> None:
    with pytest.raises(CommandError, match=why):
        store.add("bob.smith", "user", password)
    assert store.get("bob.smith") is None


def test_bad_role_and_extension(store: AccountStore) -> None:
    with pytest.raises(CommandError, match="role 'root'"):
        store.add("bob", "root", "a long password")
    with pytest.raises(CommandError, match="digits only"):
        store.add("bob", "user", "a long password", extension="10a")


def test_duplicate_unknown_and_last_admin(store: AccountStore) -> None:
    store.add("ann", "admin", "a long password")
    with pytest.raises(CommandError, match="exists already"):
        store.add("ann", "user", "a long password 2")
    with pytest.raises(NotFoundError, match="no account 'zed'"):
        store.passwd("zed", "a long password")
    with pytest.raises(NotFoundError):
        store.delete("zed")
    with pytest.raises(CommandError, match="last admin"):
        store.delete("ann")
    store.add("root2", "admin", "a long password")
    store.delete("ann")
    assert store.get("ann") is None and store.has_admin()


def test_passwd_changes_the_password(store: AccountStore) -> None:
    store.add("bob", "user", "old password")
    store.passwd("bob", "new password")
    assert store.verify("bob", "old password") is None
    assert store.verify("bob", "new password") is not None


def test_setup_code_is_one_time(store: AccountStore) -> None:
    assert not store.has_admin()
    code = store.setup_code()
    assert code is not None and len(code) == 14 and code.count("-") == 2
    assert store.setup_code() == code  # stable while the daemon runs
    assert code not in store.path.read_text()  # only its hash is on disk
    with pytest.raises(PermissionDeniedError, match="wrong setup code"):
        store.complete_setup("AAAA-AAAA-AAAA", "ann", "a long password")
    # Typed by hand: lower case, no dashes.
    account = store.complete_setup(code.lower().replace("-", " "), "ann", "a long password")
    assert account == Account("ann", "admin", None)
    assert store.setup_code() is None
    with pytest.raises(PermissionDeniedError, match="admin already"):
        store.complete_setup(code, "eve", "a long password")
    assert store.get("eve") is None
    assert json.loads(store.path.read_text())["setup"] is None


def test_setup_code_is_refused_before_one_is_issued(store: AccountStore) -> None:
    with pytest.raises(PermissionDeniedError):
        store.complete_setup("", "ann", "a long password")


def test_a_restart_issues_a_new_code_and_voids_the_old(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    old = AccountStore(path).setup_code()
    new_store = AccountStore(path)
    new = new_store.setup_code()
    assert old and new and old != new
    with pytest.raises(PermissionDeniedError):
        new_store.complete_setup(old, "ann", "a long password")


def test_racing_setups_make_one_admin(store: AccountStore) -> None:
    code = store.setup_code()
    assert code
    made: list[str] = []

    def go(name: str) -> None:
        try:
            store.complete_setup(code, name, "a long password")
            made.append(name)
        except PermissionDeniedError:
            pass
    threads = [threading.Thread(target=go, args=(n,)) for n in ("ann", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and [r["name"] for r in store.list()] == made


def test_tokens_are_hashed_and_replaced(store: AccountStore) -> None:
    store.add("ann", "admin", "a long password")
    store.add("bob", "user", "a long password", extension="101")
    token = store.new_token("bob")
    assert token.startswith("mpx_") and token not in store.path.read_text()
    assert store.verify_token(token) == Account("bob", "user", "101")
    second = store.new_token("bob")
    assert store.verify_token(token) is None  # replaced
    assert store.verify_token(second) is not None
    assert store.verify_token("mpx_guess") is None
    assert store.verify_token("") is None
    with pytest.raises(NotFoundError):
        store.new_token("zed")
    store.delete("bob")
    assert store.verify_token(second) is None
    assert json.loads(store.path.read_text())["tokens"] == {}
