"""How long the media checks take (issue 13's bars), on this machine.

    .venv/bin/python bench/bench_media.py [--runs 7] [--video-seconds 10]

- a 12-megapixel photo (4000x3000 JPEG: a photograph with a face, a memo and a car with
  a plate on it) checked through the whole inspector (every installed detector), p50 and
  p90 over ``--runs`` runs (bar: 400 ms p50 on 2 cores), and the time of each part
  (opening and scaling, metadata, each detector) on the same frame;
- a 1080p video (``--video-seconds`` long, made here with PyAV) checked through the
  inspector, in seconds against its duration (bar: at most 1x).

The first run of each is a warm-up (models load) and is not counted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from postguard.checks.types import Context, Post
from postguard.cli.common import load_checker
from postguard.media.inspect import load_inspector
from postguard.training.media_set import _draw_car, _draw_sign, _head, _sample


def make_photo(path: Path) -> None:
    img = Image.fromarray(_sample("coffee")).resize((4000, 3000), Image.Resampling.BICUBIC)
    img.paste(_head(260), (300, 300))
    sign = _draw_sign(
        {
            "kind": "paper",
            "lines": ["INTERNAL MEMO", "Operation Harbour: raid planned 05:00", "Do not share."],
            "font": 0,
            "angle": 4.0,
            "blur": 0.0,
            "light": 1.0,
            "background": "desk",
            "seed": 1,
        }
    )
    img.paste(sign.resize((1600, 1200)), (2200, 1600))
    _draw_car(
        {"plate": "AB12 CDE", "car": [150, 30, 30], "x": 400, "y": 1900, "scale": 2.0, "rear": True}, img
    )
    img.save(path, format="JPEG", quality=90)


def make_video(path: Path, seconds: int, fps: int = 25) -> None:
    import av

    base = np.asarray(Image.fromarray(_sample("rocket")).resize((1920, 1080)))
    head = np.asarray(_head(200))
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        for i in range(seconds * fps):
            frame = base.copy()
            shift = (i * 8) % 1400
            frame[100:140, shift : shift + 200] = (30, 90, 160)
            if i >= fps * seconds // 2:
                frame[300 : 300 + head.shape[0], 800 : 800 + head.shape[1]] = head
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--video-seconds", type=int, default=10)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-media-"))
    make_photo(root / "photo.jpg")
    make_video(root / "video.mp4", args.video_seconds)
    checker = load_checker(None, None)
    inspector = load_inspector(checker.pack, root)
    checker = checker.with_media(inspector)

    def check(name: str) -> tuple[float, list[str]]:
        started = time.perf_counter()
        report = checker.check_post(Post("Photo from today.", Context.from_dict({"attachments": [name]})))
        took = time.perf_counter() - started
        return took, sorted(f"{f.kind}:{f.clause}" for f in report.findings if f.attachment)

    _, found = check("photo.jpg")  # warm-up: the models load
    times = [check("photo.jpg")[0] * 1000 for _ in range(args.runs)]
    q = statistics.quantiles(times, n=10)
    p50 = statistics.median(times)
    print(f"12 MP photo (4000x3000), whole inspector, {args.runs} runs: p50 {p50:.0f} ms, p90 {q[8]:.0f} ms")
    print("  (bar: 400 ms p50)")
    print(f"  found: {', '.join(found)}")

    from postguard.media.metadata import read_metadata
    from postguard.media.read import open_medium

    parts: dict[str, list[float]] = {}
    for _ in range(3):
        t = time.perf_counter()
        medium = open_medium(root / "photo.jpg", checker.pack.media)
        frames = list(medium.frames())
        parts.setdefault("open + scale to ~2 MP", []).append(time.perf_counter() - t)
        t = time.perf_counter()
        read_metadata(medium)
        parts.setdefault("metadata", []).append(time.perf_counter() - t)
        for detector in inspector.detectors:
            t = time.perf_counter()
            for frame in frames:
                detector.detect(frame)
            parts.setdefault(f"detector {detector.name}", []).append(time.perf_counter() - t)
    print(f"  frame: {frames[0].width}x{frames[0].height} (scale {frames[0].scale:.3f})")
    for name, values in parts.items():
        print(f"  {name:<28} {statistics.median(values) * 1000:7.0f} ms")

    took, found = check("video.mp4")
    ratio = took / args.video_seconds
    print(
        f"1080p video, {args.video_seconds} s at 25 fps: checked in {took:.1f} s = {ratio:.2f}x its duration"
    )
    print("  (bar: at most 1x)")
    print(f"  found: {', '.join(found)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
