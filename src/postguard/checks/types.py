"""The values that travel through the checker: posts in, findings and reports out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from postguard.errors import EmptyTextError, EncodingError, TextTooLongError

__all__ = ["MAX_TEXT_BYTES", "Context", "Finding", "Post", "Report"]

MAX_TEXT_BYTES = 64 * 1024

Account = Literal["official", "personal"]
Capacity = Literal["official", "personal"]


@dataclass(frozen=True, slots=True)
class Context:
    """Where and how a post is published (contract.md, `context`)."""

    account: Account = "official"
    capacity: Capacity = "official"
    attachments: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()

    @property
    def represents_department(self) -> bool:
        """Content clauses apply only to personnel representing the department."""
        return self.account == "official" or self.capacity == "official"

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Context:
        """Build from the contract's JSON shape; raises ``ValueError`` on bad fields."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValueError("context must be an object")
        unknown = set(data) - {"account", "capacity", "attachments", "permissions"}
        if unknown:
            raise ValueError(f"context has unknown field(s): {', '.join(sorted(unknown))}")
        chosen: dict[str, str] = {}
        for key in ("account", "capacity"):
            value = data.get(key) or "official"
            if value not in ("official", "personal"):
                raise ValueError(f"context.{key} must be 'official' or 'personal', not {value!r}")
            chosen[key] = value
        account = cast(Account, chosen["account"])
        capacity = cast(Capacity, chosen["capacity"])
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("attachments", "permissions"):
            value = data.get(key) or []
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise ValueError(f"context.{key} must be a list of strings")
            lists[key] = tuple(value)
        return cls(account, capacity, lists["attachments"], lists["permissions"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "capacity": self.capacity,
            "attachments": list(self.attachments),
            "permissions": list(self.permissions),
        }


@dataclass(frozen=True, slots=True)
class Post:
    """A draft to check: its text as it would be published, and its context."""

    text: str
    context: Context = field(default_factory=Context)

    @property
    def sha256(self) -> str:
        """The SHA-256 a written permission names this post by: its text, then each attachment, a
        line each (``sha256:`` and this, in a confidential release's ``post``)."""
        body = "\n".join([self.text, *self.context.attachments])
        return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()

    def __post_init__(self) -> None:
        if not self.text or not self.text.strip():
            raise EmptyTextError("The post has no text: it is empty or only whitespace.")
        if "\x00" in self.text:
            raise EncodingError(
                "The post contains a NUL character (\\0), which no platform publishes: remove it."
            )
        size = len(self.text.encode("utf-8", "surrogatepass"))
        if size > MAX_TEXT_BYTES:
            raise TextTooLongError(
                f"The post is {size:,} bytes of UTF-8; the limit is {MAX_TEXT_BYTES:,} (64 KiB). "
                "Split it into shorter posts."
            )


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation (or advice item): a clause, where it is, and why.

    ``start``/``end`` index the original text (end exclusive) and ``evidence``
    is always ``text[start:end]``. ``source`` says what kind of thing found it
    (``pattern``, ``model``, ``rule``, ``attachment``, ``registry``), ``rule``
    which one (a pattern id, a scorer's name, a rule's name), and ``trace``
    how it was decided, in a few words with the scores. ``replacement``, when
    the pattern that found it gives one, is the wording that may stand in place
    of ``evidence`` as it is (a one-step rewrite); ``suggestion`` is advice for
    people and is never put into the text.

    A finding in an attachment (a photo, a video) names it in ``attachment`` and
    says what was seen in ``kind`` (``location``, ``metadata``, ``text``, ``face``,
    ``plate``, ``document``, ``screen``, ``unreadable``); ``box`` is where in the
    picture (``[x, y, w, h]`` in the original's pixels) and ``at`` when in a video
    (seconds); ``sha256`` the file's, which a written permission may name. Its span
    is empty (``[0, 0]``: it is not in the text) and its ``evidence`` is what was
    seen (the words read, the metadata field).
    """

    clause: str
    start: int
    end: int
    evidence: str
    score: float
    explanation: str
    suggestion: str = ""
    source: str = ""
    rule: str = ""
    trace: str = ""
    replacement: str | None = None
    attachment: str | None = None
    kind: str | None = None
    box: tuple[int, int, int, int] | None = None
    at: float | None = None
    #: The attached file's SHA-256 (hex), set by the media inspector: a confidential-release
    #: permission naming ``sha256:<this>`` covers the finding (its own file, not the whole post).
    sha256: str | None = None

    def to_dict(self, *, trace: bool = False, rewrites: bool = False) -> dict[str, Any]:
        """The contract's shape; ``trace`` adds ``source``, ``rule`` and ``trace``, and
        ``rewrites`` the ``replacement`` where there is one (not in the batch contract)."""
        out: dict[str, Any] = {
            "clause": self.clause,
            "span": [self.start, self.end],
            "evidence": self.evidence,
            "score": round(self.score, 4),
            "explanation": self.explanation,
        }
        if self.suggestion:
            out["suggestion"] = self.suggestion
        if rewrites and self.replacement:
            out["replacement"] = self.replacement
        if self.attachment is not None:
            out["attachment"] = self.attachment
            out["kind"] = self.kind
            if self.box is not None:
                out["box"] = list(self.box)
            if self.at is not None:
                out["at"] = round(self.at, 2)
            if trace and self.sha256 is not None:
                out["sha256"] = self.sha256
        if trace:
            out.update(source=self.source, rule=self.rule, trace=self.trace)
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """The checker's answer for one post, in the contract's shape."""

    decision: Literal["allow", "review", "block"]
    findings: tuple[Finding, ...] = ()
    advice: tuple[Finding, ...] = ()
    policy_version: str = ""
    #: The claimed permissions that were honoured and turned findings into advice.
    permissions_used: tuple[str, ...] = ()

    @property
    def clauses(self) -> frozenset[str]:
        return frozenset(f.clause for f in self.findings)

    def to_dict(
        self, post_id: str | None = None, *, trace: bool = False, rewrites: bool = False
    ) -> dict[str, Any]:
        """The contract's output line (with ``id`` when given); ``trace`` adds each item's trace,
        ``rewrites`` each finding's one-step ``replacement`` where it has one."""
        out: dict[str, Any] = {} if post_id is None else {"id": post_id}
        out["decision"] = self.decision
        out["findings"] = [f.to_dict(trace=trace, rewrites=rewrites) for f in self.findings]
        if self.advice:
            out["advice"] = [a.to_dict(trace=trace) for a in self.advice]
        return out
