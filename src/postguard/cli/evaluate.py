"""``postguard eval``: measure the checker on a labelled JSON Lines set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from postguard.checks.evaluate import evaluate
from postguard.cli.common import ModelOption, PolicyOption, err, fail, load_checker, out, translate_errors

__all__ = ["eval_command"]


def eval_command(
    path: Annotated[
        Path, typer.Argument(help="Labelled JSON Lines: id, text, labels, optional context.", dir_okay=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    show_errors: Annotated[
        int, typer.Option("--errors", help="How many wrongly checked posts to list.")
    ] = 50,
    policy: PolicyOption = None,
    model: ModelOption = None,
) -> None:
    """Measure the checker on labelled posts: per-clause precision, recall and F1,
    macro-F1, precision and recall per pattern id, the false-positive rate on clean
    posts, and the posts it got wrong.

    Example: postguard eval labelled.jsonl --errors 20
    """
    if not path.is_file():
        fail(f"cannot read '{path}': no such file.")
    with translate_errors():
        checker = load_checker(policy, model)
        with Progress(console=err, disable=not err.is_terminal, transient=True) as bar:
            task = bar.add_task("evaluating", total=None)
            result = evaluate(checker, path, progress=lambda _n: bar.advance(task))
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
        return
    table = Table(title=f"{path.name}: {result.posts} posts")
    for column in ("clause", "support", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "clause" else "left")
    for score in result.scores.values():
        table.add_row(
            score.clause,
            str(score.support),
            f"{score.precision:.3f}",
            f"{score.recall:.3f}",
            f"{score.f1:.3f}",
        )
    out.print(table)
    out.print(f"macro-F1 (clauses present): [bold]{result.macro_f1:.3f}[/]")
    if result.patterns:
        by_pattern = Table(title="patterns (posts they fired on; precision; share of the clause's posts)")
        for column in ("pattern", "clause", "fired", "precision", "recall"):
            left = column in ("pattern", "clause")
            by_pattern.add_column(column, justify="left" if left else "right", no_wrap=left)
        for p in result.patterns.values():
            by_pattern.add_row(p.pattern, p.clause, str(p.fired), f"{p.precision:.3f}", f"{p.recall:.3f}")
        out.print(by_pattern)
    out.print(
        f"clean-post false-positive rate: [bold]{result.clean_fp_rate:.1%}[/] "
        f"({result.clean_flagged} of {result.clean_posts})"
    )
    if result.unreadable:
        out.print(f"[yellow]{result.unreadable} line(s) could not be read and were skipped.[/]")
    if result.misses and show_errors:
        out.print(
            f"\nPosts checked wrongly ({len(result.misses)}; showing {min(show_errors, len(result.misses))}):"
        )
        for miss in result.misses[:show_errors]:
            expected = ", ".join(sorted(miss.expected)) or "clean"
            got = ", ".join(sorted(miss.got)) or "clean"
            out.print(
                f"  [bold]{escape(miss.id)}[/] expected {expected}; got {got}: {escape(miss.text[:110])}"
            )
