"""Ed25519 signing keys, kept in files and protected by a passphrase.

Two keys serve the policy: the *commissioner* key signs written permissions
(clauses A.iii and C); the *department* key signs the audit trail's Merkle
checkpoints. Each is a pair of files in the keys folder: ``NAME.key`` (PKCS#8
PEM, encrypted with the passphrase by the ``cryptography`` library's best
available scheme) and ``NAME.pub`` (the public key, SubjectPublicKeyInfo PEM),
which is all a verifier needs. Public keys are trusted from their files, never
from the database, so that whoever can edit the database cannot swap them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from postguard.errors import SigningKeyError

__all__ = [
    "KEY_NAMES",
    "PublicKey",
    "SigningKey",
    "init_key",
    "load_public",
    "load_public_if_present",
    "load_signing",
]

KeyName = Literal["commissioner", "department"]
KEY_NAMES: tuple[KeyName, ...] = ("commissioner", "department")
_MIN_PASSPHRASE = 12


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey
    key_id: str

    def verify(self, signature_hex: str, message: bytes) -> bool:
        try:
            self.key.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    @classmethod
    def from_pem(cls, pem: bytes, where: str) -> PublicKey:
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as exc:
            raise SigningKeyError(f"'{where}' is not a PEM public key: {exc}.") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"'{where}' is not an Ed25519 public key.")
        return cls(key, _key_id(key))


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey
    public: PublicKey

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, message: bytes) -> str:
        return self.key.sign(message).hex()


def _paths(keys_dir: Path, name: KeyName) -> tuple[Path, Path]:
    return keys_dir / f"{name}.key", keys_dir / f"{name}.pub"


def init_key(keys_dir: Path, name: KeyName, passphrase: str, *, overwrite: bool = False) -> PublicKey:
    """Create the key pair ``name`` in ``keys_dir``; refuses to replace one unless told."""
    if len(passphrase) < _MIN_PASSPHRASE:
        raise SigningKeyError(f"The passphrase must be at least {_MIN_PASSPHRASE} characters long.")
    private_path, public_path = _paths(keys_dir, name)
    if private_path.exists() and not overwrite:
        raise SigningKeyError(
            f"A {name} key exists already at '{private_path}'. Replacing it would make every "
            "signature made with it unverifiable here; replace it only on purpose."
        )
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(encrypted)
    public = PublicKey(key.public_key(), _key_id(key.public_key()))
    public_path.write_text(public.pem(), encoding="ascii")
    return public


def load_public(keys_dir: Path, name: KeyName) -> PublicKey:
    _, public_path = _paths(keys_dir, name)
    try:
        pem = public_path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(
            f"No {name} public key at '{public_path}': an administrator creates the {name} key "
            "pair there, or points POSTGUARD_KEYS_DIR at the folder that holds it."
        ) from None
    return PublicKey.from_pem(pem, str(public_path))


def load_public_if_present(keys_dir: Path, name: KeyName) -> PublicKey | None:
    """The public key, or ``None`` where none is set up (so nothing it would vouch for is trusted)."""
    try:
        return load_public(keys_dir, name)
    except SigningKeyError:
        return None


def load_signing(keys_dir: Path, name: KeyName, passphrase: str) -> SigningKey:
    private_path, _ = _paths(keys_dir, name)
    try:
        data = private_path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(
            f"No {name} key at '{private_path}': an administrator creates the {name} key pair there."
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode("utf-8"))
    except (ValueError, TypeError):
        raise SigningKeyError(f"The passphrase for the {name} key '{private_path}' is wrong.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"'{private_path}' is not an Ed25519 key.")
    public = load_public(keys_dir, name)
    if public.key_id != _key_id(key.public_key()):
        raise SigningKeyError(f"'{private_path}' and its public key file do not belong together.")
    return SigningKey(key, public)
