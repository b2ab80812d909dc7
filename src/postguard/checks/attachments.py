"""The seam through which the checker sees what is attached to a post.

The checker itself is pure: it reads no files. Where media support is installed and
configured, the factory gives it an :class:`AttachmentInspector`
(:mod:`postguard.media`), which opens each attachment the post names, looks at it
(metadata, text in the picture, faces, plates, documents and screens, a video's
frames) and answers findings that name the attachment. Text read in a picture is
judged by the same text checks as the post, through the ``judge`` callback the
checker hands over.

An attachment the inspector does not take (a URL, a name with no file behind it
and no media root) is judged by its name, as before; one it takes but cannot read
is an ``unreadable`` finding, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from postguard.checks.types import Finding, Report

__all__ = ["AttachmentInspector", "Judge"]

#: Checks a text (words read in a picture) as the post's text is checked, under the same context.
Judge = Callable[[str], Report]


class AttachmentInspector(Protocol):
    """Looks at attached photos and videos."""

    def takes(self, name: str) -> bool:
        """Whether ``name`` is for this inspector (a file it can find), rather than judged by its name."""
        ...

    def inspect(self, name: str, judge: Judge) -> list[Finding]:
        """Every finding in the attachment ``name`` (empty when nothing was seen)."""
        ...
