"""One round of the watch: read each official account's recent posts from its platform.

For every active account whose connector can read (Mastodon, Bluesky; the webhook
connector has nothing to read), a round:

1. reads the account's posts since the newest one kept, less the look-back window
   (``POSTGUARD_WATCH_LOOKBACK_DAYS``: edits and deletions are noticed within it);
2. matches each post to the publication that made it: by the platform's id
   (:attr:`Publication.remote_id`), else by the idempotency key (a Bluesky record key
   is made from it), else (an answer lost in transit) by the approved text of a
   publication still pending. A post with no publication is **outside the workflow**;
3. checks it with the pack and model in force (its photos and videos too, fetched into
   the media store by SHA-256, where ``postguard[media]`` is installed) and keeps it in
   the archive, with a version per edit and one for its deletion;
4. raises an alert for a post outside the workflow, for an approved post whose text now
   differs from what was approved, for an edit of a post outside the workflow that
   now has findings, and for a deletion; alerts are delivered after the round's
   changes are committed.

Everything a round keeps, and every alert, is audited in the same transaction. A round
that cannot reach one account goes on with the others and reports the error.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.archive.store import Seen, account_name, add_versions, find, keep, mark_deleted
from postguard.audit.chain import AuditRecord, serialise
from postguard.checks.engine import Checker
from postguard.checks.types import Context, Post, Report
from postguard.connectors import Connector, ConnectorError, RemotePost, connector_for
from postguard.connectors.bluesky import record_key
from postguard.errors import InputError, PostguardError
from postguard.media.store import MediaStore
from postguard.registry.credentials import decrypt
from postguard.registry.models import ArchivedPost, Draft, OfficialAccount, Publication
from postguard.registry.service import Registry
from postguard.registry.values import iso, utcnow
from postguard.watch.alerts import ACTOR as ALERT_ACTOR
from postguard.watch.alerts import raise_alert

__all__ = ["ACTOR", "Watch", "WatchLoop", "WatchResult"]

log = logging.getLogger("postguard.watch")

#: The audit trail's actor for what the watch records (and the alerts it raises).
ACTOR = ALERT_ACTOR
MAX_MEDIA_BYTES = 200 * 1024 * 1024

ConnectorFactory = Callable[[str, str, str], Connector]
Deliver = Callable[[Registry, list[int]], object]


@dataclass
class WatchResult:
    """What one round found: each new post (the ``watch run --json`` lines), edits, deletions,
    the alerts raised and the accounts it could not read."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    deletions: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)


def _plain(text: str) -> str:
    """Text compared for sameness: whitespace runs as one space (a platform reflows line ends)."""
    return re.sub(r"\s+", " ", text).strip()


def _differs(kept: ArchivedPost, post: RemotePost) -> bool:
    """Whether ``post`` is a new version of ``kept``: its text (whitespace aside: a platform reflows
    it), its edit time, or its photos and videos (by address; a post postguard published is kept
    before its addresses are known, so then by number) differ."""
    if _plain(kept.text) != _plain(post.text):
        return True
    if post.edited_at is not None and kept.edited_at != post.edited_at:
        return True
    urls = [m.get("url") for m in kept.media]
    if all(urls):
        return urls != [m.url for m in post.media]
    return len(urls) != len(post.media)


def _findings(report: Report | None) -> list[dict[str, Any]]:
    """The findings as ``watch run --json`` prints them: the contract's shape."""
    return [] if report is None else list(report.to_dict().get("findings", []))


class Watch:
    """Reads the accounts, keeps what it finds, raises alerts. ``deliver`` sends the alerts a
    round raised (after it commits); ``factory`` makes connectors (tests give fakes' URLs)."""

    def __init__(
        self,
        registry: Registry,
        checker: Checker,
        *,
        keys_dir: Path,
        media_root: Path | None,
        lookback_days: float = 14.0,
        deliver: Deliver | None = None,
        factory: ConnectorFactory = connector_for,
        limit: int = 400,
    ) -> None:
        self.registry, self.checker, self.keys_dir = registry, checker, keys_dir
        self.store = MediaStore(media_root) if media_root is not None else None
        self.lookback = dt.timedelta(days=lookback_days)
        self.deliver, self.factory, self.limit = deliver, factory, limit
        self.retention_days = checker.pack.archive.retention_days

    # ---------------------------------------------------------------- a round

    def run(self, accounts: Sequence[str] = ()) -> WatchResult:
        """One round over every readable account (or those named ``platform:handle``)."""
        result = WatchResult()
        with self.registry.db.reading() as session:
            rows = session.scalars(
                select(OfficialAccount).where(OfficialAccount.active.is_(True)).order_by(OfficialAccount.id)
            ).all()
            targets = [
                (r.id, account_name(r.platform, r.handle), r.platform, r.connector, r.endpoint, r.credential)
                for r in rows
                if r.connector and (not accounts or account_name(r.platform, r.handle) in accounts)
            ]
        unknown = sorted(set(accounts) - {t[1] for t in targets})
        if unknown:
            raise PostguardError(
                f"No active account with a connector is named {', '.join(unknown)} (platform:handle)."
            )
        for account_id, name, platform, kind, endpoint, credential in targets:
            try:
                connector = self.factory(kind, endpoint, decrypt(self.keys_dir, credential))
            except (ConnectorError, PostguardError) as exc:
                result.errors.append({"account": name, "error": str(exc)})
                continue
            try:
                if not connector.can_read:
                    continue
                result.accounts.append(name)
                self._account(connector, account_id, name, platform, result)
            except ConnectorError as exc:
                log.warning("watch: cannot read %s: %s", name, exc)
                result.errors.append({"account": name, "error": str(exc)})
            finally:
                connector.close()
        if result.alerts and self.deliver is not None:
            try:
                self.deliver(self.registry, result.alerts)
            except Exception as exc:  # delivery is best effort: the alerts are in the web app already
                log.warning("watch: delivering %d alert(s) failed: %s", len(result.alerts), exc)
        return result

    def _account(
        self, connector: Connector, account_id: int, name: str, platform: str, result: WatchResult
    ) -> None:
        # Back to the look-back window before the newest post the watch itself has seen (so a
        # round after the service was down reads what was posted meanwhile); posts imported from
        # an export do not count, or importing years of them would send a round back years.
        with self.registry.db.reading() as session:
            newest = session.scalar(
                select(ArchivedPost.posted_at)
                .where(ArchivedPost.account == name, ArchivedPost.watched_at.is_not(None))
                .order_by(ArchivedPost.posted_at.desc())
                .limit(1)
            )
        now = utcnow()
        since = min(newest, now) - self.lookback if newest is not None else now - self.lookback
        remote = list(connector.timeline(since=since, limit=self.limit))
        # Everything since ``since`` was read unless the limit cut it short: then only back to the oldest.
        window = since if len(remote) < self.limit else min((p.posted_at for p in remote), default=since)
        for post in reversed(remote):  # oldest first: alerts and versions in the order things happened
            self._post(connector, account_id, name, platform, post, result)
        self._deletions(connector, name, window, {p.platform_id for p in remote}, result)

    # ---------------------------------------------------------------- one post

    def _post(
        self,
        connector: Connector,
        account_id: int,
        name: str,
        platform: str,
        post: RemotePost,
        result: WatchResult,
    ) -> None:
        with self.registry.db.reading() as session:
            kept = find(session, platform, name, post.platform_id)
            changed = kept is not None and kept.deleted_at is None and _differs(kept, post)
            first_sight = kept is not None and kept.watched_at is None and kept.deleted_at is None
            if kept is not None and not changed and not first_sight:
                return
        if first_sight and not changed:
            self._confirm(account_id, name, platform, post, result)
            return
        media = self._media(connector, post)
        history: list[RemotePost] = []
        if changed:
            try:
                history = connector.versions(post.platform_id)
            except ConnectorError as exc:  # the edit itself is still kept; the middle versions are not
                log.info("watch: no edit history for %s %s: %s", name, post.platform_id, exc)
        refs = tuple(str(m["ref"]) for m in media if m.get("ref"))
        report = self._check(post.text, refs)
        seen = Seen(
            platform, name, post.platform_id, post.url, post.text, post.posted_at, post.edited_at, media
        )
        with self.registry.db.session() as session:
            serialise(session)  # several service processes may each run a round: one keeps each post
            publication, approved = self._publication(session, account_id, post)
            if changed and history:
                row = find(session, platform, name, post.platform_id)
                if row is not None:
                    add_versions(
                        session,
                        row,
                        [
                            Seen(platform, name, post.platform_id, v.url, v.text, v.posted_at, v.edited_at)
                            for v in history
                        ],
                    )
            row, change = keep(
                session,
                seen,
                source="watch",
                report=report,
                retention_days=self.retention_days,
                account_id=account_id,
                publication_id=publication.id if publication is not None else None,
                outside_workflow=publication is None,
            )
            if change == "unchanged":  # seen deleted already: the deletion stands
                return
            row.watched_at = row.watched_at or utcnow()
            line = self._seen(
                session, row, "archive.seen" if change == "new" else "archive.edited", _findings(report)
            )
            alerts = self._alerts(session, row, change, line, approved)
        result.alerts.extend(alerts)
        (result.posts if change == "new" else result.edits).append({**line, "alerts": alerts})

    def _confirm(
        self, account_id: int, name: str, platform: str, post: RemotePost, result: WatchResult
    ) -> None:
        """The watch's first sight of a post kept when postguard published it (or imported): as it
        was kept, so no new version; its address and its media's addresses, known now, are noted."""
        media = self._media(connector=None, post=post) if post.media else ()
        with self.registry.db.session() as session:
            serialise(session)  # several service processes may each run a round: one keeps each post
            row = find(session, platform, name, post.platform_id)
            if row is None or row.watched_at is not None:
                return
            row.watched_at, row.updated_at, row.url = utcnow(), utcnow(), row.url or post.url
            if media and len(media) == len(row.media):
                row.media = [{**old, "url": new["url"]} for old, new in zip(row.media, media, strict=True)]
            line = self._seen(session, row, "archive.seen", list(row.report.get("findings", [])))
        result.posts.append({**line, "alerts": []})

    def _seen(
        self, session: Session, row: ArchivedPost, action: str, findings: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Audit what the watch saw of ``row`` (``action``), and give its ``watch run --json`` line."""
        line: dict[str, Any] = {
            "account": row.account,
            "platform_id": row.platform_id,
            "url": row.url,
            "outside_workflow": row.outside_workflow,
            "decision": row.decision or None,
            "findings": findings,
            "posted_at": iso(row.posted_at),
            "archived": row.id,
        }
        self.registry.audit(
            session,
            AuditRecord(
                ACTOR,
                action,
                f"post:{row.id}",
                row.clauses.strip().replace(" ", ","),
                {
                    "account": row.account,
                    "platform_id": row.platform_id,
                    "outside_workflow": row.outside_workflow,
                    "decision": row.decision,
                    "publication": row.publication_id,
                    "source": row.source,
                    "findings": [{"clause": f["clause"], "span": f["span"]} for f in findings],
                },
            ),
        )
        return line

    def _alerts(
        self, session: Session, row: ArchivedPost, change: str, line: dict[str, Any], approved: str | None
    ) -> list[int]:
        detail = {k: line[k] for k in ("account", "platform_id", "url", "decision", "findings")}
        raised: list[tuple[str, str]] = []
        where = f"{line['account']} ({line['url'] or line['platform_id']})"
        if row.outside_workflow and change == "new":
            verdict = (
                f"{line['decision']}: {len(line['findings'])} finding(s)"
                if line["findings"]
                else "no findings"
            )
            raised.append(
                ("outside_workflow", f"A post on {where} did not go through postguard ({verdict}).")
            )
        elif row.outside_workflow and change == "edited" and line["findings"]:
            raised.append(
                ("edited", f"A post on {where} made outside postguard was edited; it now has findings.")
            )
        if approved is not None and _plain(approved) != _plain(row.text):
            detail["approved_text"] = approved
            detail["published_text"] = row.text
            raised.append(
                ("edited_after_approval", f"A post on {where} differs from the text that was approved.")
            )
        return [
            raise_alert(self.registry, session, kind=kind, summary=summary, post_id=row.id, detail=detail).id
            for kind, summary in raised
        ]

    def _publication(
        self, session: Session, account_id: int, post: RemotePost
    ) -> tuple[Publication | None, str | None]:
        """The publication that made ``post`` and the draft text approved for it, or (None, None)."""
        found = session.execute(
            select(Publication, Draft.text)
            .join(Draft, Publication.draft_id == Draft.id)
            .where(Publication.account_id == account_id, Publication.remote_id == post.platform_id)
        ).first()
        if found is None:
            pending = session.execute(
                select(Publication, Draft.text)
                .join(Draft, Publication.draft_id == Draft.id)
                .where(Publication.account_id == account_id, Publication.remote_id == "")
            ).all()
            rkey = post.platform_id.rsplit("/", 1)[-1] if post.platform_id.startswith("at://") else None
            found = next(
                (
                    p
                    for p in pending
                    if (rkey is not None and record_key(p[0].idempotency_key) == rkey)
                    or _plain(p[1]) == _plain(post.text)
                ),
                None,
            )
        if found is None:
            return None, None
        return found[0], found[1]

    def _check(self, text: str, refs: tuple[str, ...]) -> Report | None:
        """The check of a post's text (and kept photos), or None where there is nothing to check or
        the text is not checkable as given (a post the platform took can still break our limits)."""
        if not text.strip() and not refs:
            return None
        try:
            return self.checker.check_post(
                Post(text if text.strip() else "(photos only)", Context(attachments=refs))
            )
        except InputError as exc:
            log.warning("watch: a post could not be checked: %s", exc)
            return None

    def _media(self, connector: Connector | None, post: RemotePost) -> tuple[dict[str, Any], ...]:
        """The post's photos and videos, fetched into the media store (by SHA-256) where there is one
        (with no ``connector``: their addresses only)."""
        kept: list[dict[str, Any]] = []
        for item in post.media:
            entry: dict[str, Any] = {
                "url": item.url,
                "content_type": item.content_type,
                "filename": item.filename,
            }
            if self.store is not None and item.url and connector is not None:
                try:
                    ref = self.store.put(connector.fetch(item.url, max_bytes=MAX_MEDIA_BYTES))
                    entry["ref"], entry["sha256"] = ref, ref.removeprefix("sha256:")
                except (ConnectorError, PostguardError, OSError) as exc:
                    entry["error"] = str(exc)
                    log.warning("watch: could not keep %s: %s", item.url, exc)
            kept.append(entry)
        return tuple(kept)

    # ---------------------------------------------------------------- deletions

    def _deletions(
        self, connector: Connector, name: str, window: dt.datetime, present: set[str], result: WatchResult
    ) -> None:
        with self.registry.db.reading() as session:
            candidates = session.execute(
                select(ArchivedPost.id, ArchivedPost.platform_id).where(
                    ArchivedPost.account == name,
                    ArchivedPost.deleted_at.is_(None),
                    ArchivedPost.source != "import",
                    ArchivedPost.posted_at >= window,
                )
            ).all()
        for post_id, platform_id in candidates:
            if platform_id in present or connector.exists(platform_id):
                continue
            with self.registry.db.session() as session:
                serialise(session)
                row = session.get(ArchivedPost, post_id)
                if row is None or not mark_deleted(session, row):
                    continue
                line = {
                    "account": name,
                    "platform_id": platform_id,
                    "url": row.url,
                    "outside_workflow": row.outside_workflow,
                    "decision": row.decision or None,
                    "deleted_at": iso(row.deleted_at),
                    "archived": row.id,
                }
                self.registry.audit(
                    session, AuditRecord(ACTOR, "archive.deleted", f"post:{row.id}", detail=dict(line))
                )
                alert = raise_alert(
                    self.registry,
                    session,
                    kind="deleted",
                    summary=f"A post on {name} ({row.url or platform_id}) was deleted from the platform.",
                    post_id=row.id,
                    detail={**line, "text": row.text},
                )
                alert_id = alert.id
            result.alerts.append(alert_id)
            result.deletions.append({**line, "alerts": [alert_id]})


class WatchLoop:
    """The service's watch: a round every ``interval`` seconds in a thread (0: none)."""

    def __init__(self, watch: Watch, interval: float) -> None:
        self.watch, self.interval = watch, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if interval > 0:
            self._thread = threading.Thread(target=self._run, name="postguard-watch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                found = self.watch.run()
            except PostguardError as exc:  # the database is away: try again next round
                log.warning("watch round failed: %s", exc)
                continue
            except Exception:  # a bug or an answer nobody foresaw must not end the watch for good
                log.exception("watch round failed; the next one is in %s seconds", self.interval)
                continue
            for error in found.errors:
                log.warning("watch: %s: %s", error["account"], error["error"])
            if found.posts or found.edits or found.deletions:
                log.info(
                    "watch: %d new post(s), %d edit(s), %d deletion(s), %d alert(s)",
                    len(found.posts),
                    len(found.edits),
                    len(found.deletions),
                    len(found.alerts),
                )

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
