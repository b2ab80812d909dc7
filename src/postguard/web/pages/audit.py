"""The audit trail for auditors: search, and verify the chain and its signed checkpoints."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from postguard.audit.chain import AuditRecord
from postguard.audit.checkpoints import create_checkpoint
from postguard.audit.queries import entries
from postguard.audit.verify import VerifyReport
from postguard.errors import NotFoundError, PostguardError
from postguard.registry.values import csv_safe, utcnow
from postguard.web.deps import ServiceDep, State, verify_trail
from postguard.web.pages.common import Viewer, ViewerDep, back, check_csrf, needs, render
from postguard.web.problems import status_of

router = APIRouter(include_in_schema=False)


#: How many entries an export reads from the database at a time.
_BATCH = 500


def _filters(actor: str, action: str, clause: str, q: str) -> dict[str, str]:
    return {"actor": actor[:64], "action": action[:64], "clause": clause[:64], "q": q[:200]}


def _search(filters: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of :func:`entries` for a search's filters."""
    return {
        "actor": filters["actor"] or None,
        "clause": filters["clause"] or None,
        "action": filters["action"] or None,
        "search": filters["q"] or None,
    }


def _view(
    request: Request,
    state: State,
    viewer: Viewer,
    filters: dict[str, str],
    limit: int = 100,
    *,
    status: int = 200,
    result: VerifyReport | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
) -> HTMLResponse:
    rows: list[dict[str, Any]] = []
    if result is None:
        with state.registry.db.reading() as session:
            found = entries(session, **_search(filters), limit=min(max(limit, 1), 1000), newest_first=True)
            rows = list(found)
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request, "audit.html", viewer, status=status, rows=rows, filters=filters, result=result,
        query=query, failed="checkpoint" if errors is not None else "", values={}, errors=errors or {},
        error=error,
    )  # fmt: skip


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
    needs(state, viewer, request, "audit.read")
    return _view(request, state, viewer, _filters(actor, action, clause, q), limit)


def _exported(state: State, filters: dict[str, str], line: Callable[[dict[str, Any]], str]) -> Iterator[str]:
    """Every entry the search matches, in chain order, read in batches (each batch its own read)."""
    after: int | None = None
    while True:
        with state.registry.db.reading() as session:
            batch = list(entries(session, **_search(filters), limit=_BATCH, after=after))
        for row in batch:
            yield line(row)
        if len(batch) < _BATCH:
            return
        after = int(batch[-1]["seq"])


_COLUMNS = ("seq", "at", "actor", "action", "clause", "target", "origin", "detail", "prev_hash", "hash")


def _csv_line(row: dict[str, Any]) -> str:
    out = io.StringIO()
    values = [
        json.dumps(row["detail"], ensure_ascii=False, sort_keys=True) if c == "detail" else row[c]
        for c in _COLUMNS
    ]
    csv.writer(out, lineterminator="\r\n").writerow(["" if v is None else csv_safe(str(v)) for v in values])
    return out.getvalue()


def _export(request: Request, state: State, viewer: Viewer, kind: str, filters: dict[str, str]) -> Response:
    needs(state, viewer, request, "audit.read")
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    with state.registry.db.session() as session:
        state.registry.audit(
            session,
            AuditRecord(viewer.number, "audit.export", "audit", detail={"format": kind, "filters": filters}),
        )
    if kind == "csv":
        header = ",".join(_COLUMNS) + "\r\n"
        body: Iterator[str] = itertools.chain([header], _exported(state, filters, _csv_line))
        media, suffix = "text/csv; charset=utf-8", "csv"
    else:
        body = _exported(state, filters, lambda r: json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
        media, suffix = "application/x-ndjson", "jsonl"
    return StreamingResponse(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{suffix}"'},
    )


@router.get("/audit/export.{fmt}")
def audit_export(
    request: Request,
    fmt: Literal["csv", "jsonl"],
    state: ServiceDep,
    viewer: ViewerDep,
    actor: str = "",
    action: str = "",
    clause: str = "",
    q: str = "",
) -> Response:
    """The search's entries (all of them, not only a page's worth), in chain order: as CSV
    (``/audit/export.csv``) or one JSON object a line, as ``postguard audit export`` writes
    (``/audit/export.jsonl``)."""
    return _export(request, state, viewer, fmt, _filters(actor, action, clause, q))


@router.get("/audit/{seq:int}")
def audit_entry(request: Request, seq: int, state: ServiceDep, viewer: ViewerDep) -> HTMLResponse:
    """One entry in full: its detail, origin and the hashes that chain it."""
    needs(state, viewer, request, "audit.read")
    with state.registry.db.reading() as session:
        found = list(entries(session, after=seq - 1, limit=1))
    if not found or found[0]["seq"] != seq:
        raise NotFoundError(f"The audit trail has no entry {seq}.")
    entry = found[0]
    detail = json.dumps(entry["detail"], indent=2, ensure_ascii=False, sort_keys=True)
    return render(request, "audit_entry.html", viewer, entry=entry, detail=detail)


@router.post("/audit/verify")
def audit_verify(
    request: Request, state: ServiceDep, viewer: ViewerDep, csrf_token: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check_csrf(viewer, csrf_token)
    needs(state, viewer, request, "audit.verify")
    return _view(request, state, viewer, _filters("", "", "", ""), result=verify_trail(state))


@router.post("/audit/checkpoint")
def audit_checkpoint(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form()] = "",
    passphrase: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Sign a checkpoint (the Merkle root of the whole trail) with the department key, as
    ``postguard audit checkpoint`` does; wrong passphrases are throttled and audited."""
    check_csrf(viewer, csrf_token)
    needs(state, viewer, request, "audit.checkpoint")
    origin = f"web:{request.client.host if request.client else '-'}"
    try:
        key = state.grants.unlock_key(viewer.number, passphrase, "department")
        with state.registry.acting(viewer.number, "audit.checkpoint") as (session, _):
            cp = create_checkpoint(
                session, key, AuditRecord(viewer.number, "audit.checkpoint", "audit", origin=origin)
            )
        witness = state.registry.witness
        witnessed = witness is not None and witness.enabled
        if witness is not None and witnessed:
            witness.append(cp.head)
    except PostguardError as exc:
        return _view(
            request, state, viewer, _filters("", "", "", ""), status=status_of(exc),
            errors={"passphrase": str(exc)}, error=str(exc),
        )  # fmt: skip
    done = f"Checkpoint over {cp.size:,} entries signed with {cp.key_id}: root {cp.root[:16]}…"
    return back("/audit", ok=done + (" Witnessed." if witnessed else ""))
