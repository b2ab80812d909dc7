"""The watch's alerts (issue 14): what the reviewers and the Commissioner must see and answer.

The watch raises an alert when a post reached an account without going through the
workflow, when an approved post was edited into something else, or when a post was
deleted. An alert is a row of ``alert`` written in the watch's own transaction, with its
audit entry (``alert.raise``), so the post's record, the alert and the entry stand or fall
together. It is shown in the web app at once and sent by e-mail or webhook after the
transaction commits (:mod:`postguard.watch.deliver`), each channel's outcome kept in
``delivery``.

A reviewer or the Commissioner acknowledges an alert once, with a note saying what was
done (``alert.acknowledge``, audited). The database keeps it so: an alert is never
deleted, and an acknowledged one is never changed (triggers, migration 0012).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from postguard.audit.chain import AuditRecord, serialise
from postguard.errors import ConflictError, NotFoundError, ValidationError
from postguard.registry.models import Alert, ArchivedPost
from postguard.registry.service import Registry
from postguard.registry.values import iso, utcnow

__all__ = [
    "ACTOR",
    "KINDS",
    "NOTE_MAX",
    "acknowledge",
    "alert_dict",
    "alerts",
    "get_alert",
    "open_count",
    "raise_alert",
    "record_delivery",
    "record_outcomes",
]

log = logging.getLogger("postguard.watch")

#: What each kind of alert is called where people read it.
KINDS: dict[str, str] = {
    "outside_workflow": "Posted outside the workflow",
    "edited_after_approval": "Approved post edited",
    "deleted": "Post deleted",
    "edited": "Post edited",
}

#: The audit trail's actor for what the watch does on its own (raising, delivering).
ACTOR = "postguard-watch"
#: The longest acknowledgement note taken (characters).
NOTE_MAX = 2000
#: How much of a post's text a list of alerts shows.
EXCERPT = 200
#: The audit entry's clause column holds this many characters.
_CLAUSE_MAX = 32


def _findings(detail: dict[str, Any]) -> list[dict[str, Any]]:
    found = detail.get("findings", [])
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _clauses(detail: dict[str, Any]) -> str:
    """The findings' clauses, for the audit entry (as the workflow files its entries): "A.iii,B".

    The column holds 32 characters; clauses past that are left off whole (the entry's detail
    still lists every finding)."""
    out = ""
    for clause in sorted({str(f["clause"]) for f in _findings(detail) if f.get("clause")}):
        joined = f"{out},{clause}" if out else clause
        if len(joined) > _CLAUSE_MAX:
            break
        out = joined
    return out


def _excerpt(text: str, size: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1].rstrip() + "…"


def _post_dict(post: ArchivedPost, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": post.id,
        "platform": post.platform,
        "account": post.account,
        "url": post.url,
        "excerpt": _excerpt(post.text),
        "posted_at": iso(post.posted_at),
        "edited_at": iso(post.edited_at),
        "deleted_at": iso(post.deleted_at),
        "outside_workflow": post.outside_workflow,
    }
    if full:
        out["text"] = post.text
        out["source"] = post.source
        out["publication_id"] = post.publication_id
    return out


def alert_dict(row: Alert, *, full: bool = False) -> dict[str, Any]:
    """An alert as the API, the pages and the CLI show it; ``full`` adds its post's whole text."""
    return {
        "id": row.id,
        "kind": row.kind,
        "title": KINDS.get(row.kind, row.kind),
        "summary": row.summary,
        "post_id": row.post_id,
        "post": _post_dict(row.post, full=full) if row.post is not None else None,
        "detail": row.detail,
        "findings": _findings(row.detail),
        "created_at": iso(row.created_at),
        "delivery": row.delivery,
        "open": row.acknowledged_at is None,
        "acknowledged_at": iso(row.acknowledged_at),
        "acknowledged_by": row.acknowledged_by or None,
        "note": row.note,
    }


def _audit_detail(row: Alert) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "summary": row.summary,
        "post": row.post_id,
        "findings": [{k: f[k] for k in ("clause", "span", "score") if k in f} for f in _findings(row.detail)],
    }


# Raising (the watch, in its own transaction) -------------------------------------------------


def raise_alert(
    registry: Registry,
    session: Session,
    *,
    kind: str,
    summary: str,
    post_id: int | None,
    detail: dict[str, Any],
) -> Alert:
    """Add an alert and its audit entry (``alert.raise``) in the caller's transaction.

    Flushed, so its id is known; nothing is sent from here: once the transaction has committed,
    the caller hands the ids to :meth:`postguard.watch.deliver.AlertDelivery.deliver` (an alert
    sent for a transaction that was then rolled back would name a post that is not there).
    """
    if kind not in KINDS:
        raise ValidationError(f"'{kind}' is not a kind of alert: choose one of {', '.join(KINDS)}.")
    summary = " ".join(summary.split())  # one line, wherever it is shown (a mail's subject, a log)
    if not summary:
        raise ValidationError("An alert needs a summary: what happened, in a sentence.")
    row = Alert(
        post_id=post_id,
        kind=kind,
        summary=summary,
        detail=dict(detail),
        created_at=utcnow(),
        delivery={},
        acknowledged_at=None,
        acknowledged_by="",
        note="",
    )
    session.add(row)
    session.flush()
    registry.audit(
        session, AuditRecord(ACTOR, "alert.raise", f"alert:{row.id}", _clauses(detail), _audit_detail(row))
    )
    log.warning("alert %d (%s): %s", row.id, kind, row.summary)
    return row


# Reading ---------------------------------------------------------------------------------------


def _alert(session: Session, alert_id: int) -> Alert:
    row = session.get(Alert, alert_id)
    if row is None:
        raise NotFoundError(f"No alert has id {alert_id}.")
    return row


def alerts(registry: Registry, *, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """The alerts, open ones first, newest first within each (at most ``limit``, 1 to 1000)."""
    limit = min(max(limit, 1), 1000)

    def find(session: Session) -> list[dict[str, Any]]:
        query = select(Alert).options(selectinload(Alert.post))
        if open_only:
            query = query.where(Alert.acknowledged_at.is_(None))
        query = query.order_by(
            case((Alert.acknowledged_at.is_(None), 0), else_=1), Alert.created_at.desc(), Alert.id.desc()
        ).limit(limit)
        return [alert_dict(row) for row in session.scalars(query)]

    return registry.read(find)


def get_alert(registry: Registry, alert_id: int) -> dict[str, Any]:
    """One alert with its post's platform, account, address and text (when it names a post)."""
    return registry.read(lambda session: alert_dict(_alert(session, alert_id), full=True))


def open_count(registry: Registry) -> int:
    """How many alerts wait to be acknowledged."""
    return registry.read(
        lambda session: int(
            session.scalar(select(func.count(Alert.id)).where(Alert.acknowledged_at.is_(None))) or 0
        )
    )


# Answering -------------------------------------------------------------------------------------


def acknowledge(registry: Registry, actor: str, alert_id: int, note: str) -> dict[str, Any]:
    """``actor`` (a reviewer or the Commissioner) acknowledges the alert, saying in ``note`` what
    was done about it. Once only: a second acknowledgement is a conflict, and the database
    refuses any change to an acknowledged alert. A refusal of the actor is audited."""
    with registry.acting(actor, "alert.acknowledge") as (session, member):
        cleaned = note.strip()
        if not cleaned:
            raise ValidationError("Say what was done about the alert: the note is required.", field="note")
        if len(cleaned) > NOTE_MAX:
            raise ValidationError(
                f"The note is {len(cleaned):,} characters; at most {NOTE_MAX:,} are taken.", field="note"
            )
        row = _alert(session, alert_id)
        if row.acknowledged_at is not None:
            raise ConflictError(
                f"Alert {alert_id} was acknowledged already, by {row.acknowledged_by} on "
                f"{iso(row.acknowledged_at)}."
            )
        row.acknowledged_at = utcnow()
        row.acknowledged_by = member.service_number
        row.note = cleaned
        session.flush()
        registry.audit(
            session,
            AuditRecord(
                member.service_number,
                "alert.acknowledge",
                f"alert:{row.id}",
                _clauses(row.detail),
                {"kind": row.kind, "post": row.post_id, "note": cleaned},
            ),
        )
        return alert_dict(row, full=True)


def record_delivery(registry: Registry, alert_id: int, channel: str, outcome: str) -> None:
    """Keep how ``channel`` fared for the alert (``"sent to 2"``, ``"failed: ..."``)."""
    record_outcomes(registry, alert_id, {channel: outcome})


def record_outcomes(registry: Registry, alert_id: int, outcomes: dict[str, str]) -> bool:
    """Keep how each channel fared for the alert, in one change audited as ``alert.deliver``.

    An alert acknowledged meanwhile is left as it is (the database would refuse the change, and
    the outcome no longer matters to whoever answered it): returns whether they were kept."""
    with registry.db.session() as session:
        serialise(session)  # the check and the change below: no acknowledgement between them
        row = _alert(session, alert_id)
        if row.acknowledged_at is not None:
            log.info("alert %d was acknowledged before its delivery was kept: %s", alert_id, outcomes)
            return False
        row.delivery = {**row.delivery, **outcomes}
        session.flush()
        registry.audit(session, AuditRecord(ACTOR, "alert.deliver", f"alert:{row.id}", "", dict(outcomes)))
        return True
