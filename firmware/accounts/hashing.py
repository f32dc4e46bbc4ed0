"""Password, setup-code and token hashing.

Rules:
- Passwords and the setup code are people's secrets with little entropy: they are hashed
  with scrypt (memory-hard, RFC 7914) at n=2**14, r=8, p=1 (16 MiB, about 50 ms on a
  laptop, a few hundred ms on a Pi) with a fresh 16-byte salt. The stored form names its
  parameters, so stronger ones later still verify the old hashes.
- API tokens are 32 random bytes: a plain SHA-256 is enough (nothing to guess), and it lets
  the store find a token by its hash without trying every account.
- Comparisons are constant-time (hmac.compare_digest).
- scrypt releases the GIL; callers on the event loop run it in a thread
  (``asyncio.to_thread``) so calls in progress never wait for a login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
# scrypt needs 128 * r * n bytes (16 MiB here); OpenSSL's default ceiling is 32 MiB.
_MAXMEM = 64 * 1024 * 1024

# Setup codes are read off a log or an 80-column console and typed in by hand: no 0/O,
# 1/I/L, and grouped by four. 12 characters of 31 symbols are about 59 bits.
SETUP_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SETUP_LENGTH = 12

TOKEN_PREFIX = "mpx_"


def hash_secret(secret: str) -> str:
    """``scrypt$n$r$p$salt$key`` (base64) of ``secret``."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     _b64(salt), _b64(key)])


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored``; False for a malformed ``stored``."""
    try:
        kind, n, r, p, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(key, validate=True)
        got = _scrypt(secret, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def burn_time(secret: str) -> None:
    """Spend what a verify costs, so an unknown name answers as slowly as a known one."""
    _scrypt(secret, b"\0" * SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)


def new_setup_code() -> str:
    raw = "".join(secrets.choice(SETUP_ALPHABET) for _ in range(SETUP_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, SETUP_LENGTH, 4))


def normalise_setup_code(code: str) -> str:
    """People type codes in lower case, with or without the dashes or with spaces."""
    return "".join(ch for ch in code.upper() if ch not in "- \t")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p,
                          maxmem=_MAXMEM, dklen=KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
