"""Text in a picture: signs, screens, documents, whiteboards, name badges, read by RapidOCR.

RapidOCR (``rapidocr-onnxruntime``) ships its PP-OCRv4 detection and recognition models
inside its wheel, so nothing is fetched at run time. One engine is loaded lazily and
shared by the whole process (loading takes about a second; ONNX Runtime sessions may
be used from several threads at once).

Speed: RapidOCR's own pipeline runs text detection on the picture at full size (its
default ``limit_type: min`` never shrinks a 2-megapixel frame), which costs about a
second on 2 cores. :class:`OcrEngine` instead runs detection on a copy scaled down so
its longer side is :data:`DET_SIDE` pixels, and only when boxes are found crops those
lines from the full-size frame for recognition (the angle classifier is skipped: text
upside down is rare in photographs and costs a third model). A frame with no text
costs one detection pass. Each line is then recognised on its own, keeping the
spaces between words the recogniser saw (see :meth:`OcrEngine._recognise`). Lines
read with less than :data:`MIN_SCORE` confidence, or with fewer than :data:`MIN_CHARS`
letters and digits, are dropped.

:func:`read_lines` reads a frame once: the text, document and plate detectors
(:class:`OcrDetector`, :class:`~postguard.media.documents.DocumentDetector`,
:class:`~postguard.media.plates.PlateDetector`) all ask it for the same frame, and
the lines are kept while that frame object lives.

:class:`OcrDetector` groups the lines read into blocks (lines stacked close together
and overlapping sideways, or side by side on one row), so a memo's lines are judged
together, and reports each block as a ``text`` sighting whose evidence is the words
read.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from postguard.media.types import Frame, MediaError, Sighting

__all__ = [
    "DET_SIDE",
    "MIN_CHARS",
    "MIN_SCORE",
    "SPACE_PROBABILITY",
    "OcrDetector",
    "OcrEngine",
    "TextLine",
    "block_text",
    "group_blocks",
    "read_lines",
    "shared_engine",
]

#: The longer side (pixels) of the copy text detection runs on.
DET_SIDE = 832
#: Lines recognised with less confidence than this are dropped.
MIN_SCORE = 0.5
#: Lines with fewer letters and digits than this are dropped as noise.
MIN_CHARS = 3
#: Between two characters read, a space this likely (in the recogniser's eyes) is written.
SPACE_PROBABILITY = 0.1

_HINT = "pip install 'postguard[media]'"


@dataclass(frozen=True)
class TextLine:
    """One line of text read in a frame; coordinates are the FRAME's pixels (not the original's)."""

    text: str
    score: float
    #: The four corners, clockwise from the top left (the line may be at an angle).
    quad: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The upright box ``(x, y, w, h)`` around the line."""
        xs = [p[0] for p in self.quad]
        ys = [p[1] for p in self.quad]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)

    @property
    def height(self) -> float:
        """The line's own height (across its baseline, whatever its angle)."""
        (x0, y0), _, _, (x3, y3) = self.quad
        return max(1.0, float(np.hypot(x3 - x0, y3 - y0)))

    @property
    def length(self) -> float:
        """The line's own length (along its baseline)."""
        (x0, y0), (x1, y1), _, _ = self.quad
        return max(1.0, float(np.hypot(x1 - x0, y1 - y0)))

    @property
    def centre(self) -> tuple[float, float]:
        return (sum(p[0] for p in self.quad) / 4, sum(p[1] for p in self.quad) / 4)


def _alnum(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


class OcrEngine:
    """RapidOCR, used detection first: recognition only runs where text was found."""

    def __init__(
        self, det_side: int = DET_SIDE, min_score: float = MIN_SCORE, min_chars: int = MIN_CHARS
    ) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise MediaError(f"reading text in pictures needs media support: {_HINT}") from exc
        self.det_side = det_side
        self.min_score = min_score
        self.min_chars = min_chars
        # limit_type "min" with a small side: detection takes the (already scaled) copy as it is.
        # One thread per model: the face detector runs beside it on the other core (see inspect.py).
        self._ocr: Any = RapidOCR(
            use_cls=False, det_limit_type="min", det_limit_side_len=32, intra_op_num_threads=1
        )
        recogniser = self._ocr.text_rec
        try:
            self._rec_session: Any = recogniser.session
            self._rec_resize: Any = recogniser.resize_norm_img
            self._charset: list[str] = list(recogniser.postprocess_op.character)
        except AttributeError as exc:  # pragma: no cover - another rapidocr-onnxruntime layout
            raise MediaError("this rapidocr-onnxruntime version is not supported (1.4 is)") from exc
        self._space = self._charset.index(" ") if " " in self._charset else -1

    def _recognise(self, crop: npt.NDArray[np.uint8]) -> tuple[str, float]:
        """The text on one line's crop (BGR) and the recogniser's mean confidence.

        Each line is recognised on its own, at its own width, and a space the recogniser
        thought likely (probability above :data:`SPACE_PROBABILITY`) between two
        characters it read is written. Measured here, RapidOCR's own recognition
        (batches padded to their widest line, argmax decoding) ran English words
        together ("OperationNightjar", "Shiftrotaweek"), which the text checks then
        cannot match.
        """
        height, width = crop.shape[:2]
        if height == 0 or width == 0:
            return "", 0.0
        tensor = self._rec_resize(crop, max(1.0, width / height))[np.newaxis].astype(np.float32)
        probabilities = self._rec_session(tensor)[0][0]
        best = probabilities.argmax(axis=1)
        chars: list[str] = []
        confidences: list[float] = []
        previous, last_column = 0, -1
        for column, index in enumerate(best.tolist()):
            if index not in (0, previous):
                char = self._charset[index]
                if (
                    self._space >= 0
                    and chars
                    and char != " "
                    and chars[-1] != " "
                    and column - last_column > 1
                    and float(probabilities[last_column + 1 : column, self._space].max()) > SPACE_PROBABILITY
                ):
                    chars.append(" ")
                chars.append(char)
                confidences.append(float(probabilities[column, index]))
                last_column = column
            previous = index
        return "".join(chars), (float(np.mean(confidences)) if confidences else 0.0)

    def read(self, pixels: npt.NDArray[np.uint8]) -> list[TextLine]:
        """Every line of text read in RGB ``pixels`` (coordinates in those pixels), top to bottom."""
        import cv2

        height, width = int(pixels.shape[0]), int(pixels.shape[1])
        if min(height, width) < 8:
            return []
        bgr = np.ascontiguousarray(pixels[:, :, ::-1])
        ratio = min(1.0, self.det_side / max(height, width))
        if ratio < 1.0:
            size = (max(32, round(width * ratio)), max(32, round(height * ratio)))
            small = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        else:
            small = bgr
        found, _ = self._ocr.text_det(small)
        if found is None or len(found) == 0:
            return []
        sx, sy = width / small.shape[1], height / small.shape[0]
        quads = [np.asarray(q, dtype=np.float32) * np.array([sx, sy], dtype=np.float32) for q in found]
        crops = self._ocr.get_crop_img_list(bgr, quads)
        lines: list[TextLine] = []
        for quad, crop in zip(quads, crops, strict=True):
            text, score = self._recognise(crop)
            text = " ".join(text.split())
            if score < self.min_score or _alnum(text) < self.min_chars:
                continue
            corners = tuple((float(x), float(y)) for x, y in quad.tolist())
            lines.append(TextLine(text, score, corners))  # type: ignore[arg-type]
        lines.sort(key=lambda line: (line.box[1], line.box[0]))
        return lines


_engines: dict[str, OcrEngine] = {}
_engine_lock = threading.Lock()


def shared_engine() -> OcrEngine:
    """The process's OCR engine, loaded on first use."""
    with _engine_lock:
        if "shared" not in _engines:
            _engines["shared"] = OcrEngine()
        return _engines["shared"]


_read: list[tuple[weakref.ref[Frame], int, list[TextLine]]] = []
_read_lock = threading.Lock()
_KEEP = 8


def read_lines(frame: Frame, engine: OcrEngine | None = None) -> list[TextLine]:
    """The lines read in ``frame`` (its pixels), reading it only once while the frame lives."""
    engine = engine or shared_engine()
    with _read_lock:
        _read[:] = [entry for entry in _read if entry[0]() is not None]
        for ref, engine_id, lines in _read:
            if ref() is frame and engine_id == id(engine):
                return lines
    lines = engine.read(frame.pixels)
    with _read_lock:
        _read.append((weakref.ref(frame), id(engine), lines))
        del _read[:-_KEEP]
    return lines


def _near(a: TextLine, b: TextLine) -> bool:
    """Whether two lines belong to one block: stacked close and overlapping sideways, or on one row."""
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    size = max(a.height, b.height)
    if max(a.height, b.height) > 3 * min(a.height, b.height):
        return False
    x_overlap = min(ax + aw, bx + bw) - max(ax, bx)
    y_gap = max(ay, by) - min(ay + ah, by + bh)
    if x_overlap > 0 and y_gap <= 1.0 * size:
        return True
    x_gap = -x_overlap
    same_row = abs(a.centre[1] - b.centre[1]) <= 0.5 * size
    return same_row and x_gap <= 1.5 * size


def group_blocks(lines: list[TextLine]) -> list[list[TextLine]]:
    """The lines in blocks (each block top to bottom), the blocks in reading order."""
    parent = list(range(len(lines)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if _near(lines[i], lines[j]):
                parent[root(i)] = root(j)
    groups: dict[int, list[TextLine]] = {}
    for i, line in enumerate(lines):
        groups.setdefault(root(i), []).append(line)
    blocks = [sorted(group, key=lambda line: (line.centre[1], line.centre[0])) for group in groups.values()]
    return sorted(
        blocks, key=lambda block: (min(line.box[1] for line in block), min(line.box[0] for line in block))
    )


def block_text(block: list[TextLine]) -> str:
    """A block's words: lines on one row joined by spaces (left to right), rows by newlines."""
    rows: list[list[TextLine]] = []
    for line in sorted(block, key=lambda line: line.centre[1]):
        if rows and abs(rows[-1][-1].centre[1] - line.centre[1]) <= 0.5 * min(
            rows[-1][-1].height, line.height
        ):
            rows[-1].append(line)
        else:
            rows.append([line])
    return "\n".join(
        " ".join(line.text for line in sorted(row, key=lambda line: line.centre[0])) for row in rows
    )


def union_box(lines: list[TextLine]) -> tuple[float, float, float, float]:
    """The upright box around ``lines`` (frame pixels)."""
    x0 = min(line.box[0] for line in lines)
    y0 = min(line.box[1] for line in lines)
    x1 = max(line.box[0] + line.box[2] for line in lines)
    y1 = max(line.box[1] + line.box[3] for line in lines)
    return x0, y0, x1 - x0, y1 - y0


def line_detail(frame: Frame, line: TextLine) -> dict[str, Any]:
    """A line as a sighting's detail shows it (box in the original's pixels)."""
    return {"text": line.text, "score": round(line.score, 3), "box": list(frame.to_original(line.box))}


class OcrDetector:
    """``text`` sightings: each block of lines read, its words as evidence."""

    name = "ocr"

    def __init__(self, engine: OcrEngine | None = None) -> None:
        self._engine = engine

    def detect(self, frame: Frame) -> list[Sighting]:
        lines = read_lines(frame, self._engine)
        sightings: list[Sighting] = []
        for block in group_blocks(lines):
            sightings.append(
                Sighting(
                    kind="text",
                    evidence=block_text(block),
                    score=round(sum(line.score for line in block) / len(block), 3),
                    box=frame.to_original(union_box(block)),
                    at=frame.at,
                    detail={"lines": [line_detail(frame, line) for line in block]},
                )
            )
        return sightings
