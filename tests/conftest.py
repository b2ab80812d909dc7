"""Shared fixtures: the shipped checker (built once), and registries on real databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import postguard.keys
from postguard import default_checker
from postguard.checks import Checker
from postguard.keys import SigningKey, init_key, load_signing
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry
from postguard.workflow import Workflow

#: Key files the tests write use a cheaper scrypt (each file records its own cost, so loading is
#: unchanged); test_keys.py checks that a key written with the shipped cost is as strong as promised.
SHIPPED_SCRYPT_N = postguard.keys.SCRYPT_N
postguard.keys.SCRYPT_N = 2**12


@pytest.fixture(autouse=True)
def _fresh_sign_in_limits() -> None:
    """Each test starts with no recent sign-ins counted against its addresses."""
    from postguard.registry.signin import reset_limits

    reset_limits()


@pytest.fixture(scope="session")
def checker() -> Checker:
    return default_checker()


@pytest.fixture(scope="session")
def patterns() -> Checker:
    """The shipped pack's patterns alone, no model: what a pattern does, whatever the weights."""
    from postguard.cli.common import settings_with
    from postguard.factory import build_checker

    return build_checker(settings_with(scorer="none"))


def rules_found(checker: Checker, text: str) -> list[str]:
    """The rules (pattern ids, scorer names) behind each finding of ``text``."""
    return [f.rule for f in checker.check(text).findings]


# The registry on a real database: SQLite in a temporary folder, and the local
# PostgreSQL server (a fresh database per test), as the suite's two backends.

PG_SERVER = os.environ.get("POSTGUARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_available() -> bool:
    try:
        engine = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


def _pg_database(name: str) -> Iterator[str]:
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, pg_available: bool) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    if not pg_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER}; 'make test' should have started it")
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}")
    yield from _pg_database(f"pg_test_{uuid.uuid4().hex[:12]}")


@dataclass
class World:
    """A migrated registry with one member per role, keys, a computer and a device."""

    db: Database
    registry: Registry
    grants: Grants
    keys_dir: Path
    commissioner_key: SigningKey
    department_key: SigningKey

    @property
    def workflow(self) -> Workflow:
        """The workflow over this registry with the shipped checker."""
        return Workflow(self.registry, self.grants, default_checker())


PASSPHRASES = {"commissioner": "commissioner test passphrase", "department": "department test passphrase"}


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    db = Database(database_url, create=True)
    db.upgrade()
    registry = Registry(db, origin="test")
    keys_dir = tmp_path / "keys"
    init_key(keys_dir, "commissioner", PASSPHRASES["commissioner"])
    init_key(keys_dir, "department", PASSPHRASES["department"])
    registry.bootstrap(service_number="IT-1", name="Ada Admin")
    for number, name, roles in [
        ("CP-1", "Cora Commissioner", "commissioner"),  # the first Commissioner: an it_admin may grant it
        ("PIO-1", "Pat Officer", "pio,officer"),
        ("REV-1", "Rhys Reviewer", []),
        ("AUD-1", "Aud Itor", "auditor"),
    ]:
        registry.add_member("IT-1", service_number=number, name=name, roles=roles)
    registry.grant_roles("CP-1", "REV-1", "reviewer")  # privileged roles: the Commissioner grants them
    registry.add_computer("IT-1", asset_tag="PC-1", hostname="pio-01", addresses=["10.0.0.5"])
    registry.add_device("IT-1", identifier="IMEI-1", owner="PIO-1", description="iPhone")
    yield World(
        db,
        registry,
        Grants(registry, keys_dir),
        keys_dir,
        load_signing(keys_dir, "commissioner", PASSPHRASES["commissioner"]),
        load_signing(keys_dir, "department", PASSPHRASES["department"]),
    )
    db.engine.dispose()


def connected_account(
    world: World, account: str = "mastodon:@police@test.example", connector: str = "mastodon"
) -> str:
    """Official account ``account`` (platform:handle), added and connected if it is not yet, so
    that drafts may be submitted to it (a draft is submitted only with an account that can
    publish). Its endpoint is never reached unless a test publishes to it. Returns ``account``."""
    platform, _, handle = account.partition(":")
    if any((a["platform"], a["handle"]) == (platform, handle) for a in world.registry.accounts()):
        return account
    world.registry.add_account("IT-1", platform=platform, handle=handle)
    world.registry.connect_account(
        "IT-1",
        platform=platform,
        handle=handle,
        connector=connector,
        endpoint="http://127.0.0.1:9",
        credential="test-credential",
        keys_dir=world.keys_dir,
    )
    return account


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (for servers the tests start)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The browser tests' fixtures (browser_support.py), for every test module.
from browser_support import browser, demo_service  # noqa: E402, F401
