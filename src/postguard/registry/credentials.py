"""Account credentials, encrypted at rest with Fernet (AES-128-CBC + HMAC, from ``cryptography``).

The key lives in the keys folder as ``credentials.key`` (created on first
use, mode 0600), never in the database: a copy of the database alone does
not give away the department's account tokens.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from postguard.errors import SigningKeyError

__all__ = ["decrypt", "encrypt"]


def _key(keys_dir: Path, *, create: bool) -> bytes:
    path = keys_dir / "credentials.key"
    if path.exists():
        return path.read_bytes().strip()
    if not create:
        raise SigningKeyError(f"No credentials key at '{path}': the account credentials cannot be read.")
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def encrypt(keys_dir: Path, secret: str) -> str:
    return Fernet(_key(keys_dir, create=True)).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(keys_dir: Path, token: str) -> str:
    try:
        return Fernet(_key(keys_dir, create=False)).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SigningKeyError("The account credential does not decrypt with this credentials key.") from None
