"""Vehicle registration plates: a line of text that reads like a plate, on a plate-shaped patch.

Works on the lines OCR already read for the frame (:func:`postguard.media.ocr.read_lines`;
OCR runs once per frame). A line is a plate when

- its text, upper case, is one to three groups of letters and digits (spaces, dashes or
  dots between them; a leading country code such as ``GB`` or ``D`` is set aside) that
  make 5 to 8 characters with at least 2 digits and 1 letter;
- its shape is a plate's: length over height between :data:`MIN_ASPECT` and :data:`MAX_ASPECT`;
- and either it matches a known format (:data:`FORMATS`: UK, US-style, common EU ones)
  or the patch around it is light or yellow, as plates are.

The box reported is the text's, widened to the plate's edges (in the original's pixels).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from postguard.media.ocr import OcrEngine, TextLine, read_lines
from postguard.media.types import Frame, Sighting

__all__ = ["FORMATS", "MAX_ASPECT", "MIN_ASPECT", "PlateDetector", "plate_text"]

MIN_ASPECT = 2.0
MAX_ASPECT = 8.0

#: Known formats, on the text with its separators removed.
FORMATS: dict[str, re.Pattern[str]] = {
    "uk": re.compile(r"[A-Z]{2}[0-9]{2}[A-Z]{3}"),
    "uk-prefix": re.compile(r"[A-Z][0-9]{1,3}[A-Z]{3}"),
    "us": re.compile(r"[0-9][A-Z]{3}[0-9]{3}|[A-Z]{3}[0-9]{3,4}|[0-9]{3}[A-Z]{3}"),
    "eu": re.compile(
        r"[A-Z]{1,3}[A-Z]{1,2}[0-9]{1,4}[A-Z]?|[A-Z]{2}[0-9]{3}[A-Z]{2}|[0-9]{1,2}[A-Z]{3}[0-9]{1,2}"
    ),
}

_GROUPS = re.compile(r"[A-Z0-9]{1,8}(?:[ \-.·•:]{1,2}[A-Z0-9]{1,8}){0,2}")
_COUNTRY = re.compile(r"(?:GB|UK|D|F|NL|B|E|I|IRL|PL|CH|A|S|N|DK|FIN|P|CZ|H|L)\s+")


def plate_text(text: str) -> tuple[str, str] | None:
    """``(plate, format)`` when ``text`` reads like a registration plate (format ``other`` when
    only the general shape fits), else None. ``plate`` keeps the separators as read."""
    shown = " ".join(text.split())
    if shown != shown.upper():
        return None
    for candidate in (shown, _COUNTRY.sub("", shown, count=1) if _COUNTRY.match(shown) else None):
        if candidate is None or not _GROUPS.fullmatch(candidate):
            continue
        bare = re.sub(r"[^A-Z0-9]", "", candidate)
        digits = sum(ch.isdigit() for ch in bare)
        if not 5 <= len(bare) <= 8 or digits < 2 or digits == len(bare):
            continue
        for name, pattern in FORMATS.items():
            if pattern.fullmatch(bare):
                return candidate, name
        return candidate, "other"
    return None


def _plate_coloured(pixels: npt.NDArray[np.uint8], box: tuple[float, float, float, float]) -> bool:
    """Whether the patch around a text box is light (white, silver) or yellow, as a plate's ground is."""
    import cv2

    x, y, w, h = box
    x0, y0 = max(0, int(x - 0.05 * w)), max(0, int(y - 0.2 * h))
    x1, y1 = min(pixels.shape[1], int(x + 1.05 * w)), min(pixels.shape[0], int(y + 1.2 * h))
    patch = pixels[y0:y1, x0:x1]
    if patch.size == 0:
        return False
    hsv = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2HSV).reshape(-1, 3)
    # the ground is the patch's lighter half (the characters are the darker part)
    value = hsv[:, 2]
    ground = hsv[value >= np.median(value)]
    hue, saturation, light = (float(np.median(ground[:, i])) for i in range(3))
    light_grey = light >= 150 and saturation <= 60
    yellow = 15 <= hue <= 35 and saturation >= 80 and light >= 120
    return light_grey or yellow


def _plate_box(frame: Frame, line: TextLine) -> tuple[int, int, int, int]:
    x, y, w, h = line.box
    x0, y0 = max(0.0, x - 0.08 * w), max(0.0, y - 0.3 * h)
    x1, y1 = min(float(frame.width), x + 1.08 * w), min(float(frame.height), y + 1.3 * h)
    return frame.to_original((x0, y0, x1 - x0, y1 - y0))


class PlateDetector:
    """``plate`` sightings: registration plates read in the frame, the plate's text as evidence."""

    name = "plates"

    def __init__(self, engine: OcrEngine | None = None) -> None:
        self._engine = engine

    def detect(self, frame: Frame) -> list[Sighting]:
        sightings: list[Sighting] = []
        for line in read_lines(frame, self._engine):
            read = plate_text(line.text)
            if read is None:
                continue
            plate, form = read
            if not MIN_ASPECT <= line.length / line.height <= MAX_ASPECT:
                continue
            coloured = _plate_coloured(frame.pixels, line.box)
            if form == "other" and not coloured:
                continue
            score = line.score * (0.95 if coloured and form != "other" else 0.8)
            sightings.append(
                Sighting(
                    kind="plate",
                    evidence=plate,
                    score=round(score, 3),
                    box=_plate_box(frame, line),
                    at=frame.at,
                    detail={"format": form, "plate_coloured": coloured, "text": line.text},
                )
            )
        return sightings
