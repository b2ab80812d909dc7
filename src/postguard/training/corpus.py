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
from postguard.policy.schema import PolicyPack

__all__ = ["CorpusPost", "LabelRules", "read_corpus"]


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


def _parse(line: str, where: str, rules: LabelRules) -> CorpusPost:
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
    if not isinstance(labels, list) or any(lab not in rules.known for lab in labels):
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
    try:
        context = Context.from_dict(data.get("context"))
    except ValueError as exc:
        raise CorpusError(f"{where} ({post_id}): {exc}.") from None
    for clause in labels:
        if rules.needs_evidence(clause, context) and not evidence.get(clause):
            raise CorpusError(f"{where} ({post_id}): label {clause} has no evidence.")
    return CorpusPost(post_id, text, frozenset(labels), evidence, context, where.split(":", maxsplit=1)[0])


def read_corpus(paths: Iterable[Path], rules: LabelRules) -> Iterator[CorpusPost]:
    """Yield every post of the given JSON Lines files, validated against ``rules``."""
    seen: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                post = _parse(line, f"{path.name}:{number}", rules)
                if post.id in seen:
                    raise CorpusError(f"{path.name}:{number}: duplicate id {post.id!r}.")
                seen.add(post.id)
                yield post
