"""The ``postguard`` command: one Typer app, one module per command group."""

from __future__ import annotations

import os

import typer

from postguard import __version__
from postguard.cli.access import access_app, sites_app, squid_errors_command, squid_helper_command
from postguard.cli.accounts import account_app
from postguard.cli.archive import archive_app
from postguard.cli.audit import audit_app
from postguard.cli.check import check_command
from postguard.cli.database import db_app, keys_app
from postguard.cli.devices import device_app
from postguard.cli.evaluate import eval_command
from postguard.cli.grants import authorise_app, permit_app
from postguard.cli.media import redact_command
from postguard.cli.members import member_app
from postguard.cli.model import corpus_app, model_app
from postguard.cli.policy import app as policy_app
from postguard.cli.reviews import reviews_app
from postguard.cli.serve import publish_command, publish_due_command, serve_command, token_app
from postguard.cli.watch import app as watch_app
from postguard.logs import LEVELS, configure, level_from_env

__all__ = ["app", "main"]

app = typer.Typer(
    name="postguard",
    help="Puts the department's Social Media Policy into force, offline: checks draft posts "
    "against every clause, and keeps the registry of members, devices, authorisations and "
    "written permissions with a tamper-evident audit trail.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"postguard {__version__}")
        raise typer.Exit()


def _log_level(value: str | None) -> str:
    chosen = (value or level_from_env("WARNING")).upper()
    if chosen not in LEVELS:
        raise typer.BadParameter(f"choose one of {', '.join(LEVELS)}")
    configure(chosen)
    if value:  # the service's worker processes read it from the environment
        os.environ["POSTGUARD_LOG_LEVEL"] = chosen
    return chosen


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    log_level: str | None = typer.Option(
        None,
        "--log-level",
        metavar="LEVEL",
        callback=_log_level,
        help="What to log to stderr: DEBUG, INFO, WARNING, ERROR. Env: POSTGUARD_LOG_LEVEL "
        "[default: WARNING; the service logs INFO].",
    ),
) -> None:
    """postguard: the Social Media Policy, in force."""


app.command("check")(check_command)
app.command("eval")(eval_command)
app.command("redact")(redact_command)
app.add_typer(policy_app, name="policy")
app.add_typer(model_app, name="model")
app.add_typer(corpus_app, name="corpus")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(member_app, name="member")
app.add_typer(device_app, name="device")
app.add_typer(account_app, name="account")
app.add_typer(archive_app, name="archive")
app.add_typer(authorise_app, name="authorise")
app.add_typer(permit_app, name="permit")
app.add_typer(audit_app, name="audit")
app.add_typer(reviews_app, name="reviews")
app.add_typer(sites_app, name="sites")
app.add_typer(access_app, name="access")
app.command("squid-helper")(squid_helper_command)
app.command("squid-errors")(squid_errors_command)
app.add_typer(token_app, name="token")
app.command("serve")(serve_command)
app.command("publish")(publish_command)
app.command("publish-due")(publish_due_command)
app.add_typer(watch_app, name="watch")


def main() -> None:
    app()
