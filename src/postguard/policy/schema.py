"""The policy pack's schema: what a department's policy looks like as data.

A pack is a YAML file. Every model here forbids unknown fields, so a typo is
an error that names the field (see :mod:`postguard.policy.loader`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal, get_args

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CONCEPTS",
    "AccessRules",
    "AcknowledgementRules",
    "ApprovalRules",
    "ArchiveRules",
    "Category",
    "Clause",
    "ClausePattern",
    "Concept",
    "DecisionRule",
    "Governance",
    "Identification",
    "ItemMatch",
    "Limits",
    "MediaRules",
    "PolicyInfo",
    "PolicyPack",
    "PostLength",
    "Quiz",
    "WorkflowRules",
]

Decision = Literal["allow", "review", "block"]
DECISION_ORDER: dict[str, int] = {"allow": 0, "review": 1, "block": 2}


def _must_compile(values: Iterable[str | None], describe: Callable[[str], str], engine: Any) -> None:
    """Raise ``ValueError`` (``describe(value)``: the engine's error) for the first value of
    ``values`` that ``engine`` (:mod:`re` or :mod:`regex`) cannot compile; ``None`` is skipped."""
    for value in values:
        if value is None:
            continue
        try:
            engine.compile(value)
        except engine.error as exc:
            raise ValueError(f"{describe(value)}: {exc}") from exc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyInfo(_Strict):
    title: str
    department: str
    date: dt.date
    authority: str = Field(description="Title of the person who grants written permissions.")
    source: str = ""


class Category(_Strict):
    id: str
    name: str
    policy_examples: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()


#: What the system's own rules enforce, each named by the clause that covers it (``covers:``).
Concept = Literal["identification", "confidential-material", "department-computers", "personal-devices"]
CONCEPTS: tuple[Concept, ...] = get_args(Concept)


class ClausePattern(_Strict):
    """A regular expression that shows a violation wherever it matches.

    ``id`` names the pattern in every finding it produces (the decision trace)
    and in ``postguard eval``; a pack that ``extends`` another replaces or
    switches off (``enabled: false``) one of its patterns by this id. An entry
    without ``regex`` changes a detector's own pattern of that id (its score,
    wording, or ``enabled``): the pack's wording wins over the code's.
    """

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.\-]*$",
        description="Names the pattern in findings and eval; when left out, the clause's id "
        "and the pattern's place ('a.v.2').",
    )
    enabled: bool = True
    regex: str | None = None
    score: float = Field(0.9, ge=0.0, le=1.0)
    explanation: str = ""
    suggestion: str = ""
    replacement: str | None = Field(
        None,
        min_length=1,
        description="Words that may stand in place of whatever the regex matches, as they are "
        "(offered as a one-step rewrite, 'Apply'); leave out when the fix needs judgement "
        "(the suggestion stays advice).",
    )
    context: str | None = Field(None, description="Regex that must also match somewhere in the post.")
    unless: str | None = Field(None, description="Regex that, matching anywhere in the post, turns it off.")

    @field_validator("regex", "context", "unless")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        _must_compile((value,), lambda _: "regex does not compile", regex)
        return value


class Clause(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Za-z0-9.\-]*$")
    title: str
    name: str = Field("", description="Short name for tables and charts (the title when empty).")
    colour: str | None = Field(
        None, pattern=r"^#[0-9A-Fa-f]{6}$", description="Colour of the clause in charts (#RRGGBB)."
    )
    kind: Literal["content", "access"] = "content"
    covers: tuple[Concept, ...] = Field(
        (),
        description="What postguard's own rules enforce under this clause: identification (the "
        "writer's signature), confidential-material (what a confidential-release permission may "
        "release), department-computers and personal-devices (access decisions).",
    )
    learned: bool = Field(
        True, description="Whether the learned scorer judges this content clause (A.ii is a rule on context)."
    )
    text: str
    violates: tuple[str, ...] = ()
    does_not_violate: tuple[str, ...] = ()
    enabled: bool = True
    threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Model probability at which a finding is reported; null uses the "
        "threshold tuned when the model was trained.",
    )
    explanation: str = ""
    suggestion: str = ""
    patterns: tuple[ClausePattern, ...] = ()
    neutral: tuple[str, ...] = Field(
        (),
        description="Regexes for whole sentences that the policy names as not violating this "
        "clause (a neutral arrest report); the learned model does not flag a sentence that one "
        "of them matches from end to end. Patterns still do.",
    )

    @field_validator("neutral")
    @classmethod
    def _neutral_compiles(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        _must_compile(values, lambda value: f"{value!r} does not compile", regex)
        return values

    @model_validator(mode="before")
    @classmethod
    def _name_patterns(cls, data: object) -> object:
        """Give each pattern without an id one from the clause's id and its place."""
        if not isinstance(data, dict) or not isinstance(data.get("patterns"), list):
            return data
        prefix = str(data.get("id", "clause")).lower()
        patterns = [
            {**p, "id": f"{prefix}.{n}"} if isinstance(p, dict) and "id" not in p else p
            for n, p in enumerate(data["patterns"], 1)
        ]
        return {**data, "patterns": patterns}


class ItemMatch(_Strict):
    """Which findings (or advice items) a decision rule applies to."""

    clauses: tuple[str, ...] = ()
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    max_score: float = Field(1.0, ge=0.0, le=1.0)


class DecisionRule(_Strict):
    """Gives a decision to each finding or advice item it matches.

    The first rule that matches an item decides that item; the post's decision
    is the most severe over all its items, and ``allow`` when it has none.
    """

    name: str
    applies_to: Literal["finding", "advice"] = "finding"
    match: ItemMatch = ItemMatch()
    decision: Decision


class Identification(_Strict):
    """What identifies a writer as a member (clause A.ii)."""

    ranks: tuple[str, ...]
    roles: tuple[str, ...] = ()
    department_patterns: tuple[str, ...]

    @field_validator("ranks", "roles", "department_patterns")
    @classmethod
    def _compile_all(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        _must_compile(values, lambda value: f"{value!r} does not compile", re)
        return values


class MediaRules(_Strict):
    """How attachments are read: their names when the media itself is not analysed, and the
    bounds and allowances when it is (``postguard[media]``)."""

    confidential_words: tuple[str, ...]
    released_words: tuple[str, ...]
    max_bytes: int = Field(
        50 * 1024 * 1024, gt=0, le=4 * 1024**3, description="Largest attachment read, in bytes."
    )
    max_pixels: int = Field(
        100_000_000, gt=0, le=1_000_000_000, description="Largest picture (or video frame) read, in pixels."
    )
    max_video_seconds: float = Field(600.0, gt=0, le=86_400, description="Longest video read, in seconds.")
    analysis_pixels: int = Field(
        2_000_000,
        ge=10_000,
        le=100_000_000,
        description="Pictures are looked at scaled down to at most this many pixels (findings are "
        "still placed in the original's pixels).",
    )
    faces_allowed: bool = Field(
        False,
        description="Whether an identifiable face in a photo or video is allowed (no finding); "
        "when false it is confidential material unless a written permission covers it.",
    )


class AccessRules(_Strict):
    """How access decisions treat what the site catalogue cannot name (clause B)."""

    raw_ip: Literal["deny", "allow"] = Field(
        "deny",
        description="A literal IP destination from a department computer: refused unless an "
        "authorisation covers all social media (deny), or let through (allow).",
    )
    cache_ttl_seconds: float = Field(30.0, gt=0, le=3600, description="How long the proxy helper may cache.")
    how_to_ask: str = "Ask the Information Technology Unit for an authorisation, naming the site and why."


class Limits(_Strict):
    """Bounds on the work one check may take."""

    check_seconds: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Longest a post may take to check; a post that takes longer is refused as "
        "unreadable (never allowed), and its check stops.",
    )
    post_length: dict[str, PostLength] = Field(
        default_factory=lambda: {
            "mastodon": PostLength(characters=500, url_characters=23),
            "bluesky": PostLength(characters=300),
        },
        description="The most characters a post may have on each platform, by the official "
        "account's platform (mastodon, bluesky) or else its connector's kind (webhook). A draft "
        "longer than its account's limit cannot be submitted or approved. No entry: no limit "
        "beyond 64 KiB.",
    )


class PostLength(_Strict):
    """How a platform counts a post, and the most it takes (characters: grapheme clusters)."""

    characters: int = Field(ge=1, le=100_000, description="The most characters a post may have.")
    url_characters: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Each web address counts as this many characters, whatever its length "
        "(Mastodon: 23); none: as many as it has.",
    )


class Governance(_Strict):
    """Who may give the roles that approve posts and permissions."""

    privileged_roles: tuple[str, ...] = Field(
        ("commissioner", "reviewer"),
        description="Roles that let a member approve posts or grant permissions; giving one is a "
        "grant (see grant_by), never an ordinary change.",
    )
    grant_by: Literal["commissioner", "two-it-admins"] = Field(
        "commissioner",
        description="commissioner: only the Commissioner grants a privileged role (while there is "
        "none, an it_admin may grant the first); two-it-admins: one it_admin asks, a second confirms.",
    )
    service_number: str = Field(
        r"^[A-Z0-9][A-Z0-9-]{0,31}$",
        description="The form of a service number (a regular expression a new member's number must "
        "match in full): the shipped default takes capital letters, digits and hyphens, up to 32.",
    )

    @field_validator("service_number")
    @classmethod
    def _compiles(cls, value: str) -> str:
        _must_compile((value,), lambda _: "service_number is not a regular expression", re)
        return value


class ApprovalRules(_Strict):
    """What may clear a finding at approval, beyond editing it away."""

    release_by_permission: tuple[str, ...] | None = Field(
        None,
        description="Clauses whose findings only the Commissioner's written permission, scoped to "
        "the post, can clear at approval: no reason and no dispute will do (default: the clause "
        "that covers confidential-material; a pack may add the other A.iii clauses).",
    )
    dispute_confirmed_by: tuple[Literal["reviewer", "commissioner"], ...] = Field(
        ("reviewer", "commissioner"),
        min_length=1,
        description="Roles whose holder (never the one who disputed it, nor the author) confirms a "
        "reviewer's dispute that a blocking finding is wrong; until then the finding blocks approval.",
    )


class WorkflowRules(_Strict):
    """How drafts become publications: approvals, and how long a submission may wait."""

    approval_timeout_hours: float = Field(
        48.0, gt=0, le=24 * 90, description="A submission not approved in this time expires, visibly."
    )
    approvals_required: int = Field(1, ge=1, le=5, description="Approvals a post needs by default.")
    second_approval_accounts: tuple[str, ...] = Field(
        (), description="Official accounts ('platform:handle') whose posts need two approvals."
    )


class Quiz(_Strict):
    """A short quiz a member answers before acknowledging the pack, drawn from its clauses' examples."""

    questions: int = Field(3, ge=1, le=20, description="Questions drawn for each member.")
    pass_mark: int | None = Field(
        None, ge=1, description="Correct answers needed to acknowledge (default: every question)."
    )

    @model_validator(mode="after")
    def _mark_fits(self) -> Quiz:
        if self.pass_mark is not None and self.pass_mark > self.questions:
            raise ValueError(f"pass_mark ({self.pass_mark}) is more than questions ({self.questions})")
        return self

    @property
    def needed(self) -> int:
        """Correct answers needed to pass."""
        return self.pass_mark if self.pass_mark is not None else self.questions


class AcknowledgementRules(_Strict):
    """Every member reads and acknowledges the pack in force; a new pack asks again."""

    required_before_submit: bool = Field(
        False, description="Refuse a member's submission until they have acknowledged the pack in force."
    )
    quiz: Quiz | None = Field(
        None,
        description="A quiz drawn from the clauses' examples, answered before acknowledging (none: no quiz).",
    )


class ArchiveRules(_Strict):
    """Published posts are public records: how long the archive keeps each one (issue 14)."""

    retention_days: int = Field(
        2555,
        ge=1,
        le=36500,
        description="Days an archived post (its versions, media and the check made at the time) is kept "
        "after it was posted; the database refuses to delete it sooner.",
    )


class PolicyPack(_Strict):
    schema_version: Literal[1] = 1
    policy: PolicyInfo
    definitions: dict[str, str] = {}
    categories: tuple[Category, ...]
    clauses: tuple[Clause, ...]
    identification: Identification
    media: MediaRules
    decision_rules: tuple[DecisionRule, ...]
    access: AccessRules = AccessRules()
    workflow: WorkflowRules = WorkflowRules()
    limits: Limits = Limits()
    governance: Governance = Governance()
    approval: ApprovalRules = ApprovalRules()
    acknowledgement: AcknowledgementRules = AcknowledgementRules()
    archive: ArchiveRules = ArchiveRules()

    @model_validator(mode="after")
    def _consistent(self) -> PolicyPack:
        ids = [c.id for c in self.clauses]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"clause ids must be unique; repeated: {', '.join(dupes)}")
        known = set(ids)
        for concept in CONCEPTS:
            covering = [c.id for c in self.clauses if concept in c.covers]
            if len(covering) != 1:
                found = ", ".join(covering) or "none"
                raise ValueError(f"exactly one clause must cover '{concept}' (covers:); found {found}")
        pattern_ids = [p.id for c in self.clauses for p in c.patterns]
        repeated = sorted({i for i in pattern_ids if pattern_ids.count(i) > 1})
        if repeated:
            raise ValueError(f"pattern ids must be unique; repeated: {', '.join(repeated)}")
        unknown_release = [c for c in self.approval.release_by_permission or () if c not in known]
        if unknown_release:
            raise ValueError(
                f"approval.release_by_permission names unknown clause(s): {', '.join(unknown_release)}"
            )
        for rule in self.decision_rules:
            unknown = [c for c in rule.match.clauses if c not in known]
            if unknown:
                raise ValueError(f"decision rule {rule.name!r} names unknown clause(s): {', '.join(unknown)}")
        quiz = self.acknowledgement.quiz
        examples = sum(len(c.violates) + len(c.does_not_violate) for c in self.clauses if c.enabled)
        if quiz is not None and quiz.questions > examples:
            raise ValueError(
                f"acknowledgement.quiz asks {quiz.questions} questions, but the enabled clauses have "
                f"only {examples} examples (violates, does_not_violate) to draw them from"
            )
        return self

    @property
    def version(self) -> str:
        """The pack's version for people: its title and date (what drafts record as their policy)."""
        return f"{self.policy.title} ({self.policy.date.isoformat()})"

    @property
    def sha256(self) -> str:
        """SHA-256 of the pack as loaded (canonical JSON of every field, ``extends`` resolved).

        Any change to what the pack says, however small, changes it: an acknowledgement is
        of this hash, so a new pack asks every member again.
        """
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def clause(self, clause_id: str) -> Clause:
        for clause in self.clauses:
            if clause.id == clause_id:
                return clause
        raise KeyError(clause_id)

    @property
    def enabled_clause_ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.clauses if c.enabled)

    @property
    def content_clauses(self) -> tuple[Clause, ...]:
        """The enabled clauses that judge a post's content, in pack order."""
        return tuple(c for c in self.clauses if c.enabled and c.kind == "content")

    @property
    def learned_clause_ids(self) -> tuple[str, ...]:
        """The content clauses a learned scorer judges, in pack order."""
        return tuple(c.id for c in self.content_clauses if c.learned)

    def clause_for(self, concept: Concept) -> str:
        """The id of the clause that ``covers`` ``concept`` (the pack validates there is one)."""
        for clause in self.clauses:
            if concept in clause.covers:
                return clause.id
        raise KeyError(concept)

    @property
    def released_by_permission(self) -> frozenset[str]:
        """Clauses whose findings only a permission scoped to the post clears at approval."""
        chosen = self.approval.release_by_permission
        return (
            frozenset(chosen) if chosen is not None else frozenset({self.clause_for("confidential-material")})
        )

    def covering(self) -> dict[Concept, str]:
        """Each concept the system enforces, and the id of the clause that covers it."""
        return {concept: self.clause_for(concept) for concept in CONCEPTS}

    def label(self, clause_id: str) -> str:
        """The clause's short name, for people (its id when the pack has no such clause)."""
        for clause in self.clauses:
            if clause.id == clause_id:
                return clause.name or clause.title
        return clause_id
