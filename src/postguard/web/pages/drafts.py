"""Composing, drafts and their steps, and the review queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from postguard.errors import PostguardError, ValidationError
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import ViewerDep, act, back, check_csrf, needs, render
from postguard.web.pages.listing import filter_from, page_links, people, with_time_left
from postguard.web.pages.media import attach_upload, attachment_views
from postguard.web.textdiff import word_diff
from postguard.workflow import STATES
from postguard.workflow.length import destinations, measure
from postguard.workflow.publish import publications, publish
from postguard.workflow.queries import DraftPage
from postguard.workflow.states import STEPS

router = APIRouter(include_in_schema=False)


def _devices_of(state: State, number: str) -> list[tuple[str, str]]:
    """(value, label) for the devices a member may say they submit from."""
    computers = [
        (
            c["asset_tag"],
            f"{c['asset_tag']} (department computer{', ' + c['hostname'] if c['hostname'] else ''})",
        )
        for c in state.registry.computers(active_only=True)
    ]
    own = [
        (
            d["identifier"],
            f"{d['identifier']} (your own device{', ' + d['description'] if d['description'] else ''})",
        )
        for d in state.registry.devices(owner=number, active_only=True)
    ]
    return computers + own


def _editor(state: State, text: str, account: str | None) -> dict[str, Any]:
    """What the editor shows (``_editor.html``): the accounts a draft may name, the one chosen,
    and the text counted as that account's platform counts it."""
    accounts = destinations(state.registry, state.workflow.checker.pack)
    chosen = next((a for a in accounts if a["value"] == account), None)
    return {"accounts": accounts, "chosen": account or "", "measured": measure(text, chosen)}


@router.get("/compose")
def compose_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "draft.create")
    return render(request, "compose.html", viewer, draft=None, **_editor(state, "", ""))


@router.post("/compose")
def compose_form(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    text_: Annotated[str, Form(alias="text", max_length=65_536)] = "",
    account: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(viewer, csrf_token)
    try:
        ref = attach_upload(state, viewer.number, file)  # a photo or video, kept by its SHA-256
        context = {"attachments": [ref]} if ref else None
        draft = state.workflow.create(viewer.number, text=text_, account=account or None, context=context)
    except PostguardError as exc:
        return render(
            request, "compose.html", viewer, status=422, error=str(exc), draft=None, text=text_,
            **_editor(state, text_, account),
        )  # fmt: skip
    return back(f"/drafts/{draft.code}", ok=f"Draft {draft.code} saved and checked.")


@router.get("/drafts")
def drafts_page(
    request: Request, state: ServiceDep, viewer: ViewerDep, mine: int = 0, page: int = 1
) -> HTMLResponse:
    wanted, given, problem = filter_from(request)
    if mine and not wanted.author:  # the older "only mine" link
        wanted, given = replace(wanted, author=viewer.number), {**given, "author": viewer.number}
    found = state.workflow.find(wanted, page=page)
    return _list_page(request, state, viewer, "drafts.html", found, given, problem)


def _list_page(
    request: Request,
    state: State,
    viewer: ViewerDep,
    template: str,
    found: DraftPage,
    given: dict[str, str],
    problem: str,
) -> HTMLResponse:
    """A filtered, paginated list of drafts (the drafts page or the review queue)."""
    return render(
        request,
        template,
        viewer,
        error=problem,
        drafts=with_time_left(found.rows),
        found=found,
        links=page_links(request.url.path, given, found),
        given=given,
        states=STATES,
        people=people(state),
        accounts=state.registry.accounts(),
    )


@router.get("/drafts/{code}")
def draft_page(request: Request, code: str, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    try:
        draft = state.workflow.get(code)
    except PostguardError as exc:
        return render(request, "error.html", viewer, status=404, title="Not found", message=str(exc))
    published = publications(state.registry, draft=code)
    findings = _distinct(draft["findings"])
    pack = state.workflow.checker.pack
    released = pack.released_by_permission
    return render(
        request,
        "draft.html",
        viewer,
        draft=draft,
        people=people(state),
        changes=_changes(state, draft),
        findings=findings,
        underlined=_underlined(draft["text"], findings),
        permissions_used=sorted(
            {p for r in draft["reviews"] if r["permission"] for p in str(r["permission"]).split(",") if p}
        ),
        may_withdraw=draft["state"] in STEPS["withdraw"].starts_from
        and (draft["author"] == viewer.number or viewer.may("review.approve")),
        blocking=state.workflow.standing(draft),
        disputable=state.workflow.disputable(draft),
        releasable=any(i["clause"] in released for i in (*draft["findings"], *draft["advice"])),
        publication=published[0] if published else None,
        devices=_devices_of(state, viewer.number) if draft["author"] == viewer.number else [],
        **_editor(state, draft["text"], draft["account"]),
        mine=draft["author"] == viewer.number,
        attachments=attachment_views(state, draft),
    )


def _distinct(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each finding once (one clause at one span; in an attachment, one per thing seen), in the
    order of the text."""
    seen: set[tuple[str, int, int, str]] = set()
    out = []
    for f in sorted(findings, key=lambda f: list(f.get("span") or [0, 0])):
        span = list(f.get("span") or [0, 0])
        where = f"{f.get('attachment')}|{f.get('kind')}|{f.get('box')}|{f.get('at')}|{f.get('evidence')}"
        key = (str(f["clause"]), int(span[0]), int(span[-1]), where if f.get("attachment") else "")
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _underlined(text_: str, findings: list[dict[str, Any]]) -> Markup:
    """The post with each finding's words underlined, linked to its entry in the list below
    (numbered as there), so that each finding is explained once, in the list."""
    out, at = [], 0
    for number, f in enumerate(findings, start=1):
        span = f.get("span")
        if not isinstance(span, list) or len(span) != 2:
            continue
        start, end = max(int(span[0]), at), min(int(span[1]), len(text_))
        if end <= start:
            continue
        out.append(escape(text_[at:start]))
        out.append(
            Markup(
                '<a class="violation-ref" href="#finding-{0}" aria-label="finding {0}: {1}">'
                '<mark class="violation" data-clause="{1}">{2}</mark><sup>{0}</sup></a>'
            ).format(number, f["clause"], text_[start:end])
        )
        at = end
    out.append(escape(text_[at:]))
    return Markup("").join(out)


def _changes(state: State, draft: dict[str, Any]) -> dict[str, Any] | None:
    """What changed between the previous submission's text and now, or None (nothing to compare).

    Now is the text as it stands: if it is still the last submission's (in review or past it),
    the submission before that is compared with it; if the author edited it since, the last
    submission is.
    """
    submitted = state.workflow.submissions(draft["id"])
    if not submitted:
        return None
    last = submitted[-1]
    base = last if last["text"] != draft["text"] else (submitted[-2] if len(submitted) > 1 else None)
    if base is None or base["text"] == draft["text"]:
        return None
    return {"since": base, "diff": word_diff(base["text"], draft["text"])}


@router.post("/drafts/{code}/{step}")
def draft_step(
    request: Request,
    code: str,
    step: str,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    text_: Annotated[str, Form(alias="text", max_length=65_536)] = "",
    device: Annotated[str, Form(max_length=128)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    permission: Annotated[str, Form(max_length=32)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    finding: Annotated[str, Form(max_length=64)] = "",
    dispute: Annotated[int, Form(ge=0)] = 0,
    account: Annotated[str, Form(max_length=300)] = "",
    rewrite: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    flow, me, url = state.workflow, viewer.number, f"/drafts/{code}"

    def do_publish() -> None:
        row = publish(
            state.workflow, me, code, keys_dir=state.settings.keys_dir, media_root=state.settings.media_root
        )
        if row.status != "sent":
            raise ValidationError(f"publishing failed after {row.attempts} attempt(s): {row.last_error}")

    def do_schedule() -> None:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            raise ValidationError("give the date and time to publish at.") from None
        flow.schedule(me, code, at=when if when.tzinfo else when.replace(tzinfo=dt.UTC))

    def do_dispute() -> None:
        clause, _, start = finding.partition("@")
        if not clause or not start.isdigit():
            raise ValidationError("choose the finding you dispute.")
        flow.dispute(me, code, clause=clause, reason=reason, start=int(start))

    def do_rewrite() -> None:
        clause, _, start = rewrite.partition("@")
        if not clause or not start.isdigit():
            raise ValidationError("choose the rewrite to apply.")
        flow.apply_rewrite(me, code, clause=clause, start=int(start))

    steps: dict[str, tuple[str, Callable[[], object]]] = {
        "edit": ("Saved and checked again.", lambda: flow.edit(me, code, text=text_, account=account)),
        "rewrite": ("Rewrite applied, saved and checked again.", do_rewrite),
        "submit": ("Submitted for review.", lambda: flow.submit(me, code, device=device)),
        "approve": ("Approved.", lambda: flow.approve(me, code, reason=reason, permission=permission)),
        "return": ("Returned to its author.", lambda: flow.return_(me, code, comment=comment)),
        "dispute": ("Disputed; another reviewer or the Commissioner must confirm it.", do_dispute),
        "confirm-dispute": ("Dispute confirmed.", lambda: flow.confirm_dispute(me, code, dispute)),
        "publish": ("Published.", do_publish),
        "schedule": ("Scheduled.", do_schedule),
        "unschedule": ("Taken off the schedule.", lambda: flow.unschedule(me, code)),
        "withdraw": ("Withdrawn: it will not be published.", lambda: flow.withdraw(me, code, reason=reason)),
    }
    if step not in steps:
        return render(request, "error.html", viewer, status=404, title="Not found", message="No such step.")
    ok, action = steps[step]
    return act(url, ok, action)


@router.get("/review")
def review_page(request: Request, state: ServiceDep, viewer: ViewerDep, page: int = 1) -> HTMLResponse:
    needs(state, viewer, request, "review.queue")
    wanted, given, problem = filter_from(request)
    given["state"] = ""  # the queue is the submissions waiting: no other state
    found = state.workflow.find_queue(viewer.number, wanted, page=page)
    return _list_page(request, state, viewer, "review.html", found, given, problem)
