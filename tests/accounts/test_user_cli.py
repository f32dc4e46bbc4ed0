"""``minipbx setup-code`` and ``minipbx user ...`` against the real daemon, as root on the
box would run them."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator

import pytest

from firmware.accounts import AccountStore
from tests.e2e.conftest import default_config_text
from tests.e2e.harness import MINIPBX, ROOT, Daemon

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = Daemon(tmp_path_factory.mktemp("accounts"),
               default_config_text().replace("enabled = true", "enabled = false"),
               extra_args=["--board", "sim"])
    d.wait_ready()
    yield d
    assert d.stop() == 0, d.log()


def minipbx(box: Daemon, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MINIPBX, "--state-dir", str(box.state), *args], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=30)


def test_accounts_from_the_command_line(box: Daemon) -> None:
    first = minipbx(box, "setup-code")
    assert first.returncode == 0 and first.stdout.strip() in box.log()
    # The socket needs no password: it is root's (mode 0660).
    assert stat.S_IMODE((box.state / "control.sock").stat().st_mode) == 0o660

    added = minipbx(box, "user", "add", "ann", "--role", "admin", "--password-stdin",
                    stdin="ann's password\n")
    assert added.returncode == 0, added.stderr
    assert "account ann added: admin" in added.stdout
    assert stat.S_IMODE((box.state / "accounts.json").stat().st_mode) == 0o600
    assert "ann's password" not in (box.state / "accounts.json").read_text()

    done = minipbx(box, "setup-code")
    assert done.returncode == 1 and "setup is done" in done.stdout

    bob = minipbx(box, "user", "add", "bob", "--role", "user", "--extension", "101",
                  "--password-stdin", stdin="bob\n")
    assert bob.returncode == 1 and "password too short" in bob.stderr
    bob = minipbx(box, "user", "add", "bob", "--role", "user", "--extension", "101",
                  "--password-stdin", stdin="bobs password\n")
    assert bob.returncode == 0, bob.stderr

    listed = json.loads(minipbx(box, "user", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["extension"]) for u in listed] == [
        ("ann", "admin", None), ("bob", "user", "101")]
    assert "bob" in minipbx(box, "user", "list").stdout

    token = minipbx(box, "user", "token", "bob")
    assert token.returncode == 0 and token.stdout.startswith("mpx_")
    assert "shown only now" in token.stderr

    changed = minipbx(box, "user", "passwd", "bob", "--password-stdin",
                      stdin="bobs new password\n")
    assert changed.returncode == 0, changed.stderr
    # The daemon's own store is the one that changed (read the file as a second reader).
    store = AccountStore(box.state / "accounts.json")
    assert store.verify("bob", "bobs new password") is not None
    assert store.verify_token(token.stdout.strip()) is not None

    last = minipbx(box, "user", "delete", "ann")
    assert last.returncode == 1 and "last admin" in last.stderr
    gone = minipbx(box, "user", "delete", "bob")
    assert gone.returncode == 0 and "account bob deleted" in gone.stdout
    missing = minipbx(box, "user", "delete", "bob")
    assert missing.returncode == 1 and "no account 'bob'" in missing.stderr
