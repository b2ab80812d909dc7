"""Scoring the checker on labelled media (``postguard eval FILE --media-root DIR``).

A labelled media line is a labelled post (``id``, ``text``, ``labels``, ``context`` with
``attachments``: paths under the media root) with a ``media`` part: the ``kinds`` of thing
the checker should find, the ``boxes`` of faces and plates, and ``tags`` (``frontal``,
``legible``, ``clean``...). Lines made by :mod:`postguard.training.media_set` also carry how
their file is drawn (``maker``, ``params``): a file missing from the media root is made
there first, so the set need not be committed as pixels.

The figures: recall per kind of thing (``face``, ``text``, ``plate``, ``location``...),
recall and precision per clause on attachments, face recall on frontal faces of at least
40 px matched by box (intersection over union at least 0.4), recall of text-driven findings
on legible text, the share of clean pictures with no finding at all, and seconds per case.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postguard.checks.engine import Checker
from postguard.checks.types import Context, Finding, Post
from postguard.errors import CorpusError

__all__ = ["MediaEvaluation", "MediaItem", "evaluate_media", "is_media_line", "read_media_items"]

#: Overlap a found box needs with a labelled one to count as finding it.
MATCH_IOU = 0.4


@dataclass(frozen=True)
class MediaItem:
    """One labelled attachment case."""

    id: str
    text: str
    labels: frozenset[str]
    context: Context
    kinds: frozenset[str]
    boxes: tuple[dict[str, Any], ...]
    tags: frozenset[str]
    raw: dict[str, Any]

    @property
    def clean(self) -> bool:
        return not self.labels and not self.kinds


def is_media_line(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("media"), dict)


def read_media_items(path: Path, known: Iterable[str]) -> list[MediaItem]:
    """The media lines of ``path`` (other lines are left to the text evaluation)."""
    known = frozenset(known)
    items: list[MediaItem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: not valid JSON ({exc.msg}).") from None
        if not is_media_line(data):
            continue
        labels = data.get("labels")
        if not isinstance(labels, list) or not set(labels) <= known:
            raise CorpusError(f"{where}: 'labels' must list known clause ids, got {labels!r}.")
        try:
            context = Context.from_dict(data.get("context"))
        except ValueError as exc:
            raise CorpusError(f"{where}: {exc}.") from None
        if len(context.attachments) != 1:
            raise CorpusError(f"{where}: a media case names exactly one attachment.")
        media = data["media"]
        items.append(
            MediaItem(
                str(data.get("id") or ""),
                str(data.get("text") or "Photo attached."),
                frozenset(labels),
                context,
                frozenset(media.get("kinds") or ()),
                tuple(media.get("boxes") or ()),
                frozenset(media.get("tags") or ()),
                data,
            )
        )
    return items


def ensure_files(items: Iterable[MediaItem], root: Path) -> int:
    """Make under ``root`` every file the set can draw that is missing; how many were made."""
    from postguard.training.media_set import MediaCase, render

    made = 0
    for item in items:
        media = item.raw["media"]
        target = root / item.context.attachments[0]
        if target.exists() or "maker" not in media:
            continue
        case = MediaCase(
            item.id, item.context.attachments[0], str(media["maker"]), dict(media.get("params") or {})
        )
        render(case, root)
        made += 1
    return made


def _iou(a: Iterable[int], b: Iterable[int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


@dataclass
class Rate:
    hit: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.hit += ok

    @property
    def rate(self) -> float:
        return self.hit / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"found": self.hit, "support": self.total, "recall": round(self.rate, 4)}


@dataclass
class MediaEvaluation:
    cases: int = 0
    kinds: dict[str, Rate] = field(default_factory=dict)
    clauses: dict[str, dict[str, int]] = field(default_factory=dict)
    faces: Rate = field(default_factory=Rate)
    legible_text: Rate = field(default_factory=Rate)
    clean: Rate = field(default_factory=Rate)  # hit: clean pictures with no finding
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def clean_pass_rate(self) -> float:
        return self.clean.rate

    def clause(self, clause: str) -> dict[str, int]:
        return self.clauses.setdefault(clause, {"tp": 0, "fp": 0, "fn": 0})

    def to_dict(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 0.0

        return {
            "cases": self.cases,
            "kinds": {k: r.to_dict() for k, r in sorted(self.kinds.items())},
            "clauses": {
                c: {
                    **v,
                    "precision": ratio(v["tp"], v["tp"] + v["fp"]),
                    "recall": ratio(v["tp"], v["tp"] + v["fn"]),
                }
                for c, v in sorted(self.clauses.items())
            },
            "face_recall_frontal_40px": self.faces.to_dict(),
            "text_recall_legible": self.legible_text.to_dict(),
            "clean_without_finding": {
                "clean": self.clean.total,
                "passed": self.clean.hit,
                "rate": round(self.clean.rate, 4),
            },
            "seconds_p50": round(statistics.median(self.seconds), 3) if self.seconds else 0.0,
            "seconds_max": round(max(self.seconds), 3) if self.seconds else 0.0,
            "misses": self.misses,
            "wrong": self.wrong,
        }


def evaluate_media(
    checker: Checker, items: Iterable[MediaItem], progress: Callable[[int], None] = lambda _n: None
) -> MediaEvaluation:
    """Check each case with ``checker`` (which must have a media inspector) and score it."""
    result = MediaEvaluation()
    for number, item in enumerate(items, 1):
        progress(number)
        started = time.perf_counter()
        report = checker.check_post(Post(item.text, item.context))
        result.seconds.append(time.perf_counter() - started)
        result.cases += 1
        found: list[Finding] = [f for f in report.findings if f.attachment]
        kinds = {f.kind for f in found if f.kind}
        clauses = {f.clause for f in found}
        for kind in item.kinds:
            result.kinds.setdefault(kind, Rate()).add(kind in kinds)
            if kind not in kinds:
                result.misses.append(f"{item.id}: no {kind}")
        for clause in clauses | item.labels:
            score = result.clause(clause)
            if clause in clauses and clause in item.labels:
                score["tp"] += 1
            elif clause in clauses:
                score["fp"] += 1
                result.wrong.extend(
                    f"{item.id}: {f.clause} {f.kind} {f.evidence[:80]!r}" for f in found if f.clause == clause
                )
            else:
                score["fn"] += 1
        if "frontal" in item.tags:
            boxes = [f.box for f in found if f.kind == "face" and f.box]
            for truth in item.boxes:
                if truth.get("kind") == "face" and truth["box"][2] >= 40:
                    result.faces.add(any(_iou(b, truth["box"]) >= MATCH_IOU for b in boxes))
        if "legible" in item.tags and "text" in item.kinds:
            # What was read must be judged: the labelled clauses found (as text or as a document).
            result.legible_text.add(bool(item.labels) and item.labels <= clauses)
        if "clean" in item.tags:
            result.clean.add(not found)
            if found:
                result.wrong.extend(
                    f"{item.id} (clean): {f.clause} {f.kind} {f.evidence[:80]!r}" for f in found
                )
    return result
