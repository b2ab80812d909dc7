"""A draft's photos and videos: the safe copy that replaces one, and the files a publication sends.

A draft's ``context.attachments`` holds refs (``sha256:HEX``) to files in the service's
media store (:class:`~postguard.media.store.MediaStore`). :func:`make_safe_copy`
blurs every place the draft's check found in one (faces, plates, flagged text,
documents, screens; the boxes its findings carry, and any given), strips its
metadata, keeps the copy in the store and puts it in the draft in place of the
original (which stays in the store; the audit entry names both); the draft is
checked again. :func:`media_files` reads what a publication sends with the text.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from postguard.connectors.base import MediaFile
from postguard.errors import ValidationError
from postguard.media.store import MediaStore, is_ref
from postguard.registry.models import Draft
from postguard.workflow.service import Workflow

__all__ = ["make_safe_copy", "media_files"]


def make_safe_copy(
    workflow: Workflow,
    actor: str | None,
    code: str,
    ref: str,
    *,
    store: MediaStore,
    boxes: Sequence[tuple[int, int, int, int]] = (),
) -> tuple[Draft, str]:
    """Replace attachment ``ref`` of draft ``code`` by its safe copy; the draft and the copy's ref."""
    from postguard.media.redact import Blur, output_suffix, redact

    current = workflow.get(code)
    if ref not in (current["context"].get("attachments") or []):
        raise ValidationError(f"{code} has no attachment {ref}.")
    source = store.path(ref)
    places = [
        Blur(
            (int(f["box"][0]), int(f["box"][1]), int(f["box"][2]), int(f["box"][3])),
            float(f["at"]) if f.get("at") is not None else None,
        )
        for f in [*current["findings"], *current.get("advice", [])]
        if f.get("attachment") == ref and f.get("box")
    ]
    places.extend(Blur(tuple(b)) for b in boxes)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="postguard-redact-") as folder:
        result = redact(source, Path(folder) / f"safe{output_suffix(source)}", places)
        copy = store.put_file(result.path)
    if copy == ref:
        raise ValidationError(f"The safe copy of {ref} is the same file: nothing to replace.")
    detail: dict[str, Any] = {
        "format": result.format,
        "blurred": [list(b.box) for b in result.blurred],
        "metadata_stripped": result.metadata_stripped,
    }
    draft = workflow.replace_attachment(actor, code, original=ref, copy=copy, detail=detail)
    return draft, copy


def media_files(attachments: Sequence[str], store: MediaStore | None) -> list[MediaFile]:
    """The stored files a draft's attachments name (refs), in order, to publish with its text.

    An attachment that is not a ref (a name checked by the batch contract) is not sent. A ref
    whose file is missing, or with no store to find it in, stops the publication.
    """
    refs = [a for a in attachments if is_ref(a)]
    if refs and store is None:
        raise ValidationError(
            "The draft has photos or videos, but no media folder is configured to read them from."
        )
    files: list[MediaFile] = []
    for ref in refs:
        assert store is not None
        path = store.path(ref)
        files.append(MediaFile(ref, path.name, MediaStore.content_type(path), path.read_bytes()))
    return files
