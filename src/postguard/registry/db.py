"""The database: engine, sessions and migrations, for SQLite and PostgreSQL.

``Database(url)`` makes the engine. On SQLite it turns on WAL (readers do not
block the writer, nor the writer the readers), a 30-second busy timeout and
foreign keys. A write transaction (:meth:`Database.session`) starts with
``BEGIN IMMEDIATE``, so writers queue for the one lock instead of failing on
upgrade; a read (:meth:`Database.reading`) starts a plain deferred ``BEGIN`` and
never takes the write lock, so no read waits on a writer. A new SQLite file is
created readable by its owner only (its WAL and shared-memory files follow its
mode), and only by :meth:`Database.create`: opening a file that is not there is
an error, never a new empty database. On PostgreSQL the audit chain serialises
its appends with an advisory lock (see :mod:`postguard.audit.chain`).

``upgrade()`` runs the Alembic migrations shipped in the package; every other
use of the database first checks that it is at the head revision.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, create_engine, event, make_url
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from postguard.errors import DatabaseError, ValidationError

__all__ = ["Database"]


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("postguard.registry") / "migrations"))
    return config


class Database:
    """One database (by SQLAlchemy URL), its engine and its sessions."""

    def __init__(self, url: str, *, echo: bool = False, create: bool = False) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, echo=echo, **self._engine_options(url))
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise DatabaseError(f"Cannot use the database URL '{url}': {exc}") from None
        self.file: Path | None = None
        if self.engine.dialect.name == "sqlite" and url not in ("sqlite://", "sqlite:///:memory:"):
            folder = self.engine.url.database
            self.file = Path(folder).resolve() if folder else None
            parent = self.file.parent if self.file else None
            if parent is not None and not parent.is_dir():
                raise DatabaseError(f"Cannot use the database '{url}': the folder {parent} does not exist.")
            if self.file is not None and not self.file.exists():
                if not create:
                    raise DatabaseError(
                        f"There is no database at '{self.file}': create it with 'postguard db init' (or "
                        "'postguard db upgrade'), or point POSTGUARD_DATABASE_URL at the one in use."
                    )
                os.close(os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            if self.file is not None:
                # Open it read-write, never create: a database deleted under a running process
                # makes its next connection fail, not quietly start an empty registry.
                self.engine.dispose()
                self.engine = create_engine(
                    URL.create(
                        "sqlite",
                        database=f"file:{quote(str(self.file))}",
                        query={"mode": "rw", "uri": "true"},
                    ),
                    echo=echo,
                    **self._engine_options(url),
                )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessions, "before_flush", _refuse_nul)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(postguard_read=True), expire_on_commit=False
        )

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
        """A write session in one transaction: committed on success, rolled back on error."""
        with self.sessions() as session:
            try:
                with session.begin():
                    yield session
            except OperationalError as exc:
                raise DatabaseError(f"The database '{self._safe_url()}' failed: {exc.orig}") from None

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session: it never takes the write lock, so no writer holds it up."""
        with self.read_sessions() as session:
            try:
                with session.begin():
                    yield session
            except OperationalError as exc:
                raise DatabaseError(f"The database '{self._safe_url()}' failed: {exc.orig}") from None

    def _safe_url(self) -> str:
        return self.display_url

    @property
    def display_url(self) -> str:
        """The URL this database was opened with, its password hidden."""
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except (SQLAlchemyError, ValueError):
            return "(unparseable URL)"

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
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("postguard_read") else "BEGIN IMMEDIATE")


def _refuse_nul(session: Session, _context: object, _instances: object) -> None:
    """No record takes a NUL character in any text, whatever form or command sent it (PostgreSQL
    would fail on it, SQLite would keep it, and a terminal or page would hide what follows)."""
    for row in (*session.new, *session.dirty):
        for column in sa_inspect(row).mapper.column_attrs:
            value = getattr(row, column.key, None)
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and "\x00" in v for v in values):
                raise ValidationError(f"{column.key} may not contain a NUL character (\\0).")
