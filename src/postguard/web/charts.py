"""The dashboard's figures, read from the audit trail, and drawn as plain SVG (no script).

- findings by clause per day: every check of a draft (create, edit, submit)
  counts each clause it found once;
- decisions per day: access decisions allowed and refused, approvals and returns;
- top clauses by unit: the same findings, by the unit of the member who wrote.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text

from postguard.registry.models import Member
from postguard.registry.service import Registry

__all__ = ["COLOURS", "Series", "dashboard"]

#: One colour per clause (Okabe-Ito, distinguishable with colour-blindness), and for decisions.
COLOURS = {
    "A.i": "#E69F00",
    "A.ii": "#56B4E9",
    "A.iii.guilt": "#009E73",
    "A.iii.prosecution": "#0072B2",
    "A.iii.confidential": "#D55E00",
    "A.iv.political": "#CC79A7",
    "A.iv.private": "#8C6D1F",
    "B": "#555555",
    "C": "#000000",
    "allowed": "#009E73",
    "refused": "#D55E00",
    "approved": "#0072B2",
    "returned": "#E69F00",
}
_CHECKS = ("draft.create", "draft.edit", "draft.submit")


@dataclass
class Series:
    """Stacked counts: ``days`` (x), and per key a list of counts, one per day."""

    days: list[str]
    stacks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def peak(self) -> int:
        return max([sum(col) for col in zip(*self.stacks.values(), strict=True)] or [0]) or 1

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.stacks.values())

    def bars(self, width: int = 640, height: int = 180) -> list[dict[str, Any]]:
        """Rectangles of the stacked bar chart, in SVG user units."""
        n, peak = max(len(self.days), 1), self.peak
        step = width / n
        out = []
        for i, _day in enumerate(self.days):
            y = float(height)
            for key, counts in self.stacks.items():
                if counts[i]:
                    h = counts[i] / peak * (height - 10)
                    y -= h
                    out.append(
                        {"x": round(i * step + 1, 1), "y": round(y, 1), "w": round(max(step - 2, 1), 1),
                         "h": round(h, 1), "fill": COLOURS.get(key, "#777"), "label": f"{key}: {counts[i]}",
                         "day": self.days[i]}
                    )  # fmt: skip
        return out


def dashboard(registry: Registry, *, days: int = 30, now: dt.datetime | None = None) -> dict[str, Any]:
    end = (now or dt.datetime.now(dt.UTC)).date()
    span = [(end - dt.timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    since = span[0]
    index = {d: i for i, d in enumerate(span)}
    findings: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    decisions: dict[str, list[int]] = {k: [0] * days for k in ("allowed", "refused", "approved", "returned")}
    by_unit: Counter[tuple[str, str]] = Counter()
    with registry.db.session() as session:
        units = {m.service_number: m.unit or "(no unit)" for m in session.scalars(select(Member))}
        rows = session.execute(
            text(
                "SELECT at, actor, action, clause, detail FROM audit_entry WHERE at >= :since AND "
                "(action IN ('draft.create', 'draft.edit', 'draft.submit', 'review.approve', "
                "'review.return', 'access.decide'))"
            ),
            {"since": since},
        )
        for at, actor, action, clause, detail in rows:
            i = index.get(str(at)[:10])
            if i is None:
                continue
            if action in _CHECKS:
                for c in filter(None, str(clause or "").split(",")):
                    findings[c][i] += 1
                    by_unit[(units.get(actor, "(unknown)"), c)] += 1
            elif action == "review.approve":
                decisions["approved"][i] += 1
            elif action == "review.return":
                decisions["returned"][i] += 1
            elif action == "access.decide":
                decisions["allowed" if '"allowed":true' in str(detail) else "refused"][i] += 1
    ordered = {k: findings[k] for k in COLOURS if k in findings}
    top = by_unit.most_common(10)
    peak = max((n for _, n in top), default=1)
    return {
        "findings": Series(span, ordered),
        "decisions": Series(span, decisions),
        "top": [{"unit": u, "clause": c, "count": n, "share": n / peak} for (u, c), n in top],
        "colours": COLOURS,
    }
