"""Labelled posts, from every source the project learns from or is measured on.

Three shapes of JSON Lines are read, line by line, into :class:`LabelledPost`:

- **with text** (the training corpus, a department's own past posts, its
  reviewers' decisions exported by ``postguard reviews export``, evaluation sets):
  ``{"id", "text", "labels", "evidence"?: {clause: [exact substrings]},
  "spans"?: {clause: [[start, end], ...]}, "context"?, "weight"?}``;
- **by id** (annotations of posts whose text is not ours to keep, such as
  ``data/real/annotations.jsonl``): ``{"id", "labels", "spans", "split"?}``, the
  text resolved from a folder of posts (``--real-posts DIR``: JSON Lines files
  with ``id`` and ``text``) at the time of reading;
- both may carry ``split`` (``train`` / ``test``) and ``source``; a post read by
  id from a folder has the source ``real:`` and its file's name
  (``real:uk-police-posts``), which marks it as real traffic.

Any malformed line raises :class:`~postguard.errors.CorpusError` naming the file
and the line. Evidence and spans must point into the text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postguard.checks.types import Context
from postguard.errors import CorpusError
from postguard.policy.schema import PolicyPack

__all__ = ["REAL", "LabelRules", "LabelledPost", "PostsFolder", "ReadStats", "read_labelled"]

#: The prefix of the source of a post whose text came from a folder of real posts.
REAL = "real:"


@dataclass(frozen=True, slots=True)
class LabelRules:
    """Which labels a source may use, and which may come without evidence (from the pack).

    A clause the scorer does not learn (A.ii: a rule on the context) is judged on
    the whole post, so it needs no evidence; confidential material may be only in
    an attachment, so a post with attachments may carry that label without any.
    """

    known: frozenset[str]
    whole_post: frozenset[str]
    attachment: str

    @classmethod
    def of(cls, pack: PolicyPack) -> LabelRules:
        content = pack.content_clauses
        return cls(
            frozenset(c.id for c in content),
            frozenset(c.id for c in content if not c.learned),
            pack.clause_for("confidential-material"),
        )

    def needs_evidence(self, clause: str, context: Context) -> bool:
        if clause in self.whole_post:
            return False
        return not (clause == self.attachment and context.attachments)


@dataclass(frozen=True, slots=True)
class LabelledPost:
    """One post with the clauses it violates and where (spans into ``text``)."""

    id: str
    text: str
    labels: frozenset[str]
    spans: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    context: Context = field(default_factory=Context)
    source: str = ""
    split: str = ""
    weight: float = 1.0

    def evidence_spans(self, clause: str) -> list[tuple[int, int]]:
        return list(self.spans.get(clause, ()))

    def evidence(self, clause: str) -> list[str]:
        return [self.text[s:e] for s, e in self.spans.get(clause, ())]


class PostsFolder:
    """The texts of posts kept outside the repository, by id (``../shared/real``)."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise CorpusError(f"'{folder}' is not a folder of posts (JSON Lines files with id and text).")
        self.folder = folder
        self._texts: dict[str, tuple[str, str]] | None = None

    @property
    def texts(self) -> dict[str, tuple[str, str]]:
        """Post id -> (text, the name of the file that holds it)."""
        if self._texts is None:
            texts: dict[str, tuple[str, str]] = {}
            for path in sorted(self.folder.glob("*.jsonl")):
                with path.open(encoding="utf-8") as fh:
                    for number, line in enumerate(fh, 1):
                        if not line.strip():
                            continue
                        try:
                            row = json.loads(line)
                            texts[str(row["id"])] = (str(row["text"]), path.stem)
                        except (json.JSONDecodeError, KeyError, TypeError):
                            raise CorpusError(f"{path.name}:{number}: not a post with id and text.") from None
            if not texts:
                raise CorpusError(f"'{self.folder}' holds no posts (*.jsonl with id and text).")
            self._texts = texts
        return self._texts


def _spans_from(
    data: dict[str, Any],
    text: str,
    labels: list[str],
    where: str,
    rules: LabelRules | None,
    context: Context,
) -> dict[str, tuple[tuple[int, int], ...]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for clause, phrases in (data.get("evidence") or {}).items():
        if clause not in labels or not isinstance(phrases, list):
            raise CorpusError(f"{where}: evidence for {clause!r} must be a list, and only for a label.")
        for phrase in phrases:
            if not isinstance(phrase, str) or not phrase or phrase not in text:
                raise CorpusError(f"{where}: evidence {phrase!r} is not a substring of the text.")
            start = text.find(phrase)
            while start != -1:
                spans.setdefault(clause, []).append((start, start + len(phrase)))
                start = text.find(phrase, start + 1)
    for clause, pairs in (data.get("spans") or {}).items():
        if clause not in labels or not isinstance(pairs, list):
            raise CorpusError(f"{where}: spans for {clause!r} must be a list, and only for a label.")
        for pair in pairs:
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(x, int) for x in pair)
                or not 0 <= pair[0] < pair[1] <= len(text)
            ):
                raise CorpusError(f"{where}: span {pair!r} for {clause} does not point into the text.")
            spans.setdefault(clause, []).append((pair[0], pair[1]))
    for clause in labels:
        if rules is not None and rules.needs_evidence(clause, context) and not spans.get(clause):
            raise CorpusError(f"{where}: label {clause} has no evidence.")
    return {c: tuple(sorted(set(v))) for c, v in spans.items()}


def _parse(
    line: str, where: str, rules: LabelRules, posts: PostsFolder | None, source: str, evidence: bool
) -> LabelledPost | None:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not valid JSON ({exc.msg}).") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{where}: a line must be a JSON object.")
    post_id, labels = data.get("id"), data.get("labels")
    if not isinstance(post_id, str) or not post_id:
        raise CorpusError(f"{where}: 'id' must be a non-empty string.")
    where = f"{where} ({post_id})"
    if not isinstance(labels, list) or any(lab not in rules.known for lab in labels):
        raise CorpusError(f"{where}: 'labels' must list known clause ids, got {labels!r}.")
    text = data.get("text")
    if text is None:
        if posts is None:
            raise CorpusError(
                f"{where}: no 'text': an annotation by id needs the folder of posts it labels (--real-posts)."
            )
        found = posts.texts.get(post_id)
        if found is None:
            return None  # the folder lacks this post: counted by the caller, never guessed
        text, source = found[0], REAL + found[1]
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: 'text' must be a non-empty string.")
    try:
        context = Context.from_dict(data.get("context"))
    except ValueError as exc:
        raise CorpusError(f"{where}: {exc}.") from None
    weight = data.get("weight", 1.0)
    if not isinstance(weight, int | float) or not 0 < weight <= 100:
        raise CorpusError(f"{where}: 'weight' must be a number above 0 and at most 100.")
    return LabelledPost(
        post_id,
        text,
        frozenset(labels),
        _spans_from(data, text, labels, where, rules if evidence else None, context),
        context,
        str(data.get("source") or source),
        str(data.get("split") or ""),
        float(weight),
    )


@dataclass
class ReadStats:
    """What reading left out: annotations whose post the folder does not hold, and (when not
    strict) lines that could not be read."""

    missing: int = 0
    unreadable: int = 0
    problems: list[str] = field(default_factory=list)


def read_labelled(
    paths: Iterable[Path],
    rules: LabelRules,
    *,
    posts: PostsFolder | None = None,
    stats: ReadStats | None = None,
    strict: bool = True,
) -> Iterator[LabelledPost]:
    """Every labelled post of ``paths`` (validated; ids unique across them).

    ``strict`` (for training) raises on the first bad line and needs evidence for
    every label; otherwise (for measuring) a bad line is counted in ``stats`` and
    skipped, and labels need no evidence.
    """
    seen: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8", errors="strict" if strict else "replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    item = _parse(line, f"{path.name}:{number}", rules, posts, path.stem, strict)
                except CorpusError as exc:
                    if strict or stats is None:
                        raise
                    stats.unreadable += 1
                    stats.problems.append(str(exc))
                    continue
                if item is None:
                    if stats is not None:
                        stats.missing += 1
                    continue
                if item.id in seen:
                    raise CorpusError(f"{path.name}:{number}: duplicate id {item.id!r}.")
                seen.add(item.id)
                yield item
