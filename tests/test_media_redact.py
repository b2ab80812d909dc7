"""Issue 13, item 3 and 4: the safe copy (``postguard redact``), and permissions that name media."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("PIL")
av = pytest.importorskip("av")

from PIL import Image  # noqa: E402

from conftest import World  # noqa: E402
from postguard.checks import Checker, Context, Report  # noqa: E402
from postguard.checks.attachments import Judge  # noqa: E402
from postguard.checks.types import Finding  # noqa: E402
from postguard.cli import media as media_cli  # noqa: E402
from postguard.cli.app import app  # noqa: E402
from postguard.media.redact import Blur, redact  # noqa: E402
from postguard.media.types import MediaError  # noqa: E402
from postguard.workflow.checking import check_with_registry  # noqa: E402

BOX = (150, 30, 120, 130)  # the astronaut's face in skimage's astronaut()
GPS_IFD = 0x8825


def _photo(path: Path, *, fmt: str | None = None, orientation: int | None = None) -> Path:
    """A photo with a face, GPS position, a camera serial and an artist in its EXIF."""
    data = pytest.importorskip("skimage.data")
    image = Image.fromarray(data.astronaut())
    exif = Image.Exif()
    exif[0x013B] = "Officer Jane Roe"  # Artist
    exif[0x010F] = "Canon"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(path, format=fmt, exif=exif.tobytes())
    assert _load(path).getexif().get_ifd(GPS_IFD), "the fixture must carry GPS to begin with"
    return path


def _load(path: Path) -> Image.Image:
    """The image at ``path``, read whole and its file closed."""
    with Image.open(path) as image:
        image.load()
        return image


def _gray(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"), dtype=float)


def _detail(pixels: np.ndarray) -> float:
    """The variance of what changes from one pixel to the next (edges, texture, strokes)."""
    return float(np.diff(pixels, axis=0).var() + np.diff(pixels, axis=1).var())


def _region(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return pixels[y : y + h, x : x + w]


@pytest.mark.parametrize(("name", "fmt"), [("a.jpg", "JPEG"), ("a.png", "PNG"), ("a.webp", "WEBP")])
def test_the_copy_has_no_metadata_keeps_its_format_and_blurs_the_box(
    tmp_path: Path, name: str, fmt: str
) -> None:
    original = _photo(tmp_path / name)
    result = redact(original, tmp_path / f"safe-{name}", [BOX])
    copy = _load(result.path)
    assert copy.format == fmt and result.format == fmt and result.path.suffix == original.suffix
    assert not copy.getexif() and not copy.getexif().get_ifd(GPS_IFD)
    assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(copy.info)
    assert b"Jane Roe" not in result.path.read_bytes() and b"Canon" not in result.path.read_bytes()
    before, after = _gray(original), _gray(result.path)
    assert _detail(_region(after, BOX)) < 0.05 * _detail(_region(before, BOX))
    assert _region(after, BOX).var() < 0.6 * _region(before, BOX).var()
    outside = (slice(200, 512), slice(0, 512))  # below the face: untouched (up to re-encoding)
    assert np.abs(after[outside] - before[outside]).mean() < 3.0
    assert result.blurred == (Blur(BOX),) and result.metadata_stripped


def test_orientation_is_applied_before_it_is_dropped(tmp_path: Path) -> None:
    original = _photo(tmp_path / "turned.jpg", orientation=6)  # rotate 90° clockwise to view
    result = redact(original, tmp_path / "safe.jpg", [])
    width, height = _load(original).size
    assert _load(result.path).size == (height, width)
    assert 0x0112 not in _load(result.path).getexif()


def test_keeping_metadata_is_a_choice_and_heic_and_gif_change_format(tmp_path: Path) -> None:
    kept = redact(_photo(tmp_path / "a.jpg"), tmp_path / "kept.jpg", [], strip_metadata=False)
    assert _load(kept.path).getexif().get_ifd(GPS_IFD)
    Image.new("P", (40, 30), 3).save(tmp_path / "anim.gif")
    gif = redact(tmp_path / "anim.gif", tmp_path / "anim-safe.gif", [])
    assert gif.path.suffix == ".png" and _load(gif.path).format == "PNG"
    heif = pytest.importorskip("pillow_heif")
    heif.register_heif_opener()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(tmp_path / "p.heic")
    out = redact(tmp_path / "p.heic", tmp_path / "p-safe.heic", [])
    assert out.path == tmp_path / "p-safe.jpg" and _load(out.path).format == "JPEG"


def test_bad_input_is_a_media_error_and_nothing_is_left_behind(tmp_path: Path) -> None:
    (tmp_path / "fake.jpg").write_text("not a picture")
    with pytest.raises(MediaError, match="not a readable image"):
        redact(tmp_path / "fake.jpg", tmp_path / "out" / "safe.jpg", [])
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    with pytest.raises(MediaError, match="no such file"):
        redact(tmp_path / "missing.jpg", tmp_path / "x.jpg", [])
    original = _photo(tmp_path / "a.jpg")
    with pytest.raises(MediaError, match="must not overwrite"):
        redact(original, original, [])
    with pytest.raises(MediaError, match="positive width"):
        redact(original, tmp_path / "b.jpg", [(1, 2, 0, 5)])


def _video(path: Path, seconds: int = 3, rate: int = 10) -> Path:
    with av.open(str(path), "w") as out:
        out.metadata["comment"] = "51.5072N 0.1276W secret location"
        out.metadata["title"] = "Operation Nightjar"
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(seconds * rate):
            pixels = np.random.default_rng(i).integers(0, 255, (240, 320, 3)).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_a_video_is_re_encoded_without_metadata_and_blurred_around_the_time_given(tmp_path: Path) -> None:
    original = _video(tmp_path / "clip.mov")
    box = (20, 20, 120, 100)
    result = redact(original, tmp_path / "clip-safe.mov", [Blur(box, at=0.5)])
    assert result.path.suffix == ".mp4" and result.format == "MP4"
    assert result.frames == 30 and 10 <= result.frames_blurred <= 16  # 0 s to 1.5 s at 10 fps
    with av.open(str(result.path)) as copy:
        assert copy.streams.video[0].codec_context.name == "h264"
        tags = " ".join(str(v) for v in copy.metadata.values())
        assert "secret" not in tags and "Nightjar" not in tags
        frames = [f.to_ndarray(format="gray").astype(float) for f in copy.decode(video=0)]
    # Inside the window the box is smooth; after it (2.5 s), the noise is back.
    assert _detail(_region(frames[5], box)) < 0.05 * _detail(_region(frames[25], box))


class _VarianceInspector:
    """Stands in for the media inspector: a 'face' wherever BOX still has detail."""

    def takes(self, name: str) -> bool:
        return name.endswith(".jpg")

    def __init__(self, root: Path, always: bool = False) -> None:
        self.root, self.always = root, always

    def inspect(self, name: str, judge: Judge) -> list[Finding]:
        detail = _region(_gray(self.root / name), BOX).var()
        if detail < 500 and not self.always:
            return []
        return [
            Finding(
                "A.iii.confidential",
                0,
                0,
                "a face",
                0.9,
                "A face is seen.",
                attachment=name,
                kind="face",
                box=BOX,
            )
        ]


def _fake_inspector(monkeypatch: pytest.MonkeyPatch, *, always: bool = False) -> None:
    def fake(checker: Checker, root: Path) -> _VarianceInspector:
        return _VarianceInspector(root, always)

    monkeypatch.setattr(media_cli, "_inspector", fake)


def test_redact_cli_exit_status_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    original = _photo(tmp_path / "a.jpg")
    _fake_inspector(monkeypatch)
    done = runner.invoke(app, ["redact", str(original), "-o", str(tmp_path / "safe.jpg"), "--json"])
    assert done.exit_code == 0, done.output
    outcome = json.loads(done.stdout)
    assert outcome["clean"] and outcome["remaining"] == []
    assert [f["kind"] for f in outcome["found"]] == ["face"] and outcome["copy"]["blurred"][0]["box"] == list(
        BOX
    )
    assert not _load(tmp_path / "safe.jpg").getexif()
    text = runner.invoke(app, ["redact", str(original), "-o", str(tmp_path / "safe2.jpg")])
    assert text.exit_code == 0 and "Removed: face" in text.stdout and "nothing is found" in text.stdout
    _fake_inspector(monkeypatch, always=True)
    still = runner.invoke(app, ["redact", str(original), "-o", str(tmp_path / "safe3.jpg")])
    assert still.exit_code == 1 and "Still found: face" in still.stdout
    for bad in (
        ["redact", str(tmp_path / "none.jpg"), "-o", str(tmp_path / "x.jpg")],
        ["redact", str(original), "-o", str(tmp_path / "x.jpg"), "--box", "1,2,3"],
        ["redact", str(original)],
    ):
        assert runner.invoke(app, bad).exit_code == 2


def test_redact_cli_without_a_check_of_the_copy_is_not_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media_cli, "_inspector", lambda checker, root: None)
    done = CliRunner().invoke(
        app,
        ["redact", str(_photo(tmp_path / "a.jpg")), "-o", str(tmp_path / "s.jpg"), "--box", "150,30,120,130"],
    )
    assert done.exit_code == 1 and "not checked again" in done.stdout


# --- Permissions name media -------------------------------------------------------------------


class _FaceInspector:
    """A face in every file it is given, with the file's SHA-256 on the finding (as the inspector does)."""

    def __init__(self, root: Path, clause: str) -> None:
        self.root, self.clause = root, clause

    def takes(self, name: str) -> bool:
        return (self.root / name).is_file()

    def inspect(self, name: str, judge: Judge) -> list[Finding]:
        digest = hashlib.sha256((self.root / name).read_bytes()).hexdigest()
        return [
            Finding(
                self.clause,
                0,
                0,
                "a face",
                0.9,
                "A face is seen.",
                attachment=name,
                kind="face",
                box=BOX,
                sha256=digest,
            )
        ]


def _permit_for(world: World, post: str, member: str | None = "PIO-1") -> str:
    return world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member=member,
        post=post,
        reason="the family consented",
        text_="May publish this photograph.",
    ).code


def test_a_permission_naming_the_photo_by_its_sha256_turns_its_finding_into_advice(
    world: World, checker: Checker, tmp_path: Path
) -> None:
    clause = checker.pack.clause_for("confidential-material")
    photo, other = _photo(tmp_path / "a.jpg"), tmp_path / "b.jpg"
    Image.new("RGB", (20, 20)).save(other)
    media = checker.with_media(_FaceInspector(tmp_path, clause))
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    code = _permit_for(world, f"sha256:{digest}")

    def check(text: str, attachments: tuple[str, ...], member: str = "PIO-1") -> Report:
        context = Context(attachments=attachments, permissions=(code,))
        return check_with_registry(media, world.grants, text, context, member=member)

    report = check("Officers attended the scene.", ("a.jpg",))
    assert report.decision != "block" and not report.findings
    (advice,) = report.advice
    assert advice.attachment == "a.jpg" and code in advice.explanation and advice.sha256 == digest
    assert report.permissions_used == (code,)
    # It releases that file only: another photo in the same post stays a finding, with the reason.
    both = check("Officers attended the scene.", ("a.jpg", "b.jpg"))
    assert [f.attachment for f in both.findings] == ["b.jpg"]
    assert "not honoured" in both.findings[0].explanation
    assert [f.attachment for f in both.advice] == ["a.jpg"]
    # Nor does it release confidential words in the text.
    words = check("The victim, Shanice Morgan, is recovering.", ("a.jpg",))
    assert any(f.attachment is None and f.clause == clause for f in words.findings)
    # Nor another member's post, nor once revoked.
    assert check("Officers attended the scene.", ("a.jpg",), member="REV-1").findings
    world.grants.revoke_permission("CP-1", code, "consent withdrawn")
    assert check("Officers attended the scene.", ("a.jpg",)).findings


def test_a_finding_with_no_file_hash_is_not_released_by_a_file_permission(
    world: World, checker: Checker, tmp_path: Path
) -> None:
    clause = checker.pack.clause_for("confidential-material")
    photo = _photo(tmp_path / "a.jpg")
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    code = _permit_for(world, f"sha256:{digest}")

    class NoHash(_FaceInspector):
        def inspect(self, name: str, judge: Judge) -> list[Finding]:
            return [Finding(clause, 0, 0, "a face", 0.9, "A face.", attachment=name, kind="face")]

    media = checker.with_media(NoHash(tmp_path, clause))
    context = Context(attachments=("a.jpg",), permissions=(code,))
    report = check_with_registry(media, world.grants, "Officers attended.", context, member="PIO-1")
    assert report.findings and not report.advice and report.decision == "block"


_: Callable[..., object] = redact  # the public name the CLI and pages use


# --- A draft's photo: findings, safe copy, re-check, publication with the copy -----------------

TEXT = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass."


def test_a_draft_publishes_the_safe_copy_of_its_photo_to_mastodon(world: World, tmp_path: Path) -> None:
    from postguard import default_checker
    from postguard.audit.queries import entries
    from postguard.errors import AccessDeniedError
    from postguard.fakes import FakeMastodon
    from postguard.media.inspect import load_inspector
    from postguard.media.store import MediaStore
    from postguard.workflow import Workflow
    from postguard.workflow.media import make_safe_copy
    from postguard.workflow.publish import publish

    store = MediaStore(tmp_path / "media")
    original = _photo(tmp_path / "scene.jpg")
    ref = store.put_file(original)
    base = default_checker()
    flow = Workflow(
        world.registry, world.grants, base.with_media(load_inspector(base.pack, store=store.root))
    )
    fake = FakeMastodon(token="secret-token", store=tmp_path / "fake" / "mastodon.json")
    try:
        world.registry.add_account("IT-1", platform="mastodon", handle="@police@fake")
        world.registry.connect_account(
            "IT-1",
            platform="mastodon",
            handle="@police@fake",
            connector="mastodon",
            endpoint=fake.url,
            credential="secret-token",
            keys_dir=world.keys_dir,
        )
        draft = flow.create(
            "PIO-1", text=TEXT, account="mastodon:@police@fake", context={"attachments": [ref]}
        )
        found = flow.get(draft.code)["findings"]
        kinds = {f["kind"] for f in found if f.get("attachment") == ref}
        assert "location" in kinds, found  # the GPS position in the EXIF
        faces = [tuple(f["box"]) for f in found if f.get("kind") == "face"]
        boxes = [] if faces else [BOX]  # no face detector installed: blur the face by hand
        face = faces[0] if faces else BOX
        with pytest.raises(AccessDeniedError):
            make_safe_copy(flow, "REV-1", draft.code, ref, store=store)
        _, copy = make_safe_copy(flow, "PIO-1", draft.code, ref, store=store, boxes=boxes)
        after = flow.get(draft.code)
        assert after["context"]["attachments"] == [copy] and copy != ref
        assert not [f for f in after["findings"] if f.get("attachment")], after["findings"]
        assert store.find(ref) is not None  # the original is kept
        flow.submit("PIO-1", draft.code, device="PC-1")
        flow.approve("REV-1", draft.code)
        with pytest.raises(Exception, match="no media folder"):
            publish(flow, "PIO-1", draft.code, keys_dir=world.keys_dir, backoff=0)
        row = publish(flow, "PIO-1", draft.code, keys_dir=world.keys_dir, backoff=0, media_root=store.root)
        assert row.status == "sent", row.last_error
        (status,) = fake.statuses
        (attached,) = status["media_attachments"]
        sent = fake.media_bytes(attached["id"])
        assert sent == store.path(copy).read_bytes() and sent != original.read_bytes()
        assert fake.media_dir is not None and (fake.media_dir / attached["id"]).read_bytes() == sent
        received = tmp_path / "received.jpg"
        received.write_bytes(sent or b"")
        assert not _load(received).getexif().get_ifd(GPS_IFD) and b"Jane Roe" not in sent  # type: ignore[operator]
        assert _detail(_region(_gray(received), face)) < 0.05 * _detail(_region(_gray(original), face))  # type: ignore[arg-type]
        with world.db.reading() as session:
            trail = list(entries(session, action="draft.edit"))
        assert any(e["detail"].get("safe_copy", {}).get("original") == ref for e in trail)
    finally:
        fake.close()


# --- The pages: upload on compose, preview with boxes, one-action safe copy --------------------


def test_compose_upload_preview_boxes_and_safe_copy_on_the_pages(world: World, tmp_path: Path) -> None:
    import re

    from fastapi.testclient import TestClient

    from postguard.registry.signin import set_password
    from postguard.settings import Settings
    from postguard.web import create_app

    for member in ("PIO-1", "REV-1"):
        set_password(world.registry, "IT-1", member=member, password=f"password-of-{member}")
    settings = Settings(
        database_url=world.db.url,
        keys_dir=world.keys_dir,
        secure_cookies=False,
        scheduler_interval=0,
        media_root=tmp_path / "media",
    )
    photo = _photo(tmp_path / "scene.jpg").read_bytes()
    with TestClient(create_app(settings), follow_redirects=False) as client:

        def sign_in(member: str) -> str:
            client.cookies.clear()
            page = client.get("/signin").text
            token = page.split('name="csrf_token" value="')[1].split('"')[0]
            data = {"service_number": member, "password": f"password-of-{member}", "csrf_token": token}
            assert client.post("/signin", data=data).status_code == 303
            return client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]

        token = sign_in("PIO-1")
        assert 'type="file"' in client.get("/compose").text
        files = {"file": ("scene.jpg", photo, "image/jpeg")}
        refused = client.post("/compose", data={"text": TEXT, "csrf_token": "wrong"}, files=files)
        assert refused.status_code in (400, 403)
        bogus = client.post(
            "/compose",
            data={"text": TEXT, "csrf_token": token},
            files={"file": ("memo.jpg", b"%PDF-1.4", "image/jpeg")},
        )
        assert bogus.status_code == 422 and "memo.jpg" in bogus.text, bogus.text[-1500:]
        made = client.post("/compose", data={"text": TEXT, "csrf_token": token}, files=files)
        assert made.status_code == 303, made.text
        url = made.headers["location"].split("?")[0]
        page = client.get(url).text
        digest = hashlib.sha256(photo).hexdigest()
        assert f'src="/media/{digest}"' in page and 'viewBox="0 0 512 512"' in page
        assert re.search(
            r'<rect class="media-box media-box-\w+" x="\d+" y="\d+" width="\d+" height="\d+"', page
        )
        assert "style=" not in page.split('id="attachments"')[1].split("</section>")[0]
        served = client.get(f"/media/{digest}")
        assert served.status_code == 200 and served.content == photo
        assert served.headers["content-type"] == "image/jpeg"
        # Only the author makes the safe copy.
        code = url.rsplit("/", 1)[1]
        reviewer = sign_in("REV-1")
        other = client.post(
            "/media/safe-copy", data={"draft": code, "ref": f"sha256:{digest}", "csrf_token": reviewer}
        )
        assert "error=" in other.headers["location"]
        token = sign_in("PIO-1")
        done = client.post(
            "/media/safe-copy", data={"draft": code, "ref": f"sha256:{digest}", "csrf_token": token}
        )
        assert done.status_code == 303 and "ok=" in done.headers["location"], done.headers["location"]
        after = client.get(url).text
        assert f'src="/media/{digest}"' not in after and "Nothing is found in it." in after
        copy_hex = re.findall(r'src="/media/([0-9a-f]{64})"', after)[0]
        copy = tmp_path / "copy.jpg"
        copy.write_bytes(client.get(f"/media/{copy_hex}").content)
        assert not _load(copy).getexif().get_ifd(GPS_IFD)
        client.cookies.clear()
        assert client.get(f"/media/{copy_hex}").status_code in (303, 401)  # signed out: not served

        # The same action over the API: the author only, a ref the draft has, and it is audited.
        from postguard.registry.tokens import create_token

        tokens = {
            m: create_token(world.registry, "IT-1", member=m, name=f"t-{m}")[0] for m in ("PIO-1", "REV-1")
        }
        api = {m: {"Authorization": f"Bearer {t}"} for m, t in tokens.items()}
        up = client.post(
            "/api/v1/media", files={"file": ("b.jpg", photo, "image/jpeg")}, headers=api["PIO-1"]
        )
        assert up.status_code == 201, up.text
        ref = up.json()["ref"]
        body = {"text": TEXT, "context": {"attachments": [ref]}}
        second = client.post("/api/v1/drafts", json=body, headers=api["PIO-1"]).json()["id"]
        assert (
            client.post(
                f"/api/v1/drafts/{second}/safe-copy", json={"ref": ref}, headers=api["REV-1"]
            ).status_code
            == 403
        )
        missing = client.post(
            f"/api/v1/drafts/{second}/safe-copy", json={"ref": "sha256:" + "0" * 64}, headers=api["PIO-1"]
        )
        assert missing.status_code == 422
        made = client.post(f"/api/v1/drafts/{second}/safe-copy", json={"ref": ref}, headers=api["PIO-1"])
        assert made.status_code == 200, made.text
        answer = made.json()
        assert answer["safe_copy"]["original"] == ref and answer["context"]["attachments"] == [
            answer["safe_copy"]["copy"]
        ]
        assert not [f for f in answer["findings"] if f.get("attachment")]


# --- The connectors with media ---------------------------------------------------------------


def test_mastodon_uploads_media_and_the_fake_keeps_it_across_a_restart(tmp_path: Path) -> None:
    from postguard.connectors import MediaFile
    from postguard.connectors.mastodon import MastodonConnector
    from postguard.fakes import FakeMastodon

    photo = _photo(tmp_path / "a.png").read_bytes()
    item = MediaFile("sha256:" + hashlib.sha256(photo).hexdigest(), "a.png", "image/png", photo)
    store = tmp_path / "fake" / "mastodon.json"
    fake = FakeMastodon("tok", store=store)
    try:
        connector = MastodonConnector(fake.url, "tok")
        published = connector.publish_with_media(TEXT, "key-1", [item])
        again = connector.publish_with_media(TEXT, "key-1", [item])  # a retry: the same status
        connector.close()
        assert again.remote_id == published.remote_id and len(fake.statuses) == 1
        (attached,) = fake.statuses[0]["media_attachments"]
        assert attached["type"] == "image" and attached["sha256"] == hashlib.sha256(photo).hexdigest()
        wrong = MastodonConnector(fake.url, "not-the-token")
        with pytest.raises(Exception, match="refused"):
            wrong.publish_with_media(TEXT, "key-2", [item])
        wrong.close()
    finally:
        fake.close()
    restarted = FakeMastodon("tok", store=store)
    try:
        (status,) = restarted.statuses
        media_id = status["media_attachments"][0]["id"]
        assert restarted.media_bytes(media_id) == photo
        import urllib.request

        with urllib.request.urlopen(f"{restarted.url}/@police/{status['id']}") as page:
            assert f'<img src="/media/{media_id}"'.encode() in page.read()
        with urllib.request.urlopen(f"{restarted.url}/media/{media_id}") as served:
            assert served.read() == photo and served.headers["Content-Type"] == "image/png"
    finally:
        restarted.close()


def test_the_webhook_sends_media_and_bluesky_refuses_it_without_posting() -> None:
    import base64

    import httpx

    from postguard.connectors import ConnectorError, MediaFile
    from postguard.connectors.bluesky import BlueskyConnector
    from postguard.connectors.webhook import WebhookConnector

    item = MediaFile("sha256:" + "ab" * 32, "a.jpg", "image/jpeg", b"\xff\xd8\xff-bytes")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "hook-1"})

    hook = WebhookConnector("http://hook.test/in", "secret", transport=httpx.MockTransport(answer))
    assert hook.publish_with_media(TEXT, "key-1", [item]).remote_id == "hook-1"
    (media,) = json.loads(seen[0].content)["media"]
    assert (
        media["ref"] == item.ref
        and base64.b64decode(media["data"]) == item.data
        and media["size"] == len(item.data)
    )
    seen.clear()
    sky = BlueskyConnector("http://sky.test", "police.example:pw", transport=httpx.MockTransport(answer))
    with pytest.raises(ConnectorError, match="does not publish photos or videos") as refused:
        sky.publish_with_media(TEXT, "key-1", [item])
    assert not refused.value.retryable and seen == []
