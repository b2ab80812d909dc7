"""Alembic environment: runs on the connection that postguard hands it."""

from __future__ import annotations

from alembic import context

from postguard.registry.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - postguard always hands a connection
    raise RuntimeError("run migrations through 'postguard db upgrade', which provides the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
