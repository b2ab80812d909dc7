"""The archive's pages: every post seen on the accounts, published, or imported, and each one's versions.

``/archive`` lists the posts (filtered and paged in SQL by
:func:`postguard.archive.queries.find_posts`), newest first; ``/archive/{id}``
shows one post, its media, and each version with what changed from the one
before and the check made of it at the time. Only the roles that may read the
archive (``archive.read``) see them; a refusal is audited as every page's is.
Every piece of a post (text, address, file names) is the platform's, not ours:
it is escaped, and an address becomes a link only when it is a plain web address.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from postguard.archive.queries import (
    SOURCES,
    ArchiveFilter,
    accounts,
    find_posts,
    get_post,
    platforms,
)
from postguard.errors import PostguardError, ValidationError
from postguard.media.store import MediaStore
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import ViewerDep, marked, needs, render
from postguard.web.pages.listing import day_field, page_links
from postguard.web.textdiff import word_diff

__all__ = ["FILTER_FIELDS", "filter_from", "router", "version_views"]

router = APIRouter(include_in_schema=False)

#: The query parameters of the filter form (``page`` aside).
FILTER_FIELDS = ("q", "account", "platform", "source", "outside", "clause", "from", "to", "edited", "deleted")

#: The yes/no questions of the form: field, and its words in a message.
_FLAGS = (("outside", "outside the workflow"), ("edited", "edited"), ("deleted", "deleted"))


def _flag(value: str, label: str) -> bool | None:
    if value == "":
        return None
    if value in ("yes", "no"):
        return value == "yes"
    raise ValidationError(f"'{label}' must be yes or no.")


def filter_from(request: Request, page: int) -> tuple[ArchiveFilter, dict[str, str], str]:
    """The filter the form asks for, the form's values (to show them again), and any problem.

    A value that is not understood (a bad date, an unknown source, a page too deep) is
    reported and the list is shown without it, never filtered wrongly.
    """
    given = {name: request.query_params.get(name, "")[:200] for name in FILTER_FIELDS}
    problems: list[str] = []
    days: dict[str, dt.date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = day_field(given[name], name)
        except ValidationError as exc:
            problems.append(str(exc))
            days[name], given[name] = None, ""
    flags: dict[str, bool | None] = {}
    for name, label in _FLAGS:
        try:
            flags[name] = _flag(given[name], label)
        except ValidationError as exc:
            problems.append(str(exc))
            flags[name], given[name] = None, ""
    values: dict[str, Any] = {
        "text": given["q"],
        "account": given["account"],
        "platform": given["platform"],
        "source": given["source"],
        "clause": given["clause"],
        "outside_workflow": flags["outside"],
        "edited": flags["edited"],
        "deleted": flags["deleted"],
        "since": days["from"],
        "until": days["to"],
    }
    try:
        wanted = ArchiveFilter(**values, page=max(page, 1))
    except ValidationError as exc:
        problems.append(str(exc))
        given["source"], given["from"], given["to"] = "", "", ""
        values.update(source="", since=None, until=None)
        try:
            wanted = ArchiveFilter(**values)
        except ValidationError:  # a text no database can search for (a NUL): the whole list
            given = dict.fromkeys(FILTER_FIELDS, "")
            wanted = ArchiveFilter()
    return wanted, given, " ".join(problems)


@router.get("/archive")
def archive_page(request: Request, state: ServiceDep, viewer: ViewerDep, page: int = 1) -> HTMLResponse:
    needs(state, viewer, request, "archive.read")
    wanted, given, problem = filter_from(request, page)
    found = find_posts(state.registry, wanted)
    return render(
        request,
        "archive.html",
        viewer,
        error=problem,
        posts=found.rows,
        found=found,
        links=page_links(request.url.path, given, found),
        given=given,
        sources=SOURCES,
        accounts=accounts(state.registry),
        platforms=platforms(state.registry),
    )


def _media_views(state: State, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each media entry, with a link to the stored copy when the media store holds it."""
    store = MediaStore(state.settings.media_root)
    return [
        {**m, "stored": bool(m["sha256"]) and store.find(f"sha256:{m['sha256']}") is not None} for m in items
    ]


def _marked_text(text_: str, findings: list[dict[str, Any]]) -> Markup:
    """The text with its findings' words underlined, keeping only findings whose span still holds
    their evidence (a report made of another version of the text marks nothing wrongly)."""
    fitting = []
    for f in findings:
        span = f.get("span")
        if not (isinstance(span, list) and len(span) == 2 and all(isinstance(i, int) for i in span)):
            continue
        start, end = span
        if start < end and text_[start:end] == f.get("evidence"):
            fitting.append(f)
    return marked(text_, fitting)


def version_views(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each version with what changed from the one before: the words (``diff``, escaped HTML with
    ``ins`` and ``del``; None when the text is the same) and the files added and removed."""
    views: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for v in versions:
        view: dict[str, Any] = {**v, "diff": None, "media_added": [], "media_removed": []}
        if previous is not None:
            if v["text"] != previous["text"] and not (v["kind"] == "deletion" and not v["text"]):
                view["diff"] = word_diff(previous["text"], v["text"])
            before = {m["sha256"] for m in previous["media"] if m["sha256"]}
            after = {m["sha256"] for m in v["media"] if m["sha256"]}
            view["media_added"] = sorted(after - before)
            view["media_removed"] = [] if v["kind"] == "deletion" else sorted(before - after)
        view["text_marked"] = _marked_text(v["text"], v["findings"])
        views.append(view)
        previous = v
    return views


@router.get("/archive/{post_id:int}")
def archived_post_page(request: Request, post_id: int, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "archive.read")
    try:
        post = get_post(state.registry, post_id)
    except PostguardError as exc:
        return render(request, "error.html", viewer, status=404, title="Not found", message=str(exc))
    return render(
        request,
        "archived_post.html",
        viewer,
        post=post,
        text_marked=_marked_text(post["text"], post["findings"]),
        media=_media_views(state, post["media"]),
        versions=version_views(post["versions"]),
    )
