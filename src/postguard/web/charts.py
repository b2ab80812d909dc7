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

from postguard.audit.queries import entries
from postguard.policy.schema import PolicyPack
from postguard.registry.service import Registry

__all__ = ["DECISION_COLOURS", "Series", "colours", "dashboard"]

#: Colours of decisions (Okabe-Ito, distinguishable with colour-blindness); clauses take theirs from the pack.
DECISION_COLOURS = {
    "allowed": "#009E73",
    "refused": "#D55E00",
    "approved": "#0072B2",
    "returned": "#E69F00",
}
_CHECKS = ("draft.create", "draft.edit", "draft.submit")
_DECISIONS = {"review.approve": "approved", "review.return": "returned", "access.decide": ""}


def colours(pack: PolicyPack) -> dict[str, str]:
    """Each clause's colour from the pack (grey where it gives none), and the decisions'."""
    return {**{c.id: c.colour or "#777777" for c in pack.clauses}, **DECISION_COLOURS}


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

    colours: dict[str, str] = field(default_factory=dict)

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
                         "h": round(h, 1), "fill": self.colours.get(key, "#777"),
                         "label": f"{key}: {counts[i]}", "day": self.days[i]}
                    )  # fmt: skip
        return out


def dashboard(
    registry: Registry, pack: PolicyPack, *, days: int = 30, now: dt.datetime | None = None
) -> dict[str, Any]:
    end = (now or dt.datetime.now(dt.UTC)).date()
    span = [(end - dt.timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    since = dt.datetime.combine(end - dt.timedelta(days=days - 1), dt.time(), dt.UTC)
    palette = colours(pack)
    index = {d: i for i, d in enumerate(span)}
    findings: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    decisions: dict[str, list[int]] = {k: [0] * days for k in ("allowed", "refused", "approved", "returned")}
    by_unit: Counter[tuple[str, str]] = Counter()
    units = {m["service_number"]: m["unit"] or "(no unit)" for m in registry.members()}
    with registry.db.reading() as session:
        for entry in entries(session, since=since, actions=(*_CHECKS, *_DECISIONS)):
            i = index.get(str(entry["at"])[:10])
            if i is None:
                continue
            action = entry["action"]
            if action in _CHECKS:
                for c in filter(None, str(entry["clause"] or "").split(",")):
                    findings[c][i] += 1
                    by_unit[(units.get(entry["actor"], "(unknown)"), c)] += 1
            elif action == "access.decide":
                decisions["allowed" if entry["detail"].get("allowed") else "refused"][i] += 1
            else:
                decisions[_DECISIONS[action]][i] += 1
    ordered = {k: findings[k] for k in palette if k in findings}
    top = by_unit.most_common(10)
    peak = max((n for _, n in top), default=1)
    return {
        "findings": Series(span, ordered, palette),
        "decisions": Series(span, decisions, palette),
        "top": [{"unit": u, "clause": c, "count": n, "share": n / peak} for (u, c), n in top],
        "colours": palette,
    }
