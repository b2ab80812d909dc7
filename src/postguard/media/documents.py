"""Documents and screens: a page of text or a computer screen in the frame.

Heuristic, on top of the lines OCR already read for the frame
(:func:`postguard.media.ocr.read_lines`, so OCR runs once per frame), with OpenCV for
the shapes:

1. No work at all unless at least :data:`MIN_LINES` lines (:data:`MIN_CHARS` letters and
   digits in all) were read: an ordinary photograph stops here.
2. Candidate regions: four-sided shapes found in the frame (edges and bright areas,
   at least :data:`MIN_AREA` of it) and the whole frame itself (a scan or a photo
   filled by the page).
3. A region holding at least :data:`MIN_LINES` lines of text whose height is small
   beside the region's (a page, not a sign with three big words; prose, four lines or
   more of a sentence's length, may be larger, as in a close photograph of a book) is
   - a ``screen`` when a dark frame (bezel) surrounds a brighter, landscape picture,
     or when its inside is dark with light lines (a dark-mode screen);
   - a ``document`` when its inside is bright and colourless (paper: bright, or clearly
     brighter than what surrounds it) and its ink is black or grey (coloured marker
     on a white ground is a whiteboard: its words are ``text``, judged as such).

The region's box is reported (in the original's pixels), with the lines counted and
the first words read as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from postguard.media.ocr import OcrEngine, TextLine, read_lines
from postguard.media.types import Frame, Sighting

__all__ = ["MIN_AREA", "MIN_CHARS", "MIN_LINES", "DocumentDetector", "Region", "find_regions"]

#: A page or screen holds at least this many lines...
MIN_LINES = 3
#: ...with at least this many letters and digits in all.
MIN_CHARS = 30
#: The smallest part of the frame a page or screen outline may cover.
MIN_AREA = 0.04
#: A line on a page is at most this part of the page's height (a sign's words are bigger).
MAX_LINE_SHARE = 1 / 9
#: ...or of prose (at least four lines of :data:`PROSE_CHARS` characters or more), up to this.
MAX_PROSE_LINE_SHARE = 1 / 5
PROSE_CHARS = 20
#: A page's ink is black or grey: ink more coloured than this (RGB spread, 0-255) is marker.
MAX_INK_CHROMA = 50
#: The side of the copy shapes are looked for in.
_WORK_SIDE = 640


@dataclass(frozen=True)
class Region:
    """A four-sided candidate (corners in FRAME pixels) and what it looks like."""

    corners: npt.NDArray[np.float32]
    whole_frame: bool
    inside_light: float
    inside_saturation: float
    ring_light: float
    aspect: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        x0, y0 = self.corners.min(axis=0)
        x1, y1 = self.corners.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)

    @property
    def area(self) -> float:
        import cv2

        return float(cv2.contourArea(self.corners))

    def holds(self, line: TextLine) -> bool:
        import cv2

        return cv2.pointPolygonTest(self.corners, line.centre, False) >= 0


def _quads(gray: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.float32]]:
    """Four-sided convex outlines in ``gray`` (its pixels), from edges and from bright areas."""
    import cv2

    area = gray.shape[0] * gray.shape[1]
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(blurred, 30, 90), np.ones((3, 3), np.uint8))
    _, bright = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    found: list[npt.NDArray[np.float32]] = []
    for mask in (edges, bright, 255 - bright):
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            if cv2.contourArea(contour) < MIN_AREA * area:
                continue
            hull = cv2.convexHull(contour)
            approx = cv2.approxPolyDP(hull, 0.03 * cv2.arcLength(hull, True), True)
            if len(approx) == 4 and cv2.contourArea(approx) >= MIN_AREA * area:
                # a shape hugging the whole frame's edge is the frame itself, looked at separately
                if cv2.contourArea(approx) > 0.97 * area:
                    continue
                found.append(approx.reshape(4, 2).astype(np.float32))
    return found


def _sides(corners: npt.NDArray[np.float32]) -> tuple[float, float]:
    """The outline's mean width (its more level pair of sides) and mean height."""
    vectors = [corners[(i + 1) % 4] - corners[i] for i in range(4)]
    lengths = [float(np.hypot(v[0], v[1])) for v in vectors]
    first_level = abs(float(vectors[0][0])) >= abs(float(vectors[0][1]))
    pair_a, pair_b = (lengths[0] + lengths[2]) / 2, (lengths[1] + lengths[3]) / 2
    return (pair_a, pair_b) if first_level else (pair_b, pair_a)


def _aspect(corners: npt.NDArray[np.float32]) -> float:
    """Width over height of the outline (above 1: landscape)."""
    across, down = _sides(corners)
    return across / max(1.0, down)


def find_regions(pixels: npt.NDArray[np.uint8]) -> list[Region]:
    """The candidate pages and screens in RGB ``pixels``: outlines found, then the whole frame."""
    import cv2

    height, width = pixels.shape[:2]
    ratio = min(1.0, _WORK_SIDE / max(height, width))
    small = cv2.resize(
        np.ascontiguousarray(pixels),
        (max(1, round(width * ratio)), max(1, round(height * ratio))),
        interpolation=cv2.INTER_AREA,
    )
    gray: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    saturation = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[:, :, 1]
    h, w = gray.shape
    whole = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    regions: list[Region] = []
    for corners in [*_quads(gray), whole]:
        mask = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(mask, corners.astype(np.int32), 255)
        inside = mask > 0
        is_whole = corners is whole
        if is_whole:
            ring_light = float("nan")
        else:
            reach = max(3, round(0.04 * max(np.ptp(corners[:, 0]), np.ptp(corners[:, 1]))))
            ring = (cv2.dilate(mask, np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)) > 0) & ~inside
            ring_light = float(np.median(gray[ring])) if ring.any() else float("nan")
        regions.append(
            Region(
                corners=corners / ratio,
                whole_frame=is_whole,
                inside_light=float(np.median(gray[inside])),
                inside_saturation=float(np.median(saturation[inside])),
                ring_light=ring_light,
                aspect=_aspect(corners),
            )
        )
    return regions


def _classify(
    region: Region, lines: list[TextLine], ink_chroma: float = 0.0
) -> Literal["document", "screen"] | None:
    """What the region is, given the lines inside it (None: neither)."""
    if len(lines) < MIN_LINES or sum(sum(ch.isalnum() for ch in line.text) for line in lines) < MIN_CHARS:
        return None
    region_height = min(_sides(region.corners))
    line_height = float(np.median([line.height for line in lines]))
    prose = len(lines) >= 4 and float(np.median([len(line.text) for line in lines])) >= PROSE_CHARS
    if line_height > (MAX_PROSE_LINE_SHARE if prose else MAX_LINE_SHARE) * region_height:
        return None
    bezel = (
        not region.whole_frame
        and region.ring_light < 70
        and region.inside_light - region.ring_light >= 50
        and 1.15 <= region.aspect <= 2.5
    )
    if bezel:
        return "screen"
    if (
        region.inside_light < 90
        and len(lines) >= MIN_LINES + 1
        and (region.whole_frame or region.aspect >= 1.15)
    ):
        return "screen"
    paper = region.inside_light >= 150 or (
        not region.whole_frame
        and region.inside_light >= 110
        and region.inside_light - region.ring_light >= 15
    )
    # printed pages are in black ink; coloured marker on a white ground is a whiteboard (text, not a page)
    if paper and region.inside_saturation <= 60 and ink_chroma <= MAX_INK_CHROMA:
        return "document"
    return None


def _ink_chroma(pixels: npt.NDArray[np.uint8], lines: list[TextLine]) -> float:
    """How coloured (0-255: the spread between the RGB channels, median) the ink of ``lines``
    is: each line's darkest pixels. Black or grey print is near 0; blue or red marker is not."""
    samples: list[npt.NDArray[np.int16]] = []
    for line in lines:
        x, y, w, h = (round(v) for v in line.box)
        patch = pixels[max(0, y) : y + max(1, h), max(0, x) : x + max(1, w)].reshape(-1, 3).astype(np.int16)
        if patch.size == 0:
            continue
        value = patch.max(axis=1)
        dark = patch[value <= np.percentile(value, 15)]
        samples.append(dark.max(axis=1) - dark.min(axis=1))
    return float(np.median(np.concatenate(samples))) if samples else 0.0


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """The intersection over the smaller box's area."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(1.0, min(a[2] * a[3], b[2] * b[3]))


def _evidence(kind: str, lines: list[TextLine]) -> str:
    words = " ".join(line.text for line in sorted(lines, key=lambda line: (line.centre[1], line.centre[0])))
    quoted = words if len(words) <= 80 else words[:79].rstrip() + "…"
    what = "a page of text" if kind == "document" else "a screen showing text"
    return f'{what} ({len(lines)} lines): "{quoted}"'


class DocumentDetector:
    """``document`` and ``screen`` sightings, from the lines OCR read and the shapes around them."""

    name = "documents"

    def __init__(self, engine: OcrEngine | None = None) -> None:
        self._engine = engine

    def detect(self, frame: Frame) -> list[Sighting]:
        lines = read_lines(frame, self._engine)
        if len(lines) < MIN_LINES or sum(sum(ch.isalnum() for ch in line.text) for line in lines) < MIN_CHARS:
            return []
        found: list[tuple[Literal["document", "screen"], Region, list[TextLine]]] = []
        candidates: list[tuple[Literal["document", "screen"], Region, list[TextLine]]] = []
        for region in find_regions(frame.pixels):
            inside = [line for line in lines if region.holds(line)]
            kind = _classify(region, inside, _ink_chroma(frame.pixels, inside))
            if kind is not None:
                candidates.append((kind, region, inside))
        # the region explaining the most lines first; on a tie an outline before the whole
        # frame, the larger outline (a screen's bezel) before what it holds
        candidates.sort(key=lambda c: (-len(c[2]), c[1].whole_frame, -c[1].area))
        for kind, region, inside in candidates:
            if not any(_overlap(region.box, other.box) > 0.6 for _, other, _ in found):
                found.append((kind, region, inside))
        sightings: list[Sighting] = []
        for what, region, inside in found:
            clear = 0.15 if region.whole_frame else 0.25
            score = min(0.95, 0.6 + clear + min(0.1, len(inside) / 100))
            sightings.append(
                Sighting(
                    kind=what,
                    evidence=_evidence(what, inside),
                    score=round(score, 3),
                    box=frame.to_original(region.box),
                    at=frame.at,
                    detail={
                        "lines": len(inside),
                        "outline": [
                            list(frame.to_original((float(x), float(y), 1, 1))[:2]) for x, y in region.corners
                        ],
                        "whole_frame": region.whole_frame,
                    },
                )
            )
        return sightings
