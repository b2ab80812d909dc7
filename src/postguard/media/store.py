"""Uploaded photos and videos, kept by the SHA-256 of their bytes under the service's media folder.

A file is named ``<hex>.<ext>`` (the extension from what its first bytes show, never from
the name it was sent with) and is referred to as ``sha256:<hex>``: the ref a draft's
``context.attachments`` holds, and what a confidential-release permission names. The
same bytes stored twice are one file. Files are written atomically and never changed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from postguard.errors import NotFoundError, ValidationError
from postguard.media.read import sniff

__all__ = ["CONTENT_TYPES", "MediaStore", "file_sha256", "is_ref", "ref_hex"]

_REF = re.compile(r"^sha256:([0-9a-f]{64})$")
_EXT = {
    "jpeg": ".jpg",
    "png": ".png",
    "gif": ".gif",
    "webp": ".webp",
    "heic": ".heic",
    "mp4": ".mp4",
    "mov": ".mov",
    "webm": ".webm",
}
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of the file at ``path``, read a block at a time."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def is_ref(value: str) -> bool:
    """Whether ``value`` is a stored file's ref, ``sha256:`` and 64 lowercase hex digits."""
    return bool(_REF.match(value))


def ref_hex(ref: str) -> str:
    """The hex digest in ``ref``; :class:`ValidationError` when it is not a ref."""
    found = _REF.match(ref.strip())
    if found is None:
        raise ValidationError(f"{ref!r} is not a stored file's reference (sha256: and 64 hex digits).")
    return found.group(1)


class MediaStore:
    """The files under ``root``, by SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes, *, max_bytes: int | None = None) -> str:
        """Keep ``data`` (a photo or video postguard reads) and answer its ref."""
        if not data:
            raise ValidationError("The file is empty.")
        if max_bytes is not None and len(data) > max_bytes:
            raise ValidationError(f"The file is {len(data):,} bytes; the limit is {max_bytes:,}.")
        fmt = sniff(data[:64])
        if fmt is None:
            raise ValidationError(
                "The file is not a photo or video postguard reads "
                "(JPEG, PNG, GIF, WebP, HEIC, MP4, MOV, WebM)."
            )
        digest = hashlib.sha256(data).hexdigest()
        target = self.root / f"{digest}{_EXT[fmt]}"
        if not target.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{digest}.", dir=self.root)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
        return f"sha256:{digest}"

    def put_file(self, path: Path, *, max_bytes: int | None = None) -> str:
        return self.put(Path(path).read_bytes(), max_bytes=max_bytes)

    def find(self, ref: str) -> Path | None:
        """The stored file for ``ref``, or None (a ref that is not well formed: None too)."""
        if not is_ref(ref.strip()):
            return None
        digest = ref_hex(ref)
        for ext in _EXT.values():
            candidate = self.root / f"{digest}{ext}"
            if candidate.is_file():
                return candidate
        return None

    def path(self, ref: str) -> Path:
        """The stored file for ``ref``; :class:`NotFoundError` when there is none."""
        found = self.find(ref)
        if found is None:
            raise NotFoundError(f"No stored file has the reference {ref}.")
        return found

    @staticmethod
    def content_type(path: Path) -> str:
        return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
