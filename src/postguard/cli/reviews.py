"""``postguard reviews``: what the department's reviewers decided, as labelled examples."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from postguard.cli.common import err, translate_errors
from postguard.cli.records import DatabaseOption, open_registry

reviews_app = typer.Typer(
    help="The reviewers' decisions on findings, as examples the checker learns from.",
    no_args_is_help=True,
)


@reviews_app.command("export")
def reviews_export_command(
    output: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE", help="Write to FILE (JSON Lines) instead of stdout."),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Write each draft with a confirmed dispute as a labelled example (JSON Lines).

    A line holds the draft's text, the clauses its findings gave that no confirmed
    dispute took away (labels, with spans), and source "reviews". It is the format
    that `postguard model train --extra FILE` reads, so the checker learns what the
    department's reviewers corrected:

      postguard reviews export --out reviews.jsonl

      postguard model train --extra reviews.jsonl
    """
    from postguard.factory import build_pack
    from postguard.workflow.disputes import export_lines, reviews_export

    with translate_errors():
        opened = open_registry(database)
        learned = build_pack(opened.settings).learned_clause_ids
        lines = list(export_lines(reviews_export(opened.registry, learned)))
    if output is None:
        sys.stdout.writelines(lines)
    else:
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.replace(output)
    err.print(f"{len(lines)} reviewed draft(s) exported" + (f" to {output}." if output else "."))
