"""The database: engine, sessions and migrations, for SQLite and PostgreSQL.

``Database(url)`` makes the engine. On SQLite it turns on WAL (readers do not
block the writer), a 30-second busy timeout and foreign keys, and starts every
transaction with ``BEGIN IMMEDIATE`` so that writers queue for the lock
instead of failing on upgrade. On PostgreSQL the audit chain serialises its
appends with an advisory lock (see :mod:`postguard.audit.chain`).

``upgrade()`` runs the Alembic migrations shipped in the package; every other
use of the database first checks that it is at the head revision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from postguard.errors import DatabaseError

__all__ = ["Database"]


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("postguard.registry") / "migrations"))
    return config


class Database:
    """One database (by SQLAlchemy URL), its engine and its sessions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, echo=echo, **self._engine_options(url))
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise DatabaseError(f"Cannot use the database URL '{url}': {exc}") from None
        if self.engine.dialect.name == "sqlite" and url not in ("sqlite://", "sqlite:///:memory:"):
            folder = self.engine.url.database
            parent = Path(folder).resolve().parent if folder else None
            if parent is not None and not parent.is_dir():
                raise DatabaseError(f"Cannot use the database '{url}': the folder {parent} does not exist.")
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @staticmethod
    def _engine_options(url: str) -> dict[str, Any]:
        if url.startswith("sqlite"):
            return {"connect_args": {"timeout": 30}}
        return {"pool_pre_ping": True}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as session:
            try:
                with session.begin():
                    yield session
            except OperationalError as exc:
                raise DatabaseError(f"The database '{self._safe_url()}' failed: {exc.orig}") from None

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # Migrations -----------------------------------------------------------

    def head_revision(self) -> str:
        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except OperationalError as exc:
            raise DatabaseError(f"Cannot open the database '{self._safe_url()}': {exc.orig}") from None

    def upgrade(self, revision: str = "head") -> tuple[str | None, str]:
        """Migrate to ``revision``; returns (revision before, revision after)."""
        before = self.current_revision()
        config = _alembic_config()
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        return before, self.current_revision() or ""

    def require_current(self) -> None:
        """Refuse, with the fix, a database that is not at the head revision."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "is empty" if current is None else f"is at revision {current}"
            raise DatabaseError(
                f"The database '{self._safe_url()}' {state}; this postguard needs revision {head}. "
                "Run 'postguard db upgrade' (it keeps every record)."
            )


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the 'begin' hook start transactions
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
