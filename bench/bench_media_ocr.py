"""Benchmark text in pictures (OCR), documents and plates; prints its figures.

1. Speed: the three detectors (OCR read once per frame) on 2-megapixel frames, the
   size the reader scales photos to: clean photos (scikit-image's samples, scaled
   up), a memo on a desk, a monitor, a car with a plate. Reports the median and
   p90 over ``--runs`` runs per frame (the engine is loaded, and each frame's first
   run done, before timing starts), and the median CPU time (all threads: on a
   machine shared with other work, wall time swells but CPU time does not; on 2
   idle cores the wall time is at best half of it); also the engine's load time.
2. Recall: signs rendered with DejaVu and Liberation fonts at random sizes, angles,
   blur and lighting (seeded); reports the share of written words read, and memo
   pages of several sizes inside a 2-megapixel photo (the smaller the page, the
   smaller its text).

Usage: python bench/bench_media_ocr.py [--runs 5] [--signs 40] [--det-side 960]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from postguard.media import ocr
from postguard.media.documents import DocumentDetector
from postguard.media.ocr import OcrDetector, OcrEngine
from postguard.media.plates import PlateDetector
from postguard.media.types import Frame

FONTS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf"),
]
PHRASES = [
    "Police incident room",
    "Authorised staff only",
    "Custody suite entrance",
    "Shift rota week 24",
    "Vote Smith for mayor",
    "Keys at the front desk",
    "Interview room three",
    "Recording in progress",
    "Evidence store B",
    "Patrol route seven",
    "Operation Nightjar briefing",
    "Do not share outside the unit",
]
MEMO = [
    "CONFIDENTIAL - INTERNAL BRIEFING",
    "Operation Nightjar begins on Monday",
    "Surveillance of the warehouse at dawn",
    "Do not share outside the unit",
    "Informant code name Kestrel",
    "Contact Sergeant Doyle on extension 4411",
]
TWO_MP = (1632, 1224)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def sign(rng: random.Random) -> tuple[Image.Image, list[str]]:
    lines = rng.sample(PHRASES, 2)
    size = rng.choice([14, 18, 24, 32, 44])
    face = ImageFont.truetype(str(rng.choice([f for f in FONTS if f.exists()])), size)
    width = max(round(face.getlength(line)) for line in lines) + 2 * size
    board = Image.new("RGB", (width, round(len(lines) * size * 1.6 + size)), (240, 240, 235))
    draw = ImageDraw.Draw(board)
    for i, line in enumerate(lines):
        draw.text((size, size // 2 + round(i * size * 1.6)), line, font=face, fill=(25, 25, 30))
    angle = rng.choice([0, 0, 5, -8, 12, -15])
    ground = (rng.randrange(60, 200), rng.randrange(60, 200), rng.randrange(60, 200))
    if angle:
        board = board.rotate(angle, expand=True, fillcolor=ground, resample=Image.Resampling.BICUBIC)
    scene = Image.new("RGB", (board.width + 120, board.height + 120), ground)
    scene.paste(board, (60, 60))
    if rng.random() < 0.4:
        scene = scene.filter(ImageFilter.GaussianBlur(1))
    light = rng.choice([0.55, 0.8, 1.0, 1.0, 1.25])
    if light != 1.0:
        scene = ImageEnhance.Brightness(scene).enhance(light)
    return scene, lines


def memo_photo(page_share: float) -> Image.Image:
    """A memo page, ``page_share`` of the photo's width, on a desk, in a 2-megapixel photo."""
    page = Image.new("RGB", (850, 1100), (246, 246, 242))
    draw = ImageDraw.Draw(page)
    face = ImageFont.truetype(str(FONTS[4]), 36)
    for i, line in enumerate(MEMO):
        draw.text((60, 90 + i * 64), line, font=face, fill=(20, 20, 20))
    page = page.rotate(5, expand=True, fillcolor=(96, 70, 48), resample=Image.Resampling.BICUBIC)
    target = round(TWO_MP[0] * page_share)
    page = page.resize((target, round(page.height * target / page.width)), Image.Resampling.LANCZOS)
    desk = Image.new("RGB", TWO_MP, (96, 70, 48))
    desk.paste(page, ((TWO_MP[0] - page.width) // 2, max(0, (TWO_MP[1] - page.height) // 2)))
    return desk


def two_megapixels(img: Image.Image) -> Image.Image:
    scale = (TWO_MP[0] * TWO_MP[1] / (img.width * img.height)) ** 0.5
    return img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC)


def speed_frames() -> dict[str, Image.Image]:
    from skimage import data

    frames = {
        name: two_megapixels(Image.fromarray(getattr(data, name)()))
        for name in ("astronaut", "coffee", "chelsea", "rocket")
    }
    frames["memo (page 60% wide)"] = memo_photo(0.6)
    scene = Image.new("RGB", (640, 420), (110, 150, 200))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((140, 120, 500, 320), fill=(170, 25, 30))
    draw.rectangle((235, 235, 405, 277), fill=(250, 210, 30), outline=(10, 10, 10), width=2)
    draw.text((250, 239), "AB12 CDE", font=ImageFont.truetype(str(FONTS[2]), 28), fill=(10, 10, 10))
    frames["car with plate"] = two_megapixels(scene)
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--signs", type=int, default=40)
    parser.add_argument("--det-side", type=int, default=ocr.DET_SIDE)
    args = parser.parse_args()

    started = time.perf_counter()
    engine = OcrEngine(det_side=args.det_side)
    print(
        f"engine loaded in {1000 * (time.perf_counter() - started):.0f} ms"
        f" (detection side {args.det_side} px)"
    )
    detectors = [OcrDetector(engine), DocumentDetector(engine), PlateDetector(engine)]

    print("\nspeed on 2-megapixel frames (all three detectors, OCR once):")
    for name, img in speed_frames().items():
        pixels = np.asarray(img.convert("RGB"))
        timings, cpu = [], []
        found: list[str] = []
        for run in range(args.runs + 1):
            frame = Frame(pixels=pixels)
            began, began_cpu = time.perf_counter(), time.process_time()
            found = [f"{s.kind}: {s.evidence[:40]!r}" for d in detectors for s in d.detect(frame)]
            if run:
                timings.append(1000 * (time.perf_counter() - began))
                cpu.append(1000 * (time.process_time() - began_cpu))
        timings.sort()
        p90 = timings[min(len(timings) - 1, round(0.9 * (len(timings) - 1)))]
        print(
            f"  {name:24} {img.width}x{img.height}  p50 {statistics.median(timings):5.0f} ms"
            f"  p90 {p90:5.0f} ms  cpu {statistics.median(cpu):5.0f} ms  {found}"
        )

    print(f"\nrecall on {args.signs} rendered signs (seeded):")
    rng = random.Random(13)
    written = read = 0
    for _ in range(args.signs):
        img, lines = sign(rng)
        got = words(" ".join(s.evidence for s in OcrDetector(engine).detect(Frame(pixels=np.asarray(img)))))
        expected = words(" ".join(lines))
        written += len(expected)
        read += sum(w in got for w in expected)
    print(f"  words read {read}/{written} = {read / max(1, written):.3f}")

    print("\nmemo pages in a 2-megapixel photo:")
    for share in (0.3, 0.45, 0.6, 0.9):
        frame = Frame(pixels=np.asarray(memo_photo(share)))
        got = words(" ".join(s.evidence for s in OcrDetector(engine).detect(frame)))
        expected = words(" ".join(MEMO))
        docs = [s.kind for s in DocumentDetector(engine).detect(frame)]
        hits = sum(w in got for w in expected)
        print(f"  page {int(share * 100)}% wide: words read {hits}/{len(expected)}, {docs}")


if __name__ == "__main__":
    main()
