"""Reading attachments (issue 13): formats, refusals, metadata, frames, merging, and the CLI,
batch and API plumbing. Every picture and video is made here, small, at run time."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from conftest import World
from postguard.checks import Context, Post
from postguard.checks.types import Report
from postguard.cli.app import app
from postguard.factory import build_checker, build_pack
from postguard.media import inspect as inspect_module
from postguard.media.inspect import MediaInspector, load_inspector, merge_sightings
from postguard.media.metadata import iso6709, read_metadata
from postguard.media.read import MediumLimits, open_medium, sniff
from postguard.media.types import Frame, MediaError, Sighting
from postguard.registry.tokens import create_token
from postguard.settings import Settings

runner = CliRunner()
PACK = build_pack(Settings.defaults())
CONFIDENTIAL = PACK.clause_for("confidential-material")


def _image(size: tuple[int, int] = (320, 240), colour: tuple[int, int, int] = (40, 90, 160)) -> Image.Image:
    img = Image.new("RGB", size, colour)
    img.paste((250, 250, 250), (10, 10, 60, 40))
    return img


def _gps_exif(artist: str | None = "Jane Smith", serial: str | None = "SN-998877") -> Image.Exif:
    exif = Image.Exif()
    if artist:
        exif[0x013B] = artist
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D"
    extra = exif.get_ifd(0x8769)
    if serial:
        extra[0xA431] = serial
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (51.0, 30.0, 36.0), "W", (0.0, 7.0, 30.0)
    return exif


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 10,
    size: tuple[int, int] = (320, 240),
    tags: dict[str, str] | None = None,
) -> None:
    """A small video: a dark scene, then a bright one (a cut half way)."""
    codec = "libvpx-vp9" if path.suffix == ".webm" else "libx264"
    with av.open(str(path), "w") as out:
        out.metadata.update(tags or {})
        stream = out.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        total = int(seconds * fps)
        for i in range(total):
            pixels = np.full((size[1], size[0], 3), 20 if i < total // 2 else 235, np.uint8)
            pixels[20:60, 20 + i : 60 + i] = 128
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _no_judge(words: str) -> Report:
    raise AssertionError(f"nothing should be judged: {words!r}")


def _inspector(root: Path | None = None, detectors: list[Any] | None = None, **kw: Any) -> MediaInspector:
    return MediaInspector(PACK, detectors if detectors is not None else [], root, **kw)


# --- reading each format ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt"), [("a.jpg", "JPEG"), ("a.png", "PNG"), ("a.webp", "WEBP"), ("a.heic", "HEIF")]
)
def test_each_image_format_is_one_frame(tmp_path: Path, name: str, fmt: str) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / name
    _image().save(path, fmt)
    medium = open_medium(path)
    frames = list(medium.frames())
    assert medium.kind == "image" and (medium.width, medium.height) == (320, 240)
    assert medium.size == path.stat().st_size and len(medium.sha256) == 64
    assert len(frames) == 1 and frames[0].pixels.shape == (240, 320, 3) and frames[0].scale == 1.0
    assert frames[0].at is None
    assert abs(int(frames[0].pixels[200, 200, 2]) - 160) < 20  # the colour survived (RGB order)


def test_large_images_are_scaled_down_and_keep_their_scale(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    _image((2000, 1500)).save(path)
    medium = open_medium(path, MediumLimits(analysis_pixels=300_000))
    (frame,) = medium.frames()
    assert frame.width * frame.height <= 300_000 and frame.width < 2000
    assert frame.scale == pytest.approx(frame.width / 2000)
    assert frame.to_original((10, 10, 100, 100))[2] == pytest.approx(100 / frame.scale, abs=1)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    _image((320, 240)).save(path, exif=exif)
    medium = open_medium(path)
    (frame,) = medium.frames()
    assert (medium.width, medium.height) == (240, 320)
    assert frame.pixels.shape == (320, 240, 3)


def test_an_animated_gif_gives_a_few_frames_in_time(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [_image((80, 60), (i * 30, 0, 0)) for i in range(8)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=250, loop=0)
    seen = list(open_medium(path).frames())
    assert 2 <= len(seen) <= 4
    assert seen[0].at == 0.0 and seen[-1].at == pytest.approx(7 * 0.25)
    assert [f.at for f in seen] == sorted(f.at or 0 for f in seen)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.webm", "clip.mov"])
def test_a_video_is_sampled_every_second_and_at_the_scene_change(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    make_video(path, seconds=3.0)
    medium = open_medium(path)
    times = [f.at for f in medium.frames()]
    assert medium.kind == "video" and medium.duration == pytest.approx(3.0, abs=0.2)
    assert times[:2] == [0.0, 1.0] and 2.0 in times
    assert 1.5 in times  # the cut from dark to bright, between the seconds


# --- refusals ------------------------------------------------------------------------------


def test_a_lying_extension_is_refused(tmp_path: Path) -> None:
    png_as_jpg = tmp_path / "photo.jpg"
    _image().save(png_as_jpg, "PNG")
    with pytest.raises(MediaError, match="not what its extension says: it is a PNG image, not a JPEG"):
        open_medium(png_as_jpg)
    text_as_png = tmp_path / "notes.png"
    text_as_png.write_text("Shift roster for Tuesday\n")
    with pytest.raises(MediaError, match="is not a PNG image: its content is text"):
        open_medium(text_as_png)
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(MediaError, match="not a photo or video postguard reads"):
        open_medium(tmp_path / "x.pdf")


def test_too_large_in_bytes_pixels_and_seconds(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    _image((400, 300)).save(path)
    with pytest.raises(MediaError, match=r"too large: .* MB, over the policy's limit"):
        open_medium(path, MediumLimits(max_bytes=100))
    with pytest.raises(MediaError, match="too large: 400x300 pixels"):
        open_medium(path, MediumLimits(max_pixels=100_000))
    video = tmp_path / "v.mp4"
    make_video(video, seconds=2.0)
    with pytest.raises(MediaError, match="too long: 2 s, over the policy's limit of 1 s"):
        open_medium(video, MediumLimits(max_video_seconds=1.0))


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(path)  # a small file, 144 MP
    assert path.stat().st_size < 1_000_000
    with pytest.raises(MediaError, match="too large"):
        open_medium(path, MediumLimits(max_pixels=50_000_000))


def test_truncated_and_missing_files_are_refused(tmp_path: Path) -> None:
    whole = tmp_path / "whole.jpg"
    _image((640, 480)).save(whole, quality=95)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:1500])
    with pytest.raises(MediaError, match="damaged or truncated"):
        open_medium(cut)
    video = tmp_path / "v.mp4"
    make_video(video)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(video.read_bytes()[:400])
    with pytest.raises(MediaError, match=r"cannot be read as a video|damaged"):
        list(open_medium(broken).frames())
    with pytest.raises(MediaError, match="cannot be read"):
        open_medium(tmp_path / "nowhere.jpg")


def test_missing_media_support_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.jpg"
    _image().save(path)
    real = builtins.__import__

    def no_av(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "av" or name.startswith("av."):
            raise ImportError("No module named 'av'", name="av")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_av)
    monkeypatch.delitem(__import__("sys").modules, "av")
    with pytest.raises(MediaError, match=r"pip install 'postguard\[media\]'"):
        open_medium(path)
    (finding,) = _inspector().inspect(str(path), _no_judge)
    assert finding.kind == "unreadable" and "postguard[media]" in finding.explanation
    assert finding.clause == CONFIDENTIAL and finding.score == 1.0


def test_sniffing_knows_the_containers() -> None:
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "heic"
    assert sniff(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ") == "mov"
    assert sniff(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2") == "mp4"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f") == "webm"
    assert sniff(b"hello world") is None


# --- metadata ------------------------------------------------------------------------------


def test_exif_gps_serial_and_artist_become_findings(tmp_path: Path) -> None:
    path = tmp_path / "scene.jpg"
    _image().save(path, exif=_gps_exif())
    findings = _inspector().inspect(str(path), _no_judge)
    by_kind = {f.kind: [x for x in findings if x.kind == f.kind] for f in findings}
    (where,) = by_kind["location"]
    assert "51.510000, -0.125000" in where.evidence and where.clause == CONFIDENTIAL
    assert where.score >= 0.75 and "postguard redact" in where.suggestion and where.attachment == str(path)
    assert where.source == "attachment" and where.box is None and (where.start, where.end) == (0, 0)
    said = " | ".join(f.evidence for f in by_kind["metadata"])
    assert "Artist: Jane Smith" in said and "Canon EOS 5D, serial SN-998877" in said
    assert all(0 <= f.score <= 1 for f in findings)


def test_a_clean_photo_has_no_finding(tmp_path: Path) -> None:
    path = tmp_path / "clean.jpg"
    _image().save(path)
    assert _inspector().inspect(str(path), _no_judge) == []
    stripped = tmp_path / "nogps.jpg"
    _image().save(stripped, exif=_gps_exif(artist=None, serial=None).__class__())
    assert read_metadata(open_medium(stripped)) == []


def test_xmp_and_iptc_are_read(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description exif:GPSLatitude="48,51.462N" '
        b'exif:GPSLongitude="2,17.7E"><dc:creator><rdf:Seq><rdf:li>Sgt Lee Ray</rdf:li></rdf:Seq></dc:creator>'
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    _image().save(path, xmp=xmp)
    seen = read_metadata(open_medium(path))
    kinds = {(s.kind, s.evidence) for s in seen}
    assert ("metadata", "Creator: Sgt Lee Ray") in kinds
    (place,) = [s for s in seen if s.kind == "location"]
    assert place.detail["latitude"] == pytest.approx(48.8577, abs=1e-3)
    assert place.detail["longitude"] == pytest.approx(2.295, abs=1e-3)


def test_a_videos_location_tag_is_a_finding(tmp_path: Path) -> None:
    assert iso6709("+48.8577+002.2950+035.000/") == (48.8577, 2.295)
    path = tmp_path / "tagged.mp4"
    make_video(path, tags={"location": "+48.8577+002.2950/", "artist": "PC Jones"})
    findings = _inspector().inspect(str(path), _no_judge)
    assert {f.kind for f in findings} == {"location", "metadata"}
    assert any("48.857700, 2.295000" in f.evidence for f in findings)
    assert any(f.evidence == "Artist: PC Jones" for f in findings)


# --- detectors, merging, text --------------------------------------------------------------


class StillBox:
    """A fake detector: the same face in every frame (and a plate in frames after 1.2 s)."""

    name = "fake"

    def __init__(self) -> None:
        self.frames = 0

    def detect(self, frame: Frame) -> list[Sighting]:
        self.frames += 1
        found = [
            Sighting("face", "a face", 0.5 + self.frames / 100, frame.to_original((20, 20, 40, 40)), frame.at)
        ]
        if (frame.at or 0) > 1.2:
            found.append(Sighting("plate", "AB12 CDE", 0.9, (200, 150, 60, 20), frame.at))
        return found


def test_the_same_thing_in_many_frames_is_one_finding(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    make_video(path, seconds=5.0)
    detector = StillBox()
    findings = _inspector(detectors=[detector]).inspect(str(path), _no_judge)
    assert detector.frames >= 5
    faces = [f for f in findings if f.kind == "face"]
    plates = [f for f in findings if f.kind == "plate"]
    assert len(faces) == 1 and len(plates) == 1
    assert faces[0].at == 0.0 and faces[0].score == pytest.approx(0.5 + detector.frames / 100)
    assert faces[0].box == (20, 20, 40, 40) and plates[0].at is not None and plates[0].at > 1.2
    assert "Blur the face" in faces[0].suggestion and faces[0].rule == "fake"


def test_merging_keeps_apart_what_is_apart() -> None:
    seen = [
        ("d", Sighting("face", "f", 0.6, (0, 0, 50, 50), 0.0)),
        ("d", Sighting("face", "f", 0.9, (5, 5, 50, 50), 1.0)),  # the same face, moved a little
        ("d", Sighting("face", "f", 0.7, (300, 300, 50, 50), 1.0)),  # another face
        ("d", Sighting("face", "f", 0.8, (0, 0, 50, 50), 9.0)),  # back much later: seen again
        ("o", Sighting("text", "ROAD  closed", 0.7, (0, 0, 10, 10), 0.0)),
        ("o", Sighting("text", "road closed", 0.9, (90, 90, 10, 10), 1.5)),  # same words, moved
    ]
    merged = merge_sightings(seen)
    assert [(s.kind, s.at, s.score) for _, s in merged] == [
        ("face", 0.0, 0.9),
        ("face", 1.0, 0.7),
        ("face", 9.0, 0.8),
        ("text", 0.0, 0.9),
    ]


def test_faces_are_allowed_when_the_pack_says_so(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    _image().save(path)
    allowing = PACK.model_copy(update={"media": PACK.media.model_copy(update={"faces_allowed": True})})
    assert MediaInspector(allowing, [StillBox()]).inspect(str(path), _no_judge) == []
    (face,) = _inspector(detectors=[StillBox()]).inspect(str(path), _no_judge)
    assert face.kind == "face" and face.clause == CONFIDENTIAL and face.at is None


class Reads:
    name = "reader"

    def __init__(self, words: str) -> None:
        self.words = words

    def detect(self, frame: Frame) -> list[Sighting]:
        return [Sighting("text", self.words, 0.93, (10, 10, 120, 30), frame.at)]


def test_words_read_are_judged_by_the_text_checks(tmp_path: Path) -> None:
    path = tmp_path / "board.png"
    _image().save(path)
    checker = build_checker(Settings.defaults()).with_media(None)
    asked: list[str] = []

    def judge(words: str) -> Report:
        asked.append(words)
        return checker.check(words, Context())

    memo = "RESTRICTED: tactical briefing, firearms team deploys to 14 Elm St at 05:00 for the raid"
    findings = _inspector(detectors=[Reads(memo)]).inspect(str(path), judge)
    assert asked == [memo]
    assert findings and all(f.kind == "text" and f.evidence == memo for f in findings)
    assert any(f.clause == CONFIDENTIAL for f in findings)
    assert all(
        f.explanation.startswith("Text in the picture: ") and f.box == (10, 10, 120, 30) for f in findings
    )
    assert _inspector(detectors=[Reads("Happy new year from all of us")]).inspect(str(path), judge) == []


def test_what_the_inspector_takes(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    plain = _inspector()
    assert plain.takes(str(tmp_path / "a.jpg"))
    assert not plain.takes("IMG_1000.png") and not plain.takes("https://example.org/a.jpg")
    rooted = _inspector(tmp_path)
    assert rooted.takes("a.jpg") and rooted.takes("missing.png") and not rooted.takes("http://x/a.png")
    (missing,) = rooted.inspect("missing.png", _no_judge)
    assert missing.kind == "unreadable" and "no such file" in missing.explanation and missing.score == 1.0
    (outside,) = rooted.inspect("../../etc/passwd", _no_judge)
    assert outside.kind == "unreadable" and "outside the media root" in outside.explanation
    service = _inspector(store=tmp_path / "store", files=False)
    assert not service.takes(str(tmp_path / "a.jpg")) and service.takes("sha256:" + "a" * 64)
    (unknown,) = service.inspect("sha256:" + "a" * 64, _no_judge)
    assert unknown.kind == "unreadable" and "no uploaded file" in unknown.explanation


def test_load_inspector_loads_what_is_installed(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    inspector = load_inspector(PACK, None)
    with caplog.at_level(logging.INFO, logger="postguard.media"):
        names = [d.name for d in inspector.detectors]
    assert "media detectors loaded:" in caplog.text
    assert all(isinstance(n, str) and n for n in names)


def test_the_checker_reports_an_attachment_through_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "scene.jpg"
    _image().save(path, exif=_gps_exif())
    checker = build_checker(Settings.defaults()).with_media(_inspector())
    report = checker.check_post(Post("Our officers at the open day.", Context(attachments=(str(path),))))
    assert report.decision == "block"
    data = report.to_dict()
    assert any(f["kind"] == "location" and f["attachment"] == str(path) for f in data["findings"])


# --- the CLI and the batch -----------------------------------------------------------------


@pytest.fixture
def no_detectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only metadata is read (the OCR and face models are other tests' business)."""
    monkeypatch.setattr(inspect_module, "installed_detectors", lambda: [])


@pytest.mark.usefixtures("no_detectors")
def test_cli_check_reads_the_attachment(tmp_path: Path) -> None:
    path = tmp_path / "scene.jpg"
    _image().save(path, exif=_gps_exif())
    result = runner.invoke(
        app, ["check", "--json", "--attachment", str(path), "Our officers at the open day."]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["decision"] == "block"
    assert {f["kind"] for f in report["findings"]} >= {"location", "metadata"}
    table = runner.invoke(app, ["check", "--attachment", str(path), "Our officers at the open day."])
    assert "location in" in table.stdout and "51.510000" in table.stdout
    liar = tmp_path / "memo.jpg"
    liar.write_text("not a picture")
    refused = runner.invoke(app, ["check", "--json", "--attachment", str(liar), "Hello."])
    (finding,) = json.loads(refused.stdout)["findings"]
    assert finding["kind"] == "unreadable" and "is not a JPEG image" in finding["explanation"]


@pytest.mark.usefixtures("no_detectors")
def test_batch_reads_attachments_only_under_a_media_root(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    _image().save(root / "scene.jpg", exif=_gps_exif())
    _image().save(root / "clean.png")
    lines = [
        {"id": "gps", "text": "Open day.", "context": {"attachments": ["scene.jpg"]}},
        {"id": "clean", "text": "Open day.", "context": {"attachments": ["clean.png"]}},
        {"id": "gone", "text": "Open day.", "context": {"attachments": ["nowhere.png"]}},
        {"id": "named", "text": "Open day.", "context": {"attachments": ["https://x.example/memo.png"]}},
    ]
    source = tmp_path / "posts.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    rooted = runner.invoke(
        app, ["check", "--jsonl", str(source), "--media-root", str(root), "--workers", "1"]
    )
    assert rooted.exit_code == 0, rooted.output
    out = {r["id"]: r for r in map(json.loads, rooted.stdout.splitlines())}
    assert out["gps"]["decision"] == "block" and out["gps"]["findings"][0]["attachment"] == "scene.jpg"
    assert out["clean"]["decision"] == "allow"
    assert out["gone"]["findings"][0]["kind"] == "unreadable"
    assert all("attachment" not in f for f in out["named"]["findings"])  # a URL: judged by its name
    plain = runner.invoke(app, ["check", "--jsonl", str(source), "--workers", "1"])
    names_only = {r["id"]: r for r in map(json.loads, plain.stdout.splitlines())}
    assert names_only["gps"]["decision"] == "allow" and names_only["gone"]["decision"] == "allow"
    assert all("attachment" not in f for r in names_only.values() for f in r["findings"])


# --- the API -------------------------------------------------------------------------------


@pytest.fixture
def media_api(
    world: World, tmp_path: Path, no_detectors: None
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tokens = {}
    for member in ("PIO-1", "AUD-1"):
        tokens[member], _ = create_token(world.registry, "IT-1", member=member, name=f"media-{member}")
    from postguard.web import create_app

    settings = Settings(database_url=world.db.url, keys_dir=world.keys_dir, media_root=tmp_path / "uploads")
    with TestClient(create_app(settings)) as client:
        yield client, {m: f"Bearer {t}" for m, t in tokens.items()}


def _jpeg(tmp_path: Path, **kw: Any) -> bytes:
    path = tmp_path / "upload-source.jpg"
    _image().save(path, **kw)
    return path.read_bytes()


def test_api_upload_then_check_by_ref(
    media_api: tuple[TestClient, dict[str, str]], tmp_path: Path, world: World
) -> None:
    from postguard.audit.queries import entries

    client, auth = media_api
    data = _jpeg(tmp_path, exif=_gps_exif())
    sent = client.post(
        "/api/v1/media",
        files={"file": ("scene.jpg", data, "image/jpeg")},
        headers={"Authorization": auth["AUD-1"]},
    )
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["ref"].startswith("sha256:") and body["name"] == "scene.jpg" and body["size"] == len(data)
    assert list((tmp_path / "uploads").glob("*.jpg"))
    with world.db.session() as session:
        (upload,) = entries(session, action="media.upload")
    assert (
        upload["actor"] == "AUD-1"
        and upload["target"] == body["ref"]
        and upload["detail"]["size"] == len(data)
    )
    check = client.post(
        "/api/v1/check",
        json={"text": "Open day.", "context": {"attachments": [body["ref"]]}},
        headers={"Authorization": auth["PIO-1"]},
    )
    report = check.json()
    assert report["decision"] == "block"
    assert any(f["kind"] == "location" and f["attachment"] == body["ref"] for f in report["findings"])
    # a file path on the server is never read through the API: judged by its name only
    server_file = tmp_path / "scene.jpg"
    server_file.write_bytes(data)
    named = client.post(
        "/api/v1/check",
        json={"text": "Open day.", "context": {"attachments": [str(server_file)]}},
        headers={"Authorization": auth["PIO-1"]},
    ).json()
    assert all("attachment" not in f for f in named["findings"])
    unknown = client.post(
        "/api/v1/check",
        json={"text": "Open day.", "context": {"attachments": ["sha256:" + "0" * 64]}},
        headers={"Authorization": auth["PIO-1"]},
    ).json()
    assert unknown["decision"] == "block" and unknown["findings"][0]["kind"] == "unreadable"


def test_api_upload_refuses_liars_oversize_and_strangers(
    media_api: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    client, auth = media_api
    headers = {"Authorization": auth["PIO-1"]}
    png = tmp_path / "x.png"
    _image().save(png)
    liar = client.post(
        "/api/v1/media", files={"file": ("photo.jpg", png.read_bytes(), "image/jpeg")}, headers=headers
    )
    assert liar.status_code == 422 and "not what its extension says" in liar.json()["detail"]
    text = client.post(
        "/api/v1/media", files={"file": ("a.png", b"hello there", "image/png")}, headers=headers
    )
    assert text.status_code == 422
    stranger = client.post("/api/v1/media", files={"file": ("a.png", png.read_bytes(), "image/png")})
    assert stranger.status_code == 401
    assert not (tmp_path / "uploads").exists() or not list((tmp_path / "uploads").iterdir())
    # bigger than the small API cap is fine here, bigger than the pack's max_bytes is not
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 255, (400, 400, 3), dtype=np.uint8))
    big = tmp_path / "noisy.png"
    noisy.save(big)
    assert big.stat().st_size > 256 * 1024
    assert (
        client.post(
            "/api/v1/media", files={"file": ("n.png", big.read_bytes(), "image/png")}, headers=headers
        ).status_code
        == 201
    )
    huge = client.post(
        "/api/v1/media",
        content=b"x" * 100,
        headers={
            **headers,
            "content-length": str(PACK.media.max_bytes + 10 * 1024 * 1024),
            "content-type": "multipart/form-data; boundary=x",
        },
    )
    assert huge.status_code == 413
    assert (
        client.post(
            "/api/v1/check", content=b"x" * 300_000, headers={**headers, "content-type": "application/json"}
        ).status_code
        == 413
    )


class Slow:
    name = "slow"

    def detect(self, frame: Frame) -> list[Sighting]:
        import time

        time.sleep(0.3)
        return []


def test_looking_at_media_does_not_eat_the_texts_time(tmp_path: Path) -> None:
    from postguard.checks.engine import Checker

    path = tmp_path / "a.png"
    _image().save(path)
    quick = PACK.model_copy(update={"limits": PACK.limits.model_copy(update={"check_seconds": 0.2})})
    checker = Checker(quick, None, media=MediaInspector(quick, [Slow()]))
    report = checker.check_post(Post("Road closed on Main St.", Context(attachments=(str(path),))))
    assert report.decision == "allow"
