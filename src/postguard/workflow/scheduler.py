"""The service's background round: expire overdue submissions, publish scheduled drafts.

Several service processes may each run one against the same database: a
scheduled draft is claimed by one of them only (:meth:`Workflow.claim_due`),
and expiring twice changes nothing.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from postguard.errors import PostguardError
from postguard.registry.service import Registry
from postguard.workflow.publish import publish_due
from postguard.workflow.service import Workflow

__all__ = ["Scheduler", "run_once"]

log = logging.getLogger("postguard.scheduler")


def run_once(
    registry: Registry, workflow: Workflow, keys_dir: Path, media_root: Path | None = None
) -> tuple[list[str], list[tuple[str, bool, str]]]:
    """One round: (drafts expired, (draft id, published?, url or error) per scheduled draft due)."""
    expired = workflow.expire_overdue()
    results = []
    for code, result in publish_due(registry, workflow, keys_dir=keys_dir, media_root=media_root):
        if isinstance(result, str):
            results.append((code, False, result))
        else:
            sent = result.status == "sent"
            results.append((code, sent, result.remote_url or result.remote_id if sent else result.last_error))
    return expired, results


class Scheduler:
    def __init__(
        self,
        registry: Registry,
        workflow: Workflow,
        keys_dir: Path,
        interval: float,
        media_root: Path | None = None,
    ) -> None:
        self._stop = threading.Event()
        self.media_root = media_root
        self._thread: threading.Thread | None = None
        self.registry, self.workflow, self.keys_dir, self.interval = registry, workflow, keys_dir, interval
        if interval > 0:
            self._thread = threading.Thread(target=self._run, name="postguard-scheduler", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                expired, published = run_once(self.registry, self.workflow, self.keys_dir, self.media_root)
            except PostguardError as exc:  # the database is away: try again next round
                log.warning("scheduler round failed: %s", exc)
                continue
            for code in expired:
                log.info("%s expired: not reviewed in time", code)
            for code, sent, what in published:
                log.log(
                    logging.INFO if sent else logging.WARNING,
                    "%s %s: %s",
                    code,
                    "published" if sent else "not published",
                    what,
                )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
