"""Opening an attachment: is it what its name says, within the pack's limits, and its frames.

:func:`open_medium` checks a file before anything decodes it: its size in bytes, its
first bytes against its extension (a PNG named ``.jpg``, a text file named ``.png``
are refused), then its dimensions (and a video's length) from its header. Only then
are pixels decoded, scaled down to the pack's ``analysis_pixels``:

- a still image (JPEG, PNG, WebP, HEIC, a one-frame GIF) is one :class:`Frame`,
  turned upright as its EXIF orientation says;
- an animated GIF, WebP or PNG gives a few frames spread over its length;
- a video (MP4, MOV, WebM) gives a frame every second and one at each scene change
  (the mean absolute difference of two consecutive frames' small greyscale
  thumbnails above :data:`SCENE_CHANGE`), each with its time ``at``.

Boxes are given in the pixels of the picture as it is shown (upright).
Every refusal is a :class:`MediaError` whose message says what is wrong.
"""

from __future__ import annotations

import hashlib
import importlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from postguard.media.types import Frame, MediaError

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from postguard.policy.schema import MediaRules

__all__ = [
    "EXTENSIONS",
    "INSTALL_HINT",
    "SCENE_CHANGE",
    "Medium",
    "MediumLimits",
    "open_medium",
    "require_media",
    "sniff",
]

INSTALL_HINT = "pip install 'postguard[media]'"

#: Mean absolute difference (0-255) between consecutive 32x18 greyscale thumbnails that marks a cut.
SCENE_CHANGE = 30.0
#: Seconds between the frames a video is sampled at (besides its scene changes).
SAMPLE_EVERY = 1.0
#: Frames looked at in an animated GIF, WebP or PNG.
ANIMATION_FRAMES = 4

Format = Literal["jpeg", "png", "gif", "webp", "heic", "mp4", "mov", "webm"]

#: What each extension promises.
EXTENSIONS: dict[str, Format] = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".jfif": "jpeg",
    ".png": "png",
    ".gif": "gif",
    ".webp": "webp",
    ".heic": "heic",
    ".heif": "heic",
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mov",
    ".qt": "mov",
    ".webm": "webm",
}
_VIDEO: frozenset[str] = frozenset({"mp4", "mov", "webm"})
#: Formats one container family shares: a phone's .mov is often an MP4 inside, and the reverse.
_SAME = {"mp4": {"mp4", "mov"}, "mov": {"mp4", "mov"}}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_NAMES = {
    "jpeg": "a JPEG image",
    "png": "a PNG image",
    "gif": "a GIF image",
    "webp": "a WebP image",
    "heic": "a HEIC image",
    "mp4": "an MP4 video",
    "mov": "a QuickTime (MOV) video",
    "webm": "a WebM video",
}


@dataclass(frozen=True)
class MediumLimits:
    """The bounds a file is read within (the pack's :class:`~postguard.policy.schema.MediaRules`)."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 100_000_000
    max_video_seconds: float = 600.0
    analysis_pixels: int = 2_000_000

    @classmethod
    def of(cls, rules: MediaRules | MediumLimits) -> MediumLimits:
        if isinstance(rules, MediumLimits):
            return rules
        return cls(rules.max_bytes, rules.max_pixels, rules.max_video_seconds, rules.analysis_pixels)


def require_media() -> None:
    """Raise :class:`MediaError` naming the extra when media support is not installed."""
    for module in ("numpy", "PIL.Image", "av"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MediaError(
                f"reading photos and videos needs media support, which is not installed "
                f"({exc.name or module} is missing): {INSTALL_HINT}"
            ) from exc


def sniff(head: bytes) -> Format | None:
    """The format the first bytes of a file show (``None``: none postguard reads)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = {head[i : i + 4] for i in range(16, min(len(head), 64), 4)}
        if brand in _HEIF_BRANDS or (brand not in (b"qt  ",) and compatible & {b"heic", b"heix"}):
            return "heic"
        return "mov" if brand == b"qt  " else "mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "mov"
    return None


def _describe(head: bytes) -> str:
    if not head:
        return "an empty file"
    if head.lstrip()[:1] in (b"{", b"[", b"<") or all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        return "text"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive"
    return "not a photo or video postguard reads"


@dataclass
class Medium:
    """An attachment checked and ready to look at."""

    path: Path
    kind: Literal["image", "video"]
    format: Format
    sha256: str
    size: int
    width: int
    height: int
    limits: MediumLimits
    #: A video's length in seconds (``None`` for an image).
    duration: float | None = None
    #: An image's frame count (>1: animated).
    frame_count: int = 1
    #: Where the metadata is read from: ``exif`` (an image's EXIF, XMP and IPTC) or ``container``
    #: (a video's tags, gathered here).
    metadata_source: Literal["exif", "container"] = "exif"
    tags: dict[str, str] = field(default_factory=dict)
    #: A still image's one frame, decoded when it was opened.
    decoded: Frame | None = field(default=None, repr=False)

    def frames(self) -> Iterator[Frame]:
        """The frames to look at (scaled down to ``analysis_pixels``; ``scale`` says by how much)."""
        if self.kind == "video":
            yield from _video_frames(self)
        else:
            yield from _image_frames(self)


def _fit(width: int, height: int, budget: int) -> tuple[int, int]:
    if width * height <= budget:
        return width, height
    ratio = (budget / (width * height)) ** 0.5
    return max(1, int(width * ratio)), max(1, int(height * ratio))


def _pil() -> Any:
    from PIL import Image

    if "HEIF" not in Image.registered_extensions().values():
        try:
            from pillow_heif import register_heif_opener
        except ImportError:  # HEIC alone is refused, below, when such a file comes
            pass
        else:
            register_heif_opener()
    return Image


def _open_image(path: Path, limits: MediumLimits) -> PILImage.Image:
    pil = _pil()
    pil.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pil.DecompressionBombWarning)
            return pil.open(path)  # type: ignore[no-any-return]
    except pil.DecompressionBombError as exc:
        raise MediaError(f"'{path.name}' is too large to read safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"'{path.name}' cannot be read as an image: {exc}") from exc


def open_medium(path: Path | str, limits: MediaRules | MediumLimits | None = None) -> Medium:
    """The attachment at ``path``, checked; :class:`MediaError` when it cannot be looked at."""
    require_media()
    bounds = MediumLimits.of(limits) if limits is not None else MediumLimits()
    file = Path(path)
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise MediaError(f"'{file.name}' is not a file")
    except OSError as exc:
        raise MediaError(f"'{file.name}' cannot be read: {exc.strerror or exc}") from exc
    if size > bounds.max_bytes:
        raise MediaError(
            f"'{file.name}' is too large: {size / 1e6:.1f} MB, over the policy's limit of "
            f"{bounds.max_bytes / 1e6:.1f} MB"
        )
    digest = hashlib.sha256()
    try:
        with file.open("rb") as fh:
            head = fh.read(64)
            digest.update(head)
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise MediaError(f"'{file.name}' cannot be read: {exc.strerror or exc}") from exc
    seen = sniff(head)
    suffix = file.suffix.lower()
    promised = EXTENSIONS.get(suffix)
    if suffix and promised is None:
        raise MediaError(
            f"'{file.name}' is not a photo or video postguard reads (JPEG, PNG, WebP, GIF, HEIC; "
            "MP4, MOV, WebM)"
        )
    if seen is None:
        what = f"{_NAMES[promised]}" if promised else "a photo or video"
        raise MediaError(f"'{file.name}' is not {what}: its content is {_describe(head)}")
    if promised is not None and seen != promised and seen not in _SAME.get(promised, ()):
        raise MediaError(
            f"'{file.name}' is not what its extension says: it is {_NAMES[seen]}, not {_NAMES[promised]}"
        )
    fmt = seen
    common: dict[str, Any] = {
        "path": file,
        "format": fmt,
        "sha256": digest.hexdigest(),
        "size": size,
        "limits": bounds,
    }
    if fmt in _VIDEO:
        return _open_video(file, common, bounds)
    if fmt == "heic" and "HEIF" not in _pil().registered_extensions().values():
        raise MediaError(f"'{file.name}' is a HEIC image, and HEIC support is not installed: {INSTALL_HINT}")
    image = _open_image(file, bounds)
    with image:
        width, height = image.size
        if width * height > bounds.max_pixels:
            raise MediaError(
                f"'{file.name}' is too large: {width}x{height} pixels ({width * height / 1e6:.0f} MP), over "
                f"the policy's limit of {bounds.max_pixels / 1e6:.0f} MP"
            )
        orientation = image.getexif().get(0x0112, 1)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        count = int(getattr(image, "n_frames", 1) or 1)
        medium = Medium(kind="image", width=width, height=height, frame_count=count, **common)
        # Decode now, so that a damaged file is refused here (a still is kept for frames()).
        first = next(_frames_of(medium, image))
        if count == 1:
            medium.decoded = first
    return medium


def _image_frames(medium: Medium) -> Iterator[Frame]:
    if medium.decoded is not None:
        yield medium.decoded
        return
    with _open_image(medium.path, medium.limits) as image:
        yield from _frames_of(medium, image)


def _frames_of(medium: Medium, image: PILImage.Image) -> Iterator[Frame]:
    import numpy as np
    from PIL import ImageOps

    target = _fit(medium.width, medium.height, medium.limits.analysis_pixels)
    if medium.frame_count <= 1:
        try:
            image.draft("RGB", _fit(*image.size, medium.limits.analysis_pixels))
            rgb = ImageOps.exif_transpose(image).convert("RGB")
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise MediaError(f"'{medium.path.name}' is damaged or truncated: {exc}") from exc
        if rgb.size != target:
            rgb = rgb.resize(target, _pil().Resampling.BILINEAR, reducing_gap=2.0)
        yield Frame(np.asarray(rgb, dtype=np.uint8), scale=target[0] / medium.width)
        return
    last = medium.frame_count - 1
    picks = {round(i * last / (ANIMATION_FRAMES - 1)) for i in range(ANIMATION_FRAMES)}
    elapsed = 0.0
    for index in range(max(picks) + 1):  # frames are decoded in turn: each may draw on the last
        try:
            image.seek(index)
            shown = image.convert("RGB") if index in picks else None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise MediaError(f"'{medium.path.name}' is damaged or truncated: {exc}") from exc
        if shown is not None:
            if shown.size != target:
                shown = shown.resize(target, _pil().Resampling.BILINEAR, reducing_gap=2.0)
            yield Frame(
                np.asarray(shown, dtype=np.uint8), scale=target[0] / medium.width, at=round(elapsed, 3)
            )
        elapsed += float(image.info.get("duration", 0) or 0) / 1000


def _av_error() -> type[Exception]:
    import av

    return av.error.FFmpegError


def _open_video(file: Path, common: dict[str, Any], bounds: MediumLimits) -> Medium:
    import av

    try:
        with av.open(str(file)) as container:
            if not container.streams.video:
                raise MediaError(f"'{file.name}' has no video stream")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if container.duration is not None:
                duration = container.duration / 1_000_000
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
            tags = {**{str(k): str(v) for k, v in container.metadata.items()}}
            tags.update({f"stream:{k}": str(v) for k, v in stream.metadata.items()})
    except _av_error() as exc:
        raise MediaError(f"'{file.name}' cannot be read as a video: {exc}") from exc
    if width * height > bounds.max_pixels:
        raise MediaError(f"'{file.name}' is too large: {width}x{height} pixels per frame")
    if duration > bounds.max_video_seconds:
        raise MediaError(
            f"'{file.name}' is too long: {duration:.0f} s, over the policy's limit of "
            f"{bounds.max_video_seconds:.0f} s"
        )
    if width <= 0 or height <= 0:
        raise MediaError(f"'{file.name}' cannot be read as a video: no frame size")
    return Medium(
        kind="video",
        width=width,
        height=height,
        duration=duration,
        metadata_source="container",
        tags=tags,
        **common,
    )


def _video_frames(medium: Medium) -> Iterator[Frame]:
    import av
    import numpy as np

    target = _fit(medium.width, medium.height, medium.limits.analysis_pixels)
    target = (target[0] - target[0] % 2 or 2, target[1] - target[1] % 2 or 2)
    scale = target[0] / medium.width
    previous: Any = None
    next_sample = 0.0
    try:
        with av.open(str(medium.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                at = float(frame.time) if frame.time is not None else next_sample
                if at > medium.limits.max_video_seconds + 1:
                    raise MediaError(f"'{medium.path.name}' is longer than its header says")
                thumb = frame.to_ndarray(format="gray", width=32, height=18).astype(np.int16)
                cut = previous is not None and float(np.abs(thumb - previous).mean()) > SCENE_CHANGE
                previous = thumb
                if at + 1e-6 < next_sample and not cut:
                    continue
                while next_sample <= at + 1e-6:
                    next_sample += SAMPLE_EVERY
                pixels = frame.to_ndarray(format="rgb24", width=target[0], height=target[1])
                yield Frame(np.ascontiguousarray(pixels, dtype=np.uint8), scale=scale, at=round(at, 3))
    except _av_error() as exc:
        raise MediaError(f"'{medium.path.name}' is damaged or truncated: {exc}") from exc
