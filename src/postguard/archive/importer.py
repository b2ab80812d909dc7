"""Importing a platform's own export into the archive (``postguard archive import``).

The export is read by :mod:`postguard.archive.formats` (an X/Twitter archive, a Facebook
export, a Mastodon ``outbox.json``); each post is checked with the pack and model in
force, its photos and videos go into the media store by SHA-256, and it is kept with
``source = "import"``. Posts are committed a batch at a time, so an interrupted import
keeps what it did, and importing the same export again adds nothing (a post is known by
its platform, account and id). One audit entry records each import: the file, its
SHA-256, the account and the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from postguard.archive.formats import Export, ExportedPost
from postguard.archive.store import Seen, account_name, keep
from postguard.audit.chain import AuditRecord
from postguard.checks.engine import Checker
from postguard.checks.types import Context, Post, Report
from postguard.errors import InputError, ValidationError
from postguard.media.store import MediaStore, file_sha256
from postguard.registry.models import OfficialAccount
from postguard.registry.service import Registry

__all__ = ["ImportSummary", "import_export"]

BATCH = 200
MAX_MEDIA_BYTES = 200 * 1024 * 1024


@dataclass
class ImportSummary:
    """What an import did: posts added, already there, with findings, media kept, and why any
    item was skipped."""

    file: str
    format: str
    account: str
    sha256: str
    added: int = 0
    already: int = 0
    flagged: int = 0
    media: int = 0
    missing_media: int = 0
    skipped: list[str] = field(default_factory=list)
    #: Items left out on purpose, by why: {"retweet": 3, "boost": 1, "not public": 2}.
    left_out: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "format": self.format,
            "account": self.account,
            "sha256": self.sha256,
            "added": self.added,
            "already": self.already,
            "flagged": self.flagged,
            "media": self.media,
            "missing_media": self.missing_media,
            "skipped": self.skipped,
            "left_out": self.left_out,
        }


def import_export(
    registry: Registry,
    checker: Checker,
    export: Export,
    source: Path,
    *,
    actor: str,
    media_root: Path | None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import every post of ``export`` (read from ``source``) as ``actor`` (audited)."""
    summary = ImportSummary(
        str(source), export.format, export.account, "" if source.is_dir() else file_sha256(source)
    )
    store = MediaStore(media_root) if media_root is not None else None
    retention = checker.pack.archive.retention_days
    platform = export.platform
    account_id, name = _registered(registry, platform, export.account)
    summary.account = name
    batch: list[tuple[ExportedPost, tuple[dict[str, object], ...], Report | None]] = []

    def flush() -> None:
        if not batch:
            return
        with registry.db.session() as session:
            for post, media, report in batch:
                seen = Seen(
                    platform,
                    name,
                    post.platform_id,
                    post.url,
                    post.text,
                    post.posted_at,
                    None,
                    media,
                )
                row, change = keep(
                    session,
                    seen,
                    source="import",
                    report=report,
                    retention_days=retention,
                    account_id=account_id,
                    outside_workflow=False,
                )
                if change == "new":
                    summary.added += 1
                    summary.flagged += bool(row.clauses)
                else:
                    summary.already += 1
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for post in export.posts():
        media = _keep_media(post, store, summary)
        refs = tuple(str(m["ref"]) for m in media if m.get("ref"))
        batch.append((post, media, _check(checker, post.text, refs, summary, post.platform_id)))
        if len(batch) >= BATCH:
            flush()
    flush()
    summary.skipped.extend(export.skipped)
    summary.left_out = dict(export.left_out)
    with registry.db.session() as session:
        registry.audit(
            session,
            AuditRecord(
                actor,
                "archive.import",
                f"archive:{name}",
                detail=summary.to_dict() | {"skipped": len(summary.skipped)},
            ),
        )
    return summary


def _handle(value: str) -> str:
    return value.strip().lstrip("@").casefold()


def _registered(registry: Registry, platform: str, account: str) -> tuple[int | None, str]:
    """The registered account the export is of (its id, and its name as the watch knows it), or
    (None, the export's name). Handles match without a leading ``@`` and without case."""
    handle = _handle(account.split(":", 1)[-1])
    with registry.db.reading() as session:
        rows = session.execute(
            select(OfficialAccount.id, OfficialAccount.handle).where(OfficialAccount.platform == platform)
        ).all()
    for account_id, registered in rows:
        if _handle(registered) == handle:
            return account_id, account_name(platform, registered)
    return None, account


def _check(
    checker: Checker, text: str, refs: tuple[str, ...], summary: ImportSummary, platform_id: str
) -> Report | None:
    if not text.strip():
        return None
    try:
        return checker.check_post(Post(text, Context(attachments=refs)))
    except InputError as exc:
        summary.skipped.append(f"{platform_id}: kept without a check ({exc})")
        return None


def _keep_media(
    post: ExportedPost, store: MediaStore | None, summary: ImportSummary
) -> tuple[dict[str, object], ...]:
    kept: list[dict[str, object]] = []
    for item in post.media:
        entry: dict[str, object] = {"filename": item.name, "content_type": item.content_type}
        try:
            data = item.read() if store is not None else None
        except ValidationError as exc:  # over the size cap, or a damaged member: the post is kept
            summary.skipped.append(f"{post.platform_id}: {item.name} not kept ({exc})")
            kept.append(entry)
            continue
        if data is None:
            summary.missing_media += 1
        elif len(data) > MAX_MEDIA_BYTES:
            summary.skipped.append(
                f"{post.platform_id}: {item.name} is over {MAX_MEDIA_BYTES >> 20} MiB; not kept"
            )
        else:
            assert store is not None
            ref = store.put(data)
            entry["ref"], entry["sha256"] = ref, ref.removeprefix("sha256:")
            summary.media += 1
        kept.append(entry)
    return tuple(kept)
