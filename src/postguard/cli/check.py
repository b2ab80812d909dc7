"""``postguard check``: one post, or a whole JSON Lines batch (contract.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from postguard.checks import Context, Post, Report
from postguard.checks.batch import BatchStats, check_lines, default_workers
from postguard.checks.engine import Checker
from postguard.cli.common import (
    ModelOption,
    PolicyOption,
    err,
    fail,
    load_checker,
    out,
    translate_errors,
)

__all__ = ["check_command"]

_STYLE = {"allow": "bold green", "review": "bold yellow", "block": "bold red"}


def _highlighted(text: str, report: Report) -> Text:
    rich = Text(text)
    for finding in report.findings:
        rich.stylize("bold red underline", finding.start, finding.end)
    for item in report.advice:
        rich.stylize("bold yellow underline", item.start, item.end)
    return rich


def _print_report(text: str, report: Report) -> None:
    out.print(Text.assemble("Decision: ", (report.decision.upper(), _STYLE[report.decision])))
    out.print(_highlighted(text, report))
    if not report.findings and not report.advice:
        out.print("[green]No clause of the policy is violated.[/]")
        return
    for kind, items, mark in (
        ("finding", report.findings, "[red]✗[/]"),
        ("advice", report.advice, "[yellow]![/]"),
    ):
        for f in items:
            label = f"{f.clause}" + (" (advice)" if kind == "advice" else "")
            where = f"[{f.start}:{f.end}]"
            if f.attachment is not None:  # seen in a photo or video
                at = f" at {f.at:.1f} s" if f.at is not None else ""
                box = f" box {list(f.box)}" if f.box is not None else ""
                where = escape(f"{f.kind} in {f.attachment}{at}{box}")
            out.print(f'\n{mark} [bold]{label}[/]  score {f.score:.2f}  {where} "{escape(f.evidence)}"')
            out.print(f"    why: {escape(f.explanation)}")
            if f.suggestion:
                out.print(f"    rewrite: {escape(f.suggestion)}")
            if f.trace:
                out.print(f"    how: {escape(f.trace)}", style="dim")


def _check_with_registry(
    checker: Checker, text: str, context: Context, actor: str | None, device: str | None = None
) -> Report:
    """Resolve permissions with the registry, apply clause C to the device, and audit it all."""
    from postguard.cli.records import open_registry
    from postguard.workflow.checking import check_with_registry, record_check

    opened = open_registry()
    who = opened.actor(actor) or "(unknown)"
    report = check_with_registry(checker, opened.grants, text, context, member=who, device=device)
    releasable = checker.pack.clause_for("confidential-material")
    record_check(opened.grants, who, text, context, report, device=device, releasable=releasable)
    return report


def _with_media_root(checker: Checker, media_root: Path | None) -> Checker:
    """``checker`` reading attachments as paths under ``media_root`` (None: as it is)."""
    if media_root is None:
        return checker
    if not media_root.is_dir():
        fail(f"cannot read the media root '{media_root}': no such folder.")
    from postguard.media.inspect import load_inspector

    return checker.with_media(load_inspector(checker.pack, media_root))


def _batch(
    checker_args: tuple[Path | None, Path | None], source: str, workers: int, media_root: Path | None = None
) -> None:
    if source == "-":
        stream: BinaryIO = sys.stdin.buffer
    else:
        path = Path(source)
        if not path.is_file():
            fail(f"cannot read '{source}': no such file. Give a JSON Lines file, or '-' for stdin.")
        stream = path.open("rb")
    with translate_errors():
        checker = load_checker(*checker_args)
    # The contract: context.attachments are paths under --media-root; without it, judged by name.
    checker = _with_media_root(checker, media_root) if media_root is not None else checker.with_media(None)
    stats = BatchStats()
    write = sys.stdout.write
    show = err.is_terminal and source != "-"
    total = None
    if show:
        with Path(source).open("rb") as fh:
            total = sum(1 for line in fh if line.strip())
    with Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=True,
    ) as bar:
        task = bar.add_task("check", total=total)
        for result in check_lines(checker, stream, stats, workers=workers):
            write(json.dumps(result, ensure_ascii=False) + "\n")
            bar.advance(task)
    sys.stdout.flush()
    if source != "-":
        stream.close()
    err.print(f"checked {stats.checked} post(s); {stats.errors} line(s) could not be read.")


def check_command(
    text: Annotated[
        str | None, typer.Argument(help="The post to check, as it would be published.", show_default=False)
    ] = None,
    jsonl: Annotated[
        str | None,
        typer.Option(
            "--jsonl",
            metavar="FILE|-",
            help="Check every line of a JSON Lines file ('-' for stdin) and write one result "
            "line per input line to stdout (the batch contract).",
        ),
    ] = None,
    account: Annotated[str, typer.Option(help="Account posted from: official or personal.")] = "official",
    capacity: Annotated[
        str, typer.Option(help="Capacity: official (for the department) or personal.")
    ] = "official",
    attachment: Annotated[
        list[str] | None,
        typer.Option("--attachment", help="An image or video posted with the text (repeatable)."),
    ] = None,
    permission: Annotated[
        list[str] | None,
        typer.Option("--permission", help="Id of a written permission claimed for this post (repeatable)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the contract's JSON instead of a table.")
    ] = False,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help="With --json: add each finding's source, rule and decision trace, and the post's "
            "SHA-256 (post_sha256: what a confidential-release permission scoped to it names).",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Processes that check --jsonl lines in parallel. "
            "[default: one per core, at most 8; 1 on one core]",
        ),
    ] = None,
    registry: Annotated[
        bool,
        typer.Option(
            "--registry",
            help="Check claimed permissions against the registry (POSTGUARD_DATABASE_URL) and record "
            "the decision in the audit trail.",
        ),
    ] = False,
    actor: Annotated[
        str | None, typer.Option("--actor", metavar="SERVICE_NO", help="Who asks (with --registry).")
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            metavar="ID",
            help="The device the post is submitted from (asset tag or personal device id); with "
            "--registry, a personal device needs the Commissioner's permission (clause C).",
        ),
    ] = None,
    media_root: Annotated[
        Path | None,
        typer.Option(
            "--media-root",
            metavar="DIR",
            file_okay=False,
            help="Read attachments as files under DIR: with --jsonl, each line's context.attachments "
            "are paths relative to it (without it a batch judges attachments by their names); "
            "with --attachment, the paths given are relative to it.",
            show_default=False,
        ),
    ] = None,
    policy: PolicyOption = None,
    model: ModelOption = None,
) -> None:
    """Check a draft post against every clause of the policy.

    Exit status for a single post: 0 allowed, 1 findings (review or block),
    2 usage error (for example an empty text), 3 the policy or model cannot be
    loaded. With --jsonl the exit status is 0 whenever every line was handled.

    Examples:

      postguard check "A 34-year-old man was arrested and charged with robbery."

      postguard check --account personal "Road closed on Main St."

      postguard check --attachment photo.jpg "Our officers at today's open day."

      postguard check --jsonl posts.jsonl > results.jsonl

      postguard check --jsonl posts.jsonl --media-root media/ > results.jsonl
    """
    if jsonl is not None:
        if text is not None:
            fail("give either TEXT or --jsonl FILE, not both.")
        _batch((policy, model), jsonl, workers if workers is not None else default_workers(), media_root)
        return
    if text is None:
        fail("nothing to check: give the post's TEXT, or --jsonl FILE (see --help).")
    try:
        context = Context.from_dict(
            {
                "account": account,
                "capacity": capacity,
                "attachments": attachment or [],
                "permissions": permission or [],
            }
        )
    except ValueError as exc:
        fail(f"{exc}.")
    with translate_errors():
        checker = _with_media_root(load_checker(policy, model), media_root)
        if registry:
            report = _check_with_registry(checker, text, context, actor, device)
        else:
            report = checker.check(text, context)
    if as_json:
        data = report.to_dict(trace=trace)
        if trace:
            data["post_sha256"] = Post(text, context).sha256
        out.print_json(json.dumps(data))
    else:
        _print_report(text, report)
        released = checker.pack.released_by_permission
        if any(f.clause in released for f in (*report.findings, *report.advice)):
            out.print(
                f"\nA written permission for this post names it as sha256:{Post(text, context).sha256}",
                style="dim",
            )
    raise typer.Exit(0 if report.decision == "allow" else 1)
