"""The access point: decisions from an in-memory snapshot, a short-lived cache, and batched audit.

One :class:`AccessPoint` serves a proxy helper or the API. It reads the
registry into a snapshot at start and again every ``ttl`` seconds in a
background thread, so no decision waits on the database; if the snapshot
cannot be refreshed for three TTLs, every social media request is refused
("cannot tell") until it can. Decisions are cached per request for ``ttl``
seconds, so a revoked authorisation stops working within one TTL of the
revocation (the next refresh), cache or not.

Decisions about social media (and refusals) are written to the audit trail by
a writer thread, in batches of one transaction, so that auditing cannot slow
the proxy; ``close()`` writes what is left. A batch the database will not take
(after five tries) is never dropped: it is appended to a local **spool** file
(JSON Lines, fsynced) and written to the trail, oldest first, as soon as the
database takes writes again; each step is logged.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO

from postguard.access.catalogue import Catalogue
from postguard.access.decide import AccessDecision, AccessRequest, decide
from postguard.access.snapshot import Snapshot, load_snapshot
from postguard.audit.chain import AuditRecord, append, now_iso
from postguard.audit.witness import Witness
from postguard.errors import PostguardError
from postguard.keys import load_public_if_present
from postguard.policy.schema import PolicyPack
from postguard.registry.db import Database

__all__ = ["AccessPoint", "audit_record"]

log = logging.getLogger("postguard.access")

_STALE_AFTER_TTLS = 3
_CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class _Cached:
    decision: AccessDecision
    expires: float


def audit_record(decision: AccessDecision, request: AccessRequest, via: str, origin: str = "") -> AuditRecord:
    return AuditRecord(
        request.member or "-",
        "access.decide",
        f"site:{decision.site or decision.host or request.destination[:200]}",
        decision.clause,
        {
            "allowed": decision.allowed,
            "reason": decision.reason,
            "grant": decision.grant,
            "site": decision.site,
            "category": decision.category,
            "host": decision.host,
            "computer": decision.computer,
            "address": request.address,
            "device": decision.device,
            "via": via,
        },
        origin,
    )


class AccessPoint:
    def __init__(
        self,
        db: Database,
        pack: PolicyPack,
        keys_dir: Path,
        *,
        ttl: float | None = None,
        cache: bool = True,
        audit: bool = True,
        via: str = "api",
        clock: Callable[[], float] = time.monotonic,
        spool: Path | None = None,
        witness: Witness | None = None,
    ) -> None:
        self.db = db
        #: Where audit batches the database will not take wait (``None``: kept in memory only).
        self.spool = spool
        self.spool_readable = True
        self.witness = witness
        self._unwritten: list[AuditRecord] = []
        self.catalogue = Catalogue(pack)
        self.rules = pack.access
        self.keys_dir = keys_dir
        self.ttl = ttl if ttl is not None else pack.access.cache_ttl_seconds
        self.cache_enabled = cache
        self.via = via
        self.clock = clock
        self._cache: dict[tuple[str | None, ...], _Cached] = {}
        self._snapshot: Snapshot | None = None
        #: Goes up with every snapshot read, so callers can drop what they derived from the last.
        self.generation = 0
        self._snapshot_error = ""
        self._stop = threading.Event()
        self._audit: queue.Queue[AuditRecord | None] | None = queue.Queue() if audit else None
        self.refresh()
        self._threads = [threading.Thread(target=self._refresher, name="postguard-refresh", daemon=True)]
        if self._audit is not None:
            self._threads.append(threading.Thread(target=self._auditor, name="postguard-audit", daemon=True))
        for thread in self._threads:
            thread.start()

    # Snapshot -------------------------------------------------------------

    def refresh(self) -> bool:
        """Read the registry again; keeps the old snapshot (and says why) when it cannot."""
        try:
            snapshot = load_snapshot(
                self.db, load_public_if_present(self.keys_dir, "commissioner"), self.witness
            )
        except (PostguardError, Exception) as exc:
            self._snapshot_error = f"{type(exc).__name__}: {exc}"
            log.warning("the registry cannot be read; keeping the last snapshot (%s)", self._snapshot_error)
            return False
        self._snapshot = replace(snapshot, loaded_at=self.clock())
        self._snapshot_error = ""
        self._cache = {}
        self.generation += 1
        return True

    def _refresher(self) -> None:
        while not self._stop.wait(self.ttl):
            self.refresh()

    def stale(self) -> str | None:
        """Why decisions cannot be trusted now, or ``None``."""
        if self._snapshot is None:
            return f"the registry cannot be read ({self._snapshot_error or 'not loaded'})"
        if self.clock() - self._snapshot.loaded_at > _STALE_AFTER_TTLS * self.ttl:
            return f"the registry has not been readable for a while ({self._snapshot_error})"
        return None

    # Decisions ------------------------------------------------------------

    def decide(self, request: AccessRequest) -> AccessDecision:
        key = (request.member, request.computer, request.address, request.device, request.destination)
        now = self.clock()
        if self.cache_enabled:
            hit = self._cache.get(key)
            if hit is not None and hit.expires > now:
                return hit.decision
        problem = self.stale()
        if problem is not None or self._snapshot is None:
            clause = self.catalogue.device_clause if request.device else self.catalogue.computer_clause
            return AccessDecision(False, clause, f"cannot tell: {problem}", member=request.member)
        decision = decide(self._snapshot, self.catalogue, self.rules, request)
        if self.cache_enabled:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache = {}
            self._cache[key] = _Cached(decision, now + self.ttl)
        if self._audit is not None and (decision.clause or not decision.allowed):
            self._audit.put(audit_record(decision, request, self.via))
        return decision

    # Audit ----------------------------------------------------------------

    def _auditor(self) -> None:
        assert self._audit is not None
        done = False
        while not done:
            batch: list[AuditRecord] = []
            try:
                item = self._audit.get(timeout=max(self.ttl, 1.0))
            except queue.Empty:
                self._guarded([])  # nothing new: write what is spooled, if the database is back
                continue
            while True:
                if item is None:
                    done = True
                    break
                batch.append(item)
                if len(batch) >= 1000:
                    break
                try:
                    item = self._audit.get(timeout=0.2)
                except queue.Empty:
                    break
            self._guarded(batch)

    def _guarded(self, batch: list[AuditRecord]) -> None:
        """:meth:`_write`, and whatever goes wrong, the writer thread goes on and nothing is lost."""
        try:
            self._write(batch)
        except Exception:
            log.exception("the audit writer failed; %d access decisions kept in memory", len(batch))
            self._unwritten.extend(batch)

    def _write(self, batch: list[AuditRecord], tries: int = 5) -> None:
        """Write what waits (spooled, then kept in memory) and ``batch``; spool what will not go.

        The spool stays locked from reading it to clearing it, so several processes
        sharing one spool neither lose nor repeat a line.
        """
        with _spool_open(self.spool) as opened:
            spool = opened
            try:
                spooled = _read_spool(spool, self.spool)
                self.spool_readable = True
            except OSError as exc:  # a damaged spool is left as it is, for someone to look at
                log.error("the audit spool cannot be read (%s); new decisions are not spooled", exc)
                spooled, spool, self.spool_readable = [], None, False
            waiting = spooled + self._unwritten
            records = waiting + batch
            if not records:
                return
            for attempt in range(tries):
                try:
                    with self.db.session() as session:
                        for record in records:
                            append(session, record)
                except Exception as exc:
                    log.warning(
                        "writing %d access decisions to the audit trail failed (try %d of %d): %s",
                        len(records),
                        attempt + 1,
                        tries,
                        exc,
                    )
                    if attempt + 1 < tries:
                        time.sleep(0.2 * (attempt + 1))
                    continue
                self._unwritten = []
                if spool is not None:
                    spool.truncate(0)
                if waiting:
                    log.warning("wrote %d spooled access decisions to the audit trail", len(waiting))
                return
            self._keep(batch, spool)

    def _keep(self, batch: list[AuditRecord], spool: IO[str] | None) -> None:
        """Spool ``batch`` (or, failing that, keep it in memory): never drop it."""
        if not batch:
            return
        if spool is None and self.spool is not None and self.spool_readable:
            try:
                with _spool_open(self.spool, create=True) as created:
                    self._keep(batch, created)
                return
            except OSError as exc:
                log.critical(
                    "cannot create the audit spool %s (%s); keeping decisions in memory", self.spool, exc
                )
        if spool is not None:
            try:
                stamp = now_iso()
                spool.seek(0, os.SEEK_END)
                spool.write(
                    "".join(
                        json.dumps({**asdict(r), "spooled_at": stamp}, ensure_ascii=False) + "\n"
                        for r in batch
                    )
                )
                spool.flush()
                os.fsync(spool.fileno())
                log.error(
                    "the audit trail cannot be written: %d access decisions spooled to %s; they are "
                    "written when the database is back",
                    len(batch),
                    self.spool,
                )
                return
            except OSError as exc:
                log.critical(
                    "cannot spool access decisions to %s (%s); keeping them in memory", self.spool, exc
                )
        self._unwritten.extend(batch)
        log.error(
            "the audit trail cannot be written: %d access decisions kept in memory", len(self._unwritten)
        )

    def close(self) -> None:
        """Stop the threads and write every queued audit entry."""
        self._stop.set()
        if self._audit is not None:
            self._audit.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        if self._unwritten:
            log.critical(
                "%d access decisions could not be written to the audit trail or a spool and are lost "
                "with this process: set POSTGUARD_AUDIT_SPOOL to a writable file",
                len(self._unwritten),
            )


@contextmanager
def _spool_open(path: Path | None, *, create: bool = False) -> Iterator[IO[str] | None]:
    """The spool file, read-write and exclusively locked (``None`` when there is none, and
    ``create`` is not asked)."""
    if path is None:
        yield None
        return
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
    except FileNotFoundError:
        if create:
            raise
        yield None
        return
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _read_spool(spool: IO[str] | None, path: Path | None) -> list[AuditRecord]:
    """The records waiting in the spool, oldest first; an unreadable line stops the replay (kept)."""
    if spool is None:
        return []
    spool.seek(0)
    records: list[AuditRecord] = []
    for number, line in enumerate(spool, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            detail = {**dict(data["detail"]), "spooled_at": str(data.get("spooled_at", ""))}
            records.append(
                AuditRecord(
                    str(data["actor"]),
                    str(data["action"]),
                    str(data["target"]),
                    str(data["clause"]),
                    detail,
                    str(data["origin"]),
                )
            )
        except (ValueError, KeyError, TypeError, RecursionError):
            raise OSError(f"line {number} of the audit spool {path} is not an audit record") from None
    return records
