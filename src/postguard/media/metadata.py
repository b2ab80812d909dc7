"""What a file says about itself: EXIF, XMP and IPTC in a photo, the container's tags in a video.

:func:`read_metadata` answers :class:`~postguard.media.types.Sighting`\\ s with no box:

- ``location``: a GPS position (EXIF GPS, XMP ``exif:GPSLatitude``, a video's ISO 6709
  ``location`` tag), given in decimal degrees in the evidence; place names (IPTC
  city and sub-location, XMP ``photoshop:City``) with a lower score;
- ``metadata``: device serial numbers, owner, artist, author and copyright names, the
  camera that has a serial, and the time the picture was taken.

XMP is read with regular expressions over a bounded packet, never an XML parser
(no entity expansion).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from postguard.media.types import Kind, Sighting

if TYPE_CHECKING:
    from postguard.media.read import Medium

__all__ = ["iso6709", "read_metadata"]

#: How sure a sighting of each sort is (a position is operational detail; a bare time much less so).
_POSITION = 0.95
_PLACE = 0.7
_IDENTITY = 0.8
_TIME = 0.5

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
#: EXIF tags that name a person or a device (tag: label), in IFD0 and the Exif IFD.
_NAMES_IFD0 = {0x013B: "Artist", 0x8298: "Copyright", 0x9C9D: "Author (Windows)"}
_NAMES_EXIF = {0xA430: "Camera owner", 0xA431: "Body serial number", 0xA435: "Lens serial number"}
_TIMES_EXIF = {0x9003: "Taken", 0x9004: "Digitised"}
#: XMP properties (local name: label) that name a person or device, a time, a place.
_XMP_NAMES = {
    "creator": "Creator",
    "rights": "Rights",
    "Author": "Author",
    "AuthorsPosition": "Author's position",
    "CaptionWriter": "Caption writer",
    "SerialNumber": "Serial number",
    "BodySerialNumber": "Body serial number",
    "LensSerialNumber": "Lens serial number",
    "CameraOwnerName": "Camera owner",
    "OwnerName": "Owner",
}
_XMP_TIMES = {"DateTimeOriginal": "Taken", "DateCreated": "Created", "CreateDate": "Created"}
_XMP_PLACES = {"City": "City", "Location": "Location", "Sublocation": "Sub-location", "State": "State"}
#: IPTC datasets (record 2): label, and whether it is a place.
_IPTC = {
    (2, 80): ("By-line", False),
    (2, 85): ("By-line title", False),
    (2, 116): ("Copyright", False),
    (2, 122): ("Writer", False),
    (2, 90): ("City", True),
    (2, 92): ("Sub-location", True),
    (2, 95): ("Province/state", True),
}
#: Video container tags (lower-cased key: label) naming people or devices.
_VIDEO_NAMES = {
    "artist": "Artist",
    "author": "Author",
    "copyright": "Copyright",
    "com.apple.quicktime.author": "Author",
    "com.apple.quicktime.artist": "Artist",
}
_VIDEO_TIMES = {"creation_time": "Created", "com.apple.quicktime.creationdate": "Created", "date": "Date"}
_VIDEO_LOCATIONS = (
    "com.apple.quicktime.location.iso6709",
    "location",
    "location-eng",
    "com.android.location",
)

_ISO6709 = re.compile(r"^\s*([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
_XMP_MAX = 512 * 1024


def read_metadata(medium: Medium) -> list[Sighting]:
    """Every location and identifying detail the file's metadata holds."""
    if medium.metadata_source == "container":
        return list(_video(medium.tags))
    from postguard.media.read import _open_image

    with _open_image(medium.path, medium.limits) as image:
        found = list(_exif(image))
        found.extend(_xmp(_xmp_packet(image)))
        found.extend(_iptc(image))
    return _unique(found)


def _unique(found: Iterable[Sighting]) -> list[Sighting]:
    seen: set[tuple[str, str]] = set()
    out = []
    for s in found:
        key = (s.kind, s.evidence.casefold())
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        for encoding in ("utf-16-le", "utf-8", "latin-1") if value[1:2] == b"\0" else ("utf-8", "latin-1"):
            try:
                value = value.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    text = str(value).replace("\x00", "").strip()
    return re.sub(r"\s+", " ", text)[:200]


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    sign = -1.0 if _text(ref).upper()[:1] in ("S", "W") else 1.0
    return sign * (d + m / 60 + s / 3600)


def _position(lat: float, lon: float, source: str) -> Sighting | None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return Sighting(
        "location",
        f"{source}: {lat:.6f}, {lon:.6f}",
        _POSITION,
        detail={"latitude": round(lat, 6), "longitude": round(lon, 6), "source": source},
    )


def _exif(image: Any) -> Iterator[Sighting]:
    exif = image.getexif()
    gps = exif.get_ifd(_GPS_IFD)
    if gps.get(2) and gps.get(4):
        lat, lon = _degrees(gps[2], gps.get(1)), _degrees(gps[4], gps.get(3))
        if lat is not None and lon is not None and (found := _position(lat, lon, "EXIF GPS")):
            yield found
    extra = exif.get_ifd(_EXIF_IFD)
    serial = _text(extra.get(0xA431, ""))
    camera = " ".join(v for v in (_text(exif.get(0x010F, "")), _text(exif.get(0x0110, ""))) if v)
    for tags, labels in ((exif, _NAMES_IFD0), (extra, _NAMES_EXIF)):
        for tag, label in labels.items():
            if tag == 0xA431 and camera:  # said with the camera, below
                continue
            if (value := _text(tags.get(tag, ""))) and value.strip("0 ") and value.lower() != "unknown":
                yield Sighting(
                    "metadata", f"{label}: {value}", _IDENTITY, detail={"field": label, "source": "EXIF"}
                )
    if serial and camera:
        yield Sighting(
            "metadata",
            f"Camera: {camera}, serial {serial}",
            _IDENTITY,
            detail={"field": "Camera", "source": "EXIF"},
        )
    for tag, label in _TIMES_EXIF.items():
        if value := _text(extra.get(tag, "")):
            yield Sighting("metadata", f"{label}: {value}", _TIME, detail={"field": label, "source": "EXIF"})


def _xmp_packet(image: Any) -> str:
    raw: Any = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
    if not raw:
        app = getattr(image, "applist", None) or []
        for marker, payload in app:
            if marker == "APP1" and payload.startswith(b"http://ns.adobe.com/xap/1.0/\0"):
                raw = payload.split(b"\0", 1)[1]
                break
    if isinstance(raw, bytes):
        raw = raw[:_XMP_MAX].decode("utf-8", "replace")
    return str(raw)[:_XMP_MAX]


def _xmp_values(packet: str, name: str) -> list[str]:
    """The values of the XMP property ``prefix:name`` (an attribute, an element, or a list's items)."""
    values = re.findall(rf'\b\w+:{name}\s*=\s*"([^"]*)"', packet)
    for body in re.findall(rf"<\w+:{name}\b[^>]*>(.*?)</\w+:{name}>", packet, flags=re.S):
        items = re.findall(r"<rdf:li\b[^>]*>(.*?)</rdf:li>", body, flags=re.S)
        values.extend(items or [body])
    return [v for v in (_text(re.sub(r"<[^>]+>", "", v)) for v in values) if v]


def _xmp_degrees(value: str) -> float | None:
    match = re.fullmatch(
        r"\s*(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?\s*([NSEWnsew])\s*", value
    )
    if not match:
        try:
            return float(value)
        except ValueError:
            return None
    d, m, s, ref = match.groups()
    degrees = float(d) + float(m or 0) / 60 + float(s or 0) / 3600
    return -degrees if ref.upper() in ("S", "W") else degrees


def _xmp(packet: str) -> Iterator[Sighting]:
    if not packet:
        return
    lats, lons = _xmp_values(packet, "GPSLatitude"), _xmp_values(packet, "GPSLongitude")
    if lats and lons:
        lat, lon = _xmp_degrees(lats[0]), _xmp_degrees(lons[0])
        if lat is not None and lon is not None and (found := _position(lat, lon, "XMP GPS")):
            yield found
    sorts: tuple[tuple[dict[str, str], Kind, float], ...] = (
        (_XMP_NAMES, "metadata", _IDENTITY),
        (_XMP_PLACES, "location", _PLACE),
        (_XMP_TIMES, "metadata", _TIME),
    )
    for groups, kind, score in sorts:
        for name, label in groups.items():
            for value in _xmp_values(packet, name):
                yield Sighting(kind, f"{label}: {value}", score, detail={"field": label, "source": "XMP"})


def _iptc(image: Any) -> Iterator[Sighting]:
    from PIL import IptcImagePlugin

    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}
    except (OSError, SyntaxError, ValueError, IndexError):
        return
    for key, (label, place) in _IPTC.items():
        raw = info.get(key)
        for value in raw if isinstance(raw, list) else [raw] if raw else []:
            if text := _text(value):
                kind: Kind = "location" if place else "metadata"
                yield Sighting(
                    kind,
                    f"{label}: {text}",
                    _PLACE if place else _IDENTITY,
                    detail={"field": label, "source": "IPTC"},
                )


def iso6709(value: str) -> tuple[float, float] | None:
    """Latitude and longitude of an ISO 6709 string such as ``+48.8577+002.2950+035.000/``."""
    match = _ISO6709.match(value)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


def _video(tags: dict[str, str]) -> Iterator[Sighting]:
    lowered = {k.lower().removeprefix("stream:"): v for k, v in tags.items()}
    for key in _VIDEO_LOCATIONS:
        position = iso6709(lowered.get(key, ""))
        if position is not None and (found := _position(*position, "video location")):
            yield found
            break
    for key, label in _VIDEO_NAMES.items():
        if value := _text(lowered.get(key, "")):
            yield Sighting(
                "metadata", f"{label}: {value}", _IDENTITY, detail={"field": label, "source": "container"}
            )
    for key, label in _VIDEO_TIMES.items():
        if value := _text(lowered.get(key, "")):
            yield Sighting(
                "metadata", f"{label}: {value}", _TIME, detail={"field": label, "source": "container"}
            )
            break
