"""What the media checks pass between them: frames, sightings and the detector protocol.

A :class:`Frame` is one picture to look at: a still image, or one frame of a video
(``at`` seconds in). Detectors look at a frame and report :class:`Sighting`\\ s: a kind
of thing seen (``face``, ``plate``, ``text``, ``document``, ``screen``), where
(``box`` in the ORIGINAL picture's pixels, ``[x, y, w, h]``), how sure, and what
(``evidence``: the words read, a description). Metadata readers report sightings of
kind ``location`` or ``metadata`` with no box. The inspector
(:mod:`postguard.media.inspect`) turns sightings into the checker's findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from postguard.errors import InputError

__all__ = ["KINDS", "Frame", "FrameDetector", "Kind", "MediaError", "Sighting"]

Kind = Literal["location", "metadata", "text", "face", "plate", "document", "screen", "unreadable"]
KINDS: tuple[Kind, ...] = (
    "location",
    "metadata",
    "text",
    "face",
    "plate",
    "document",
    "screen",
    "unreadable",
)


class MediaError(InputError):
    """An attachment that cannot be read: missing, not what its extension says, too large, damaged,
    or media support (``postguard[media]``) not installed."""


@dataclass(frozen=True)
class Sighting:
    """One thing seen in an attachment."""

    kind: Kind
    evidence: str
    score: float
    box: tuple[int, int, int, int] | None = None
    at: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Frame:
    """One picture: RGB pixels (height, width, 3; uint8), maybe scaled down from the original.

    ``scale`` is this picture's size over the original's (1.0 when not scaled), so a box
    found here maps back with :meth:`to_original`. ``at`` is the time in a video.
    """

    pixels: npt.NDArray[np.uint8]
    scale: float = 1.0
    at: float | None = None

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def to_original(self, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        """A box ``(x, y, w, h)`` in this frame's pixels, in the original picture's pixels."""
        x, y, w, h = (v / self.scale for v in box)
        return round(x), round(y), max(1, round(w)), max(1, round(h))


class FrameDetector(Protocol):
    """Finds one or more kinds of thing in a frame.

    A detector that reads only the frame's pixels (not what other detectors read, as the text
    detectors share one OCR pass) may say so with ``independent = True``: the inspector then
    runs it in another thread beside the others.
    """

    name: str

    def detect(self, frame: Frame) -> list[Sighting]:
        """Every sighting in ``frame`` (boxes in the original's pixels, ``at`` copied from the frame)."""
        ...
