"""What every page shares: templates, the signed-in viewer, role checks, CSRF, rendering, notices.

Every page needs a signed-in member (a session cookie from the sign-in form);
every form carries the session's CSRF token; every action goes through the
workflow, registry or grants, which check the member's role again and audit
the step. A refused page is audited as the API's refusals are.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from postguard import __version__
from postguard.audit.chain import AuditRecord
from postguard.errors import PostguardError
from postguard.registry.roles import allowed, needed
from postguard.registry.signin import session_holder
from postguard.registry.tokens import TokenHolder
from postguard.web.deps import SESSION_COOKIE, ServiceDep, State

__all__ = [
    "PAGE_CSP",
    "RefusedError",
    "SignInNeededError",
    "Viewer",
    "ViewerDep",
    "act",
    "back",
    "check_csrf",
    "install_page_handlers",
    "link_url",
    "marked",
    "mount_static",
    "needs",
    "render",
]

#: Pages may load this service's own script and styles, and nothing else.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_env = Environment(
    loader=PackageLoader("postguard.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(version=__version__)


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


def link_url(url: object) -> str:
    """``url`` if it is a web address (http or https) safe to link to, else "" (never a link).

    Addresses come from the platforms a post is published to; a ``javascript:`` or
    ``data:`` one, or anything else, is shown as text and never becomes a link.
    """
    if not isinstance(url, str):
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    if any(ord(ch) < 0x20 or ch in "\"'<>` " for ch in url.strip()):
        return ""
    return url.strip()


_env.filters["marked"] = marked
_env.filters["link_url"] = link_url


def mount_static(app: FastAPI) -> None:
    folder = resources.files("postguard.web") / "static"
    app.mount("/static", StaticFiles(directory=str(folder)), name="static")


class Viewer:
    """The signed-in member looking at a page, and their session's CSRF token."""

    def __init__(self, holder: TokenHolder, csrf: str, name: str) -> None:
        self.holder, self.csrf, self.name = holder, csrf, name
        self.number, self.roles = holder.service_number, holder.roles

    def may(self, action: str) -> bool:
        """Whether the viewer's roles allow ``action`` (the one role table)."""
        return allowed(self.roles, action)


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
    return Viewer(holder, csrf, state.registry.name_of(holder.service_number))


ViewerDep = Annotated[Viewer, Depends(_viewer)]


def needs(state: State, viewer: Viewer, request: Request, action: str) -> None:
    """Refuse (and audit) a page whose ``action`` the viewer's roles do not allow."""
    if viewer.may(action):
        return
    roles = sorted(needed(action))
    with state.registry.db.session() as session:
        state.registry.audit(
            session,
            AuditRecord(
                viewer.number,
                "denied",
                f"web:{request.method} {request.url.path}",
                detail={"action": action, "needs": roles, "has": sorted(viewer.roles)},
                origin=f"web:{request.client.host if request.client else '-'}",
            ),
        )
    raise RefusedError(f"This page needs the role {' or '.join(roles)}.")


def check_csrf(viewer: Viewer, token: str) -> None:
    if not hmac.compare_digest(token or "", viewer.csrf):
        raise RefusedError(
            "The form's security token is missing or out of date: reload the page and try again."
        )


def _acknowledge_due(request: Request, viewer: Viewer | None) -> str:
    """For the banner: "required" or "due" while the viewer has not acknowledged the pack in
    force ("required": the pack holds up their submissions until they do), else ""."""
    if viewer is None:
        return ""
    from postguard.registry.acknowledgements import Acknowledgements

    state = request.app.state.postguard
    try:
        if Acknowledgements(state.registry, state.checker.pack).has_acknowledged(viewer.number):
            return ""
    except PostguardError:
        return ""  # the page says what went wrong; the banner is not the place
    return "required" if state.checker.pack.acknowledgement.required_before_submit else "due"


def render(
    request: Request, name: str, viewer: Viewer | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """A page from its template; the pack in force names the clauses and the policy."""
    pack = request.app.state.postguard.checker.pack
    page = _env.get_template(name).render(
        request=request,
        viewer=viewer,
        notice=request.query_params.get("ok", "")[:500],
        error=values.pop("error", "") or request.query_params.get("error", "")[:500],
        path=request.url.path,
        clause_names={c.id: pack.label(c.id) for c in pack.clauses},
        clause_colours={c.id: c.colour or "#777777" for c in pack.clauses},
        policy=f"{pack.policy.title} of {pack.policy.date:%d %B %Y}",
        acknowledge_due=_acknowledge_due(request, viewer),
        **values,
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def back(url: str, *, ok: str = "", error: str = "") -> RedirectResponse:
    query = urlencode({k: v for k, v in (("ok", ok), ("error", error)) if v})
    return RedirectResponse(f"{url}{'?' if query else ''}{query}", status_code=303)


def act(url: str, ok: str, action: Callable[[], object]) -> RedirectResponse:
    """Run a page's action; success or the service's refusal comes back as a notice on ``url``."""
    try:
        action()
    except PostguardError as exc:
        return back(url, error=str(exc))
    return back(url, ok=ok)


def safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


def install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInNeededError)
    async def _sign_in(_request: Request, exc: SignInNeededError) -> Response:
        return RedirectResponse(f"/signin?next={quote(exc.target, safe='')}", status_code=303)

    @app.exception_handler(RefusedError)
    async def _refused(request: Request, exc: RefusedError) -> Response:
        return render(request, "error.html", None, status=403, title="Not allowed", message=exc.message)

    _people_see_pages(app)


#: What a person is told for each status a page route may end in (the API keeps problem details).
_PAGE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You may not do this."),
    404: ("Not found", "There is no page at this address."),
    405: (
        "Not allowed here",
        "This address does not take that kind of request: use the page's own links and forms.",
    ),
    409: ("Conflict", "That conflicts with a record that exists."),
    413: ("Too large", "What was sent is too large."),
    422: ("Not accepted", "Some of what was sent is not valid: go back, check the form and try again."),
    429: ("Too many attempts", "Too many attempts: wait a while and try again."),
    500: (
        "Something went wrong",
        "The service could not finish this: nothing was changed. Try again, or tell IT.",
    ),
    503: ("Unavailable", "The service cannot reach its database just now: try again shortly."),
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_page(request: Request, status: int, message: str = "") -> HTMLResponse:
    """The HTML error page for ``status``: what went wrong, in words, and a way back."""
    title, default = _PAGE_ERRORS.get(status, ("Error", "The request could not be completed."))
    return render(request, "error.html", None, status=status, title=title, message=message or default)


def _people_see_pages(app: FastAPI) -> None:
    """For page routes (not under ``/api/``), errors are pages; the API's handlers stay as they are.

    The problem-detail handlers installed before this are kept and called for ``/api/`` paths.
    """
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from postguard.web.problems import status_of

    api = dict(app.exception_handlers)

    async def _delegate(request: Request, exc: Exception, kind: Any) -> Response:
        handler = api.get(kind)
        if handler is None:
            raise exc
        answer = handler(request, exc)
        return await answer if hasattr(answer, "__await__") else answer  # type: ignore[no-any-return]

    @app.exception_handler(PostguardError)
    async def _postguard(request: Request, exc: PostguardError) -> Response:
        if _is_api(request):
            return await _delegate(request, exc, PostguardError)
        return error_page(request, status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return await _delegate(request, exc, RequestValidationError)
        fields = sorted({str(e.get("loc", ("", ""))[-1]) for e in exc.errors() if e.get("loc")})
        extra = f" (check: {', '.join(fields)})" if fields else ""
        return error_page(request, 422, _PAGE_ERRORS[422][1] + extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request):
            return await _delegate(request, exc, StarletteHTTPException)
        response = error_page(request, exc.status_code)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            from postguard.web.problems import problem

            return problem(500, "internal", "Internal error", "The service could not finish the request.")
        return error_page(request, 500)
