"""Withdrawn drafts, the text of each submission, and the clauses of a draft's findings (issue 12).

- ``draft.state`` may now be ``withdrawn`` (a String column with no constraint
  on its values: nothing to change for it).
- ``draft_submission``: the text of a draft as it was submitted, once per
  submission, so the draft page can show what changed since the last one.
  A draft that is in review (or past it) now gets its current text as its
  current submission.
- ``draft.clauses``: the clauses of its findings as last checked (" A B "), so
  the lists filter by clause in SQL; filled from each draft's stored report.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_REVIEWED = ("submitted", "approved", "scheduled", "published")


def _clauses(report: Any) -> str:
    if isinstance(report, str):
        report = json.loads(report or "{}")
    found = sorted({str(f.get("clause", "")) for f in (report or {}).get("findings", []) if f.get("clause")})
    return f" {' '.join(found)} " if found else ""


def upgrade() -> None:
    op.create_table(
        "draft_submission",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("draft.id"), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("device", sa.String(128), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("draft_id", "number", name="uq_draft_submission_number"),
    )
    with op.batch_alter_table("draft") as batch:
        batch.add_column(sa.Column("clauses", sa.String(1000), nullable=False, server_default=""))
    conn = op.get_bind()
    draft = sa.table(
        "draft",
        sa.column("id", sa.Integer),
        sa.column("state", sa.String),
        sa.column("text", sa.Text),
        sa.column("device", sa.String),
        sa.column("report", sa.JSON),
        sa.column("submitted_at", sa.DateTime(timezone=True)),
        sa.column("clauses", sa.String),
    )
    review = sa.table("review", sa.column("draft_id", sa.Integer), sa.column("action", sa.String))
    submission = sa.table(
        "draft_submission",
        sa.column("draft_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("text", sa.Text),
        sa.column("device", sa.String),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    rows = conn.execute(
        sa.select(
            draft.c.id, draft.c.state, draft.c.text, draft.c.device, draft.c.report, draft.c.submitted_at
        )
    ).all()
    for row in rows:
        conn.execute(draft.update().where(draft.c.id == row.id).values(clauses=_clauses(row.report)))
        if row.state in _REVIEWED and row.submitted_at is not None:
            returns = conn.scalar(
                sa.select(sa.func.count())
                .select_from(review)
                .where(review.c.draft_id == row.id, review.c.action.in_(("return", "held")))
            )
            conn.execute(
                submission.insert().values(
                    draft_id=row.id,
                    number=int(returns or 0) + 1,
                    text=row.text,
                    device=row.device or "",
                    at=row.submitted_at,
                )
            )


def downgrade() -> None:
    op.drop_table("draft_submission")
    # ALTER TABLE ... DROP COLUMN on every backend (SQLite since 3.35): a batch copy of the table
    # would drop ``draft``, which reviews, disputes and publications refer to.
    op.drop_column("draft", "clauses")
