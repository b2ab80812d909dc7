"""Publishing: each official account's connector and encrypted credential; publications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from postguard.registry.models import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("official_account") as batch:
        batch.add_column(sa.Column("connector", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("endpoint", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("credential", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("draft_id", sa.Integer, sa.ForeignKey("draft.id"), nullable=False, unique=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("official_account.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("remote_id", sa.String(255), nullable=False),
        sa.Column("remote_url", sa.String(1000), nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("publication")
    with op.batch_alter_table("official_account") as batch:
        batch.drop_column("credential")
        batch.drop_column("endpoint")
        batch.drop_column("connector")
