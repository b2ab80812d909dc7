"""A witness of the audit trail outside its database: signed tree heads, appended to a file.

Whoever can edit the database can delete its newest entries, or rewrite them
and recompute every hash, and delete the checkpoint rows that would show it.
They cannot rewrite what was sent elsewhere. Each signed checkpoint (a *tree
head*: the number of entries, their RFC 6962 Merkle root, when, and the
department key's signature) is therefore also appended to a **witness file**,
one JSON line each (``POSTGUARD_AUDIT_WITNESS``; keep it on another disk or
host, or make it append-only with ``chattr +a``), and optionally sent to
syslog (``POSTGUARD_AUDIT_WITNESS_SYSLOG``: ``HOST:PORT`` or a socket path
such as ``/dev/log``).

``postguard audit verify --witness FILE`` then proves, with RFC 6962
consistency proofs, that the trail in the database extends every witnessed
head: a truncated, rewritten or re-chained trail does not.

Each head also carries the trail's **revocations** so far (``permission:CP-…``),
signed with it: a permission whose revocation was rewritten out of the database
is still refused while the witness remembers it (:meth:`Witness.revoked`).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import socket
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from postguard.audit.chain import canonical_json, checkpoint_message
from postguard.errors import AuditError
from postguard.keys import PublicKey

__all__ = ["REVOCATIONS_CONTEXT", "SignedHead", "Witness", "read_heads", "revocations_message"]

log = logging.getLogger("postguard.audit")

REVOCATIONS_CONTEXT = "postguard-audit-revocations-v1"


def revocations_message(size: int, root: str, revoked: list[str]) -> bytes:
    """The bytes the department key signs for the revocations a head carries."""
    return canonical_json(
        {"context": REVOCATIONS_CONTEXT, "size": size, "root": root, "revoked": sorted(revoked)}
    ).encode()


@dataclass(frozen=True)
class SignedHead:
    """One signed tree head, as the witness keeps it."""

    size: int
    root: str
    at: str
    key_id: str
    signature: str
    revoked: list[str] = field(default_factory=list)
    revoked_signature: str = ""

    def genuine(self, key: PublicKey) -> bool:
        """Signed by ``key``: the head, and the revocations with it."""
        return key.verify(self.signature, checkpoint_message(self.size, self.root, self.at)) and (
            key.verify(self.revoked_signature, revocations_message(self.size, self.root, self.revoked))
        )

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")) + "\n"

    @classmethod
    def parse(cls, line: str, where: str) -> SignedHead:
        try:
            data = json.loads(line)
            head = cls(
                size=int(data["size"]),
                root=str(data["root"]),
                at=str(data["at"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
                revoked=[str(r) for r in data.get("revoked", [])],
                revoked_signature=str(data.get("revoked_signature", "")),
            )
        except (ValueError, KeyError, TypeError, RecursionError):
            raise AuditError(f"{where}: not a signed tree head.") from None
        if head.size < 0 or len(head.root) != 64:
            raise AuditError(f"{where}: not a signed tree head.")
        return head


def read_heads(path: Path) -> list[SignedHead]:
    """Every head in the witness file ``path``, in the order written."""
    try:
        with path.open(encoding="utf-8") as fh:
            return [
                SignedHead.parse(line, f"witness line {n}") for n, line in enumerate(fh, 1) if line.strip()
            ]
    except FileNotFoundError:
        raise AuditError(
            "the witness file does not exist: check POSTGUARD_AUDIT_WITNESS or --witness."
        ) from None
    except UnicodeDecodeError:
        raise AuditError("the witness file is not UTF-8 text: it is not a witness file.") from None


class Witness:
    """Appends signed heads to the witness file (and syslog), and answers what it has seen revoked."""

    def __init__(
        self, path: Path | None, *, syslog: str | None = None, trusted: PublicKey | None = None
    ) -> None:
        self.path, self.trusted = path, trusted
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._revoked: frozenset[str] = frozenset()
        self._syslog: logging.Logger | None = None
        if syslog:
            self._syslog = _syslog_logger(syslog)

    @property
    def enabled(self) -> bool:
        return self.path is not None or self._syslog is not None

    def append(self, head: SignedHead) -> None:
        """Write ``head`` at the end of the witness file, synced to disk, and send it to syslog."""
        line = head.line()
        if self.path is not None:
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
        if self._syslog is not None:
            self._syslog.info("postguard-audit-head %s", line.strip())

    def last(self) -> SignedHead | None:
        """The newest head in the file (``None`` when there is none yet)."""
        if self.path is None or not self.path.exists():
            return None
        heads = read_heads(self.path)
        return heads[-1] if heads else None

    def revoked(self, kind: str) -> frozenset[str]:
        """Codes of ``kind`` that a genuine witnessed head lists as revoked (re-read when the file grows)."""
        if self.path is None or self.trusted is None:
            return frozenset()
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return frozenset()
        with self._lock:
            if self._seen != (stat.st_size, stat.st_mtime_ns):
                found: set[str] = set()
                try:
                    for head in read_heads(self.path):
                        if head.genuine(self.trusted):
                            found.update(head.revoked)
                except AuditError as exc:
                    log.error("the audit witness cannot be read (%s); its revocations are not known", exc)
                self._revoked, self._seen = frozenset(found), (stat.st_size, stat.st_mtime_ns)
            revoked = self._revoked
        prefix = f"{kind}:"
        return frozenset(r.removeprefix(prefix) for r in revoked if r.startswith(prefix))


def _syslog_logger(target: str) -> logging.Logger:
    address: Any
    if target.startswith("/"):
        address = target
    else:
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit():
            raise AuditError(
                f"POSTGUARD_AUDIT_WITNESS_SYSLOG must be HOST:PORT or a socket path, not {target!r}."
            )
        address = (host, int(port))
    handler = logging.handlers.SysLogHandler(address=address, socktype=socket.SOCK_DGRAM)
    logger = logging.getLogger("postguard.audit.witness")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
