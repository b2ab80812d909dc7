"""A safe copy of a photo or video: re-encoded from its pixels alone, with the places given blurred.

The copy carries nothing of the original but what it shows: no EXIF, XMP, IPTC, ICC
profile or comment is written (a photo's orientation is applied to the pixels first,
so it still stands the right way up). Every box given is pixelated into coarse
blocks and then blurred, so what was there cannot be read back at the copy's
resolution. Images keep their format (JPEG, PNG, WebP; GIF becomes PNG and HEIC
becomes JPEG, which this copy can always write); videos become H.264 MP4 (AAC audio
when there is sound), and a box found at ``at`` seconds is blurred in the frames
from one second before to one second after (every frame when it has no time).

The copy is written atomically: to a temporary file beside ``out``, then renamed.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from postguard.media.types import MediaError

__all__ = [
    "IMAGE_FORMATS",
    "VIDEO_SUFFIXES",
    "WINDOW_SECONDS",
    "Blur",
    "RedactResult",
    "blurs_of",
    "is_video",
    "output_suffix",
    "redact",
]

#: A box seen at ``at`` seconds is blurred from ``at - WINDOW_SECONDS`` to ``at + WINDOW_SECONDS``.
WINDOW_SECONDS = 1.0
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv"})
#: The format each image format is written back as (Pillow's names).
IMAGE_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG", "HEIF": "JPEG"}
_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


@dataclass(frozen=True)
class Blur:
    """One place to blur: ``box`` ``[x, y, w, h]`` in the original's pixels, ``at`` seconds in a video."""

    box: tuple[int, int, int, int]
    at: float | None = None


class _Boxed(Protocol):
    @property
    def box(self) -> tuple[int, int, int, int] | None: ...

    @property
    def at(self) -> float | None: ...


@dataclass(frozen=True)
class RedactResult:
    """What was written: where, in which format, its size, and what was blurred and stripped."""

    path: Path
    format: str
    width: int
    height: int
    blurred: tuple[Blur, ...]
    metadata_stripped: bool
    frames: int = 1
    frames_blurred: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "blurred": [{"box": list(b.box), "at": b.at} for b in self.blurred],
            "metadata_stripped": self.metadata_stripped,
            "frames": self.frames,
            "frames_blurred": self.frames_blurred,
        }


def blurs_of(items: Iterable[_Boxed | Blur | tuple[int, int, int, int]]) -> tuple[Blur, ...]:
    """The places to blur in findings, sightings, :class:`Blur` s or bare ``(x, y, w, h)`` boxes
    (those with no box, a position in the metadata say, are skipped: the copy drops them anyway)."""
    out: list[Blur] = []
    for item in items:
        if isinstance(item, Blur):
            out.append(item)
        elif isinstance(item, tuple):
            out.append(Blur(_box(item)))
        elif item.box is not None:
            out.append(Blur(_box(item.box), item.at))
    return tuple(out)


def _box(box: Iterable[Any]) -> tuple[int, int, int, int]:
    values = tuple(int(v) for v in box)
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        raise MediaError(f"a box is [x, y, w, h] with a positive width and height, not {list(values)}")
    return values[0], values[1], values[2], values[3]


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def output_suffix(path: Path) -> str:
    """The suffix the safe copy of ``path`` gets (HEIC and GIF change format; video becomes MP4)."""
    suffix = path.suffix.lower()
    if is_video(path):
        return ".mp4"
    if suffix in (".heic", ".heif"):
        return ".jpg"
    if suffix == ".gif":
        return ".png"
    return suffix if suffix in (".jpg", ".jpeg", ".png", ".webp") else ".png"


def redact(
    path: Path | str,
    out: Path | str,
    boxes: Iterable[_Boxed | Blur | tuple[int, int, int, int]],
    *,
    strip_metadata: bool = True,
) -> RedactResult:
    """Write a safe copy of the photo or video ``path`` to ``out``, every box in ``boxes`` blurred.

    ``out``'s suffix is made to fit the format written (``photo.heic`` → ``.jpg``, a video
    → ``.mp4``); the result says where the copy went. ``strip_metadata=False`` keeps a
    photo's EXIF (less its orientation, which is applied): for a copy that is only
    blurred. Raises :class:`MediaError` for a file that cannot be read or written.
    """
    source, target = Path(path), Path(out)
    if not source.is_file():
        raise MediaError(f"{source}: no such file")
    blurs = blurs_of(boxes)
    suffix = output_suffix(source)
    if target.suffix.lower() != suffix and not (suffix == ".jpg" and target.suffix.lower() == ".jpeg"):
        target = target.with_suffix(suffix)
    if target.resolve() == source.resolve():
        raise MediaError(f"{target}: the safe copy must not overwrite the original")
    if is_video(source):
        return _redact_video(source, target, blurs)
    return _redact_image(source, target, blurs, strip_metadata=strip_metadata)


@contextmanager
def _atomic(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it when the block ends without error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - the extra is installed where media is checked
        raise MediaError("media support is not installed: pip install 'postguard[media]'") from exc
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # pragma: no cover - HEIC is then unreadable, said below
        pass
    return Image


def _clamp(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int] | None:
    x, y, w, h = box
    left, top = max(0, x), max(0, y)
    right, bottom = min(width, x + w), min(height, y + h)
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def _blur_region(image: Any, box: tuple[int, int, int, int]) -> bool:
    """Pixelate then blur ``box`` of the Pillow ``image`` in place; False when it lies outside."""
    from PIL import Image, ImageFilter

    area = _clamp(box, image.width, image.height)
    if area is None:
        return False
    left, top, right, bottom = area
    w, h = right - left, bottom - top
    # Blocks of about a sixth of the box's shorter side (at least 8 px): a face, a plate or a
    # line of text becomes a few coarse blocks, and the blur then removes their edges.
    block = max(8, min(w, h) // 6)
    region = image.crop(area)
    small = region.resize((max(1, math.ceil(w / block)), max(1, math.ceil(h / block))), Image.Resampling.BOX)
    coarse = small.resize((w, h), Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(block))
    image.paste(coarse, area)
    return True


def _redact_image(
    source: Path, target: Path, blurs: tuple[Blur, ...], *, strip_metadata: bool
) -> RedactResult:
    _pillow()
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(source) as opened:
            fmt = IMAGE_FORMATS.get(str(opened.format))
            if fmt is None:
                raise MediaError(f"{source}: a {opened.format} image cannot be made into a safe copy")
            exif = opened.getexif() if not strip_metadata else None
            upright = ImageOps.exif_transpose(opened)
            has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            mode = "RGBA" if has_alpha and fmt != "JPEG" else "RGB"
            # Only the pixels cross over: a new image knows nothing of the original's info.
            pixels = upright.convert(mode)
            clean = Image.new(mode, pixels.size)
            clean.paste(pixels)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MediaError(f"{source}: not a readable image ({exc})") from exc
    done = tuple(b for b in blurs if _blur_region(clean, b.box))
    options: dict[str, Any] = {}
    if fmt == "JPEG":
        options = {"quality": 90, "optimize": True}
    elif fmt == "WEBP":
        options = {"quality": 90}
    if exif is not None:
        exif.pop(0x0112, None)  # orientation: already applied to the pixels
        options["exif"] = exif.tobytes()
    with _atomic(target) as tmp:
        clean.save(tmp, format=fmt, **options)
    return RedactResult(target, fmt, clean.width, clean.height, done, strip_metadata)


def _redact_video(source: Path, target: Path, blurs: tuple[Blur, ...]) -> RedactResult:
    try:
        import av
        import av.error
    except ImportError as exc:  # pragma: no cover
        raise MediaError("video support is not installed: pip install 'postguard[media]'") from exc
    _pillow()
    import numpy as np
    from PIL import Image

    frames = blurred_frames = 0
    used: set[Blur] = set()
    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                raise MediaError(f"{source}: no video stream")
            vin = container.streams.video[0]
            ain = container.streams.audio[0] if container.streams.audio else None
            rate = vin.average_rate or vin.guessed_rate or 25
            with _atomic(target) as tmp, av.open(str(tmp), "w", format="mp4") as output:
                vout = output.add_stream("libx264", rate=rate)
                vout.width = vin.codec_context.width // 2 * 2
                vout.height = vin.codec_context.height // 2 * 2
                vout.pix_fmt = "yuv420p"
                vout.options = {"crf": "20", "preset": "veryfast"}
                aout = None
                if ain is not None:
                    aout = output.add_stream("aac", rate=ain.codec_context.sample_rate or 44100)
                streams = [vin] + ([ain] if ain is not None else [])
                for packet in container.demux(*streams):
                    for frame in packet.decode():
                        if isinstance(frame, av.VideoFrame):
                            at = float(frame.time) if frame.time is not None else None
                            picture = Image.fromarray(frame.to_ndarray(format="rgb24"))
                            hits = [b for b in blurs if _near(b, at)]
                            for blur in hits:
                                if _blur_region(picture, blur.box):
                                    used.add(blur)
                            frames += 1
                            blurred_frames += bool(hits)
                            if picture.size != (vout.width, vout.height):
                                picture = picture.crop((0, 0, vout.width, vout.height))
                            new = av.VideoFrame.from_ndarray(
                                np.asarray(picture, dtype=np.uint8), format="rgb24"
                            )
                            for out_packet in vout.encode(new):
                                output.mux(out_packet)
                        elif aout is not None and isinstance(frame, av.AudioFrame):
                            frame.pts = None
                            for out_packet in aout.encode(frame):
                                output.mux(out_packet)
                for out_packet in vout.encode(None):
                    output.mux(out_packet)
                if aout is not None:
                    for out_packet in aout.encode(None):
                        output.mux(out_packet)
                width, height = vout.width, vout.height
    except av.error.FFmpegError as exc:
        raise MediaError(f"{source}: the video cannot be read or re-encoded ({exc})") from exc
    done = tuple(b for b in blurs if b in used)
    return RedactResult(target, "MP4", width, height, done, True, frames, blurred_frames)


def _near(blur: Blur, at: float | None) -> bool:
    if blur.at is None or at is None:
        return True
    return abs(at - blur.at) <= WINDOW_SECONDS
