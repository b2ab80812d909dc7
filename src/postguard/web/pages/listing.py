"""What the lists of drafts share: people by name and rank, the filter form, page links, time left.

The filtering itself is SQL (:meth:`postguard.workflow.queries.DraftQueries.find`);
this module only reads the form and writes the links, which keep the filters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol
from urllib.parse import urlencode

from fastapi import Request

from postguard.errors import ValidationError
from postguard.registry.values import utcnow
from postguard.web.deps import State
from postguard.workflow.queries import DraftFilter

__all__ = ["FILTER_FIELDS", "filter_from", "page_links", "people", "time_left"]

#: The query parameters of the filter form (``page`` aside).
FILTER_FIELDS = ("q", "state", "author", "account", "clause", "from", "to")


def people(state: State) -> dict[str, str]:
    """Each member's service number to their rank and name ("Constable Pat Lee")."""
    return {
        m["service_number"]: " ".join(part for part in (m["rank"], m["name"]) if part)
        for m in state.registry.members()
    }


def day_field(value: str, label: str) -> dt.date | None:
    """A filter form's day (YYYY-MM-DD), or None when left empty."""
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"the date '{label}' must be a day, YYYY-MM-DD.") from None


def filter_from(request: Request) -> tuple[DraftFilter, dict[str, str], str]:
    """The filter a list's form asks for, the form's values (to show them again), and any problem.

    A value that is not understood (a bad date, an unknown state) is reported and the list
    is shown unfiltered by it, never filtered wrongly.
    """
    given = {name: request.query_params.get(name, "")[:200] for name in FILTER_FIELDS}
    problems: list[str] = []
    days: dict[str, dt.date | None] = {}
    for name, label in (("from", "from"), ("to", "to")):
        try:
            days[name] = day_field(given[name], label)
        except ValidationError as exc:
            problems.append(str(exc))
            days[name] = None
            given[name] = ""
    try:
        wanted = DraftFilter(
            text=given["q"],
            state=given["state"],
            author=given["author"],
            account=given["account"],
            clause=given["clause"],
            since=days["from"],
            until=days["to"],
        )
    except ValidationError as exc:
        problems.append(str(exc))
        given["state"], given["from"], given["to"] = "", "", ""
        wanted = DraftFilter(
            text=given["q"], author=given["author"], account=given["account"], clause=given["clause"]
        )
    return wanted, given, " ".join(problems)


class Paged(Protocol):
    """A page of a list (drafts, archived posts): which page it is, of how many."""

    @property
    def page(self) -> int: ...

    @property
    def pages(self) -> int: ...


def page_links(path: str, given: dict[str, str], result: Paged) -> dict[str, str]:
    """Links to the previous and next page of ``result``, keeping the filters ``given``."""
    kept = {k: v for k, v in given.items() if v}

    def link(page: int) -> str:
        return f"{path}?{urlencode({**kept, 'page': page})}"

    links: dict[str, str] = {}
    if result.page > 1:
        links["previous"] = link(result.page - 1)
    if result.page < result.pages:
        links["next"] = link(result.page + 1)
    return links


def time_left(expires_at: str | None, now: dt.datetime | None = None) -> str:
    """How long until ``expires_at`` (ISO), in words: "3 h 20 min left", or "expired"."""
    if not expires_at:
        return ""
    when = dt.datetime.fromisoformat(expires_at)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    seconds = int((when - (now or utcnow())).total_seconds())
    if seconds <= 0:
        return "expired"
    hours, minutes = divmod(seconds // 60, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    if hours or days:
        parts.append(f"{hours} h")
    if not days:
        parts.append(f"{minutes} min")
    return " ".join(parts) + " left"


def with_time_left(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with each submission's time left before it expires."""
    return [{**r, "time_left": time_left(r["expires_at"]) if r["state"] == "submitted" else ""} for r in rows]
