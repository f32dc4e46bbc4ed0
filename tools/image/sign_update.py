"""Pack and sign an update file: tools/image/sign_update.py OUT VERSION ROOT_IMAGE BOOT_DIR KEY.

KEY is the Ed25519 private key (PEM) whose public half the image carries
(/etc/minipbx/update-key.pub). The format is firmware/app/update.py's."""

from __future__ import annotations

import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from firmware.app.update import pack


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    out, version, root, boot, key_path = argv
    key = load_pem_private_key(Path(key_path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        print(f"sign_update: {key_path} is not an Ed25519 private key", file=sys.stderr)
        return 1
    manifest = pack(Path(out), version, "arm64", Path(root), Path(boot), key)
    print(f"sign_update: {out}: version {manifest.version}, "
          + ", ".join(f"{p.name} {p.size} bytes" for p in manifest.payloads))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
