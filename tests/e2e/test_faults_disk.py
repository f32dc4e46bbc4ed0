"""A full disk, a read-only state dir and an unwritable log (issue 12 section 3): calls go
on, the fault shows in ``status`` and the log, nothing on disk is torn, and the records kept
in memory meanwhile reach the file once the disk takes them again. The state dir is a small
tmpfs of the test's own (mounting needs root; the test is skipped without it)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.app.client import ClientError
from firmware.app.status_text import format_status
from firmware.config.loader import load_config
from tests.e2e.faults_support import at_rest, config_text, records
from tests.e2e.harness import MINIPBX, ROOT, Daemon, die_with_parent

pytestmark = pytest.mark.slow


def mount(path: Path, *options: str) -> None:
    subprocess.run(["mount", *options, str(path)], check=True, capture_output=True)


@contextlib.contextmanager
def small_disk(path: Path, size: str = "2m") -> Iterator[Path]:
    path.mkdir(parents=True)
    try:
        mount(path, "-t", "tmpfs", "-o", f"size={size}", "tmpfs")
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}): needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; the file returned gives them back when deleted."""
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    with contextlib.suppress(OSError), filler.open("ab") as f:  # the last few blocks
        while True:
            f.write(b"\0" * 512)
            f.flush()
    return filler


def call_and_hang_up(box: Daemon, a: int = 1, b: int = 2) -> None:
    box.phone(a, "offhook")
    box.dial(a, str(100 + b))
    box.wait_for(f"phone {b} to ring", lambda: box.port(f"fxs{b}")["ringing"])
    box.phone(b, "offhook")
    box.wait_for("the call", lambda: box.port(f"fxs{a}")["with"] == f"fxs{b}")
    box.phone(a, "onhook")
    box.phone(b, "onhook")
    box.wait_for("the box at rest", lambda: at_rest(box.call("status")) == [])


def cdr(box: Daemon) -> dict[str, object]:
    status: dict[str, object] = box.call("status")["storage"]["cdr"]
    return status


def test_a_full_disk_keeps_calls_going_and_loses_no_record(tmp_path: Path) -> None:
    with small_disk(tmp_path / "state") as disk:
        box = Daemon(tmp_path, config_text(phones=4))  # state dir: tmp_path/state = disk
        try:
            box.wait_ready()
            box.call("user.add", name="alice", role="user", password="correct horse 1")
            accounts = (disk / "accounts.json").read_bytes()
            saved = (disk / "config.toml").read_bytes()

            # Full before the first record: a file's last page would take a few records
            # into its slack, and this test is about the disk refusing them.
            filler = fill(disk)
            call_and_hang_up(box)  # calls on a full disk
            call_and_hang_up(box, 3, 4)
            state = box.wait_for("the fault in status", lambda: (s := cdr(box))["pending"] == 2
                                 and s)
            assert state["ok"] is False and "No space left" in str(state["error"]), state
            assert "cannot write call records: No space left on device" in box.log()
            assert "Call records: cannot write" in format_status(box.call("status"))
            assert records(box) == []  # nothing torn: no half line was left
            # Writing the accounts or the configuration fails cleanly and tears nothing.
            with pytest.raises(ClientError, match="No space left on device; nothing was changed"):
                box.call("user.add", name="bob", role="user", password="correct horse 2")
            box.call("config.set", path="dialplan.no_answer_s", value="45")
            with pytest.raises(ClientError, match="No space left on device"):
                box.call("config.commit", message="on a full disk")
            assert (disk / "accounts.json").read_bytes() == accounts
            assert (disk / "config.toml").read_bytes() == saved
            assert [u["name"] for u in box.call("user.list")] == ["alice"]
            call_and_hang_up(box)  # the box still works

            filler.unlink()  # space again: the waiting records go out
            state = box.wait_for("the records written", lambda: (s := cdr(box))["ok"] and s)
            assert (state["pending"], state["written"], state["dropped"]) == (0, 3, 0), state
            assert [r["called_number"] for r in records(box)] == ["102", "104", "102"]
            assert "call records written again" in box.log()
            assert box.proc.poll() is None and "Traceback" not in box.log()
        finally:
            assert box.stop() == 0, box.log()
        assert load_config(disk / "config.toml").dialplan.no_answer_s != 45


def test_a_read_only_state_dir_keeps_calls_going(tmp_path: Path) -> None:
    with small_disk(tmp_path / "state") as disk:
        box = Daemon(tmp_path, config_text(phones=2))
        try:
            box.wait_ready()
            mount(disk, "-o", "remount,ro")
            call_and_hang_up(box)
            state = box.wait_for("the fault", lambda: (s := cdr(box))["pending"] == 1 and s)
            assert "Read-only file system" in str(state["error"]), state
            mount(disk, "-o", "remount,rw")
            box.wait_for("the record written", lambda: cdr(box)["ok"])
            assert len(records(box)) == 1
        finally:
            assert box.stop() == 0, box.log()


def test_an_unwritable_log_does_not_stop_the_box(tmp_path: Path) -> None:
    with small_disk(tmp_path / "logdisk", size="256k") as logdisk:
        log = (logdisk / "daemon.log").open("wb")
        proc = subprocess.Popen(
            [*MINIPBX, "--state-dir", str(tmp_path / "state"), "run", "--config",
             str(_write(tmp_path / "minipbx.toml", config_text(phones=2)))],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent)
        try:
            box = _attach(tmp_path, proc)
            fill(logdisk)
            # Calls go on; commits log lines (the file's last page may still take a few),
            # so commit until one is refused and status says so, a few dozen at most.
            calls = 0
            for n in range(40):
                if n % 10 == 0:
                    call_and_hang_up(box)
                    calls += 1
                box.call("config.set", path="box.name", value=f"office-{n}")
                box.call("config.commit", message="log lines for a full disk")
                if n >= 20 and not box.call("status")["storage"]["log"]["ok"]:
                    break
            assert proc.poll() is None
            assert len(records(box)) == calls
            # The lost lines are not lost silently: status says the log cannot be written.
            logs = box.call("status")["storage"]["log"]
            assert logs["ok"] is False and logs["lost"] > 0, logs
            assert "No space left on device" in str(logs["error"]), logs
        finally:
            proc.terminate()
            assert proc.wait(15) == 0
            log.close()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _attach(tmp: Path, proc: subprocess.Popen[bytes]) -> Daemon:
    """A Daemon handle over a process started by hand (for its control-socket verbs)."""
    box = Daemon.__new__(Daemon)
    box.state = tmp / "state"
    box.proc = proc
    box.log_path = tmp / "none.log"
    box.log_path.write_text("")
    box._log = box.log_path.open("ab")
    box.wait_ready()
    return box
