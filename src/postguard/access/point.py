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
the proxy; ``close()`` writes what is left.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from postguard.access.catalogue import Catalogue
from postguard.access.decide import AccessDecision, AccessRequest, decide
from postguard.access.snapshot import Snapshot, load_snapshot
from postguard.audit.chain import AuditRecord, append
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
    ) -> None:
        self.db = db
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
            snapshot = load_snapshot(self.db, load_public_if_present(self.keys_dir, "commissioner"))
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
            item = self._audit.get()
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
            if batch:
                self._write(batch)

    def _write(self, batch: list[AuditRecord]) -> None:
        for attempt in range(5):
            try:
                with self.db.session() as session:
                    for record in batch:
                        append(session, record)
                return
            except Exception as exc:
                log.warning(
                    "writing %d access decisions to the audit trail failed (try %d of 5): %s",
                    len(batch),
                    attempt + 1,
                    exc,
                )
                time.sleep(0.2 * (attempt + 1))
        log.error("could not write %d access decisions to the audit trail", len(batch))

    def close(self) -> None:
        """Stop the threads and write every queued audit entry."""
        self._stop.set()
        if self._audit is not None:
            self._audit.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
