"""The watch and the archive (issue 14): archived posts, their versions, and alerts.

- ``archived_post``: every post seen on an account, published by postguard or
  imported from a platform's export, with the check made at the time and the
  day it may be deleted (``retain_until``, from the pack's ``archive.retention_days``).
- ``archived_post_version``: each version of a post (as first seen, each edit,
  the deletion). Versions are never changed.
- ``alert``: a post outside the workflow, an approved post edited, a deletion;
  acknowledged once, with a note.

The rules are kept where the data lives, by triggers on SQLite and PostgreSQL,
so an edit of the database by hand cannot get round them:

- an archived post cannot be deleted before ``retain_until``, nor its
  ``retain_until`` brought forward;
- a version cannot be changed, nor deleted while its post is kept;
- an alert cannot be deleted, and once acknowledged it cannot be changed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)

# (name, table, SQLite "BEFORE ... WHEN ..." part, PostgreSQL condition on OLD/NEW, message)
_RULES = (
    (
        "archived_post_retained",
        "archived_post",
        "BEFORE DELETE ON archived_post FOR EACH ROW WHEN OLD.retain_until > datetime('now')",
        "TG_OP = 'DELETE' AND OLD.retain_until > now()",
        "an archived post is kept until its retain_until",
    ),
    (
        "archived_post_retention_kept",
        "archived_post",
        "BEFORE UPDATE OF retain_until ON archived_post FOR EACH ROW "
        "WHEN NEW.retain_until < OLD.retain_until",
        "TG_OP = 'UPDATE' AND NEW.retain_until < OLD.retain_until",
        "the retention of an archived post cannot be shortened",
    ),
    (
        "archived_post_version_unchanged",
        "archived_post_version",
        "BEFORE UPDATE ON archived_post_version FOR EACH ROW",
        "TG_OP = 'UPDATE'",
        "a version of an archived post is never changed",
    ),
    (
        "archived_post_version_retained",
        "archived_post_version",
        "BEFORE DELETE ON archived_post_version FOR EACH ROW WHEN EXISTS "
        "(SELECT 1 FROM archived_post p WHERE p.id = OLD.post_id AND p.retain_until > datetime('now'))",
        "TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM archived_post p WHERE p.id = OLD.post_id "
        "AND p.retain_until > now())",
        "a version of an archived post is kept as long as its post",
    ),
    (
        "alert_kept",
        "alert",
        "BEFORE DELETE ON alert FOR EACH ROW",
        "TG_OP = 'DELETE'",
        "an alert is never deleted",
    ),
    (
        "alert_acknowledged_final",
        "alert",
        "BEFORE UPDATE ON alert FOR EACH ROW WHEN OLD.acknowledged_at IS NOT NULL",
        "TG_OP = 'UPDATE' AND OLD.acknowledged_at IS NOT NULL",
        "an acknowledged alert cannot be changed",
    ),
)


def upgrade() -> None:
    op.create_table(
        "archived_post",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("official_account.id"), index=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("account", sa.String(300), nullable=False, index=True),
        sa.Column("platform_id", sa.String(500), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("media", sa.JSON, nullable=False),
        sa.Column("posted_at", _TIME, nullable=False, index=True),
        sa.Column("first_seen_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("edited_at", _TIME),
        sa.Column("deleted_at", _TIME),
        sa.Column("watched_at", _TIME),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("publication_id", sa.Integer, sa.ForeignKey("publication.id"), index=True),
        sa.Column("outside_workflow", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("decision", sa.String(16), nullable=False, server_default=""),
        sa.Column("clauses", sa.String(200), nullable=False, server_default=""),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("policy_version", sa.String(200), nullable=False, server_default=""),
        sa.Column("retain_until", _TIME, nullable=False),
        sa.UniqueConstraint("platform", "account", "platform_id", name="uq_archived_post_platform_id"),
    )
    op.create_table(
        "archived_post_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.Integer, sa.ForeignKey("archived_post.id"), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("media", sa.JSON, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("seen_at", _TIME, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False, server_default=""),
        sa.Column("report", sa.JSON, nullable=False),
        sa.UniqueConstraint("post_id", "number", name="uq_archived_post_version_number"),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.Integer, sa.ForeignKey("archived_post.id"), index=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("delivery", sa.JSON, nullable=False),
        sa.Column("acknowledged_at", _TIME),
        sa.Column("acknowledged_by", sa.String(32), nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    dialect = op.get_bind().dialect.name
    for name, table, sqlite_when, pg_condition, message in _RULES:
        if dialect == "sqlite":
            op.execute(f"CREATE TRIGGER {name} {sqlite_when} BEGIN SELECT RAISE(ABORT, '{message}'); END")
        elif dialect == "postgresql":
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {pg_condition} THEN RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation'; "
                "END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
            )
            event = "DELETE" if "DELETE" in sqlite_when.split(" ON ")[0] else "UPDATE"
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table, *_ in _RULES:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("alert")
    op.drop_table("archived_post_version")
    op.drop_table("archived_post")
