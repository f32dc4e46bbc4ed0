"""Safe updates: verify a signed update file, write the other root slot, boot it once, and
keep it only if the box reaches READY in time (the slots and the boot loader:
:mod:`firmware.app.slots`; the configuration across schemas: :mod:`firmware.app.migrate`).

The update file is a tar archive, in this order: ``manifest.json`` (product, version, arch,
schema, and each payload's name, kind, size and SHA-256), ``manifest.sig`` (the Ed25519
signature of manifest.json's bytes, 64 bytes) and the payloads: ``root`` (the slot's
squashfs image, written raw to its partition) and ``boot`` (a tar of the slot's boot folder:
kernel, initrd, device trees, cmdline.txt). Nothing is written before the signature checks
out; every payload is hashed as it is written and read back before the slot counts.

Every step leaves the box bootable, whatever moment the power goes (tested with a kill at
each step and at random moments, tests/app/test_update*.py):

1. ``writing``: the other slot's partition and boot folder are rewritten. The default boot
   still names the running slot, so a power cut here boots the old system, and
   :func:`boot_check` marks the update ``aborted``.
2. ``trying``: the configuration is copied for a fallback (``config.schema-N.toml``), then
   tryboot.txt names the new slot and the box reboots with the one-time tryboot flag.
3. On the new slot, :func:`boot_check` (before the daemon) migrates the configuration
   forward; :func:`confirm` waits for the daemon's READY and then makes the new slot the
   default (``committed``), or reboots without the flag when the time is up. A hang, a crash
   loop, a watchdog reset or a power cut all end the same way: the next boot is the default,
   the old slot, and :func:`boot_check` there puts the old configuration back
   (``fell-back``).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import signal
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from firmware.app import migrate
from firmware.app.slots import BootState, Layout, UpdateError, other
from firmware.core.files import fsync_directory, write_atomic

log = logging.getLogger(__name__)

FORMAT = 1
PRODUCT = "minipbx"
CHUNK = 1 << 20
STATE_FILE = "state.json"

# Fault injection for the power-loss tests: MINIPBX_UPDATE_CRASH_AT=<step> kills this
# process with SIGKILL (no cleanup, no flush) when the update reaches that step.
STEPS = ("verified", "writing", "root-written", "boot-written", "snapshot", "trying",
         "armed")


def _crash_point(step: str) -> None:
    if os.environ.get("MINIPBX_UPDATE_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Payload:
    name: str
    kind: str  # root or boot
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    version: str
    arch: str
    schema: int
    payloads: tuple[Payload, ...]
    raw: bytes

    def payload(self, kind: str) -> Payload:
        for p in self.payloads:
            if p.kind == kind:
                return p
        raise UpdateError(f"the update has no {kind} payload")


# -- keys and signatures (cryptography's Ed25519, on OpenSSL) --------------------------

def load_public_key(path: Path) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UpdateError(f"cannot read the update key {path}: {exc.strerror}") from None
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        key = load_pem_public_key(data)
    except ValueError:
        raise UpdateError(f"{path}: not an Ed25519 public key (32 raw bytes or PEM)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UpdateError(f"{path}: the key is not Ed25519")
    return key


def parse_manifest(raw: bytes, where: str) -> Manifest:
    try:
        data = json.loads(raw)
        if data.get("format") != FORMAT or data.get("product") != PRODUCT:
            raise UpdateError(f"{where}: not a minipbx update of format {FORMAT}")
        payloads = tuple(Payload(str(p["name"]), str(p["kind"]), int(p["size"]),
                                 str(p["sha256"])) for p in data["payloads"])
        return Manifest(str(data["version"]), str(data["arch"]), int(data["schema"]),
                        payloads, raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise UpdateError(f"{where}: bad manifest ({exc})") from None


def read_verified(path: Path, key: Any) -> Manifest:
    """The manifest, once its signature checks out against ``key``."""
    from cryptography.exceptions import InvalidSignature

    with _open_tar(path) as tar:
        raw = _member_bytes(tar, "manifest.json", path, limit=1 << 16)
        sig = _member_bytes(tar, "manifest.sig", path, limit=64)
    try:
        key.verify(sig, raw)
    except InvalidSignature:
        raise UpdateError(f"{path}: the signature does not match this box's update key; "
                          "nothing was written") from None
    manifest = parse_manifest(raw, str(path))
    for kind in ("root", "boot"):
        manifest.payload(kind)
    return manifest


def _open_tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:")
    except (OSError, tarfile.TarError) as exc:
        raise UpdateError(f"{path}: not an update file ({exc})") from None


def _member_bytes(tar: tarfile.TarFile, name: str, path: Path, limit: int) -> bytes:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise UpdateError(f"{path}: {name} is missing") from None
    if not member.isfile() or member.size > limit:
        raise UpdateError(f"{path}: {name} is not a file of at most {limit} bytes")
    f = tar.extractfile(member)
    assert f is not None
    return f.read()


def _stream(tar: tarfile.TarFile, payload: Payload, path: Path) -> IO[bytes]:
    try:
        member = tar.getmember(payload.name)
    except KeyError:
        raise UpdateError(f"{path}: payload {payload.name} is missing") from None
    if not member.isfile() or member.size != payload.size:
        raise UpdateError(f"{path}: payload {payload.name} is not {payload.size} bytes")
    f = tar.extractfile(member)
    assert f is not None
    return f


# -- the update's own state ------------------------------------------------------------

def read_state(layout: Layout) -> dict[str, Any]:
    path = layout.state / STATE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"state": "idle"}
    except ValueError:
        raise UpdateError(f"{path}: not JSON; delete it to forget the last update") from None
    if not isinstance(data, dict):
        raise UpdateError(f"{path}: not an update state")
    return data


def write_state(layout: Layout, **state: Any) -> None:
    layout.state.mkdir(parents=True, exist_ok=True)
    write_atomic(layout.state / STATE_FILE, json.dumps({**state, "at": time.time()}))


# -- applying an update ----------------------------------------------------------------

def _write_root(src: IO[bytes], payload: Payload, device: Path) -> None:
    digest = hashlib.sha256()
    flags = os.O_WRONLY | (os.O_CREAT if not device.is_block_device() else 0)
    fd = os.open(device, flags, 0o600)
    try:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            os.write(fd, chunk)
        if not device.is_block_device():
            os.ftruncate(fd, payload.size)
        os.fsync(fd)
    finally:
        os.close(fd)
    if digest.hexdigest() != payload.sha256:
        raise UpdateError(f"payload {payload.name} does not match its manifest digest")
    # Read it back: what the card holds is what counts.
    back = hashlib.sha256()
    with device.open("rb") as f:
        left = payload.size
        while left and (chunk := f.read(min(CHUNK, left))):
            back.update(chunk)
            left -= len(chunk)
    if back.hexdigest() != payload.sha256:
        raise UpdateError(f"slot partition {device} reads back wrong after writing "
                          f"{payload.name}: a failing card?")


def _fill_cmdline(path: Path, slot: str, root: Path) -> None:
    """The slot's cmdline.txt comes as a template: ``@SLOT@`` is the slot, ``@ROOT@`` its
    root partition (``PARTUUID=...`` when the layout names it by PARTUUID)."""
    if not path.exists():
        return
    device = f"PARTUUID={root.name}" if root.parent.name == "by-partuuid" else str(root)
    path.write_text(path.read_text().replace("@SLOT@", slot).replace("@ROOT@", device))


def _write_boot(src: IO[bytes], payload: Payload, boot: Path, slot: str, root: Path) -> None:
    data = src.read(payload.size)
    if hashlib.sha256(data).hexdigest() != payload.sha256:
        raise UpdateError(f"payload {payload.name} does not match its manifest digest")
    staging = boot / f"slot-{slot}.new"
    target = boot / f"slot-{slot}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if (not (member.isfile() or member.isdir()) or Path(member.name).is_absolute()
                    or ".." in parts):
                raise UpdateError(f"payload {payload.name}: {member.name!r} is not a plain "
                                  "file inside the boot folder")
        tar.extractall(staging)  # members checked above (Debian's 3.11.2 lacks filter=)
    _fill_cmdline(staging / "cmdline.txt", slot, root)
    for f in staging.rglob("*"):
        if f.is_file():
            with f.open("rb") as h:
                os.fsync(h.fileno())
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    fsync_directory(boot)


@dataclass
class Updater:
    layout: Layout
    boot: BootState
    progress: Callable[[str], None] = lambda _msg: None
    # The configuration schema this firmware reads, and its migrations (tests stand in for
    # a newer firmware by raising these).
    schema: int = migrate.SCHEMA
    migrations: dict[int, migrate.Migration] | None = None

    def apply(self, path: Path, reboot: bool = True) -> str:
        """Write ``path`` into the other slot and (with ``reboot``) try it once. Returns
        the slot written."""
        key = load_public_key(self.layout.key)
        manifest = read_verified(path, key)
        running, tried = self.boot.running()
        if tried:
            raise UpdateError(f"slot {running} is on trial (booted once after an update); "
                              "wait for it to be confirmed or fall back before updating")
        if self.boot.default() != running:
            raise UpdateError(f"the default boot slot is not the running slot {running}; "
                              "run `minipbx update boot-check` first")
        target = other(running)
        self.progress(f"update {manifest.version} verified; writing slot {target}")
        _crash_point("verified")
        write_state(self.layout, state="writing", frm=running, to=target,
                    version=manifest.version, schema=migrate.schema_of(self.layout.config))
        _crash_point("writing")
        with _open_tar(path) as tar:
            root = manifest.payload("root")
            _write_root(_stream(tar, root, path), root, self.layout.slots[target])
            _crash_point("root-written")
            boot = manifest.payload("boot")
            _write_boot(_stream(tar, boot, path), boot, self.layout.boot, target,
                        self.layout.slots[target])
        _crash_point("boot-written")
        schema = migrate.snapshot(self.layout.config)
        _crash_point("snapshot")
        write_state(self.layout, state="trying", frm=running, to=target,
                    version=manifest.version, schema=schema,
                    deadline_s=self.layout.ready_timeout_s)
        _crash_point("trying")
        self.boot.arm_try(target)
        _crash_point("armed")
        self.progress(f"slot {target} written; rebooting into it once")
        if reboot:
            self.boot.reboot(try_once=True)
        return target

    def boot_check(self) -> str:
        """At every boot, before the daemon: settle what the last update left. Returns the
        state after the check."""
        state = read_state(self.layout)
        kind = state.get("state", "idle")
        running, tried = self.boot.running()
        if kind in ("idle", "committed", "fell-back", "aborted"):
            return str(kind)
        frm, to = str(state.get("frm")), str(state.get("to"))
        if kind == "writing":
            log.warning("the update to slot %s was interrupted before it was complete; "
                        "slot %s stays in use", to, running)
            write_state(self.layout, **{**state, "state": "aborted"})
            return "aborted"
        if kind != "trying":
            raise UpdateError(f"unknown update state {kind!r} in {self.layout.state}")
        if running == to and tried:
            migrate.migrate(self.layout.config, self.schema, self.migrations)
            return "trying"
        if running == to:
            # The default was switched, and the power went before the state said so.
            write_state(self.layout, **{**state, "state": "committed"})
            return "committed"
        # Back on the old slot: the new one did not make it.
        if migrate.restore(self.layout.config, int(state.get("schema", 1))):
            log.warning("configuration restored to schema %s for slot %s", state.get("schema"),
                        frm)
        log.warning("update %s to slot %s did not reach READY; back on slot %s",
                    state.get("version"), to, running)
        write_state(self.layout, **{**state, "state": "fell-back"})
        return "fell-back"

    def confirm(self, ready: Callable[[], bool], timeout_s: float | None = None,
                poll_s: float = 0.5, reboot: bool = True) -> str:
        """On a slot on trial: keep it once ``ready()`` (the daemon's READY), else reboot
        into the default (old) slot when the time is up."""
        state = read_state(self.layout)
        running, tried = self.boot.running()
        if state.get("state") != "trying" or not tried or running != state.get("to"):
            return str(state.get("state", "idle"))
        limit = timeout_s if timeout_s is not None else float(
            state.get("deadline_s", self.layout.ready_timeout_s))
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if ready():
                self.boot.set_default(running)
                write_state(self.layout, **{**state, "state": "committed"})
                log.info("update %s on slot %s confirmed", state.get("version"), running)
                return "committed"
            time.sleep(poll_s)
        log.error("slot %s did not reach READY in %.0f s; rebooting into slot %s", running,
                  limit, state.get("frm"))
        if reboot:
            self.boot.reboot(try_once=False)
        return "timeout"


# -- making an update (make image signs with the build's private key) --------------------

def pack(out: Path, version: str, arch: str, root_image: Path, boot_dir: Path,
         private_key: Any, schema: int = migrate.SCHEMA) -> Manifest:
    """Write a signed update file: ``root_image`` (the slot's squashfs) and ``boot_dir``
    (the slot's boot folder)."""
    boot_buf = io.BytesIO()
    with tarfile.open(fileobj=boot_buf, mode="w:") as tar:
        for f in sorted(boot_dir.rglob("*")):
            tar.add(f, arcname=str(f.relative_to(boot_dir)), recursive=False)
    boot_bytes = boot_buf.getvalue()
    payloads = [
        {"name": "root.squashfs", "kind": "root", "size": root_image.stat().st_size,
         "sha256": _file_digest(root_image)},
        {"name": "boot.tar", "kind": "boot", "size": len(boot_bytes),
         "sha256": hashlib.sha256(boot_bytes).hexdigest()},
    ]
    raw = json.dumps({"format": FORMAT, "product": PRODUCT, "version": version, "arch": arch,
                      "schema": schema, "payloads": payloads}, indent=1).encode()
    sig = private_key.sign(raw)
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, "w:") as tar:
        for name, data in (("manifest.json", raw), ("manifest.sig", sig)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tar.add(root_image, arcname="root.squashfs")
        info = tarfile.TarInfo("boot.tar")
        info.size = len(boot_bytes)
        tar.addfile(info, io.BytesIO(boot_bytes))
    tmp.replace(out)
    return parse_manifest(raw, str(out))


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in _chunks(f):
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    while chunk := f.read(CHUNK):
        yield chunk
