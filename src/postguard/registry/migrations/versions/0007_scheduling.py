"""Scheduled publication: who scheduled a draft (its publication runs as that member).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.add_column(sa.Column("scheduled_by", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("draft") as batch:
        batch.drop_column("scheduled_by")
