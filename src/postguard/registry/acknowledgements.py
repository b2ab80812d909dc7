"""Every member reads and acknowledges the policy pack in force (issue 12).

An acknowledgement is of one pack, named by its SHA-256 (:attr:`PolicyPack.sha256`): any
change to the pack asks every member again. When the pack sets ``acknowledgement.quiz``,
the member first answers a short quiz drawn from the clauses' own examples (``violates``
and ``does_not_violate``): for each example, which clause it breaks, or none. The
questions are drawn from the member and the pack alone, so a reload shows the same ones,
and they are graded here, never by the page. The acknowledgement and its audit entry
(``policy.acknowledge``, with the pack's version and hash) are written in one
transaction; the database keeps one per member and pack.

When the pack sets ``acknowledgement.required_before_submit``, the workflow refuses a
submission from a member who has not acknowledged the pack in force
(:func:`require_acknowledged`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord
from postguard.errors import AccessDeniedError, ConflictError, NoActorError, ValidationError
from postguard.policy.schema import PolicyPack
from postguard.registry.models import Acknowledgement, Member
from postguard.registry.service import Registry
from postguard.registry.values import iso, utcnow

__all__ = [
    "NO_CLAUSE",
    "WHERE",
    "Acknowledgements",
    "Option",
    "Question",
    "acknowledgement_dict",
    "grade",
    "quiz_for",
    "require_acknowledged",
]

#: The answer for an example that violates no clause.
NO_CLAUSE = "none"
#: Where a member reads and acknowledges the policy (said in every refusal).
WHERE = "the Policy page (/policy), `postguard policy acknowledge`, or POST /api/v1/policy/acknowledge"
#: Choices offered for each question: the right one, "none", and others up to this many.
OPTIONS = 4


@dataclass(frozen=True)
class Option:
    value: str  # a clause id, or NO_CLAUSE
    label: str


@dataclass(frozen=True)
class Question:
    """One quiz question: an example from the pack, and the choices offered for it."""

    id: str
    example: str
    options: tuple[Option, ...]
    answer: str  # graded on the server; never sent to a client

    def public(self) -> dict[str, Any]:
        """What a client is shown (no answer)."""
        return {
            "id": self.id,
            "example": self.example,
            "options": [{"value": o.value, "label": o.label} for o in self.options],
        }


def _pool(pack: PolicyPack) -> list[tuple[str, str]]:
    """Every example of the enabled clauses, with its right answer, in pack order."""
    pool: list[tuple[str, str]] = []
    for clause in pack.clauses:
        if not clause.enabled:
            continue
        pool.extend((example, clause.id) for example in clause.violates)
        pool.extend((example, NO_CLAUSE) for example in clause.does_not_violate)
    return pool


def _question_id(example: str, answer: str) -> str:
    return "q-" + hashlib.sha256(f"{answer}\n{example}".encode()).hexdigest()[:12]


def quiz_for(pack: PolicyPack, service_number: str) -> tuple[Question, ...]:
    """The questions ``service_number`` answers for ``pack`` (none when the pack sets no quiz).

    Drawn deterministically from the member and the pack's hash: the same member sees
    the same questions on every reload; another member, or another pack, others.
    """
    quiz = pack.acknowledgement.quiz
    if quiz is None:
        return ()
    seed = hashlib.sha256(f"{pack.sha256}\n{service_number}".encode()).digest()
    rng = random.Random(int.from_bytes(seed[:8], "big"))
    clauses = [c for c in pack.clauses if c.enabled]
    label = {c.id: f"{c.id}: {c.name or c.title}" for c in clauses}
    pool = _pool(pack)
    # At least one example that violates a clause (when the pack has one), the rest from all.
    violating = [item for item in pool if item[1] != NO_CLAUSE]
    first = [rng.choice(violating)] if violating and quiz.questions > 1 else []
    drawn = first + rng.sample([item for item in pool if item not in first], quiz.questions - len(first))
    rng.shuffle(drawn)
    questions = []
    for example, answer in drawn:
        others = [c.id for c in clauses if c.id != answer]
        chosen = {answer, NO_CLAUSE}
        chosen.update(rng.sample(others, min(len(others), OPTIONS - len(chosen))))
        clause_ids = [c.id for c in clauses if c.id in chosen]  # in the pack's order
        options = (
            *(Option(c, label[c]) for c in clause_ids),
            Option(NO_CLAUSE, "None: it does not violate the policy"),
        )
        questions.append(Question(_question_id(example, answer), example, options, answer))
    return tuple(questions)


@dataclass(frozen=True)
class Graded:
    asked: int
    correct: int
    needed: int
    wrong: tuple[int, ...]  # 1-based question numbers answered wrongly or not at all
    answers: dict[str, str]

    @property
    def passed(self) -> bool:
        return self.correct >= self.needed


def grade(pack: PolicyPack, questions: tuple[Question, ...], answers: Mapping[str, str]) -> Graded:
    """Grade ``answers`` (question id -> clause id or ``none``) against ``questions``."""
    known = {q.id for q in questions}
    stray = sorted(set(answers) - known)
    if stray:
        raise ValidationError(
            f"{', '.join(stray[:3])} {'is' if len(stray) == 1 else 'are'} not among your questions for "
            "the policy in force; load the policy again and answer the questions it shows."
        )
    wrong = tuple(n for n, q in enumerate(questions, 1) if answers.get(q.id, "").strip() != q.answer)
    quiz = pack.acknowledgement.quiz
    return Graded(
        asked=len(questions),
        correct=len(questions) - len(wrong),
        needed=quiz.needed if quiz is not None else 0,
        wrong=wrong,
        answers={q.id: answers.get(q.id, "").strip() for q in questions},
    )


def acknowledgement_dict(row: Acknowledgement) -> dict[str, Any]:
    return {
        "member": row.member.service_number,
        "pack_version": row.pack_version,
        "pack_sha256": row.pack_sha256,
        "at": iso(row.at),
        "quiz": {"questions": row.quiz_questions, "correct": row.quiz_correct},
    }


def _current(session: Session, member_id: int, sha256: str) -> Acknowledgement | None:
    return session.scalar(
        select(Acknowledgement).where(
            Acknowledgement.member_id == member_id, Acknowledgement.pack_sha256 == sha256
        )
    )


def require_acknowledged(session: Session, member: Member, pack: PolicyPack, doing: str) -> None:
    """Refuse ``doing`` unless ``member`` has acknowledged ``pack`` (when the pack requires it)."""
    if not pack.acknowledgement.required_before_submit:
        return
    if _current(session, member.id, pack.sha256) is None:
        raise AccessDeniedError(
            f"{member.service_number} has not acknowledged the policy in force ({pack.version}, "
            f"SHA-256 {pack.sha256[:12]}…), which the policy requires before {doing}. "
            f"Read and acknowledge it first: {WHERE}."
        )


class Acknowledgements:
    """Acknowledgements of ``pack`` (the pack in force) in ``registry``."""

    def __init__(self, registry: Registry, pack: PolicyPack) -> None:
        self.registry = registry
        self.pack = pack

    def quiz(self, service_number: str) -> tuple[Question, ...]:
        return quiz_for(self.pack, service_number)

    def acknowledge(
        self, actor: str | None, *, sha256: str, answers: Mapping[str, str] | None = None
    ) -> Acknowledgement:
        """``actor`` acknowledges the pack in force, which they read as ``sha256``.

        The quiz (when the pack sets one) must be passed; a failed attempt is audited
        (``policy.quiz-failed``) and refused. Acknowledging the same pack twice is a conflict.
        """
        if not actor:
            raise NoActorError("'policy.acknowledge' needs an actor: the member acknowledging the policy.")
        pack = self.pack
        if sha256.strip().lower() != pack.sha256:
            raise ConflictError(
                f"The policy in force is {pack.version} with SHA-256 {pack.sha256}; what was read "
                f"({sha256.strip()[:64] or 'no hash given'}) is not it. Read the policy in force again."
            )
        graded = grade(pack, self.quiz(actor), answers or {})
        detail: dict[str, Any] = {
            "version": pack.version,
            "sha256": pack.sha256,
            "quiz": {"questions": graded.asked, "correct": graded.correct, "needed": graded.needed},
        }
        with self.registry.acting(actor, "policy.acknowledge") as (session, member):
            earlier = _current(session, member.id, pack.sha256)
            if earlier is not None:
                raise ConflictError(
                    f"{actor} acknowledged this policy ({pack.version}) already, on {iso(earlier.at)}."
                )
            if not graded.passed:
                self.registry.audit(
                    session, AuditRecord(actor, "policy.quiz-failed", f"member:{actor}", "", detail)
                )
            else:
                row = Acknowledgement(
                    member=member,
                    pack_version=pack.version,
                    pack_sha256=pack.sha256,
                    at=utcnow(),
                    quiz_questions=graded.asked,
                    quiz_correct=graded.correct,
                    quiz_answers=graded.answers,
                )
                session.add(row)
                session.flush()
                self.registry.audit(
                    session, AuditRecord(actor, "policy.acknowledge", f"member:{actor}", "", detail)
                )
                return row
        numbers = ", ".join(str(n) for n in graded.wrong)
        raise ValidationError(
            f"{graded.correct} of {graded.asked} answers are right and {graded.needed} are needed, so the "
            f"policy is not acknowledged yet. Read the clauses again and look at question"
            f"{'s' if len(graded.wrong) > 1 else ''} {numbers}."
        )

    def status(self, service_number: str) -> dict[str, Any] | None:
        """``service_number``'s acknowledgement of the pack in force, or ``None``."""

        def find(session: Session) -> dict[str, Any] | None:
            member = self.registry.member(session, service_number)
            row = _current(session, member.id, self.pack.sha256)
            return acknowledgement_dict(row) if row is not None else None

        return self.registry.read(find)

    def has_acknowledged(self, service_number: str) -> bool:
        return self.status(service_number) is not None

    def unacknowledged(self) -> list[dict[str, Any]]:
        """Active members (holding any role) who have not acknowledged the pack in force,
        by service number, each with the last pack they did acknowledge (or ``None``)."""
        sha = self.pack.sha256

        def find(session: Session) -> list[dict[str, Any]]:
            members = session.scalars(select(Member).where(Member.active).order_by(Member.service_number))
            rows = session.scalars(select(Acknowledgement).order_by(Acknowledgement.at))
            last: dict[int, Acknowledgement] = {}
            done: set[int] = set()
            for row in rows:
                last[row.member_id] = row
                if row.pack_sha256 == sha:
                    done.add(row.member_id)
            out = []
            for m in members:
                if m.id in done or not m.roles:
                    continue
                earlier = last.get(m.id)
                out.append(
                    {
                        "service_number": m.service_number,
                        "name": m.name,
                        "rank": m.rank,
                        "unit": m.unit,
                        "roles": list(m.roles),
                        "last_acknowledged": (
                            {
                                "version": earlier.pack_version,
                                "sha256": earlier.pack_sha256,
                                "at": iso(earlier.at),
                            }
                            if earlier is not None
                            else None
                        ),
                    }
                )
            return out

        return self.registry.read(find)

    def summary(self) -> dict[str, Any]:
        """The pack in force and who has not acknowledged it (for the dashboard and the API)."""
        missing = self.unacknowledged()
        return {
            "version": self.pack.version,
            "sha256": self.pack.sha256,
            "required_before_submit": self.pack.acknowledgement.required_before_submit,
            "unacknowledged": missing,
        }
