"""``postguard redact``: a safe copy of a photo or video, checked again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from postguard.checks import Checker, Context, Post, Report
from postguard.checks.attachments import AttachmentInspector
from postguard.checks.types import Finding
from postguard.cli.common import EXIT_USAGE, ModelOption, PolicyOption, fail, load_checker, out, plain
from postguard.errors import PostguardError

__all__ = ["RedactOutcome", "redact_command", "redact_file"]

EXIT_CLEAN, EXIT_REMAINS = 0, 1


@dataclass(frozen=True)
class RedactOutcome:
    """What the original showed, the copy written, and what the copy still shows."""

    found: tuple[Finding, ...]
    copy: Any  # postguard.media.redact.RedactResult (the media extra may be missing at import time)
    remaining: tuple[Finding, ...]
    inspected: bool

    @property
    def clean(self) -> bool:
        return self.inspected and not self.remaining

    def to_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "inspected": self.inspected,
            "found": [f.to_dict() for f in self.found],
            "copy": self.copy.to_dict(),
            "remaining": [f.to_dict() for f in self.remaining],
        }


def _inspector(checker: Checker, media_root: Path) -> AttachmentInspector | None:
    """The media inspector for ``media_root``, or None where none is installed yet."""
    try:
        from postguard.media.inspect import load_inspector
    except ImportError:
        return None
    inspector: AttachmentInspector = load_inspector(checker.pack, media_root)
    return inspector


def _inspect(checker: Checker, path: Path) -> tuple[tuple[Finding, ...], bool]:
    """Every finding in the file ``path`` (the words read in it judged by the text checks)."""
    inspector = _inspector(checker, path.parent)
    if inspector is None or not inspector.takes(path.name):
        return (), False
    plain_checker = checker.with_media(None)

    def judge(words: str) -> Report:
        return plain_checker.check_post(Post(words, Context()))

    return tuple(inspector.inspect(path.name, judge)), True


def redact_file(
    checker: Checker, source: Path, target: Path, extra: tuple[tuple[int, int, int, int], ...] = ()
) -> RedactOutcome:
    """Inspect ``source``, write its safe copy to ``target`` (every place found, and ``extra``,
    blurred; metadata stripped), and inspect the copy again."""
    from postguard.media.redact import redact

    found, inspected = _inspect(checker, source)
    result = redact(source, target, [*found, *extra])
    remaining, again = _inspect(checker, result.path)
    return RedactOutcome(found, result, remaining, inspected and again)


def _parse_box(text: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"a box is X,Y,W,H in pixels, not {text!r}") from None
    if w <= 0 or h <= 0:
        raise typer.BadParameter(f"a box needs a positive width and height, not {text!r}")
    return x, y, w, h


def _describe(f: Finding) -> str:
    where = f" at {list(f.box)}" if f.box else ""
    when = f" at {f.at:.1f} s" if f.at is not None else ""
    return f"{f.kind or 'finding'}{where}{when}: {f.evidence} ({f.clause})"


def redact_command(
    file: Annotated[
        Path, typer.Argument(help="The photo or video to make a safe copy of.", show_default=False)
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the copy (its suffix follows the format: HEIC → .jpg, video → .mp4).",
            show_default=False,
        ),
    ],
    box: Annotated[
        list[str] | None,
        typer.Option("--box", metavar="X,Y,W,H", help="Also blur this box, in pixels (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON.")] = False,
    policy: PolicyOption = None,
    model: ModelOption = None,
) -> None:
    """Write a safe copy of a photo or video: metadata stripped, faces, plates and flagged text
    blurred; then check the copy again. Exit status 0 when the copy is clean, 1 when something is
    still found (or it could not be checked), 2 on a usage error."""
    if not file.is_file():
        fail(f"{file}: no such file", EXIT_USAGE)
    extra = tuple(_parse_box(b) for b in box or ())
    try:
        checker = load_checker(policy, model)
        outcome = redact_file(checker, file, output, extra)
    except PostguardError as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        typer.echo(json.dumps(outcome.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print(outcome)
    raise typer.Exit(EXIT_CLEAN if outcome.clean else EXIT_REMAINS)


def _print(outcome: RedactOutcome) -> None:
    copy = outcome.copy
    out.print(plain(f"Safe copy written: {copy.path} ({copy.format}, {copy.width}x{copy.height})"))
    out.print("Metadata stripped (EXIF, XMP, IPTC, ICC, comments).")
    for blur in copy.blurred:
        when = f" at {blur.at:.1f} s (±1 s)" if blur.at is not None else ""
        out.print(plain(f"Blurred {list(blur.box)}{when}"))
    if not outcome.inspected:
        out.print("[yellow]The media checks are not installed here: the copy was not checked again.[/]")
        return
    for f in outcome.found:
        out.print(plain(f"Removed: {_describe(f)}"))
    if outcome.remaining:
        for f in outcome.remaining:
            out.print(plain(f"Still found: {_describe(f)}"), style="bold red")
    else:
        out.print("[green]The copy was checked again: nothing is found in it.[/]")
