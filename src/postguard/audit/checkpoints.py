"""Signing a checkpoint of the audit chain (the Merkle root of every entry so far), and witnessing it.

A checkpoint signed by hand (``postguard audit checkpoint``) records the act in
the chain, right after the entries it covers. The service signs one by itself
every ``POSTGUARD_CHECKPOINT_INTERVAL`` seconds when entries were added
(:func:`checkpoint_if_due`); those add no entry, so a quiet trail gets no more.
Every checkpoint is also appended to the witness (:mod:`postguard.audit.witness`)
where one is set up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord, append, checkpoint_message, now_iso, serialise
from postguard.audit.merkle import MerkleBuilder
from postguard.audit.queries import revoked_targets
from postguard.audit.witness import SignedHead, Witness, revocations_message
from postguard.keys import SigningKey

__all__ = ["Checkpoint", "Checkpointer", "checkpoint_if_due", "create_checkpoint", "witness_latest"]

log = logging.getLogger("postguard.audit")


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: str
    at: str
    key_id: str
    head: SignedHead


def create_checkpoint(session: Session, key: SigningKey, record: AuditRecord | None = None) -> Checkpoint:
    """Sign the Merkle root of every entry so far; ``record`` (the act itself, if any) follows it."""
    serialise(session)
    builder = MerkleBuilder()
    for (digest,) in session.execute(text("SELECT hash FROM audit_entry ORDER BY seq")):
        builder.add(bytes.fromhex(digest))
    size, root, at = builder.size, builder.root().hex(), now_iso()
    signature = key.sign(checkpoint_message(size, root, at))
    gone = sorted(revoked_targets(session))
    head = SignedHead(
        size, root, at, key.key_id, signature, gone, key.sign(revocations_message(size, root, gone))
    )
    session.execute(
        text("INSERT INTO audit_checkpoint (size, root, at, key_id, signature) VALUES (:s, :r, :a, :k, :g)"),
        {"s": size, "r": root, "a": at, "k": key.key_id, "g": signature},
    )
    if record is not None:
        append(
            session,
            AuditRecord(
                record.actor,
                record.action,
                record.target,
                record.clause,
                {**record.detail, "size": size, "root": root},
                record.origin,
            ),
        )
    return Checkpoint(size, root, at, key.key_id, head)


SessionFactory = Callable[[], AbstractContextManager[Session]]


def checkpoint_if_due(
    sessions: SessionFactory, key: SigningKey, witness: Witness | None
) -> Checkpoint | None:
    """Sign (and witness) a checkpoint if entries were added since the last one; else ``None``.

    Several service processes may call this at once: the transaction is serialised
    and the newest checkpoint is read inside it, so only one of them signs.
    """
    with sessions() as session:
        serialise(session)
        newest = session.execute(text("SELECT max(seq) FROM audit_entry")).scalar()
        covered = session.execute(text("SELECT max(size) FROM audit_checkpoint")).scalar()
        if not newest or (covered is not None and int(covered) >= int(newest)):
            return None
        checkpoint = create_checkpoint(session, key)
    if witness is not None and witness.enabled:
        witness.append(checkpoint.head)
    return checkpoint


def witness_latest(sessions: SessionFactory, key: SigningKey, witness: Witness) -> None:
    """Sign a fresh head over the trail as it is now and witness it, if the witness has not seen
    as many entries (a witness added later, or a write to it that failed)."""
    last = witness.last()
    with sessions() as session:
        newest = int(session.execute(text("SELECT coalesce(max(seq), 0) FROM audit_entry")).scalar() or 0)
    if newest and (last is None or last.size < newest):
        with sessions() as session:
            checkpoint = create_checkpoint(session, key)
        witness.append(checkpoint.head)


class Checkpointer:
    """The service's own checkpoints: every ``interval`` seconds, one if entries were added.

    At start, the witness is brought up to date (a head over the trail as it is) so
    that what happened while the service was down is witnessed at once.
    """

    def __init__(
        self, sessions: SessionFactory, key: SigningKey, witness: Witness | None, interval: float
    ) -> None:
        self.sessions, self.key, self.witness, self.interval = sessions, key, witness, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postguard-checkpoints", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self.witness is not None and self.witness.enabled:
            self._guarded(lambda: witness_latest(self.sessions, self.key, self.witness))  # type: ignore[arg-type]
        while not self._stop.wait(self.interval):
            self._guarded(self.round)

    def round(self) -> Checkpoint | None:
        made = checkpoint_if_due(self.sessions, self.key, self.witness)
        if made is not None:
            log.info("signed audit checkpoint over %d entries (root %s)", made.size, made.root[:16])
        return made

    @staticmethod
    def _guarded(step: Callable[[], object]) -> None:
        try:
            step()
        except Exception:  # the database or the witness is away: say so, try again next round
            log.exception("the audit checkpoint round failed")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
