"""The watch's alerts in the web app (issue 14): the list, one alert, and its acknowledgement.

Reviewers, the Commissioner and the auditor read them; reviewers and the Commissioner
acknowledge one with a note (the form carries the session's CSRF token, as every form does).
The first page shows those who answer alerts the open ones (:func:`open_panel`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from postguard.errors import NotFoundError, PostguardError, ValidationError
from postguard.watch.alerts import KINDS, NOTE_MAX, acknowledge, alerts, get_alert, open_count
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import Viewer, ViewerDep, back, check_csrf, marked, needs, render
from postguard.web.pages.listing import people
from postguard.web.textdiff import word_diff

__all__ = ["open_panel", "router"]

router = APIRouter(include_in_schema=False)

#: How many open alerts the first page lists (the rest are a link away).
PANEL_SIZE = 5


def open_panel(state: State, viewer: Viewer) -> dict[str, Any] | None:
    """For the first page: the number of open alerts and the newest few, for a member who answers
    them (reviewers, the Commissioner); ``None`` for anyone else."""
    if not viewer.may("alert.acknowledge"):
        return None
    return {
        "count": open_count(state.registry),
        "rows": alerts(state.registry, open_only=True, limit=PANEL_SIZE),
    }


@router.get("/alerts")
def alerts_page(
    request: Request, state: ServiceDep, viewer: ViewerDep, show: Literal["open", "all"] = "all"
) -> HTMLResponse:
    needs(state, viewer, request, "alert.read")
    return render(
        request,
        "alerts.html",
        viewer,
        rows=alerts(state.registry, open_only=show == "open", limit=500),
        show=show,
        open_total=open_count(state.registry),
        kinds=KINDS,
        people=people(state),
    )


def _alert_view(
    request: Request,
    state: State,
    viewer: Viewer,
    alert_id: int,
    *,
    status: int = 200,
    error: str = "",
    note: str = "",
) -> HTMLResponse:
    try:
        alert = get_alert(state.registry, alert_id)
    except NotFoundError as exc:
        return render(request, "error.html", viewer, status=404, title="Not found", message=str(exc))
    post = alert["post"] or {}
    detail = alert["detail"]
    text = str(post.get("text") or detail.get("text") or "")
    approved, published = detail.get("approved_text"), detail.get("published_text")
    return render(
        request,
        "alert.html",
        viewer,
        status=status,
        error=error,
        alert=alert,
        post=post,
        text=marked(text, alert["findings"]) if text else Markup(""),
        changed=(
            word_diff(approved, published)
            if isinstance(approved, str) and isinstance(published, str)
            else None
        ),
        findings=alert["findings"],
        note=note,
        note_max=NOTE_MAX,
        people=people(state),
    )


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: int, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "alert.read")
    return _alert_view(request, state, viewer, alert_id)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_form(
    request: Request,
    alert_id: int,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=NOTE_MAX * 2)] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    needs(state, viewer, request, "alert.acknowledge")
    try:
        acknowledge(state.registry, viewer.number, alert_id, note)
    except ValidationError as exc:  # the note: show the form again with what was typed
        return _alert_view(request, state, viewer, alert_id, status=422, error=str(exc), note=note)
    except PostguardError as exc:
        return back(f"/alerts/{alert_id}", error=str(exc))
    return back(f"/alerts/{alert_id}", ok=f"Alert {alert_id} acknowledged.")
