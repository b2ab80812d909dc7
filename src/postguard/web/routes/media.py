"""POST /api/v1/media: upload a photo or video, to name in a check's (or a draft's) attachments.

The file is checked before it is kept: what its first bytes show must be what its name
says, it must be within the pack's limits (bytes, pixels, a video's length) and be
readable; then it is stored under the service's media folder (``POSTGUARD_MEDIA_ROOT``)
by the SHA-256 of its bytes, and the answer's ``ref`` (``sha256:HEX``) is what
``context.attachments`` names. The upload is recorded in the audit trail.

The caller is authenticated before the body is read (:class:`postguard.web.app.Guard`),
and this route's body may be as large as the pack's ``media.max_bytes`` (every other
route keeps the small cap).
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from starlette.concurrency import run_in_threadpool

from postguard.audit.chain import AuditRecord
from postguard.errors import ValidationError
from postguard.registry.tokens import TokenHolder
from postguard.web.deps import ServiceDep, State, require

__all__ = ["UPLOAD_PATH", "router", "store_upload"]

router = APIRouter(prefix="/api/v1", tags=["media"])

UPLOAD_PATH = "/api/v1/media"
#: Room for the multipart framing and the form's other fields around the file itself.
MULTIPART_SLACK = 64 * 1024
_SUFFIX = {"jpeg": ".jpg", "png": ".png", "gif": ".gif", "webp": ".webp", "heic": ".heic",
           "mp4": ".mp4", "mov": ".mov", "webm": ".webm"}  # fmt: skip


def upload_cap(state: State | None) -> int:
    """The largest body :data:`UPLOAD_PATH` takes (the pack's ``media.max_bytes`` and the framing)."""
    if state is None:
        return 50 * 1024 * 1024 + MULTIPART_SLACK
    return state.checker.pack.media.max_bytes + MULTIPART_SLACK


def _checked(data: bytes, name: str, state: State) -> str:
    """Check ``data`` (sent as ``name``) as a check would read it, keep it, and answer its ref."""
    from postguard.media.read import EXTENSIONS, open_medium, require_media, sniff
    from postguard.media.store import MediaStore
    from postguard.media.types import MediaError

    rules = state.checker.pack.media
    try:
        require_media()
    except MediaError as exc:
        raise ValidationError(str(exc)) from None
    if not data:
        raise ValidationError("The file is empty.")
    if len(data) > rules.max_bytes:
        raise ValidationError(f"'{name}' is {len(data):,} bytes; the policy's limit is {rules.max_bytes:,}.")
    fmt = sniff(data[:64])
    suffix = PurePosixPath(name).suffix.lower()
    if suffix and suffix not in EXTENSIONS:
        raise ValidationError(f"'{name}' is not a photo or video postguard reads (JPEG, PNG, WebP, GIF, "
                              "HEIC; MP4, MOV, WebM).")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="postguard-upload-") as folder:
        # Named as sent (so a lying extension is caught), else by what the bytes show.
        probe = Path(folder) / ("upload" + (suffix or _SUFFIX.get(fmt or "", ".bin")))
        probe.write_bytes(data)
        try:
            open_medium(probe, rules)
        except MediaError as exc:
            raise ValidationError(str(exc).replace(f"'{probe.name}'", f"'{name}'")) from None
    return MediaStore(state.settings.media_root).put(data, max_bytes=rules.max_bytes)


def store_upload(state: State, data: bytes, name: str, member: str) -> dict[str, Any]:
    """Check and keep an uploaded file for ``member``, audited: ``{"ref", "name", "size"}``."""
    ref = _checked(data, name, state)
    with state.registry.db.session() as session:
        state.registry.audit(
            session,
            AuditRecord(member, "media.upload", target=ref, detail={"name": name, "size": len(data)}),
        )
    return {"ref": ref, "name": name, "size": len(data)}


@router.post(
    "/media",
    status_code=201,
    summary="Upload a photo or video to name in a check's attachments",
    responses={413: {"description": "Over the policy's media.max_bytes."}},
)
async def upload_media(
    state: ServiceDep,
    caller: Annotated[TokenHolder, require("check.post")],
    file: Annotated[UploadFile, File(description="The photo or video.")],
    name: Annotated[str | None, Form(max_length=255, description="Its name (default: the file's).")] = None,
) -> dict[str, Any]:
    """Keep the file by its SHA-256 and answer ``{"ref": "sha256:...", "name", "size"}``.

    Give ``ref`` in ``context.attachments`` of ``POST /api/v1/check`` (or a draft): the check
    then looks at the file itself (metadata, text, faces, plates, documents, screens). A file
    that is not what its name says, is too large or cannot be read is refused (422).
    """
    label = (name or file.filename or "upload").strip()[:255] or "upload"
    data = await file.read(state.checker.pack.media.max_bytes + 1)
    return await run_in_threadpool(store_upload, state, data, label, caller.service_number)
