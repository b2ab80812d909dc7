"""Acknowledgements: a member's word that they read the policy pack in force (issue 12).

One row per member and pack hash: a new pack version (a new hash) asks again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("member.id"), nullable=False, index=True),
        sa.Column("pack_version", sa.String(64), nullable=False),
        sa.Column("pack_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quiz_questions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("quiz_correct", sa.Integer, nullable=False, server_default="0"),
        sa.Column("quiz_answers", sa.JSON, nullable=False),
        sa.UniqueConstraint("member_id", "pack_sha256", name="uq_acknowledgement_member_pack"),
    )


def downgrade() -> None:
    op.drop_table("acknowledgement")
