"""What the registry commands share: opening the registry, the actor, output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from typer._click.globals import get_current_context  # typer runs on its own copy of click

from postguard.audit.chain import default_origin
from postguard.cli.common import fail, out, plain
from postguard.factory import build_pack, build_witness
from postguard.keys import KeyName, SigningKey, load_signing
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry
from postguard.settings import Settings

if TYPE_CHECKING:
    from postguard.workflow import Workflow

__all__ = [
    "ActorOption",
    "DatabaseOption",
    "JsonOption",
    "KeysDirOption",
    "Opened",
    "emit",
    "open_registry",
    "passphrase_for",
]

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        metavar="SERVICE_NO",
        help="Who is acting (a member's service number). Env: POSTGUARD_ACTOR.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        metavar="URL",
        help="Database URL (default sqlite:///postguard.db). Env: POSTGUARD_DATABASE_URL.",
        show_default=False,
    ),
]
KeysDirOption = Annotated[
    Path | None,
    typer.Option("--keys-dir", help="Folder of the signing keys (default ./keys). Env: POSTGUARD_KEYS_DIR."),
]


class Opened:
    """The registry, its grants and the settings behind them, for one command."""

    def __init__(self, settings: Settings, *, migrate_check: bool = True, create: bool = False) -> None:
        self.settings = settings
        self.db = Database(settings.database_url, create=create)
        if migrate_check:
            self.db.require_current()
        pack = build_pack(settings)
        self.registry = Registry(
            self.db,
            origin=default_origin(),
            clauses=pack.covering(),
            governance=pack.governance,
            witness=build_witness(settings),
            categories=tuple(c.id for c in pack.categories),
        )
        self.grants = Grants(self.registry, settings.keys_dir)

    def actor(self, given: str | None) -> str | None:
        return given or self.settings.actor

    def authorised(self, given: str | None, action: str) -> str:
        """The acting member's service number, once it is settled that they may take ``action``: a
        refusal is audited and raised here, before the command reads or writes anything."""
        who = self.actor(given)
        with self.registry.acting(who, action):
            pass
        return who or ""

    @cached_property
    def workflow(self) -> Workflow:
        """The workflow over this registry, with the checker the settings name (built on first use)."""
        from postguard.factory import build_checker
        from postguard.workflow import Workflow as Built

        return Built(self.registry, self.grants, build_checker(self.settings, permissions=self.grants))


def open_registry(
    database: str | None = None,
    keys_dir: Path | None = None,
    *,
    migrate_check: bool = True,
    create: bool = False,
) -> Opened:
    overrides: dict[str, Any] = {}
    if database:
        overrides["database_url"] = database
    if keys_dir:
        overrides["keys_dir"] = keys_dir
    opened = Opened(Settings(**overrides), migrate_check=migrate_check, create=create)
    context = get_current_context(silent=True)
    if context is not None:  # close the database's connections when the command ends
        context.call_on_close(opened.db.engine.dispose)
    return opened


def passphrase_for(name: KeyName, *, confirm: bool = False) -> str:
    """The key's passphrase: POSTGUARD_<NAME>_PASSPHRASE, else a hidden prompt on a terminal."""
    env = f"POSTGUARD_{name.upper()}_PASSPHRASE"
    if os.environ.get(env):
        return os.environ[env]
    if not sys.stdin.isatty():
        fail(f"the {name} key's passphrase is needed: set {env} or run this on a terminal.")
    value: str = typer.prompt(f"Passphrase for the {name} key", hide_input=True, confirmation_prompt=confirm)
    return value


def signing_key(opened: Opened, name: KeyName) -> SigningKey:
    return load_signing(opened.settings.keys_dir, name, passphrase_for(name))


def emit(
    rows: dict[str, Any] | Sequence[dict[str, Any]],
    as_json: bool,
    *,
    title: str = "",
    columns: Iterable[str] = (),
) -> None:
    """Print one record (a two-column table) or many (one row each), or JSON."""
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if isinstance(rows, dict):
        table = Table(title=title, show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for key, value in rows.items():
            table.add_row(key, _cell(value))
        out.print(table)
        return
    cols = list(columns) or (list(rows[0]) if rows else [])
    table = Table(title=f"{title} ({len(rows)})" if title else None)
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in cols))
    out.print(table)


def _cell(value: Any) -> Text:
    """A table cell printed as it is: never read as Rich markup, control characters shown."""
    if value is None:
        return plain("-")
    if isinstance(value, list | tuple):
        return plain(", ".join(str(v) for v in value) or "-")
    if isinstance(value, bool):
        return plain("yes" if value else "no")
    return plain(value)
