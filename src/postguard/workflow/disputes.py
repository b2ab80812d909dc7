"""Disputes: a reviewer's word that a finding is wrong, and a second person's confirmation.

A dispute names one finding of one submission (its clause and span) with the
reviewer's reason. Once someone else confirms it (the pack's
``approval.dispute_confirmed_by`` says who may), that finding no longer blocks
the draft's approval. Confirmed disputes are the department's labelled
examples: :func:`reviews_export` writes them in the format that
``postguard model train --extra`` reads, so the checker learns from its reviewers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.registry.models import Dispute, Draft
from postguard.registry.service import Registry
from postguard.registry.values import iso
from postguard.workflow.approval import SpanKey, span_key

__all__ = ["EXPORT_SOURCE", "confirmed_keys", "dispute_dict", "disputes_of", "export_lines", "reviews_export"]

#: The ``source`` of every exported example (``postguard eval --by-source`` groups by it).
EXPORT_SOURCE = "reviews"


def dispute_dict(row: Dispute) -> dict[str, Any]:
    return {
        "id": row.id,
        "submission": row.submission,
        "clause": row.clause,
        "span": [row.span_start, row.span_end],
        "evidence": row.evidence,
        "score": row.score,
        "reason": row.reason,
        "disputed_by": row.disputed_by.service_number,
        "at": iso(row.at),
        "confirmed_by": row.confirmed_by.service_number if row.confirmed_by else None,
        "confirmed_at": iso(row.confirmed_at),
    }


def disputes_of(session: Session, draft_id: int) -> list[Dispute]:
    return list(session.scalars(select(Dispute).where(Dispute.draft_id == draft_id).order_by(Dispute.id)))


def confirmed_keys(session: Session, draft_id: int, submission: int) -> set[SpanKey]:
    """The findings of this submission whose disputes were confirmed."""
    rows = session.scalars(
        select(Dispute).where(
            Dispute.draft_id == draft_id,
            Dispute.submission == submission,
            Dispute.confirmed_at.is_not(None),
        )
    )
    return {span_key(r.clause, r.span_start, r.span_end) for r in rows}


def reviews_export(registry: Registry, learned: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """One labelled example per draft with a confirmed dispute, newest text as reviewed.

    Its ``labels`` are the clauses (of ``learned``, the ones the model judges) that
    the draft's findings gave and that no confirmed dispute took away; the disputed
    clauses are what the reviewers corrected. A clause found elsewhere in the text
    as well as in a disputed span stays a label.
    """
    with registry.db.reading() as session:
        drafts = session.scalars(
            select(Draft)
            .where(Draft.id.in_(select(Dispute.draft_id).where(Dispute.confirmed_at.is_not(None))))
            .order_by(Draft.id)
        ).all()
        for draft in drafts:
            confirmed = [d for d in disputes_of(session, draft.id) if d.confirmed_at is not None]
            latest = max(d.submission for d in confirmed)
            settled = {
                span_key(d.clause, d.span_start, d.span_end) for d in confirmed if d.submission == latest
            }
            findings = draft.report.get("findings", [])
            if any(d.evidence not in draft.text for d in confirmed if d.submission == latest):
                continue  # the text changed after the dispute: the correction no longer applies to it
            spans: dict[str, list[list[int]]] = {}
            for f in findings:
                if span_key(f["clause"], *f["span"]) not in settled and f["clause"] in learned:
                    spans.setdefault(f["clause"], []).append([int(f["span"][0]), int(f["span"][1])])
            yield {
                "id": f"review:{draft.code}",
                "text": draft.text,
                "labels": sorted(spans),
                "spans": spans,
                "context": {"attachments": list(draft.context.get("attachments", []))},
                "source": EXPORT_SOURCE,
                "disputed": sorted({d.clause for d in confirmed if d.submission == latest}),
            }


def export_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"
