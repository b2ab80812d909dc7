"""The registry for IT: members, computers, personal devices, accounts and clause B authorisations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from postguard.connectors import KINDS
from postguard.errors import PostguardError, ValidationError
from postguard.registry.grants import SCOPES
from postguard.registry.roles import ROLES
from postguard.registry.signin import set_password
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import Viewer, ViewerDep, act, back, check_csrf, needs, render
from postguard.web.problems import status_of

router = APIRouter(include_in_schema=False)


#: Each form's fields, and words in a refusal that point at one of them (first match wins).
_FORMS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "member": (
        ("service_number", ("service number", "exists already")),
        ("name", ("name",)),
        ("roles", ("role", "commissioner", "privileged")),
        ("rank", ()),
        ("unit", ()),
    ),
    "computer": (
        ("addresses", ("address", "range")),
        ("asset_tag", ("asset tag", "exists already")),
        ("hostname", ()),
    ),
    "device": (
        ("owner", ("member", "service number")),
        ("identifier", ("identifier", "exists already")),
        ("description", ()),
    ),
    "authorisation": (
        ("member", ("member",)),
        ("computer", ("computer",)),
        ("valid_until", ("date", "until", "end")),
        ("target", ("target", "category", "site")),
        ("category", ()),
        ("reason", ("reason",)),
        ("scope", ("scope",)),
    ),
    "password": (("member", ("member", "no member")), ("password", ("password",))),
    "account": (("handle", ("handle", "exists already")), ("platform", ("platform",))),
    "connect-account": (
        ("account", ("account",)),
        ("connector", ("connector must",)),
        ("endpoint", ("endpoint",)),
        ("credential", ("credential",)),
    ),
}

#: Fields never sent back into a re-rendered form.
_SECRET = frozenset({"password", "password_again", "credential", "csrf_token"})


def field_of(exc: PostguardError, form: str) -> str:
    """The field of ``form`` a refusal is about ("" when it names none)."""
    fields = _FORMS.get(form, ())
    named = getattr(exc, "field", "")
    if named and any(name == named for name, _ in fields):
        return str(named)
    message = str(exc).lower()
    for name, words in fields:
        if any(word in message for word in words):
            return name
    return ""


def _view(
    request: Request,
    state: State,
    viewer: Viewer,
    *,
    status: int = 200,
    failed: str = "",
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
) -> HTMLResponse:
    reg = state.registry
    members, accounts = reg.members(), reg.accounts()
    active = [m for m in members if m["active"]]
    live = [a for a in accounts if a["active"]]
    return render(
        request, "registry.html", viewer, status=status, members=members, computers=reg.computers(),
        devices=reg.devices(), accounts=accounts,
        member_choices=[(m["service_number"], f"{m['service_number']} {m['name']}") for m in active],
        account_choices=[(f"{a['platform']}:{a['handle']}", f"{a['platform']}: {a['handle']}") for a in live],
        category_choices=[(c.id, c.name) for c in state.checker.pack.categories],
        connector_choices=[(k, k) for k in KINDS],
        scope_choices=[(s, s) for s in SCOPES],
        authorisations=state.grants.list_authorisations()[::-1], roles=ROLES, scopes=SCOPES,
        failed=failed, values=values or {}, errors=errors or {}, error=error,
    )  # fmt: skip


@router.get("/registry")
def registry_page(request: Request, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    needs(state, viewer, request, "registry.read")
    return _view(request, state, viewer)


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
    category: Annotated[str, Form(max_length=64)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=32)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
    platform: Annotated[str, Form(max_length=64)] = "",
    handle: Annotated[str, Form(max_length=255)] = "",
    account: Annotated[str, Form(max_length=320)] = "",
    connector: Annotated[str, Form(max_length=32)] = "",
    endpoint: Annotated[str, Form(max_length=500)] = "",
    credential: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    reg, grants, me = state.registry, state.grants, viewer.number
    scoped = category if scope == "category" else target

    def set_pw() -> None:
        if password != password_again:
            raise ValidationError(
                "the two passwords differ: type the same new password twice.", field="password"
            )
        set_password(reg, me, member=member, password=password)

    def connect() -> None:
        on, _, at = account.partition(":")
        if not on or not at:
            raise ValidationError("choose the official account to connect.", field="account")
        reg.connect_account(
            me, platform=on, handle=at, connector=connector, endpoint=endpoint.strip(),
            credential=credential, keys_dir=state.settings.keys_dir,
        )  # fmt: skip

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
                target=scoped,
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
        "reactivate-member": (
            f"Member {service_number} reactivated.",
            lambda: reg.change_member(me, service_number, active=True),
        ),
        "retire-computer": (
            f"Computer {asset_tag} retired.",
            lambda: reg.change_computer(me, asset_tag, active=False),
        ),
        "retire-device": (
            f"Device {identifier} retired.",
            lambda: reg.change_device(me, identifier, active=False),
        ),
        "password": (f"The password of {member} is set; their other sessions have ended.", set_pw),
        "account": (
            f"Official account {platform.strip().lower()}:{handle.strip()} added.",
            lambda: reg.add_account(me, platform=platform, handle=handle),
        ),
        "connect-account": (f"Account {account} connected; its credential is stored encrypted.", connect),
    }
    if what not in forms:
        return render(request, "error.html", viewer, status=404, title="Not found", message="No such form.")
    ok, action = forms[what]
    if what not in _FORMS:
        return act("/registry", ok, action)
    try:
        action()
    except PostguardError as exc:
        sent = {
            "service_number": service_number, "name": name, "rank": rank, "unit": unit,
            "roles": roles or [], "asset_tag": asset_tag, "hostname": hostname, "addresses": addresses,
            "identifier": identifier, "owner": owner, "description": description, "member": member,
            "computer": computer, "scope": scope, "target": target, "category": category,
            "valid_until": valid_until, "reason": reason, "platform": platform, "handle": handle,
            "account": account, "connector": connector, "endpoint": endpoint,
        }  # fmt: skip
        field = field_of(exc, what)
        if what == "authorisation" and field == "target" and scope == "category":
            field = "category"
        return _view(
            request, state, viewer, status=status_of(exc), failed=what,
            values={k: v for k, v in sent.items() if k not in _SECRET},
            errors={field: str(exc)} if field else {}, error=str(exc),
        )  # fmt: skip
    return back("/registry", ok=ok)
