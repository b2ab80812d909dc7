"""The web application: server-rendered pages (Jinja2) over the same services as the API.

Every page needs a signed-in member (a session cookie from the sign-in form);
every form carries the session's CSRF token; every action goes through the
workflow, registry or grants, which check the member's role again and audit
the step. A refused page is audited as the API's refusals are. The only
script is ``static/compose.js`` (live checking as one types), served from
here: nothing is loaded from elsewhere.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import select

from postguard import __version__
from postguard.audit.chain import AuditRecord
from postguard.audit.queries import entries
from postguard.audit.verify import verify
from postguard.errors import PostguardError, ValidationError
from postguard.keys import load_public_if_present, load_signing
from postguard.registry.grants import PERMISSION_KINDS, SCOPES
from postguard.registry.models import ROLES, Computer, Member, OfficialAccount, PersonalDevice
from postguard.registry.service import account_dict, computer_dict, device_dict, member_dict
from postguard.registry.signin import session_holder, sign_in, sign_out
from postguard.registry.tokens import TokenHolder
from postguard.web import charts
from postguard.web.deps import SESSION_COOKIE, ServiceDep, State, set_session_cookie
from postguard.workflow import STATES
from postguard.workflow.publish import publications, publish

__all__ = ["PAGE_CSP", "install_page_handlers", "marked", "mount_static", "router"]

#: Pages may load this service's own script and styles, and nothing else.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=PackageLoader("postguard.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
CLAUSE_NAMES = {
    "A.i": "Decorum",
    "A.ii": "Identify as a member",
    "A.iii.guilt": "Guilt or innocence",
    "A.iii.prosecution": "Pending prosecution",
    "A.iii.confidential": "Confidential information",
    "A.iv.political": "Political activity",
    "A.iv.private": "Private business",
    "B": "Department computers",
    "C": "Personally owned devices",
}
_env.globals.update(version=__version__, clause_names=CLAUSE_NAMES)


def marked(text_: str, findings: list[dict[str, Any]]) -> Markup:
    """The post with each finding's words underlined (a focusable ``mark`` with its reason)."""
    spans = sorted(
        (f for f in findings if isinstance(f.get("span"), list) and len(f["span"]) == 2),
        key=lambda f: f["span"][0],
    )
    out, at = [], 0
    for f in spans:
        start, end = max(int(f["span"][0]), at), min(int(f["span"][1]), len(text_))
        if end <= start:
            continue
        tip = f"{f['clause']}: {f.get('explanation', '')}"
        if f.get("suggestion"):
            tip += f" Rewrite: {f['suggestion']}"
        out.append(escape(text_[at:start]))
        out.append(
            Markup(
                '<mark class="violation" tabindex="0" data-clause="{}">{}<span class="tip">{}</span></mark>'
            ).format(f["clause"], text_[start:end], tip)
        )
        at = end
    out.append(escape(text_[at:]))
    return Markup("").join(out)


_env.filters["marked"] = marked


def mount_static(app: FastAPI) -> None:
    folder = resources.files("postguard.web") / "static"
    app.mount("/static", StaticFiles(directory=str(folder)), name="static")


class Viewer:
    """The signed-in member looking at a page, and their session's CSRF token."""

    def __init__(self, holder: TokenHolder, csrf: str, name: str) -> None:
        self.holder, self.csrf, self.name = holder, csrf, name
        self.number, self.roles = holder.service_number, holder.roles

    def has(self, *roles: str) -> bool:
        return bool(set(roles) & self.roles)


class SignInNeededError(Exception):
    def __init__(self, target: str) -> None:
        self.target = target


class RefusedError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _viewer(request: Request, state: ServiceDep) -> Viewer:
    found = session_holder(state.registry, request.cookies.get(SESSION_COOKIE, ""))
    if found is None:
        raise SignInNeededError(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    holder, csrf = found
    name = state.registry.read(lambda s: state.registry.member(s, holder.service_number).name)
    return Viewer(holder, csrf, name)


ViewerDep = Annotated[Viewer, Depends(_viewer)]


def _needs(state: State, viewer: Viewer, request: Request, *roles: str) -> None:
    """Refuse (and audit) a page the viewer's roles do not open."""
    if viewer.has(*roles):
        return
    with state.registry.db.session() as session:
        state.registry.audit(
            session,
            AuditRecord(
                viewer.number,
                "denied",
                f"web:{request.method} {request.url.path}",
                detail={"needs": sorted(roles), "has": sorted(viewer.roles)},
                origin=f"web:{request.client.host if request.client else '-'}",
            ),
        )
    raise RefusedError(f"This page needs the role {' or '.join(sorted(roles))}.")


def _check_csrf(viewer: Viewer, token: str) -> None:
    if not hmac.compare_digest(token or "", viewer.csrf):
        raise RefusedError(
            "The form's security token is missing or out of date: reload the page and try again."
        )


def render(
    request: Request, name: str, viewer: Viewer | None, status: int = 200, **values: Any
) -> HTMLResponse:
    page = _env.get_template(name).render(
        request=request,
        viewer=viewer,
        notice=request.query_params.get("ok", "")[:500],
        error=values.pop("error", "") or request.query_params.get("error", "")[:500],
        path=request.url.path,
        **values,
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def _back(url: str, *, ok: str = "", error: str = "") -> RedirectResponse:
    query = urlencode({k: v for k, v in (("ok", ok), ("error", error)) if v})
    return RedirectResponse(f"{url}{'?' if query else ''}{query}", status_code=303)


def _act(url: str, ok: str, action: Callable[[], object]) -> RedirectResponse:
    """Run a page's action; success or the service's refusal comes back as a notice on ``url``."""
    try:
        action()
    except PostguardError as exc:
        return _back(url, error=str(exc))
    return _back(url, ok=ok)


def install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInNeededError)
    async def _sign_in(_request: Request, exc: SignInNeededError) -> Response:
        return RedirectResponse(f"/signin?next={quote(exc.target, safe='')}", status_code=303)

    @app.exception_handler(RefusedError)
    async def _refused(request: Request, exc: RefusedError) -> Response:
        return render(request, "error.html", None, status=403, title="Not allowed", message=exc.message)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


# Sign-in -------------------------------------------------------------------------


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "signin.html", None, next=_safe_next(next))


@router.post("/signin")
def signin_form(
    request: Request,
    state: ServiceDep,
    service_number: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    address = request.client.host if request.client else ""
    try:
        made = sign_in(state.registry, service_number=service_number, password=password, address=address)
    except PostguardError as exc:
        return render(
            request,
            "signin.html",
            None,
            status=401,
            error=str(exc),
            next=_safe_next(next),
            number=service_number,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, made, state.settings.secure_cookies)
    return response


@router.post("/signout")
def signout_form(
    request: Request, state: ServiceDep, viewer: ViewerDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    _check_csrf(viewer, csrf_token)
    sign_out(state.registry, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin?ok=Signed+out.", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# Dashboard -----------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request, state: ServiceDep, viewer: ViewerDep, days: int = 30) -> HTMLResponse:
    days = min(max(days, 7), 365)
    counts = state.workflow.counts()
    data = charts.dashboard(state.registry, days=days)
    return render(request, "dashboard.html", viewer, counts=counts, data=data, days=days)


# Drafts ---------------------------------------------------------------------------


def _accounts(state: State) -> list[dict[str, Any]]:
    return state.registry.read(
        lambda s: [
            account_dict(a)
            for a in s.scalars(
                select(OfficialAccount).where(OfficialAccount.active).order_by(OfficialAccount.id)
            )
        ]
    )


def _devices_of(state: State, number: str) -> list[tuple[str, str]]:
    """(value, label) for the devices a member may say they submit from."""

    def read(s: Any) -> list[tuple[str, str]]:
        computers = [
            (c.asset_tag, f"{c.asset_tag} (department computer{', ' + c.hostname if c.hostname else ''})")
            for c in s.scalars(select(Computer).where(Computer.active).order_by(Computer.asset_tag))
        ]
        me = state.registry.member(s, number)
        own = [
            (d.identifier, f"{d.identifier} (your own device{', ' + d.description if d.description else ''})")
            for d in s.scalars(
                select(PersonalDevice).where(PersonalDevice.owner_id == me.id, PersonalDevice.active)
            )
        ]
        return computers + own

    return state.registry.read(read)


@router.get("/compose")
def compose_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    _needs(state, viewer, request, "pio", "officer")
    return render(request, "compose.html", viewer, draft=None, accounts=_accounts(state))


@router.post("/compose")
def compose_form(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    text_: Annotated[str, Form(alias="text", max_length=65_536)] = "",
    account: Annotated[str, Form(max_length=300)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    _check_csrf(viewer, csrf_token)
    try:
        draft = state.workflow.create(viewer.number, text=text_, account=account or None)
    except PostguardError as exc:
        return render(
            request, "compose.html", viewer, status=422, error=str(exc), draft=None, text=text_,
            accounts=_accounts(state),
        )  # fmt: skip
    return _back(f"/drafts/{draft.code}", ok=f"Draft {draft.code} saved and checked.")


@router.get("/drafts")
def drafts_page(request: Request, state: ServiceDep, viewer: ViewerDep, mine: int = 0) -> HTMLResponse:
    wanted = request.query_params.get("state", "")
    rows = state.workflow.list(wanted if wanted in STATES else None, author=viewer.number if mine else None)
    return render(request, "drafts.html", viewer, drafts=rows[::-1], states=STATES, wanted=wanted, mine=mine)


@router.get("/drafts/{code}")
def draft_page(request: Request, code: str, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    try:
        draft = state.workflow.get(code)
    except PostguardError as exc:
        return render(request, "error.html", viewer, status=404, title="Not found", message=str(exc))
    published = publications(state.registry, draft=code)
    return render(
        request,
        "draft.html",
        viewer,
        draft=draft,
        publication=published[0] if published else None,
        devices=_devices_of(state, viewer.number) if draft["author"] == viewer.number else [],
        accounts=_accounts(state),
        mine=draft["author"] == viewer.number,
    )


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
) -> Response:
    _check_csrf(viewer, csrf_token)
    flow, me, url = state.workflow, viewer.number, f"/drafts/{code}"

    def do_publish() -> None:
        row = publish(state.registry, me, code, keys_dir=state.settings.keys_dir)
        if row.status != "sent":
            raise ValidationError(f"publishing failed after {row.attempts} attempt(s): {row.last_error}")

    def do_schedule() -> None:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            raise ValidationError("give the date and time to publish at.") from None
        flow.schedule(me, code, at=when if when.tzinfo else when.replace(tzinfo=dt.UTC))

    steps: dict[str, tuple[str, Callable[[], object]]] = {
        "edit": ("Saved and checked again.", lambda: flow.edit(me, code, text=text_)),
        "submit": ("Submitted for review.", lambda: flow.submit(me, code, device=device)),
        "approve": ("Approved.", lambda: flow.approve(me, code, reason=reason, permission=permission)),
        "return": ("Returned to its author.", lambda: flow.return_(me, code, comment=comment)),
        "publish": ("Published.", do_publish),
        "schedule": ("Scheduled.", do_schedule),
        "unschedule": ("Taken off the schedule.", lambda: flow.unschedule(me, code)),
    }
    if step not in steps:
        return render(request, "error.html", viewer, status=404, title="Not found", message="No such step.")
    ok, action = steps[step]
    return _act(url, ok, action)


@router.get("/review")
def review_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    _needs(state, viewer, request, "reviewer", "commissioner")
    return render(request, "review.html", viewer, queue=state.workflow.queue(viewer.number))


# Permissions (the Commissioner) --------------------------------------------------


@router.get("/permissions")
def permissions_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    _needs(state, viewer, request, "commissioner", "it_admin", "auditor", "reviewer")
    rows = state.grants.list_judged()
    members = state.registry.read(
        lambda s: [member_dict(m) for m in s.scalars(select(Member).where(Member.active).order_by(Member.id))]
    )
    devices = state.registry.read(
        lambda s: [device_dict(d) for d in s.scalars(select(PersonalDevice).where(PersonalDevice.active))]
    )
    return render(
        request, "permissions.html", viewer, permissions=rows[::-1], kinds=PERMISSION_KINDS, members=members,
        devices=devices,
    )  # fmt: skip


@router.post("/permissions")
def permissions_issue(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    member: Annotated[str, Form(max_length=64)] = "",
    device: Annotated[str, Form(max_length=128)] = "",
    post: Annotated[str, Form(max_length=200)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    text_: Annotated[str, Form(alias="text", max_length=8000)] = "",
    passphrase: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    _check_csrf(viewer, csrf_token)
    _needs(state, viewer, request, "commissioner")
    made: list[str] = []

    def issue() -> None:
        key = load_signing(state.settings.keys_dir, "commissioner", passphrase)
        row = state.grants.permit(
            viewer.number, key, kind=kind, member=member or None, device=device or None, post=post,
            valid_until=valid_until or None, reason=reason, text_=text_,
        )  # fmt: skip
        made.append(row.code)

    response = _act("/permissions", "", issue)
    return _back("/permissions", ok=f"Permission {made[0]} issued and signed.") if made else response


@router.post("/permissions/{code}/revoke")
def permissions_revoke(
    request: Request,
    code: str,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _check_csrf(viewer, csrf_token)
    _needs(state, viewer, request, "commissioner")
    return _act(
        "/permissions",
        f"Permission {code} revoked.",
        lambda: state.grants.revoke_permission(viewer.number, code, reason or "revoked by the Commissioner"),
    )


# Registry (IT) --------------------------------------------------------------------


@router.get("/registry")
def registry_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    _needs(state, viewer, request, "it_admin", "commissioner", "auditor", "reviewer")

    def read(s: Any) -> dict[str, Any]:
        return {
            "members": [member_dict(m) for m in s.scalars(select(Member).order_by(Member.id))],
            "computers": [computer_dict(c) for c in s.scalars(select(Computer).order_by(Computer.id))],
            "devices": [
                device_dict(d) for d in s.scalars(select(PersonalDevice).order_by(PersonalDevice.id))
            ],
            "accounts": [
                account_dict(a) for a in s.scalars(select(OfficialAccount).order_by(OfficialAccount.id))
            ],
        }

    return render(
        request, "registry.html", viewer, **state.registry.read(read),
        authorisations=state.grants.list_authorisations()[::-1], roles=ROLES, scopes=SCOPES,
    )  # fmt: skip


@router.post("/registry/{what}")
def registry_form(
    request: Request,
    what: str,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    service_number: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    rank: Annotated[str, Form(max_length=100)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    asset_tag: Annotated[str, Form(max_length=64)] = "",
    hostname: Annotated[str, Form(max_length=255)] = "",
    addresses: Annotated[str, Form(max_length=2000)] = "",
    identifier: Annotated[str, Form(max_length=128)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    description: Annotated[str, Form(max_length=500)] = "",
    member: Annotated[str, Form(max_length=64)] = "",
    computer: Annotated[str, Form(max_length=64)] = "",
    scope: Annotated[str, Form(max_length=16)] = "",
    target: Annotated[str, Form(max_length=255)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    _check_csrf(viewer, csrf_token)
    reg, grants, me = state.registry, state.grants, viewer.number
    forms: dict[str, tuple[str, Callable[[], object]]] = {
        "member": (
            f"Member {service_number} added.",
            lambda: reg.add_member(
                me, service_number=service_number, name=name, rank=rank, unit=unit, roles=roles or ["officer"]
            ),
        ),
        "computer": (
            f"Computer {asset_tag} registered.",
            lambda: reg.add_computer(
                me, asset_tag=asset_tag, hostname=hostname, addresses=addresses.replace(",", " ").split()
            ),
        ),
        "device": (
            f"Device {identifier} registered.",
            lambda: reg.add_device(me, identifier=identifier, owner=owner, description=description),
        ),
        "authorisation": (
            "Authorisation granted.",
            lambda: grants.authorise(
                me,
                member=member or None,
                computer=computer or None,
                scope=scope,
                target=target,
                valid_until=valid_until or None,
                reason=reason,
            ),
        ),
        "revoke-authorisation": (
            f"Authorisation {code} revoked.",
            lambda: grants.revoke_authorisation(me, code, reason or "revoked"),
        ),
        "deactivate-member": (
            f"Member {service_number} deactivated.",
            lambda: reg.change_member(me, service_number, active=False),
        ),
    }
    if what not in forms:
        return render(request, "error.html", viewer, status=404, title="Not found", message="No such form.")
    ok, action = forms[what]
    return _act("/registry", ok, action)


# Audit ----------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    actor: str = "",
    action: str = "",
    clause: str = "",
    q: str = "",
    limit: int = 100,
) -> HTMLResponse:
    _needs(state, viewer, request, "auditor", "commissioner", "it_admin")
    with state.registry.db.session() as session:
        rows = list(
            entries(
                session,
                actor=actor[:64] or None,
                clause=clause[:64] or None,
                action=action[:64] or None,
                search=q[:200] or None,
                limit=min(max(limit, 1), 1000),
                newest_first=True,
            )
        )
    filters = {"actor": actor, "action": action, "clause": clause, "q": q}
    return render(request, "audit.html", viewer, rows=rows, filters=filters, result=None)


@router.post("/audit/verify")
def audit_verify(
    request: Request, state: ServiceDep, viewer: ViewerDep, csrf_token: Annotated[str, Form()] = ""
) -> HTMLResponse:
    _check_csrf(viewer, csrf_token)
    _needs(state, viewer, request, "auditor", "commissioner", "it_admin")
    result = verify(state.registry.db.engine, load_public_if_present(state.settings.keys_dir, "department"))
    filters = {"actor": "", "action": "", "clause": "", "q": ""}
    return render(request, "audit.html", viewer, rows=[], filters=filters, result=result)
