"""The archive's records, written out for a records request (issue 14): verifiable by whoever gets them.

:func:`write_records_export` writes into an empty folder:

- ``posts.jsonl``: one JSON object a line per archived post (oldest record first, by id), with
  every version inline, the check made at the time, its times in ISO 8601 UTC and its media's refs;
- ``media/<sha256 hex>``: a copy of every photo or video those posts and versions refer to;
- ``manifest.json``, written last: when, the filters, the counts, postguard's version, and the
  SHA-256 and size of every other file, so that the recipient can check that nothing was
  changed, added or left out (:func:`verify_records_export` does, and so can ``sha256sum``).

The posts are read in pages by id (keyset paging), so an archive of any size is exported in
little memory; media are copied one at a time, hashed as they are copied. A media file the store
lacks, or whose bytes no longer match its name, is not a failure of the export: it is named
in the manifest (``media_missing``, ``media_damaged``), since a records request must still be
answered, and the recipient must be told what is not there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard import __version__
from postguard.archive.queries import media_hex
from postguard.errors import ValidationError
from postguard.media.store import MediaStore, file_sha256
from postguard.registry.models import ArchivedPost, PostVersion
from postguard.registry.service import Registry

__all__ = ["FORMAT", "ExportSummary", "verify_records_export", "write_records_export"]

#: What ``manifest.json`` says the folder is; a reader checks it before trusting the rest.
FORMAT = "postguard records export"
FORMAT_VERSION = 1
POSTS_FILE = "posts.jsonl"
MANIFEST_FILE = "manifest.json"
MEDIA_FOLDER = "media"
_PAGE = 500
_CHUNK = 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class ExportSummary:
    """What an export wrote: counts, and what it could not include."""

    out_dir: Path
    posts: int = 0
    versions: int = 0
    media_files: int = 0
    bytes_written: int = 0
    #: refs ("sha256:HEX") of media the posts name but the store does not have (or no store given).
    media_missing: list[str] = field(default_factory=list)
    #: refs of media whose stored bytes no longer hash to their name: not copied.
    media_damaged: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> Path:
        return self.out_dir / MANIFEST_FILE


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    aware = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return aware.isoformat().replace("+00:00", "Z")


def _aware(name: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationError(
            f"{name} must be a time with its zone (UTC), not {value.isoformat()}.", field=name
        )
    return value


def _version_dict(v: PostVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "kind": v.kind,
        "text": v.text,
        "media": v.media,
        "at": _iso(v.at),
        "seen_at": _iso(v.seen_at),
        "decision": v.decision,
        "report": v.report,
    }


def _post_dict(p: ArchivedPost, versions: list[PostVersion]) -> dict[str, Any]:
    return {
        "id": p.id,
        "platform": p.platform,
        "account": p.account,
        "account_id": p.account_id,
        "platform_id": p.platform_id,
        "url": p.url,
        "text": p.text,
        "media": p.media,
        "posted_at": _iso(p.posted_at),
        "first_seen_at": _iso(p.first_seen_at),
        "updated_at": _iso(p.updated_at),
        "edited_at": _iso(p.edited_at),
        "deleted_at": _iso(p.deleted_at),
        "source": p.source,
        "publication_id": p.publication_id,
        "outside_workflow": p.outside_workflow,
        "decision": p.decision,
        "clauses": p.clauses.split(),
        "report": p.report,
        "policy_version": p.policy_version,
        "retain_until": _iso(p.retain_until),
        "versions": [_version_dict(v) for v in versions],
    }


def _pages(
    session: Session,
    account: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    page_size: int,
) -> Iterator[list[tuple[ArchivedPost, list[PostVersion]]]]:
    """The posts that pass the filters, a page at a time by id, each with its versions."""
    last = 0
    while True:
        query = select(ArchivedPost).where(ArchivedPost.id > last)
        if account is not None:
            query = query.where(ArchivedPost.account == account)
        if since is not None:
            query = query.where(ArchivedPost.posted_at >= since)
        if until is not None:
            query = query.where(ArchivedPost.posted_at < until)
        posts = list(session.scalars(query.order_by(ArchivedPost.id).limit(page_size)))
        if not posts:
            return
        ids = [p.id for p in posts]
        versions: dict[int, list[PostVersion]] = {i: [] for i in ids}
        for v in session.scalars(
            select(PostVersion)
            .where(PostVersion.post_id.in_(ids))
            .order_by(PostVersion.post_id, PostVersion.number)
        ):
            versions[v.post_id].append(v)
        yield [(p, versions[p.id]) for p in posts]
        last = ids[-1]
        session.expunge_all()  # a page's rows are written: let them go


class _HashingWriter:
    """A file written once, its SHA-256 and size counted as it is written."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.hash.update(data)
        self.size += len(data)


def _refuse_unless_empty(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ValidationError(
            f"{out_dir} is a file; name a new or empty folder for the export.", field="out_dir"
        )
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise ValidationError(
            f"{out_dir} is not empty; an export is written into a new or empty folder, so that it never "
            "mixes with other files (a recipient could not tell them apart).",
            field="out_dir",
        )


def _copy_media(store: MediaStore, hex_: str, target: Path) -> tuple[str, int] | None:
    """Copy the stored file for ``hex_`` to ``target``, hashing it; None when its bytes do not
    match its name (nothing is left at ``target`` then)."""
    source = store.find(f"sha256:{hex_}")
    assert source is not None
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, target.open("xb") as dst:
        while piece := src.read(_CHUNK):
            digest.update(piece)
            size += len(piece)
            dst.write(piece)
    if digest.hexdigest() != hex_:
        target.unlink()
        return None
    return hex_, size


def write_records_export(
    registry: Registry,
    out_dir: Path,
    media_store: MediaStore | None,
    *,
    account: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page_size: int = _PAGE,
) -> ExportSummary:
    """Write the archived posts (of ``account``, ``since`` <= posted_at < ``until``, each filter
    when given) with their versions and media into ``out_dir``, which must be new or empty.

    ``media_store`` None writes the posts alone, every media file listed as missing. Raises
    :class:`ValidationError` for a folder that is not empty or a time without its zone. The
    caller audits the export (who asked, for what): this function only reads the registry.
    """
    out_dir = Path(out_dir)
    since, until = _aware("since", since), _aware("until", until)
    if since is not None and until is not None and until <= since:
        raise ValidationError("until must be after since.", field="until")
    if page_size < 1:
        raise ValidationError("page_size must be at least 1.", field="page_size")
    _refuse_unless_empty(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    summary = ExportSummary(out_dir)
    files: dict[str, dict[str, Any]] = {}
    wanted: dict[str, None] = {}  # media hex, in the order first referred to
    with registry.db.reading() as session, (out_dir / POSTS_FILE).open("xb") as fh:
        posts = _HashingWriter(fh)
        for page in _pages(session, account, since, until, page_size):
            for post, versions in page:
                record = _post_dict(post, versions)
                posts.write(json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
                summary.posts += 1
                summary.versions += len(versions)
                for item in [*post.media, *(m for v in versions for m in v.media)]:
                    found = media_hex(item)
                    if found:
                        wanted.setdefault(found, None)
    files[POSTS_FILE] = {"sha256": posts.hash.hexdigest(), "bytes": posts.size}
    summary.bytes_written += posts.size
    media_dir = out_dir / MEDIA_FOLDER
    for hex_ in wanted:
        ref = f"sha256:{hex_}"
        if media_store is None or media_store.find(ref) is None:
            summary.media_missing.append(ref)
            continue
        media_dir.mkdir(exist_ok=True)
        copied = _copy_media(media_store, hex_, media_dir / hex_)
        if copied is None:
            summary.media_damaged.append(ref)
            continue
        files[f"{MEDIA_FOLDER}/{hex_}"] = {
            "sha256": hex_,
            "bytes": copied[1],
            "content_type": MediaStore.content_type(media_store.path(ref)),
        }
        summary.media_files += 1
        summary.bytes_written += copied[1]
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": _iso(started),
        "postguard_version": __version__,
        "filters": {"account": account, "since": _iso(since), "until": _iso(until)},
        "counts": {
            "posts": summary.posts,
            "versions": summary.versions,
            "media_files": summary.media_files,
            "media_missing": len(summary.media_missing),
            "media_damaged": len(summary.media_damaged),
        },
        "files": files,
        "media_missing": summary.media_missing,
        "media_damaged": summary.media_damaged,
    }
    data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    tmp = out_dir / f".{MANIFEST_FILE}.part"
    tmp.write_bytes(data)
    os.replace(tmp, out_dir / MANIFEST_FILE)  # the manifest appears whole, and last: its presence says done
    return summary


def verify_records_export(out_dir: Path) -> list[str]:
    """The problems with the export in ``out_dir`` (an empty list: it is as written).

    Every file the manifest lists is hashed again and its size compared; a file the manifest
    does not list, a media file not named by its own SHA-256, and lines of ``posts.jsonl`` that
    are not JSON are problems too. It says nothing of who wrote the manifest: whoever sends the
    export should send the manifest's own SHA-256 by another way, or sign it."""
    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST_FILE
    if not manifest_path.is_file():
        return [f"{MANIFEST_FILE} is missing: the export is incomplete, or this is not one."]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{MANIFEST_FILE} cannot be read: {exc}."]
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return [f"{MANIFEST_FILE} is not the manifest of a {FORMAT}."]
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return [f"{MANIFEST_FILE} lists no files."]
    problems: list[str] = []
    if POSTS_FILE not in listed:
        problems.append(f"{MANIFEST_FILE} does not list {POSTS_FILE}.")
    for name, expected in sorted(listed.items()):
        if not isinstance(name, str) or not isinstance(expected, dict):
            problems.append(f"{MANIFEST_FILE} has a malformed entry {name!r}.")
            continue
        parts = name.split("/")
        if name != POSTS_FILE and not (len(parts) == 2 and parts[0] == MEDIA_FOLDER and _HEX.match(parts[1])):
            problems.append(f"{MANIFEST_FILE} lists {name!r}, which is no file of an export.")
            continue
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{name} is missing.")
            continue
        digest, size = file_sha256(path), path.stat().st_size
        if digest != expected.get("sha256") or size != expected.get("bytes"):
            problems.append(f"{name} has changed: its SHA-256 or size is not what the manifest says.")
        elif name != POSTS_FILE and digest != parts[1]:
            problems.append(f"{name} is not named by its SHA-256.")
    for path in sorted(out_dir.rglob("*")):
        name = path.relative_to(out_dir).as_posix()
        if path.is_file() and name != MANIFEST_FILE and name not in listed:
            problems.append(f"{name} is not in the manifest: it was added after the export.")
    counts = manifest.get("counts")
    if (out_dir / POSTS_FILE).is_file() and isinstance(counts, dict):
        lines = 0
        with (out_dir / POSTS_FILE).open("rb") as fh:
            for number, line in enumerate(fh, 1):
                lines += 1
                try:
                    json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    problems.append(f"{POSTS_FILE} line {number} is not JSON.")
        if lines != counts.get("posts"):
            problems.append(
                f"{POSTS_FILE} has {lines} lines; the manifest counts {counts.get('posts')} posts."
            )
    return problems
