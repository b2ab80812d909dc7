"""Computer addresses: one row per address (or CIDR range) of an active department computer,
UNIQUE, so two active computers can never share an address, whoever writes to the database.

The registry keeps the table in step with ``computer.addresses`` (and refuses overlapping
ranges before it writes); existing active computers' addresses are copied in, the first
computer keeping an address that two of them shared.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _normalised(value: str) -> str | None:
    try:
        if "/" in value:
            network = ipaddress.ip_network(value.strip(), strict=False)
            return str(network.network_address) if network.num_addresses == 1 else str(network)
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _addresses(raw: Any) -> list[str]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return [a for a in raw or [] if isinstance(a, str)]


def upgrade() -> None:
    table = op.create_table(
        "computer_address",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("computer_id", sa.Integer, sa.ForeignKey("computer.id"), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=False, unique=True),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, addresses, active FROM computer ORDER BY id")).fetchall()
    seen: set[str] = set()
    backfill = []
    for computer_id, raw, active in rows:
        if not active:
            continue
        for address in _addresses(raw):
            value = _normalised(address)
            if value is None or value in seen:
                continue
            seen.add(value)
            backfill.append({"computer_id": computer_id, "address": value})
    if backfill:
        op.bulk_insert(table, backfill)


def downgrade() -> None:
    op.drop_table("computer_address")
