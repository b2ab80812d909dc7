"""A draft's photos and videos on its page: upload, preview with what was found drawn, safe copy.

- ``POST /media/attach``: attach a photo or video to a draft (multipart; the author only);
  the file is checked and kept as the API's upload keeps it (``store_upload``), its ref
  added to the draft's ``context.attachments``, and the draft checked again.
- ``GET /media/{hex}``: a stored file, to a signed-in member (the preview's source).
- ``POST /media/safe-copy``: one action that blurs every place found in an attachment,
  strips its metadata, keeps the copy, puts it in the draft in place of the original
  (kept in the store; the audit entry names both) and checks the draft again.

:func:`attachment_views` gives the draft page each attachment with its findings as boxes
in the picture's own pixels: the page draws them as ``<rect>`` s of an SVG whose
``viewBox`` is the picture's size, laid over it by the stylesheet (no inline style).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from postguard.errors import PostguardError, ValidationError
from postguard.media.store import MediaStore, is_ref
from postguard.web.deps import ServiceDep, State
from postguard.web.pages.common import ViewerDep, act, back, check_csrf, needs, render
from postguard.workflow.media import make_safe_copy

__all__ = ["ATTACH_PATH", "attach_upload", "attachment_views", "router"]

router = APIRouter(include_in_schema=False)

ATTACH_PATH = "/media/attach"


def _store(state: State) -> MediaStore:
    return MediaStore(state.settings.media_root)


@lru_cache(maxsize=256)
def _size(path: Path) -> tuple[str, int, int]:
    """(``image`` or ``video``, width, height) of a stored file, upright as the checks see it
    (kept: a stored file is named by its content and never changes)."""
    from postguard.media.read import open_medium

    medium = open_medium(path)
    return medium.kind, medium.width, medium.height


def attachment_views(state: State, draft: dict[str, Any]) -> list[dict[str, Any]]:
    """Each stored attachment of ``draft`` with its findings (numbered) and their boxes."""
    store = _store(state)
    findings = [*draft.get("findings", []), *draft.get("advice", [])]
    views: list[dict[str, Any]] = []
    for ref in draft["context"].get("attachments") or []:
        path = store.find(str(ref)) if is_ref(str(ref)) else None
        if path is None:
            continue
        try:
            kind, width, height = _size(path)
        except PostguardError:
            kind, width, height = "image", 0, 0
        mine = [f for f in findings if f.get("attachment") == ref]
        views.append(
            {
                "ref": ref,
                "url": f"/media/{str(ref).removeprefix('sha256:')}",
                "kind": kind,
                "width": width,
                "height": height,
                "findings": mine,
                "boxes": [
                    {"n": n, "kind": f.get("kind") or "", "x": b[0], "y": b[1], "w": b[2], "h": b[3]}
                    for n, f in enumerate(mine, 1)
                    if (b := f.get("box")) and width and height
                ],
            }
        )
    return views


def attach_upload(state: State, member: str, upload: UploadFile | None) -> str | None:
    """Check and keep an uploaded file (None when no file was chosen); its ref."""
    from postguard.web.routes.media import store_upload

    if upload is None or not upload.filename:
        return None
    data = upload.file.read(state.checker.pack.media.max_bytes + 1)
    if not data:
        return None
    return str(store_upload(state, data, upload.filename, member)["ref"])


@router.get("/media/{digest}")
def media_file(request: Request, digest: str, state: ServiceDep, viewer: ViewerDep) -> Response:
    needs(state, viewer, request, "draft.read")
    path = _store(state).find(f"sha256:{digest}")
    if path is None:
        return render(request, "error.html", viewer, status=404, title="Not found", message="No such file.")
    return FileResponse(
        path,
        media_type=MediaStore.content_type(path),
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.post(ATTACH_PATH)
async def attach_form(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    draft: Annotated[str, Form(max_length=32)],
    csrf_token: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(viewer, csrf_token)
    url = f"/drafts/{draft}"

    def attach() -> None:
        ref = attach_upload(state, viewer.number, file)
        if ref is None:
            raise ValidationError("Choose a photo or video to attach.")
        current = state.workflow.get(draft)
        attachments = [str(a) for a in current["context"].get("attachments") or []]
        if ref in attachments:
            raise ValidationError("That file is attached already.")
        context = {**current["context"], "attachments": [*attachments, ref]}
        state.workflow.edit(viewer.number, draft, text=current["text"], context=context)

    return await run_in_threadpool(act, url, "Attached, saved and checked again.", attach)


@router.post("/media/safe-copy")
def safe_copy_form(
    request: Request,
    state: ServiceDep,
    viewer: ViewerDep,
    draft: Annotated[str, Form(max_length=32)],
    ref: Annotated[str, Form(max_length=80)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(viewer, csrf_token)
    url = f"/drafts/{draft}"
    try:
        _, copy = make_safe_copy(state.workflow, viewer.number, draft, ref, store=_store(state))
    except PostguardError as exc:
        return back(url, error=str(exc))
    left = [f for f in state.workflow.get(draft)["findings"] if f.get("attachment") == copy]
    if left:
        found = f"Safe copy made, but the check still finds {len(left)} thing(s) in it: see below."
        return back(url, error=found)
    clean = "Safe copy made and checked again: nothing is found in it. The draft publishes the copy."
    return back(url, ok=clean)
