"""The attachment inspector the checker is given: what a photo or video shows, as findings.

:class:`MediaInspector` opens an attachment (:mod:`postguard.media.read`), reads its
metadata (:mod:`postguard.media.metadata`) and runs each detector on each frame; the
sightings of a video are merged across frames (one finding per thing seen: the same
kind with overlapping boxes, or the same words, in frames close in time, keep the
first time and the best score), then become findings:

- ``location``, ``metadata``, ``face`` (unless the pack allows faces), ``plate``,
  ``document`` and ``screen`` on the confidential-material clause;
- ``text``: the words read are judged by the post's own text checks (``judge``), and
  each finding of that becomes a finding on ITS clause (a photographed memo is
  confidential, a placard urging a vote is political);
- a file that cannot be looked at: one ``unreadable`` finding (score 1.0), never a pass.

Which attachments it takes: never a URL; a reference ``sha256:HEX`` to an uploaded file
when it has a ``store`` (the service's media folder); and, when it reads files
(``files``), a path: relative to ``media_root`` when given (then one that is missing,
or lies outside the root, is ``unreadable``), else an existing file.

This module loads without the media extra: without it, an attachment it takes is
``unreadable`` with a message naming ``pip install 'postguard[media]'``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from postguard.checks.attachments import Judge
from postguard.checks.types import Finding

if TYPE_CHECKING:
    from postguard.media.types import Frame, FrameDetector, Sighting
    from postguard.policy.schema import PolicyPack

__all__ = ["MediaInspector", "installed_detectors", "load_inspector", "merge_sightings", "ref_digest"]

log = logging.getLogger("postguard.media")

INSTALL_HINT = "pip install 'postguard[media]'"
#: The detectors looked for (module, class); each is used when it imports.
DETECTORS: tuple[tuple[str, str], ...] = (
    ("postguard.media.ocr", "OcrDetector"),
    ("postguard.media.faces", "FaceDetector"),
    ("postguard.media.plates", "PlateDetector"),
    ("postguard.media.documents", "DocumentDetector"),
)
#: Seconds apart two frames may be and still show the same thing (frames come every second).
SAME_THING_SECONDS = 2.5
#: Overlap (intersection over union) of two boxes that are the same thing.
SAME_THING_IOU = 0.3

_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_REF = re.compile(r"^sha256:([0-9a-f]{64})$")

_WHY = {
    "location": "The file's metadata says where it was taken ({evidence}): operational detail the "
    "policy keeps confidential without the Commissioner's written permission.",
    "metadata": "The file's metadata names a person, a device or a time ({evidence}), detail the "
    "policy keeps confidential without the Commissioner's written permission.",
    "face": "An identifiable face is in the picture{when}; publishing it needs the Commissioner's "
    "written permission.",
    "plate": "A vehicle registration plate is in the picture{when} ({evidence}).",
    "document": "A document (a page of text) is in the picture{when}; what it shows may be "
    "confidential material.",
    "screen": "A computer screen is in the picture{when}; what it shows may be confidential material.",
}
_HOW = {
    "location": "Remove the location from the photo: {redact}.",
    "metadata": "Strip the metadata: {redact}.",
    "face": "Blur the face ({redact}) or get the Commissioner's written permission.",
    "plate": "Blur the plate: {redact}.",
    "document": "Crop it out or blur it ({redact}), or get the Commissioner's written permission.",
    "screen": "Crop it out or blur it ({redact}), or get the Commissioner's written permission.",
    "text": "Blur the words in the picture ({redact}), or attach another picture.",
}


def ref_digest(name: str) -> str | None:
    """The SHA-256 (hex) a reference ``sha256:HEX`` names, or ``None`` when ``name`` is not one."""
    match = _REF.match(name.strip())
    return match.group(1) if match else None


@dataclass
class _Group:
    rule: str
    first: Sighting
    best: Sighting
    last_at: float | None
    last_box: tuple[int, int, int, int] | None


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _same(group: _Group, s: Sighting) -> bool:
    if group.first.kind != s.kind:
        return False
    if group.last_at is not None and s.at is not None and abs(s.at - group.last_at) > SAME_THING_SECONDS:
        return False
    if s.kind == "text" and _words(group.best.evidence) == _words(s.evidence) and _words(s.evidence):
        return True
    if group.last_box is not None and s.box is not None:
        return _iou(group.last_box, s.box) >= SAME_THING_IOU
    return group.last_box is None and s.box is None and group.best.evidence == s.evidence


def merge_sightings(seen: Sequence[tuple[str, Sighting]]) -> list[tuple[str, Sighting]]:
    """One sighting per thing seen (``(detector name, sighting)``, in frame order): the same
    kind with overlapping boxes, or the same words, in frames close in time are one thing,
    at its first time and place, with its best score (and the words best read)."""
    groups: list[_Group] = []
    for rule, s in seen:
        for group in reversed(groups):
            if _same(group, s):
                if s.score > group.best.score:
                    group.best = s
                group.last_at = s.at if s.at is not None else group.last_at
                group.last_box = s.box or group.last_box
                break
        else:
            groups.append(_Group(rule, s, s, s.at, s.box))
    return [
        (g.rule, replace(g.first, score=g.best.score, evidence=g.best.evidence, detail=g.best.detail))
        for g in groups
    ]


def installed_detectors() -> list[FrameDetector]:
    """The detectors that are installed (each loads when it imports; those missing are left out)."""
    found: list[FrameDetector] = []
    for module, cls in DETECTORS:
        try:
            found.append(getattr(importlib.import_module(module), cls)())
        except (ImportError, AttributeError) as exc:
            log.info("media detector %s.%s is not available: %s", module, cls, exc)
    log.info("media detectors loaded: %s", ", ".join(d.name for d in found) or "none")
    return found


def _beside() -> ThreadPoolExecutor:
    """The threads that run independent detectors beside the others (one per core), made once per
    process: a forked worker (batch checks) gets its own, as threads do not survive a fork."""
    return _pool_for(os.getpid())


@cache
def _pool_for(pid: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix=f"pg-media-{pid}")


def _detect_all(detectors: Sequence[FrameDetector], frame: Frame) -> list[tuple[str, Sighting]]:
    """Every detector's sightings in ``frame``, in the detectors' order.

    A detector marked ``independent`` (it reads only the pixels, as the face detector does) runs
    in another thread while the rest run here: the text detectors share one OCR pass, so they
    run in turn. Each model session uses one thread, so on two cores the face detector and the
    OCR run side by side instead of each taking both cores in turn (measured: bench/bench_media.py).
    """
    aside = {
        index: _beside().submit(detector.detect, frame)
        for index, detector in enumerate(detectors)
        if getattr(detector, "independent", False)
    }
    found: list[list[Sighting]] = []
    for index, detector in enumerate(detectors):
        found.append([] if index in aside else detector.detect(frame))
    for index, future in aside.items():
        found[index] = future.result()
    return [
        (detector.name, s) for detector, sightings in zip(detectors, found, strict=True) for s in sightings
    ]


class MediaInspector:
    """Looks at attached photos and videos for the checker (see the module's description)."""

    def __init__(
        self,
        pack: PolicyPack,
        detectors: Sequence[FrameDetector] | None = None,
        media_root: Path | None = None,
        *,
        store: Path | None = None,
        files: bool = True,
    ) -> None:
        self.pack = pack
        self.clause = pack.clause_for("confidential-material")
        self._detectors = list(detectors) if detectors is not None else None
        self.media_root = media_root.resolve() if media_root is not None else None
        self.store = store
        self.files = files

    @property
    def detectors(self) -> list[FrameDetector]:
        """The frame detectors (the installed ones, loaded on first use, unless given)."""
        if self._detectors is None:
            self._detectors = installed_detectors()
        return self._detectors

    def takes(self, name: str) -> bool:
        if not name.strip() or _URL.match(name):
            return False
        if ref_digest(name) is not None:
            return self.store is not None
        if not self.files:
            return False
        if self.media_root is not None:
            return True
        try:
            return Path(name).is_file()
        except (OSError, ValueError):
            return False

    def path(self, name: str) -> Path:
        """The file behind ``name``; :class:`~postguard.media.types.MediaError` when there is none."""
        from postguard.media.types import MediaError

        digest = ref_digest(name)
        if digest is not None:
            if self.store is None:
                raise MediaError(f"'{name}' names an uploaded file, and no media folder is configured")
            from postguard.media.store import MediaStore

            stored = MediaStore(self.store).find(name)
            if stored is None:
                raise MediaError(f"'{name}' names no uploaded file (upload it first: POST /api/v1/media)")
            return stored
        if self.media_root is None:
            return Path(name)
        path = (self.media_root / name).resolve()
        if not path.is_relative_to(self.media_root):
            raise MediaError(f"'{name}' lies outside the media root")
        if not path.is_file():
            raise MediaError(f"'{name}' is not in the media root ({self.media_root.name}): no such file")
        return path

    def inspect(self, name: str, judge: Judge) -> list[Finding]:
        try:
            from postguard.media.metadata import read_metadata
            from postguard.media.read import open_medium
            from postguard.media.types import MediaError
        except ImportError as exc:
            why = f"'{name}' cannot be looked at: media support is not installed ({exc.name} is missing)"
            return [self._unreadable(name, f"{why}: {INSTALL_HINT}", INSTALL_HINT)]
        try:
            medium = open_medium(self.path(name), self.pack.media)
            seen: list[tuple[str, Sighting]] = [("metadata", s) for s in read_metadata(medium)]
            detectors = self.detectors
            for frame in medium.frames():
                seen.extend(_detect_all(detectors, frame))
        except MediaError as exc:
            return [self._unreadable(name, str(exc))]
        findings: list[Finding] = []
        for rule, s in merge_sightings(seen):
            if s.kind == "text":
                findings.extend(self._text(name, rule, s, judge))
            elif s.kind == "face" and self.pack.media.faces_allowed:
                continue
            elif s.kind in _WHY:
                findings.append(self._finding(name, rule, s))
            elif s.kind == "unreadable":
                findings.append(self._unreadable(name, s.evidence))
        # The file's SHA-256 on each finding: a written permission may name the file by it.
        return [replace(f, sha256=medium.sha256) for f in findings]

    def _redact(self, name: str) -> str:
        if ref_digest(name) is not None or len(name) > 120:
            return "'postguard redact' or the compose page's redaction"
        return f"`postguard redact {name}`"

    def _finding(self, name: str, rule: str, s: Sighting) -> Finding:
        when = f" at {s.at:.1f} s" if s.at is not None else ""
        return Finding(
            self.clause,
            0,
            0,
            s.evidence,
            _unit(s.score),
            _WHY[s.kind].format(evidence=s.evidence, when=when),
            _HOW[s.kind].format(redact=self._redact(name)),
            source="attachment",
            rule=rule,
            trace=f"{s.kind} seen by {rule}{when}, score {s.score:.2f}",
            attachment=name,
            kind=s.kind,
            box=_box(s.box),
            at=s.at,
        )

    def _text(self, name: str, rule: str, s: Sighting, judge: Judge) -> list[Finding]:
        """The words read, judged as the post's text is: one finding per clause they break."""
        words = s.evidence.strip()
        if not words:
            return []
        best: dict[str, Finding] = {}
        for f in judge(words).findings:
            if f.clause not in best or f.score > best[f.clause].score:
                best[f.clause] = f
        when = f" at {s.at:.1f} s" if s.at is not None else ""
        return [
            Finding(
                clause,
                0,
                0,
                words,
                _unit(f.score),
                f"Text in the picture{when}: {f.explanation}",
                _HOW["text"].format(redact=self._redact(name)),
                source="attachment",
                rule=rule,
                trace=f'text read by {rule} ({s.score:.2f}); "{f.evidence}" judged by {f.rule or f.source}',
                attachment=name,
                kind="text",
                box=_box(s.box),
                at=s.at,
            )
            for clause, f in best.items()
        ]

    def _unreadable(self, name: str, message: str, how: str | None = None) -> Finding:
        return Finding(
            self.clause,
            0,
            0,
            name,
            1.0,
            message,
            how
            or "Attach a photo (JPEG, PNG, WebP, GIF, HEIC) or a video (MP4, MOV, WebM) within the "
            "policy's limits, named for what it is.",
            source="attachment",
            rule="read",
            trace="the attachment could not be looked at",
            attachment=name,
            kind="unreadable",
        )


def _unit(score: float) -> float:
    return round(min(1.0, max(0.0, float(score))), 4)


def _box(box: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    x, y, w, h = (round(v) for v in box)
    return x, y, max(1, w), max(1, h)


def load_inspector(
    pack: PolicyPack,
    media_root: Path | None = None,
    *,
    store: Path | None = None,
    files: bool = True,
    detectors: Sequence[FrameDetector] | None = None,
) -> MediaInspector:
    """The inspector for ``pack``: attachments read under ``media_root`` (or as given), uploads
    found in ``store``; the installed detectors load when the first attachment is looked at.

    Without the media extra it is still returned: each attachment it takes is then an
    ``unreadable`` finding naming ``pip install 'postguard[media]'`` (never judged by its name
    alone, never a silent pass).
    """
    missing = [m for m in ("numpy", "PIL", "av") if importlib.util.find_spec(m) is None]
    if missing:
        log.warning("media support is not installed (%s missing): attachments will be unreadable; %s",
                    ", ".join(missing), INSTALL_HINT)  # fmt: skip
    return MediaInspector(pack, detectors, media_root, store=store, files=files)
