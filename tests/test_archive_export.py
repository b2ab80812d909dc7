"""The records export (postguard.archive.export): what it writes, its manifest, and its verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from archive_exports import jpeg_bytes, png_bytes
from conftest import World
from postguard import __version__
from postguard.archive.export import verify_records_export, write_records_export
from postguard.errors import ValidationError
from postguard.media.store import MediaStore
from postguard.registry.models import ArchivedPost, PostVersion

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
KEEP = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
MISSING = "sha256:" + "ab" * 32


def _media(ref: str, name: str) -> dict[str, Any]:
    return {"ref": ref, "sha256": ref.removeprefix("sha256:"), "content_type": "image/png", "filename": name}


def _post(
    account: str, platform_id: str, day: int, text: str, media: list[dict[str, Any]], **extra: Any
) -> ArchivedPost:
    at = T0 + dt.timedelta(days=day)
    fields: dict[str, Any] = {
        "platform": account.split(":", 1)[0],
        "account": account,
        "platform_id": platform_id,
        "url": f"https://social.example/@police/{platform_id}",
        "text": text,
        "media": media,
        "posted_at": at,
        "first_seen_at": at + dt.timedelta(minutes=5),
        "updated_at": at + dt.timedelta(minutes=5),
        "source": "watch",
        "decision": "allow",
        "clauses": "",
        "report": {"decision": "allow", "findings": []},
        "policy_version": "default 1.0",
        "retain_until": KEEP,
    }
    fields.update(extra)
    return ArchivedPost(**fields)


@pytest.fixture
def archive(world: World, tmp_path: Path) -> tuple[World, MediaStore, dict[str, str]]:
    """Three archived posts (one edited, with two versions) on two accounts, media in a store."""
    store = MediaStore(tmp_path / "media-store")
    photo, edited_photo = store.put(png_bytes(10)), store.put(jpeg_bytes(b"edit"))
    with world.registry.db.session() as session:
        first = _post("mastodon:@police@social.example", "101", 0, "Road closed", [_media(photo, "a.png")])
        second = _post(
            "mastodon:@police@social.example",
            "102",
            1,
            "Edited: suspect is wanted",
            [_media(edited_photo, "b.jpg")],
            edited_at=T0 + dt.timedelta(days=1, hours=2),
            decision="block",
            clauses=" A.iii B ",
            report={"decision": "block", "findings": [{"clause": "A.iii"}]},
            outside_workflow=True,
        )
        third = _post(
            "twitter:@SpringfieldPD", "9001", 2, "Hello", [_media(MISSING, "gone.png")], source="import"
        )
        session.add_all([first, second, third])
        session.flush()
        for number, kind, text, media, hours in [
            (1, "original", "Suspect is wanted", [_media(photo, "a.png")], 0),
            (2, "edit", "Edited: suspect is wanted", [_media(edited_photo, "b.jpg")], 2),
        ]:
            session.add(
                PostVersion(
                    post_id=second.id,
                    number=number,
                    kind=kind,
                    text=text,
                    media=media,
                    at=T0 + dt.timedelta(days=1, hours=hours),
                    seen_at=T0 + dt.timedelta(days=1, hours=hours, minutes=1),
                    decision="block" if kind == "edit" else "allow",
                    report={"decision": "block" if kind == "edit" else "allow"},
                )
            )
        session.add(
            PostVersion(
                post_id=first.id, number=1, kind="original", text="Road closed", media=[], at=T0, seen_at=T0
            )
        )
    return world, store, {"photo": photo, "edited": edited_photo}


def _lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "posts.jsonl").read_text(encoding="utf-8").splitlines()]


def test_the_export_holds_every_post_its_versions_media_and_a_manifest_of_sums(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, store, refs = archive
    out = tmp_path / "records"
    summary = write_records_export(world.registry, out, store, page_size=2)
    assert (summary.posts, summary.versions, summary.media_files) == (3, 3, 2)
    assert summary.media_missing == [MISSING] and summary.media_damaged == []
    posts = _lines(out)
    assert [p["platform_id"] for p in posts] == ["101", "102", "9001"]
    edited = posts[1]
    assert edited["posted_at"] == "2024-03-02T09:00:00Z"
    assert edited["edited_at"] == "2024-03-02T11:00:00Z"
    assert edited["deleted_at"] is None
    assert edited["clauses"] == ["A.iii", "B"]
    assert edited["report"] == {"decision": "block", "findings": [{"clause": "A.iii"}]}
    assert edited["outside_workflow"] is True
    assert [(v["number"], v["kind"], v["text"]) for v in edited["versions"]] == [
        (1, "original", "Suspect is wanted"),
        (2, "edit", "Edited: suspect is wanted"),
    ]
    assert edited["versions"][1]["at"] == "2024-03-02T11:00:00Z"
    assert edited["media"][0]["ref"] == refs["edited"]
    assert posts[2]["versions"] == [] and posts[2]["source"] == "import"

    media = sorted(p.name for p in (out / "media").iterdir())
    assert media == sorted(r.removeprefix("sha256:") for r in refs.values())
    for name in media:
        assert hashlib.sha256((out / "media" / name).read_bytes()).hexdigest() == name

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "postguard records export"
    assert manifest["postguard_version"] == __version__
    assert manifest["filters"] == {"account": None, "since": None, "until": None}
    assert manifest["counts"] == {
        "posts": 3,
        "versions": 3,
        "media_files": 2,
        "media_missing": 1,
        "media_damaged": 0,
    }
    assert manifest["media_missing"] == [MISSING]
    assert set(manifest["files"]) == {"posts.jsonl", *(f"media/{n}" for n in media)}
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert manifest["files"][f"media/{refs['photo'].removeprefix('sha256:')}"]["content_type"] == "image/png"
    assert dt.datetime.fromisoformat(manifest["created_at"]) <= dt.datetime.now(dt.UTC)
    assert summary.bytes_written == sum(e["bytes"] for e in manifest["files"].values())
    assert verify_records_export(out) == []


def test_the_filters_choose_the_posts_and_are_recorded(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, store, refs = archive
    out = tmp_path / "one"
    summary = write_records_export(
        world.registry,
        out,
        store,
        account="mastodon:@police@social.example",
        since=T0 + dt.timedelta(hours=1),
        until=T0 + dt.timedelta(days=2),
    )
    assert [p["platform_id"] for p in _lines(out)] == ["102"]
    assert (summary.posts, summary.versions, summary.media_missing) == (1, 2, [])
    # The edited post's versions name both photos: both are in the export.
    assert sorted(p.name for p in (out / "media").iterdir()) == sorted(
        r.removeprefix("sha256:") for r in refs.values()
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["filters"] == {
        "account": "mastodon:@police@social.example",
        "since": "2024-03-01T10:00:00Z",
        "until": "2024-03-03T09:00:00Z",
    }
    empty = write_records_export(world.registry, tmp_path / "none", store, account="facebook:nobody")
    assert empty.posts == 0 and (tmp_path / "none" / "posts.jsonl").read_bytes() == b""
    assert verify_records_export(tmp_path / "none") == []


def test_without_a_media_store_every_file_is_listed_missing(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, _, refs = archive
    summary = write_records_export(world.registry, tmp_path / "out", None)
    assert sorted(summary.media_missing) == sorted([*refs.values(), MISSING])
    assert not (tmp_path / "out" / "media").exists()
    assert verify_records_export(tmp_path / "out") == []


def test_a_stored_file_whose_bytes_changed_is_named_damaged_not_copied(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, store, refs = archive
    store.path(refs["photo"]).write_bytes(png_bytes(200))
    summary = write_records_export(world.registry, tmp_path / "out", store)
    assert summary.media_damaged == [refs["photo"]]
    assert not (tmp_path / "out" / "media" / refs["photo"].removeprefix("sha256:")).exists()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["media_damaged"] == [refs["photo"]]
    assert verify_records_export(tmp_path / "out") == []


def test_verification_finds_every_change(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, store, refs = archive
    out = tmp_path / "records"
    write_records_export(world.registry, out, store)
    posts = out / "posts.jsonl"
    original = posts.read_bytes()
    posts.write_bytes(original.replace(b"Road closed", b"Road opened"))
    assert verify_records_export(out) == [
        "posts.jsonl has changed: its SHA-256 or size is not what the manifest says."
    ]
    posts.write_bytes(original)
    photo = out / "media" / refs["photo"].removeprefix("sha256:")
    photo_bytes = photo.read_bytes()
    photo.write_bytes(photo_bytes + b"x")
    assert verify_records_export(out) == [
        f"media/{photo.name} has changed: its SHA-256 or size is not what the manifest says."
    ]
    photo.unlink()
    assert verify_records_export(out) == [f"media/{photo.name} is missing."]
    photo.write_bytes(photo_bytes)
    (out / "media" / "extra").write_bytes(b"added")
    assert verify_records_export(out) == [
        "media/extra is not in the manifest: it was added after the export."
    ]
    (out / "media" / "extra").unlink()
    assert verify_records_export(out) == []
    (out / "manifest.json").write_text("{not json", encoding="utf-8")
    assert verify_records_export(out)[0].startswith("manifest.json cannot be read")
    (out / "manifest.json").unlink()
    assert verify_records_export(out) == [
        "manifest.json is missing: the export is incomplete, or this is not one."
    ]


def test_a_manifest_edited_to_match_a_changed_file_still_shows_a_line_count_or_name_problem(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, store, _ = archive
    out = tmp_path / "records"
    write_records_export(world.registry, out, store)
    posts = out / "posts.jsonl"
    posts.write_bytes(posts.read_bytes() + b"not json\n")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["posts.jsonl"] = {
        "sha256": hashlib.sha256(posts.read_bytes()).hexdigest(),
        "bytes": posts.stat().st_size,
    }
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert verify_records_export(out) == [
        "posts.jsonl line 4 is not JSON.",
        "posts.jsonl has 4 lines; the manifest counts 3 posts.",
    ]


def test_an_export_is_written_only_into_a_new_or_empty_folder(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, store, _ = archive
    used = tmp_path / "used"
    used.mkdir()
    (used / "other.txt").write_text("someone else's file")
    with pytest.raises(ValidationError, match="is not empty"):
        write_records_export(world.registry, used, store)
    assert sorted(p.name for p in used.iterdir()) == ["other.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValidationError, match="is a file"):
        write_records_export(world.registry, tmp_path / "file", store)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_records_export(world.registry, empty, store).posts == 3
    with pytest.raises(ValidationError, match="is not empty"):
        write_records_export(world.registry, empty, store)  # not even over an earlier export


def test_times_without_a_zone_and_backwards_ranges_are_refused(
    archive: tuple[World, MediaStore, dict[str, str]], tmp_path: Path
) -> None:
    world, store, _ = archive
    with pytest.raises(ValidationError, match="since must be a time with its zone"):
        write_records_export(world.registry, tmp_path / "a", store, since=dt.datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="until must be after since"):
        write_records_export(world.registry, tmp_path / "b", store, since=T0, until=T0)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
