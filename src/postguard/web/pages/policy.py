"""The policy page: the pack in force, its clauses and examples, and the member's acknowledgement.

The quiz is graded by :class:`~postguard.registry.acknowledgements.Acknowledgements`, never
here; the page only shows the questions drawn for the member and sends back their answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from postguard.errors import PostguardError, ValidationError
from postguard.registry.acknowledgements import Acknowledgements
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import Viewer, ViewerDep, back, check_csrf, needs, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    state: State,
    viewer: Viewer,
    *,
    status: int = 200,
    error: str = "",
    chosen: dict[str, str] | None = None,
) -> HTMLResponse:
    pack = state.checker.pack
    acks = Acknowledgements(state.registry, pack)
    return render(
        request,
        "policy.html",
        viewer,
        status=status,
        error=error,
        pack=pack,
        questions=[q.public() for q in acks.quiz(viewer.number)],
        needed=pack.acknowledgement.quiz.needed if pack.acknowledgement.quiz else 0,
        acknowledged=acks.status(viewer.number),
        chosen=chosen or {},
    )


@router.get("/policy")
def policy_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "policy.read")
    return _page(request, state, viewer)


@router.post("/policy/acknowledge")
async def acknowledge_form(request: Request, state: ServiceDep, viewer: ViewerDep) -> Response:
    form = await request.form()
    check_csrf(viewer, str(form.get("csrf_token", "")))
    fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    answers = {k: v for k, v in fields.items() if k.startswith("q-")}
    sha256 = str(fields.get("sha256", ""))

    def run() -> Response:
        needs(state, viewer, request, "policy.acknowledge")
        acks = Acknowledgements(state.registry, state.checker.pack)
        try:
            row = acks.acknowledge(viewer.number, sha256=sha256, answers=answers)
        except ValidationError as exc:  # a wrong quiz: show it again with the member's answers
            return _page(request, state, viewer, status=422, error=str(exc), chosen=answers)
        except PostguardError as exc:
            return back("/policy", error=str(exc))
        return back("/policy", ok=f"Thank you: you acknowledged {row.pack_version}.")

    return await run_in_threadpool(run)
