"""``postguard model`` and ``postguard corpus``: train and inspect the learned model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from postguard.cli.common import (
    ModelOption,
    PolicyOption,
    err,
    fail,
    load_policy,
    out,
    settings_with,
    translate_errors,
)

__all__ = ["corpus_app", "model_app"]

model_app = typer.Typer(help="Train and inspect the learned sentence model.", no_args_is_help=True)
corpus_app = typer.Typer(help="Validate and count the training corpus.", no_args_is_help=True)

CorpusOption = Annotated[
    Path, typer.Option("--corpus", help="Folder of the corpus's *.jsonl files.", file_okay=False)
]


def _corpus_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        fail(f"no *.jsonl files in '{folder}'. Point --corpus at data/corpus.")
    return files


@model_app.command("train")
def train_command(
    corpus: CorpusOption = Path("data/corpus"),
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write model.npz.")] = Path(
        "src/postguard/checks/model/weights/model.npz"
    ),
    policy: PolicyOption = None,
) -> None:
    """Train the sentence model from the corpus (deterministic; a few seconds on 2 cores).

    Needs the 'train' extra: pip install 'postguard[train]'.
    """
    try:
        import sklearn  # noqa: F401
    except ImportError:
        fail("training needs scikit-learn: pip install 'postguard[train]'.")
    from postguard.factory import build_checker
    from postguard.training.train import train

    with translate_errors():
        patterns = build_checker(settings_with(policy=policy, scorer="none"))
        report = train(_corpus_files(corpus), output, patterns, progress=err.print)
    table = Table(title=f"out-of-fold, {report.posts} posts, {report.sentences} sentences")
    for column in ("clause", "threshold", "precision", "recall", "F1", "Brier"):
        table.add_column(column)
    for clause, m in report.per_clause.items():
        table.add_row(
            clause,
            f"{m['threshold']:.2f}",
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            f"{m['brier']:.4f}",
        )
    out.print(table)


@model_app.command("info")
def info_command(model: ModelOption = None) -> None:
    """Show what the model in use was trained on and how it scored out of fold."""
    from postguard.checks.model.inference import SentenceModel, default_model_path

    with translate_errors():
        loaded = SentenceModel.load(model or settings_with().model or default_model_path())
    meta = dict(loaded.meta)
    meta["vocabulary"] = len(loaded.vocabulary)
    out.print_json(json.dumps(meta))


@corpus_app.command("validate")
def validate_command(corpus: CorpusOption = Path("data/corpus"), policy: PolicyOption = None) -> None:
    """Check every corpus line (format, labels, evidence) and print counts per clause."""
    from collections import Counter

    from postguard.training.corpus import LabelRules, read_corpus

    counts: Counter[str] = Counter()
    total = 0
    with translate_errors():
        rules = LabelRules.of(load_policy(policy))
        for post in read_corpus(_corpus_files(corpus), rules):
            total += 1
            counts.update(post.labels or {"(compliant)"})
    table = Table(title=f"{total} posts")
    table.add_column("label")
    table.add_column("posts", justify="right")
    for label, n in sorted(counts.items()):
        table.add_row(label, str(n))
    out.print(table)
