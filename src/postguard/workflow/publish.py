"""Publishing an approved draft to its account: retried, reported, never lost or sent twice.

The publication row (with its idempotency key, made from the draft's id) is
written before the first attempt. Each attempt sends that same key, so a
retry after a lost answer is recognised by the service and not posted again.
A failure after the last attempt leaves the draft approved and the
publication ``failed`` with its error, for someone to retry; it is never
dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.archive.store import Seen, keep
from postguard.audit.chain import AuditRecord, serialise
from postguard.connectors import Connector, ConnectorError, connector_for
from postguard.errors import ConflictError, PostguardError, ValidationError
from postguard.media.store import MediaStore, is_ref
from postguard.registry.credentials import decrypt
from postguard.registry.models import Draft, Publication
from postguard.registry.service import Registry
from postguard.registry.values import iso, utcnow
from postguard.workflow.media import media_files
from postguard.workflow.service import Workflow

__all__ = ["publication_dict", "publications", "publish", "publish_due"]

ConnectorFactory = Callable[[str, str, str], Connector]
log = logging.getLogger("postguard.publish")


def publication_dict(row: Publication, code: str) -> dict[str, Any]:
    return {
        "draft": code,
        "status": row.status,
        "attempts": row.attempts,
        "remote_id": row.remote_id or None,
        "url": row.remote_url or None,
        "error": row.last_error or None,
        "sent_at": iso(row.sent_at),
    }


def publications(
    registry: Registry, status: str | None = None, *, draft: str | None = None
) -> list[dict[str, Any]]:
    """Every publication (newest first), or those with ``status``, or that of ``draft``."""
    with registry.db.reading() as session:
        query = select(Publication, Draft.code).join(Draft, Publication.draft_id == Draft.id)
        if status:
            query = query.where(Publication.status == status)
        if draft:
            query = query.where(Draft.code == draft)
        rows = session.execute(query.order_by(Publication.id.desc())).all()
        return [{**publication_dict(row, code), "account": _account(row)} for row, code in rows]


def _account(row: Publication) -> str:
    account = row.account
    return f"{account.platform}:{account.handle}" if account is not None else ""


def publish(
    workflow: Workflow,
    actor: str | None,
    code: str,
    *,
    keys_dir: Path,
    attempts: int = 3,
    backoff: float = 0.5,
    factory: ConnectorFactory = connector_for,
    media_root: Path | None = None,
) -> Publication:
    """Send approved draft ``code`` to its account, as ``actor``.

    The draft is checked once more first (:meth:`Workflow.assert_publishable`): what
    the check in force now finds and its approval did not clear holds it back. Its
    photos and videos (refs into the media store under ``media_root``; a safe copy
    where one was made) go with the text.
    """
    registry = workflow.registry
    workflow.assert_publishable(actor, code)
    with registry.acting(actor, "publish.send") as (session, _):
        draft = session.scalar(select(Draft).where(Draft.code == code))
        if draft is None:
            raise ValidationError(f"No draft has id '{code}'.")
        if draft.state != "approved":
            raise ConflictError(f"{code} is {draft.state}; only an approved draft is published.")
        account = draft.account
        if account is None or not account.connector:
            raise ValidationError(f"{code} has no official account with a connector to publish to.")
        row = session.scalar(select(Publication).where(Publication.draft_id == draft.id))
        if row is None:
            row = Publication(
                draft_id=draft.id,
                account_id=account.id,
                status="pending",
                attempts=0,
                idempotency_key=f"postguard-{code}",
                created_at=utcnow(),
                sent_at=None,
            )
            session.add(row)
        elif row.status == "sent":
            raise ConflictError(f"{code} was published already ({row.remote_url or row.remote_id}).")
        kind, endpoint, secret = account.connector, account.endpoint, decrypt(keys_dir, account.credential)
        text, key, target = draft.text, row.idempotency_key, f"{account.platform}:{account.handle}"
        attachments = [str(a) for a in (draft.context or {}).get("attachments") or []]
    media = media_files(attachments, MediaStore(media_root) if media_root is not None else None)
    connector = factory(kind, endpoint, secret)
    error = ""
    result = None
    tries = 0
    try:
        for tries in range(1, attempts + 1):
            try:
                result = (
                    connector.publish_with_media(text, key, media) if media else connector.publish(text, key)
                )
                break
            except ConnectorError as exc:
                error = str(exc)
                if not exc.retryable or tries == attempts:
                    log.warning(
                        "publishing %s to %s failed after %d attempt(s): %s", code, target, tries, exc
                    )
                    break
                log.info(
                    "publishing %s to %s: %s; trying again (%d of %d)", code, target, exc, tries, attempts
                )
                time.sleep(backoff * tries)
    finally:
        connector.close()
    with registry.db.session() as session:
        serialise(session)
        found = session.scalar(select(Draft).where(Draft.code == code))
        assert found is not None
        draft = found
        sent = session.scalar(select(Publication).where(Publication.draft_id == found.id))
        assert sent is not None
        row = sent
        row.attempts += tries
        if result is not None:
            row.status, row.remote_id, row.remote_url, row.sent_at = (
                "sent",
                result.remote_id,
                result.url,
                utcnow(),
            )
            row.last_error = ""
            draft.state, draft.updated_at = "published", utcnow()
            _archive(session, workflow, draft, row, target, attachments)
        else:
            row.status, row.last_error = "failed", error
        registry.audit(
            session,
            AuditRecord(
                actor or "",
                "publish.sent" if result else "publish.failed",
                f"draft:{code}",
                detail={
                    "account": target,
                    "attempts": tries,
                    "remote_id": row.remote_id,
                    "error": row.last_error,
                    "idempotency_key": key,
                },
            ),
        )
        session.flush()
        session.expunge(row)
        return row


def _archive(
    session: Session, workflow: Workflow, draft: Draft, row: Publication, target: str, attachments: list[str]
) -> None:
    """Keep what was published as a record (the watch will find it there, matched to ``row``)."""
    platform = target.split(":", 1)[0]
    media = tuple({"ref": a, "sha256": a.removeprefix("sha256:")} for a in attachments if is_ref(a))
    keep(
        session,
        Seen(
            platform, target, row.remote_id, row.remote_url, draft.text, row.sent_at or utcnow(), None, media
        ),
        source="published",
        report=draft.report,
        policy_version=draft.policy_version,
        retention_days=workflow.checker.pack.archive.retention_days,
        account_id=row.account_id,
        publication_id=row.id,
    )


def publish_due(
    registry: Registry,
    workflow: Workflow,
    *,
    keys_dir: Path,
    now: dt.datetime | None = None,
    factory: ConnectorFactory = connector_for,
    media_root: Path | None = None,
) -> list[tuple[str, Publication | str]]:
    """Publish every scheduled draft whose time has come, each as the member who scheduled it.

    Returns (draft id, its publication row) for each, or (draft id, the reason)
    for a draft that could not even be tried (its scheduler has lost the role,
    say); the reason is audited too.
    """
    results: list[tuple[str, Publication | str]] = []
    for code, by in workflow.claim_due(now):
        try:
            row = publish(workflow, by, code, keys_dir=keys_dir, factory=factory, media_root=media_root)
            results.append((code, row))
        except PostguardError as exc:
            log.warning("scheduled draft %s could not be published: %s", code, exc)
            with registry.db.session() as session:
                registry.audit(
                    session,
                    AuditRecord(by, "publish.failed", f"draft:{code}", detail={"error": str(exc)}),
                )
            results.append((code, str(exc)))
    return results
