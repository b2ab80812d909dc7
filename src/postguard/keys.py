"""Ed25519 signing keys, kept in files and protected by a passphrase.

Two keys serve the policy: the *commissioner* key signs written permissions
(clauses A.iii and C); the *department* key signs the audit trail's Merkle
checkpoints. Each is a pair of files in the keys folder: ``NAME.key``, the
private key sealed with AES-256-GCM under a key derived from the passphrase by
scrypt (N=2^17, r=8, p=1: 128 MiB and about a third of a second per try, so a
stolen file resists guessing), and ``NAME.pub`` (the public key,
SubjectPublicKeyInfo PEM), which is all a verifier needs. Key files written by
earlier versions (PKCS#8 PEM) still load; ``postguard keys init --overwrite``
is not needed to move on, but writing a key again uses the new format. Public
keys are trusted from their files, never from the database, so that whoever can
edit the database cannot swap them. Errors name the key (commissioner or
department), never the path of its file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from postguard.errors import SigningKeyError, WrongPassphraseError

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
FORMAT = "postguard-key-v1"
#: scrypt's cost for new key files (a file records its own; tests lower this to run fast).
SCRYPT_N = 2**17
_SCRYPT_R, _SCRYPT_P = 8, 1
#: The dearest cost a key file may ask for: a crafted file cannot make loading it take minutes.
_MAX_SCRYPT_N = 2**20


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
            raise SigningKeyError(f"The {where} is not a PEM public key: {exc}.") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"The {where} is not an Ed25519 public key.")
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def seal(key: Ed25519PrivateKey, name: KeyName, passphrase: str) -> bytes:
    """The key file's bytes: ``key`` sealed under ``passphrase`` (scrypt, then AES-256-GCM)."""
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {"format": FORMAT, "name": name, "kdf": "scrypt", "n": SCRYPT_N, "r": _SCRYPT_R, "p": _SCRYPT_P}
    header |= {"salt": _b64(salt), "nonce": _b64(nonce), "key_id": _key_id(key.public_key())}
    aad = json.dumps(header, sort_keys=True).encode()
    sealed = AESGCM(_derive(passphrase, salt, SCRYPT_N, _SCRYPT_R, _SCRYPT_P)).encrypt(nonce, raw, aad)
    return (json.dumps({**header, "sealed": _b64(sealed)}, indent=1, sort_keys=True) + "\n").encode()


def _unseal(data: bytes, name: KeyName, passphrase: str) -> Ed25519PrivateKey:
    try:
        fields = json.loads(data)
        sealed = base64.b64decode(fields.pop("sealed"), validate=True)
        n, r, p = int(fields["n"]), int(fields["r"]), int(fields["p"])
        salt = base64.b64decode(fields["salt"], validate=True)
        nonce = base64.b64decode(fields["nonce"], validate=True)
        ok = fields["format"] == FORMAT and fields["kdf"] == "scrypt"
    except (ValueError, KeyError, TypeError, AttributeError):
        raise SigningKeyError(f"The {name} key file is damaged: it cannot be read.") from None
    if not ok or not (2**10 <= n <= _MAX_SCRYPT_N and 1 <= r <= 32 and 1 <= p <= 16 and len(nonce) == 12):
        raise SigningKeyError(f"The {name} key file uses a format or cost this version does not accept.")
    if fields.get("name") != name:
        raise SigningKeyError(f"The {name} key file holds the {fields.get('name')!s:.20} key.")
    aad = json.dumps(fields, sort_keys=True).encode()
    try:
        raw = AESGCM(_derive(passphrase, salt, n, r, p)).decrypt(nonce, sealed, aad)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (InvalidTag, ValueError):
        raise WrongPassphraseError(f"The passphrase for the {name} key is wrong.") from None


def init_key(keys_dir: Path, name: KeyName, passphrase: str, *, overwrite: bool = False) -> PublicKey:
    """Create the key pair ``name`` in ``keys_dir``; refuses to replace one unless told."""
    if len(passphrase) < _MIN_PASSPHRASE:
        raise SigningKeyError(f"The passphrase must be at least {_MIN_PASSPHRASE} characters long.")
    private_path, public_path = _paths(keys_dir, name)
    if private_path.exists() and not overwrite:
        raise SigningKeyError(
            f"A {name} key exists already in the keys folder. Replacing it would make every "
            "signature made with it unverifiable here; replace it only on purpose."
        )
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    write_private(private_path, seal(key, name, passphrase))
    public = PublicKey(key.public_key(), _key_id(key.public_key()))
    public_path.write_text(public.pem(), encoding="ascii")
    return public


def write_private(path: Path, data: bytes) -> None:
    """Write a key file readable by its owner only, replacing any other atomically."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)


def load_public(keys_dir: Path, name: KeyName) -> PublicKey:
    _, public_path = _paths(keys_dir, name)
    try:
        pem = public_path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(
            f"No {name} public key in the keys folder: an administrator creates the {name} key "
            "pair there ('postguard keys init'), or points POSTGUARD_KEYS_DIR at the folder that holds it."
        ) from None
    except OSError as exc:
        raise SigningKeyError(f"The {name} public key cannot be read: {exc.strerror}.") from None
    return PublicKey.from_pem(pem, f"{name} public key")


def load_public_if_present(keys_dir: Path, name: KeyName) -> PublicKey | None:
    """The public key, or ``None`` where none is set up (so nothing it would vouch for is trusted)."""
    try:
        return load_public(keys_dir, name)
    except SigningKeyError:
        return None


def load_signing(keys_dir: Path, name: KeyName, passphrase: str) -> SigningKey:
    """The private key ``name``, unlocked with ``passphrase``.

    Raises :class:`WrongPassphraseError` for a wrong passphrase, :class:`SigningKeyError` for
    anything else; neither names the file's path (it may reach an API caller).
    """
    private_path, _ = _paths(keys_dir, name)
    try:
        data = private_path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(
            f"No {name} key in the keys folder: an administrator creates the {name} key pair there."
        ) from None
    except OSError as exc:
        raise SigningKeyError(f"The {name} key cannot be read: {exc.strerror}.") from None
    if data.lstrip().startswith(b"-----BEGIN"):  # written by an earlier version: PKCS#8 PEM
        try:
            key = serialization.load_pem_private_key(data, password=passphrase.encode("utf-8"))
        except (ValueError, TypeError):
            raise WrongPassphraseError(f"The passphrase for the {name} key is wrong.") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"The {name} key is not an Ed25519 key.")
    else:
        key = _unseal(data, name, passphrase)
    public = load_public(keys_dir, name)
    if public.key_id != _key_id(key.public_key()):
        raise SigningKeyError(f"The {name} key and its public key file do not belong together.")
    return SigningKey(key, public)
