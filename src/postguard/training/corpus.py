"""Read and validate the training corpus (``data/corpus/*.jsonl``).

The format is described in ``data/corpus/GUIDE.md``: one post per line with
``id``, ``text``, ``labels``, ``evidence`` (exact substrings per label) and an
optional ``context``. Any malformed line raises
:class:`~postguard.errors.CorpusError` naming the file and the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from postguard.checks.types import Context
from postguard.errors import CorpusError

__all__ = ["CONTENT_CLAUSES", "CorpusPost", "read_corpus"]

CONTENT_CLAUSES = (
    "A.i",
    "A.ii",
    "A.iii.guilt",
    "A.iii.prosecution",
    "A.iii.confidential",
    "A.iv.political",
    "A.iv.private",
)
_EVIDENCE_OPTIONAL = {"A.ii", "A.iii.confidential"}


@dataclass(frozen=True, slots=True)
class CorpusPost:
    id: str
    text: str
    labels: frozenset[str]
    evidence: dict[str, tuple[str, ...]]
    context: Context
    source: str

    def evidence_spans(self, clause: str) -> list[tuple[int, int]]:
        """Every occurrence in ``text`` of every evidence string for ``clause``."""
        spans = []
        for phrase in self.evidence.get(clause, ()):
            start = self.text.find(phrase)
            while start != -1:
                spans.append((start, start + len(phrase)))
                start = self.text.find(phrase, start + 1)
        return spans


def _parse(line: str, where: str, known: frozenset[str]) -> CorpusPost:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not valid JSON ({exc.msg}).") from None
    if not isinstance(data, dict):
        raise CorpusError(f"{where}: a line must be a JSON object.")
    post_id, text, labels = data.get("id"), data.get("text"), data.get("labels")
    if not isinstance(post_id, str) or not post_id:
        raise CorpusError(f"{where}: 'id' must be a non-empty string.")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where} ({post_id}): 'text' must be a non-empty string.")
    if not isinstance(labels, list) or any(lab not in known for lab in labels):
        raise CorpusError(f"{where} ({post_id}): 'labels' must list known clause ids, got {labels!r}.")
    evidence_raw = data.get("evidence") or {}
    evidence: dict[str, tuple[str, ...]] = {}
    for clause, phrases in evidence_raw.items():
        if clause not in labels or not isinstance(phrases, list):
            raise CorpusError(
                f"{where} ({post_id}): evidence for {clause!r} must be a list, and only for a label."
            )
        for phrase in phrases:
            if not isinstance(phrase, str) or not phrase or phrase not in text:
                raise CorpusError(f"{where} ({post_id}): evidence {phrase!r} is not a substring of the text.")
        evidence[clause] = tuple(phrases)
    for clause in labels:
        if clause not in _EVIDENCE_OPTIONAL and not evidence.get(clause):
            raise CorpusError(f"{where} ({post_id}): label {clause} has no evidence.")
    try:
        context = Context.from_dict(data.get("context"))
    except ValueError as exc:
        raise CorpusError(f"{where} ({post_id}): {exc}.") from None
    return CorpusPost(post_id, text, frozenset(labels), evidence, context, where.split(":", maxsplit=1)[0])


def read_corpus(paths: Iterable[Path], known: Iterable[str] = CONTENT_CLAUSES) -> Iterator[CorpusPost]:
    """Yield every post of the given JSON Lines files, validated."""
    known_set = frozenset(known)
    seen: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                post = _parse(line, f"{path.name}:{number}", known_set)
                if post.id in seen:
                    raise CorpusError(f"{path.name}:{number}: duplicate id {post.id!r}.")
                seen.add(post.id)
                yield post
