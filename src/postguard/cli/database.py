"""``postguard db`` and ``postguard keys``: migrations, the first member, signing keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from postguard.cli.common import err, out, settings_with, translate_errors
from postguard.cli.records import DatabaseOption, KeysDirOption, open_registry, passphrase_for
from postguard.errors import SigningKeyError
from postguard.keys import KEY_NAMES, KeyName, init_key, load_public


class _KeysOnly:
    """The settings a keys command needs; it opens no database."""

    def __init__(self, keys_dir: Path | None) -> None:
        self.settings = settings_with(keys_dir=keys_dir)


def _keys_only(keys_dir: Path | None) -> _KeysOnly:
    return _KeysOnly(keys_dir)


db_app = typer.Typer(help="Create and migrate the registry database.", no_args_is_help=True)
keys_app = typer.Typer(
    help="The commissioner's and the department's Ed25519 signing keys.", no_args_is_help=True
)


@db_app.command("upgrade")
def upgrade_command(
    database: DatabaseOption = None,
    revision: Annotated[str, typer.Option(help="Revision to migrate to.")] = "head",
) -> None:
    """Create the database, or migrate it to this version; every record is kept.

    Example: postguard db upgrade --database postgresql+psycopg://postgres@127.0.0.1/test
    """
    with translate_errors():
        opened = open_registry(database, migrate_check=False, create=True)
        before, after = opened.db.upgrade(revision)
    if before == after:
        out.print(f"The database is at revision {after} already; nothing to do.")
    else:
        out.print(f"Migrated the database from {before or 'empty'} to revision {after}.")


@db_app.command("current")
def current_command(database: DatabaseOption = None) -> None:
    """Print the database's revision and the one this postguard needs."""
    with translate_errors():
        opened = open_registry(database, migrate_check=False)
        current, head = opened.db.current_revision(), opened.db.head_revision()
    out.print(f"database revision: {current or 'empty'}; this postguard needs: {head}")
    if current != head:
        raise typer.Exit(1)


@db_app.command("init")
def init_command(
    service_number: Annotated[
        str, typer.Option("--service-number", help="The first member's service number.")
    ],
    name: Annotated[str, typer.Option(help="The first member's name.")],
    rank: Annotated[str, typer.Option(help="Rank.")] = "",
    unit: Annotated[str, typer.Option(help="Unit.")] = "",
    database: DatabaseOption = None,
) -> None:
    """Migrate a new database and register its first member, with the it_admin role.

    Only an empty registry takes this; after it, that member adds the others.
    """
    with translate_errors():
        opened = open_registry(database, migrate_check=False, create=True)
        opened.db.upgrade()
        opened.registry.bootstrap(service_number=service_number, name=name, rank=rank, unit=unit)
    out.print(f"Registry ready; {service_number} ({name}) is its first member, with the it_admin role.")


@keys_app.command("init")
def keys_init_command(
    name: Annotated[
        str, typer.Option("--name", help="commissioner (signs permissions) or department (audit).")
    ],
    keys_dir: KeysDirOption = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an existing key (old signatures stop verifying).")
    ] = False,
) -> None:
    """Create a passphrase-protected Ed25519 key pair (NAME.key and NAME.pub).

    The passphrase comes from POSTGUARD_<NAME>_PASSPHRASE or a hidden prompt.
    """
    if name not in KEY_NAMES:
        from postguard.cli.common import fail

        fail(f"--name must be one of {', '.join(KEY_NAMES)}.")
    key_name: KeyName = "commissioner" if name == "commissioner" else "department"
    with translate_errors():
        opened = _keys_only(keys_dir)
        if (opened.settings.keys_dir / f"{key_name}.key").exists() and not overwrite:
            from postguard.cli.common import fail

            fail(
                f"a {key_name} key exists already in {opened.settings.keys_dir}/; replacing it makes "
                "every signature made with it unverifiable here. Pass --overwrite only if you mean it."
            )
        public = init_key(
            opened.settings.keys_dir, key_name, passphrase_for(key_name, confirm=True), overwrite=overwrite
        )
    out.print(
        f"Created the {name} key {public.key_id} in {opened.settings.keys_dir}/ ({name}.key, {name}.pub)."
    )
    err.print(f"Keep {name}.key and its passphrase safe; give {name}.pub to whoever verifies.")


@keys_app.command("show")
def keys_show_command(keys_dir: KeysDirOption = None) -> None:
    """Show the public keys in the keys folder and their ids."""
    with translate_errors():
        opened = _keys_only(keys_dir)
        for key_name in KEY_NAMES:
            try:
                public = load_public(opened.settings.keys_dir, key_name)
            except SigningKeyError as exc:
                out.print(f"{key_name}: {exc}")
                continue
            out.print(f"{key_name}: {public.key_id}")
