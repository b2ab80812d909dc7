"""The labelled media set (issue 13, item 6): pictures and short videos the project makes.

Nothing here is downloaded or committed as pixels: every case is drawn from its own
parameters and the set's seed, so ``write_set(root, seed)`` makes the same files (same bytes)
and the same labels each time. The labels are committed (``data/media/labels.jsonl``); the
pictures are made when they are needed (``python -m postguard.training.media_set DIR``).

What the set holds:

- **faces** from photographs that ship with scikit-image (``astronaut()``: a frontal face;
  ``camera()``: a turned one; ``lfw_subset()``: small frontal faces from Labeled Faces in the
  Wild), pasted at several sizes and places on plain, textured or photographic backgrounds,
  each with its box;
- **text**: rendered memos, placards, whiteboards (what the policy forbids) and benign signs,
  in several fonts, turned, blurred and lit unevenly;
- **metadata**: photographs with an EXIF GPS position (written with Pillow) and without;
- **plates**: registration plates on simple drawn cars;
- **clean** pictures: scikit-image landscapes and objects, plain photographs, benign signs;
- **videos** (640x360, 2-4 s) where a face, a memo or a plate appears at a known time.

Each case is one JSON line shaped like the text evaluation's, with the media part added::

    {"id", "text", "labels": [clause...], "context": {"attachments": [file]},
     "media": {"file", "kinds": [kind...], "boxes": [{"kind", "box": [x, y, w, h], "at"?}],
               "tags": [...], "params": {...}}}

``labels`` are the clauses a checker should cite for the attachment; ``kinds`` the kinds of
thing it should find. Tags say what a case tests (``frontal``, ``legible``, ``clean``...) so
the figures can be cut by them (face recall is measured on ``frontal`` faces at least 40 px).
"""

from __future__ import annotations

import io
import json
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["SEED", "MediaCase", "cases", "clause_ids", "render", "write_set"]

SEED = 13


@cache
def clause_ids() -> tuple[str, str]:
    """The shipped pack's clauses for confidential material and for political activity."""
    from postguard.policy.loader import load_pack

    pack = load_pack()
    political = next(c.id for c in pack.content_clauses if "politic" in f"{c.title} {c.name}".lower())
    return pack.clause_for("confidential-material"), political


def _conf() -> str:
    return clause_ids()[0]


def _pol() -> str:
    return clause_ids()[1]


FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
BOLD_FONTS = FONTS[5:]

#: The astronaut's face in ``skimage.data.astronaut()`` (x, y, w, h), and the head around it
#: that is pasted (x0, y0, x1, y1).
ASTRONAUT_FACE = (178, 62, 92, 120)
ASTRONAUT_HEAD = (150, 10, 300, 230)
#: The cameraman's face in ``skimage.data.camera()`` (three-quarter profile, at his camera).
CAMERA_FACE = (186, 112, 68, 80)

MEMOS = (
    ("INTERNAL MEMO", "Operation Harbour: raid planned 05:00", "Teams meet at the depot. Do not share."),
    (
        "INTERNAL MEMO - CONFIDENTIAL",
        "Search warrant at 14 Mill Lane, 05:00 Tuesday",
        "Armed unit on standby.",
    ),
    ("RESTRICTED BRIEFING", "Raid planned 05:00 at the Elm Street address", "Surveillance van on Park Road."),
)
PLACARDS = ("VOTE FOR SMITH", "VOTE SMITH ON THURSDAY", "RE-ELECT MAYOR SMITH")
WHITEBOARDS = (
    ("WITNESSES", "Jane Carter - 12 Oak Road", "Mohammed Patel - 7 Hill St"),
    ("VICTIM DETAILS", "Sarah Jones, aged 15", "Case 24/1187"),
)
BENIGN = ("ROAD CLOSED", "Community open day", "Police station front desk", "KEEP LEFT", "Lost property")
PLATES = ("AB12 CDE", "KX19 LMN", "YR68 TPS", "GH07 WQZ", "PL21 BOD", "MT15 RRA")


@dataclass(frozen=True)
class MediaCase:
    """One labelled picture or video: what it holds, and how to make it."""

    id: str
    file: str
    maker: str
    params: dict[str, Any]
    labels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    boxes: tuple[dict[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    text: str = "Photo attached."
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_video(self) -> bool:
        return self.file.endswith(".mp4")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "labels": list(self.labels),
            "context": {"attachments": [self.file]},
            "media": {
                "file": self.file,
                "kinds": list(self.kinds),
                "boxes": list(self.boxes),
                "tags": list(self.tags),
                "maker": self.maker,
                "params": self.params,
            },
        }


# ---------------------------------------------------------------- the cases


def cases(seed: int = SEED) -> list[MediaCase]:
    """Every case of the set, its parameters drawn from ``seed`` (same seed, same cases)."""
    rnd = random.Random(seed)
    out: list[MediaCase] = []
    out += list(_face_cases(rnd))
    out += list(_text_cases(rnd))
    out += list(_plate_cases(rnd))
    out += list(_metadata_cases(rnd))
    out += list(_clean_cases(rnd))
    out += list(_video_cases(rnd))
    return out


BACKGROUNDS = ("plain", "gradient", "grass", "brick", "gravel", "coffee", "rocket", "hubble")


def _face_cases(rnd: random.Random) -> Iterator[MediaCase]:
    sizes = (40, 44, 48, 56, 64, 80, 96, 128, 160, 200, 260, 320)
    n = 0
    for size in sizes:
        for _ in range(3):
            n += 1
            w, h = rnd.choice(((1600, 1200), (1920, 1080), (1280, 960)))
            fw = size
            fh = round(size * ASTRONAUT_FACE[3] / ASTRONAUT_FACE[2])
            x = rnd.randrange(0, w - fw * 2)
            y = rnd.randrange(0, h - fh * 2)
            params = {
                "w": w,
                "h": h,
                "face_w": fw,
                "x": x,
                "y": y,
                "background": rnd.choice(BACKGROUNDS),
                "light": round(rnd.uniform(0.75, 1.2), 2),
                "blur": rnd.choice((0.0, 0.0, 0.6, 1.0)),
                "quality": rnd.choice((80, 90, 95)),
                "seed": rnd.randrange(1 << 30),
            }
            box = _pasted_face_box(params)
            yield MediaCase(
                f"face-astronaut-{n:02d}",
                f"faces/astronaut-{n:02d}.jpg",
                "astronaut",
                params,
                (_conf(),),
                ("face",),
                ({"kind": "face", "box": list(box)},),
                ("frontal", f"face-{'small' if size < 64 else 'large'}"),
            )
    for i, side in enumerate((512, 1024, 1600)):
        k = side / 512
        fb = tuple(round(v * k) for v in ASTRONAUT_FACE)
        yield MediaCase(
            f"face-astronaut-whole-{i}",
            f"faces/astronaut-whole-{i}.png",
            "astronaut_whole",
            {"side": side},
            (_conf(),),
            ("face",),
            ({"kind": "face", "box": list(fb)},),
            ("frontal", "face-large"),
        )
    # Two faces in one picture.
    for i in range(3):
        params = {
            "w": 1600,
            "h": 1200,
            "faces": [
                [rnd.randrange(60, 160), rnd.randrange(40, 700), rnd.randrange(40, 500)],
                [rnd.randrange(60, 160), rnd.randrange(850, 1300), rnd.randrange(500, 900)],
            ],
            "seed": rnd.randrange(1 << 30),
        }
        boxes = []
        pairs: list[list[int]] = params["faces"]  # type: ignore[assignment]
        for fw, x, y in pairs:
            boxes.append({"kind": "face", "box": list(_pasted_face_box({"face_w": fw, "x": x, "y": y}))})
        yield MediaCase(
            f"face-pair-{i}",
            f"faces/pair-{i}.jpg",
            "astronaut_pair",
            params,
            (_conf(),),
            ("face",),
            tuple(boxes),
            ("frontal", "face-large"),
        )
    # The cameraman: a face turned away from the camera (not counted as frontal).
    for i, side in enumerate((512, 1024)):
        k = side / 512
        fb = tuple(round(v * k) for v in CAMERA_FACE)
        yield MediaCase(
            f"face-camera-{i}",
            f"faces/camera-{i}.png",
            "camera",
            {"side": side},
            (_conf(),),
            ("face",),
            ({"kind": "face", "box": list(fb)},),
            ("turned",),
        )
    # Small frontal faces from Labeled Faces in the Wild (25x25 crops, enlarged: soft).
    for i in range(4):
        picks = sorted(rnd.sample(range(100), 4))
        size = rnd.choice((56, 64, 80))
        params = {"picks": picks, "size": size, "seed": rnd.randrange(1 << 30)}
        boxes = [{"kind": "face", "box": list(b)} for b in _lfw_boxes(params)]
        yield MediaCase(
            f"face-lfw-{i}",
            f"faces/lfw-{i}.png",
            "lfw",
            params,
            (_conf(),),
            ("face",),
            tuple(boxes),
            ("lfw",),
        )


def _text_cases(rnd: random.Random) -> Iterator[MediaCase]:
    def look() -> dict[str, Any]:
        return {
            "font": rnd.randrange(len(FONTS)),
            "angle": round(rnd.uniform(-12, 12), 1),
            "blur": rnd.choice((0.0, 0.0, 0.8, 1.5)),
            "light": round(rnd.uniform(0.65, 1.1), 2),
            "background": rnd.choice(("desk", "wall", "grass", "brick")),
            "seed": rnd.randrange(1 << 30),
        }

    for i in range(12):
        lines = list(MEMOS[i % len(MEMOS)])
        p = {"kind": "paper", "lines": lines, **look()}
        yield MediaCase(
            f"text-memo-{i:02d}",
            f"text/memo-{i:02d}.jpg",
            "sign",
            p,
            (_conf(),),
            ("text", "document"),
            (),
            _legible(p),
        )
    for i in range(10):
        p = {"kind": "placard", "lines": [PLACARDS[i % len(PLACARDS)]], **look()}
        yield MediaCase(
            f"text-placard-{i:02d}",
            f"text/placard-{i:02d}.jpg",
            "sign",
            p,
            (_pol(),),
            ("text",),
            (),
            _legible(p),
        )
    for i in range(6):
        p = {"kind": "whiteboard", "lines": list(WHITEBOARDS[i % len(WHITEBOARDS)]), **look()}
        yield MediaCase(
            f"text-whiteboard-{i:02d}",
            f"text/whiteboard-{i:02d}.jpg",
            "sign",
            p,
            (_conf(),),
            ("text",),
            (),
            _legible(p),
        )
    for i in range(10):
        p = {"kind": "sign", "lines": [BENIGN[i % len(BENIGN)]], **look()}
        yield MediaCase(
            f"clean-sign-{i:02d}", f"clean/sign-{i:02d}.jpg", "sign", p, (), (), (), ("clean", "benign-text")
        )


def _legible(p: dict[str, Any]) -> tuple[str, ...]:
    return ("legible",) if p["blur"] <= 1.0 and abs(p["angle"]) <= 10 and p["light"] >= 0.7 else ("hard",)


def _plate_cases(rnd: random.Random) -> Iterator[MediaCase]:
    for i in range(10):
        p = {
            "w": 1600,
            "h": 1200,
            "plate": PLATES[i % len(PLATES)],
            "car": [rnd.randrange(40, 220) for _ in range(3)],
            "x": rnd.randrange(100, 500),
            "y": rnd.randrange(200, 500),
            "scale": round(rnd.uniform(0.8, 1.6), 2),
            "rear": rnd.random() < 0.5,
            "background": rnd.choice(("plain", "gradient", "gravel")),
            "seed": rnd.randrange(1 << 30),
        }
        box = _car_plate_box(p)
        yield MediaCase(
            f"plate-{i:02d}",
            f"plates/plate-{i:02d}.jpg",
            "car",
            p,
            (_conf(),),
            ("plate",),
            ({"kind": "plate", "box": list(box)},),
            ("plate",),
        )


def _metadata_cases(rnd: random.Random) -> Iterator[MediaCase]:
    scenes = ("coffee", "rocket", "hubble", "grass", "brick", "gravel")
    for i in range(8):
        p = {
            "scene": scenes[i % len(scenes)],
            "lat": round(rnd.uniform(50.0, 55.0), 5),
            "lon": round(rnd.uniform(-3.0, 1.0), 5),
            "serial": f"SN{rnd.randrange(10**7, 10**8)}",
            "light": round(rnd.uniform(0.85, 1.1), 2),
        }
        yield MediaCase(
            f"meta-gps-{i:02d}",
            f"metadata/gps-{i:02d}.jpg",
            "photo_exif",
            p,
            (_conf(),),
            ("location",),
            (),
            ("metadata",),
        )


def _clean_cases(rnd: random.Random) -> Iterator[MediaCase]:
    scenes = (
        "coffee",
        "rocket",
        "hubble",
        "grass",
        "brick",
        "gravel",
        "chelsea",
        "coins",
        "moon",
        "colorwheel",
        "retina",
        "horse",
        "clock",
    )
    for i, scene in enumerate(scenes):
        p = {"scene": scene, "w": rnd.choice((1600, 1280, 1920)), "light": round(rnd.uniform(0.8, 1.15), 2)}
        yield MediaCase(
            f"clean-photo-{i:02d}", f"clean/photo-{i:02d}.jpg", "photo", p, (), (), (), ("clean",)
        )
    for i in range(6):
        p = {
            "w": 1600,
            "h": 1200,
            "background": ("plain", "gradient", "noise")[i % 3],
            "seed": rnd.randrange(1 << 30),
        }
        yield MediaCase(
            f"clean-plain-{i:02d}", f"clean/plain-{i:02d}.png", "plain", p, (), (), (), ("clean",)
        )


def _video_cases(rnd: random.Random) -> Iterator[MediaCase]:
    yield MediaCase(
        "video-face",
        "video/face.mp4",
        "video",
        {"seconds": 3, "show": "face", "from": 1.0, "seed": rnd.randrange(1 << 30)},
        (_conf(),),
        ("face",),
        ({"kind": "face", "box": list(_video_face_box()), "at": 1.0},),
        ("video", "frontal"),
    )
    yield MediaCase(
        "video-memo",
        "video/memo.mp4",
        "video",
        {"seconds": 4, "show": "memo", "from": 2.0, "seed": rnd.randrange(1 << 30)},
        (_conf(),),
        ("text", "document"),
        (),
        ("video", "legible"),
    )
    yield MediaCase(
        "video-plate",
        "video/plate.mp4",
        "video",
        {"seconds": 3, "show": "plate", "from": 1.0, "seed": rnd.randrange(1 << 30)},
        (_conf(),),
        ("plate",),
        (),
        ("video",),
    )
    yield MediaCase(
        "video-clean",
        "video/clean.mp4",
        "video",
        {"seconds": 2, "show": "none", "from": 0.0, "seed": rnd.randrange(1 << 30)},
        (),
        (),
        (),
        ("video", "clean"),
    )


# ---------------------------------------------------------------- drawing


@cache
def _sample(name: str) -> npt.NDArray[np.uint8]:
    from skimage import data

    img = np.asarray(getattr(data, name)())
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.shape[2] == 4:
        img = img[:, :, :3]
    return np.ascontiguousarray(img.astype(np.uint8))


def _background(kind: str, w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if kind == "plain":
        colour = tuple(int(v) for v in rng.integers(90, 230, 3))
        return Image.new("RGB", (w, h), colour)
    if kind == "gradient":
        a, b = rng.integers(60, 230, 3), rng.integers(60, 230, 3)
        t = np.linspace(0, 1, h)[:, None, None]
        arr = (a * (1 - t) + b * t) * np.ones((1, w, 1))
        return Image.fromarray(arr.astype(np.uint8))
    if kind == "noise":
        arr = rng.normal(128, 30, (h // 8, w // 8, 3)).clip(0, 255).astype(np.uint8)
        return Image.fromarray(arr).resize((w, h), Image.Resampling.BICUBIC)
    if kind in ("desk", "wall"):
        base = (150, 110, 70) if kind == "desk" else (205, 200, 190)
        arr = np.ones((h, w, 3)) * base + rng.normal(0, 6, (h, w, 1))
        return Image.fromarray(arr.clip(0, 255).astype(np.uint8))
    name = {"hubble": "hubble_deep_field"}.get(kind, kind)
    return Image.fromarray(_sample(name)).resize((w, h), Image.Resampling.BICUBIC)


def _light(img: Image.Image, light: float, seed: int) -> Image.Image:
    """Uneven light: a brightness ramp across the picture around ``light``."""
    rng = np.random.default_rng(seed + 1)
    w, h = img.size
    angle = rng.uniform(0, 2 * math.pi)
    xs = np.linspace(-1, 1, w)[None, :]
    ys = np.linspace(-1, 1, h)[:, None]
    ramp = light + 0.15 * (math.cos(angle) * xs + math.sin(angle) * ys)
    arr = np.asarray(img, dtype=np.float32) * ramp[:, :, None]
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def _head(face_w: int) -> Image.Image:
    k = face_w / ASTRONAUT_FACE[2]
    x0, y0, x1, y1 = ASTRONAUT_HEAD
    head = Image.fromarray(_sample("astronaut")).crop((x0, y0, x1, y1))
    return head.resize((max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k))), Image.Resampling.LANCZOS)


def _pasted_face_box(p: dict[str, Any]) -> tuple[int, int, int, int]:
    k = p["face_w"] / ASTRONAUT_FACE[2]
    fx, fy, fw, fh = ASTRONAUT_FACE
    return (
        p["x"] + round((fx - ASTRONAUT_HEAD[0]) * k),
        p["y"] + round((fy - ASTRONAUT_HEAD[1]) * k),
        round(fw * k),
        round(fh * k),
    )


def _lfw_boxes(p: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    size = p["size"]
    gap = size * 2
    return [(gap + i * (size + gap), 300, size, size) for i in range(len(p["picks"]))]


def _car_plate_box(p: dict[str, Any]) -> tuple[int, int, int, int]:
    s = p["scale"]
    car_w = round(520 * s)
    pw, ph = round(150 * s), round(34 * s)
    px = p["x"] + (car_w - pw) // 2
    py = p["y"] + round(150 * s)
    return px, py, pw, ph


def _video_face_box() -> tuple[int, int, int, int]:
    return _pasted_face_box({"face_w": 90, "x": 260, "y": 60})


def _draw_sign(p: dict[str, Any], size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    w, h = size
    bg = _background(p["background"], w, h, p["seed"])
    kind = p["kind"]
    font_path = (
        FONTS[p["font"]] if kind in ("paper", "whiteboard") else BOLD_FONTS[p["font"] % len(BOLD_FONTS)]
    )
    if kind == "paper":
        sheet_w, sheet_h, colour, ink = 900, 620, (250, 248, 240), (20, 20, 30)
        sizes = [52, 40, 34]
    elif kind == "whiteboard":
        sheet_w, sheet_h, colour, ink = 1100, 560, (245, 246, 248), (20, 40, 160)
        sizes = [60, 46, 46]
    elif kind == "placard":
        sheet_w, sheet_h, colour, ink = 1100, 420, (255, 255, 255), (200, 20, 20)
        sizes = [110]
    else:
        sheet_w, sheet_h, colour, ink = 1000, 360, (250, 250, 250), (10, 10, 10)
        sizes = [96]
    sheet = Image.new("RGBA", (sheet_w, sheet_h), (*colour, 255))
    draw = ImageDraw.Draw(sheet)
    y = 50
    for line, first_size in zip(p["lines"], sizes * 3, strict=False):
        fs = first_size
        font = ImageFont.truetype(font_path, fs)
        # Shrink a line that would not fit.
        while draw.textlength(line, font=font) > sheet_w - 80 and fs > 16:
            fs -= 4
            font = ImageFont.truetype(font_path, fs)
        x = (sheet_w - draw.textlength(line, font=font)) / 2 if kind in ("placard", "sign") else 40
        if kind in ("placard", "sign"):
            y = (sheet_h - fs) // 2 - 10
        draw.text((x, y), line, fill=ink, font=font)
        y += int(fs * 1.7)
    if kind == "sign":
        draw.rectangle((8, 8, sheet_w - 9, sheet_h - 9), outline=(200, 20, 20), width=14)
    sheet = sheet.rotate(p["angle"], expand=True, resample=Image.Resampling.BICUBIC)
    bg.paste(sheet, ((w - sheet.width) // 2, (h - sheet.height) // 2), sheet)
    if p["blur"]:
        bg = bg.filter(ImageFilter.GaussianBlur(p["blur"]))
    return _light(bg, p["light"], p["seed"])


def _draw_car(p: dict[str, Any], canvas: Image.Image | None = None) -> Image.Image:
    img = canvas if canvas is not None else _background(p["background"], p["w"], p["h"], p["seed"])
    draw = ImageDraw.Draw(img)
    s, x, y = p["scale"], p["x"], p["y"]
    colour = tuple(p["car"])

    def sc(v: float) -> int:
        return round(v * float(s))

    car_w = sc(520)
    draw.rounded_rectangle(
        (x + sc(60), y - sc(90), x + car_w - sc(60), y + sc(20)), radius=sc(30), fill=colour
    )
    draw.rectangle((x + sc(100), y - sc(70), x + car_w - sc(100), y + sc(5)), fill=(70, 90, 110))
    draw.rounded_rectangle((x, y, x + car_w, y + sc(230)), radius=sc(25), fill=colour)
    for cx in (x + sc(30), x + car_w - sc(30) - sc(80)):
        draw.rectangle(
            (cx, y + sc(40), cx + sc(80), y + sc(80)), fill=(230, 60, 40) if p["rear"] else (240, 240, 210)
        )
    for cx in (x + sc(20), x + car_w - sc(110)):
        draw.rectangle((cx, y + sc(230), cx + sc(90), y + sc(290)), fill=(25, 25, 25))
    px, py, pw, ph = _car_plate_box(p)
    draw.rectangle(
        (px, py, px + pw, py + ph),
        fill=(250, 205, 20) if p["rear"] else (250, 250, 250),
        outline=(0, 0, 0),
        width=max(1, sc(2)),
    )
    font = ImageFont.truetype(BOLD_FONTS[0], max(8, sc(26)))
    tw = draw.textlength(p["plate"], font=font)
    draw.text((px + (pw - tw) / 2, py + sc(2)), p["plate"], fill=(0, 0, 0), font=font)
    return img


def _exif_gps(p: dict[str, Any]) -> Image.Exif:
    from PIL.ExifTags import GPS, IFD, Base

    def dms(v: float) -> tuple[float, float, float]:
        v = abs(v)
        d = int(v)
        m = int((v - d) * 60)
        return (float(d), float(m), round(((v - d) * 60 - m) * 60, 2))

    exif = Image.Exif()
    exif[Base.Make] = "Contoso"
    exif[Base.Model] = "Phone 12"
    exif[Base.BodySerialNumber if hasattr(Base, "BodySerialNumber") else 0xA431] = p["serial"]
    exif[Base.DateTimeOriginal] = "2026:11:03 05:12:44"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "N" if p["lat"] >= 0 else "S"
    gps[GPS.GPSLatitude] = dms(p["lat"])
    gps[GPS.GPSLongitudeRef] = "E" if p["lon"] >= 0 else "W"
    gps[GPS.GPSLongitude] = dms(p["lon"])
    return exif


def draw_image(case: MediaCase) -> Image.Image:
    """The picture of an image case (RGB)."""
    p = case.params
    if case.maker == "astronaut":
        img = _background(p["background"], p["w"], p["h"], p["seed"])
        img.paste(_head(p["face_w"]), (p["x"], p["y"]))
        if p["blur"]:
            img = img.filter(ImageFilter.GaussianBlur(p["blur"] * p["face_w"] / 100))
        return _light(img, p["light"], p["seed"])
    if case.maker == "astronaut_whole":
        return Image.fromarray(_sample("astronaut")).resize((p["side"], p["side"]), Image.Resampling.LANCZOS)
    if case.maker == "astronaut_pair":
        img = _background("gradient", p["w"], p["h"], p["seed"])
        for fw, x, y in p["faces"]:
            img.paste(_head(fw), (x, y))
        return img
    if case.maker == "camera":
        return Image.fromarray(_sample("camera")).resize((p["side"], p["side"]), Image.Resampling.LANCZOS)
    if case.maker == "lfw":
        from skimage import data

        faces = np.asarray(data.lfw_subset())  # type: ignore[no-untyped-call]
        img = _background("plain", 1600, 900, p["seed"])
        for pick, (x, y, size, _) in zip(p["picks"], _lfw_boxes(p), strict=True):
            f = Image.fromarray((faces[pick] * 255).clip(0, 255).astype(np.uint8)).convert("RGB")
            # The crop is tight: give it a margin of its own border colour, as a head would have.
            pad = Image.new("RGB", (size * 2, size * 2), tuple(int(v) for v in np.asarray(f)[0, 0]))
            pad.paste(f.resize((size, size), Image.Resampling.BICUBIC), (size // 2, size // 2))
            img.paste(pad, (x - size // 2, y - size // 2))
        return img
    if case.maker == "sign":
        return _draw_sign(p)
    if case.maker == "car":
        return _draw_car(p)
    if case.maker in ("photo", "photo_exif"):
        base = Image.fromarray(_sample({"hubble": "hubble_deep_field"}.get(p["scene"], p["scene"])))
        w = p.get("w", 1600)
        img = base.resize((w, round(base.height * w / base.width)), Image.Resampling.BICUBIC)
        return _light(img, p["light"], 7)
    if case.maker == "plain":
        return _background(p["background"], p["w"], p["h"], p["seed"])
    raise ValueError(f"no maker {case.maker!r}")


def render(case: MediaCase, root: Path) -> Path:
    """Write the case's file under ``root`` (deterministic) and return its path."""
    path = root / case.file
    path.parent.mkdir(parents=True, exist_ok=True)
    if case.is_video:
        _write_video(case, path)
        return path
    img = draw_image(case)
    if path.suffix == ".png":
        img.save(path, format="PNG")
    else:
        quality = int(case.params.get("quality", 90))
        if case.maker == "photo_exif":
            img.save(path, format="JPEG", quality=quality, exif=_exif_gps(case.params))
        else:
            img.save(path, format="JPEG", quality=quality)
    return path


def video_frames(
    case: MediaCase, fps: int = 10, size: tuple[int, int] = (640, 360)
) -> Iterator[tuple[float, npt.NDArray[np.uint8]]]:
    """The frames of a video case: (time, RGB pixels)."""
    p = case.params
    w, h = size
    base = _background("gradient", w, h, p["seed"])
    for i in range(int(p["seconds"] * fps)):
        t = i / fps
        img = base.copy()
        # Something moving, so the frames differ.
        d = ImageDraw.Draw(img)
        cx = int((t / p["seconds"]) * (w - 40))
        d.ellipse((cx, h - 50, cx + 30, h - 20), fill=(40, 90, 160))
        if t >= p["from"]:
            if p["show"] == "face":
                img.paste(_head(90), (260, 60))
            elif p["show"] == "memo":
                sign = _draw_sign(
                    {
                        "kind": "paper",
                        "lines": list(MEMOS[0]),
                        "font": 0,
                        "angle": 0.0,
                        "blur": 0.0,
                        "light": 1.0,
                        "background": "desk",
                        "seed": p["seed"],
                    }
                )
                img = sign.resize((w, h), Image.Resampling.LANCZOS)
            elif p["show"] == "plate":
                _draw_car(
                    {
                        "plate": PLATES[0],
                        "car": [150, 30, 30],
                        "x": 120,
                        "y": 120,
                        "scale": 0.75,
                        "rear": True,
                    },
                    img,
                )
        yield t, np.asarray(img)


def _write_video(case: MediaCase, path: Path, fps: int = 10) -> None:
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = 640, 360
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 1_500_000
        stream.codec_context.thread_count = 1
        for _, pixels in video_frames(case, fps):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    path.write_bytes(buf.getvalue())


def write_set(root: Path, seed: int = SEED, *, labels: Path | None = None) -> list[MediaCase]:
    """Make every file of the set under ``root`` and write its labels (``root/labels.jsonl``)."""
    root.mkdir(parents=True, exist_ok=True)
    made = cases(seed)
    for case in made:
        render(case, root)
    target = labels or root / "labels.jsonl"
    target.write_text("".join(json.dumps(c.to_dict(), sort_keys=True) + "\n" for c in made), encoding="utf-8")
    return made


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m postguard.training.media_set DIR [SEED]", file=sys.stderr)
        return 2
    seed = int(args[1]) if len(args) > 1 else SEED
    made = write_set(Path(args[0]), seed)
    print(f"{len(made)} cases written under {args[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
