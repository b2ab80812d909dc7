"""Text in pictures (OCR), documents and screens, and number plates (issue 13).

Every picture is rendered here with Pillow (DejaVu and Liberation fonts) at a few sizes,
angles, blurs and lightings; the clean photographs come from scikit-image's sample data.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rapidocr_onnxruntime")
pytest.importorskip("cv2")

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from postguard.media.documents import DocumentDetector
from postguard.media.ocr import OcrDetector, TextLine, block_text, group_blocks, read_lines
from postguard.media.plates import PlateDetector, plate_text
from postguard.media.types import Frame, Sighting

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
LIBERATION = Path("/usr/share/fonts/truetype/liberation")
FONTS = {
    "dejavu-sans": DEJAVU / "DejaVuSans.ttf",
    "dejavu-serif": DEJAVU / "DejaVuSerif.ttf",
    "dejavu-bold": DEJAVU / "DejaVuSans-Bold.ttf",
    "liberation-sans": LIBERATION / "LiberationSans-Regular.ttf",
    "liberation-serif": LIBERATION / "LiberationSerif-Regular.ttf",
    "liberation-mono": LIBERATION / "LiberationMono-Regular.ttf",
}
MEMO = [
    "CONFIDENTIAL - INTERNAL BRIEFING",
    "Operation Nightjar begins on Monday",
    "Surveillance of the warehouse at dawn",
    "Do not share outside the unit",
    "Informant code name Kestrel",
]


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = FONTS[name]
    if not path.exists():
        pytest.skip(f"font {path} is not installed")
    return ImageFont.truetype(str(path), size)


def frame_of(img: Image.Image, scale: float = 1.0) -> Frame:
    return Frame(pixels=np.asarray(img.convert("RGB")), scale=scale)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def sign(
    lines: list[str],
    face: str,
    size: int,
    *,
    angle: float = 0.0,
    blur: float = 0.0,
    light: float = 1.0,
    ground: tuple[int, int, int] = (120, 130, 110),
) -> Image.Image:
    """A white board with ``lines`` on it, on a plain ground, maybe turned, blurred, darkened."""
    typeface = font(face, size)
    width = max(round(typeface.getlength(line)) for line in lines) + 2 * size
    board = Image.new("RGB", (width, round(len(lines) * size * 1.6 + size)), (240, 240, 235))
    draw = ImageDraw.Draw(board)
    for i, line in enumerate(lines):
        draw.text((size, size // 2 + round(i * size * 1.6)), line, font=typeface, fill=(25, 25, 30))
    if angle:
        board = board.rotate(angle, expand=True, fillcolor=ground, resample=Image.Resampling.BICUBIC)
    scene = Image.new("RGB", (board.width + 80, board.height + 80), ground)
    scene.paste(board, (40, 40))
    if blur:
        scene = scene.filter(ImageFilter.GaussianBlur(blur))
    if light != 1.0:
        scene = ImageEnhance.Brightness(scene).enhance(light)
    return scene


def memo_on_desk(angle: float = 6.0) -> Image.Image:
    """A printed memo lying on a brown desk, photographed a little askew (800 x 600)."""
    page = Image.new("RGB", (420, 520), (246, 246, 242))
    draw = ImageDraw.Draw(page)
    typeface = font("liberation-serif", 19)
    for i, line in enumerate(MEMO):
        draw.text((28, 40 + i * 34), line, font=typeface, fill=(20, 20, 20))
    page = page.rotate(angle, expand=True, fillcolor=(96, 70, 48), resample=Image.Resampling.BICUBIC)
    desk = Image.new("RGB", (800, 600), (96, 70, 48))
    desk.paste(page, (180, 30))
    return desk


def monitor() -> Image.Image:
    """A computer monitor (dark bezel, bright window with lines of a records system) on a pale wall."""
    wall = Image.new("RGB", (800, 600), (205, 200, 190))
    draw = ImageDraw.Draw(wall)
    draw.rectangle((110, 90, 690, 440), fill=(22, 22, 25))  # bezel
    draw.rectangle((130, 108, 670, 410), fill=(236, 240, 246))  # lit screen
    draw.rectangle((130, 108, 670, 132), fill=(40, 80, 160))  # title bar
    draw.rectangle((370, 440, 430, 500), fill=(40, 40, 44))  # stand
    typeface = font("dejavu-sans", 15)
    rows = [
        "Case 2291 - suspect record",
        "Name: Daniel Marsh  DOB 12/03/1988",
        "Address: 14 Orchard Lane",
        "Status: under surveillance",
        "Officer in charge: Sgt Doyle",
        "Next review: 18 June",
    ]
    for i, row in enumerate(rows):
        draw.text((150, 150 + i * 38), row, font=typeface, fill=(30, 30, 30))
    return wall


def car_with_plate(text: str = "AB12 CDE", colour: tuple[int, int, int] = (250, 210, 30)) -> Image.Image:
    """A box-shaped red car on a road with a rear plate (yellow by default, as UK rear plates are)."""
    scene = Image.new("RGB", (640, 420), (110, 150, 200))
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 300, 640, 420), fill=(70, 70, 72))  # road
    draw.rectangle((140, 120, 500, 320), fill=(170, 25, 30))  # body
    draw.rectangle((180, 135, 460, 200), fill=(40, 50, 60))  # rear window
    draw.ellipse((150, 290, 220, 350), fill=(20, 20, 20))
    draw.ellipse((420, 290, 490, 350), fill=(20, 20, 20))
    draw.rectangle((235, 235, 405, 277), fill=colour, outline=(10, 10, 10), width=2)  # plate
    typeface = font("dejavu-bold", 28)
    width = typeface.getlength(text)
    draw.text((320 - width / 2, 239), text, font=typeface, fill=(10, 10, 10))
    return scene


def kinds(sightings: list[Sighting]) -> list[str]:
    return [s.kind for s in sightings]


def sample(name: str) -> Image.Image:
    data = pytest.importorskip("skimage.data")
    pixels = getattr(data, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return Image.fromarray(pixels[:, :, :3].astype(np.uint8))


# --- words read -------------------------------------------------------------------------------

#: (name, lines written, typeface, size, angle, blur, lighting)
VARIANTS: list[tuple[str, list[str], str, int, float, float, float]] = [
    ("dejavu-22", ["NO ENTRY", "Police incident room"], "dejavu-sans", 22, 0, 0, 1.0),
    ("serif-18", ["Evidence store B", "Authorised staff only"], "dejavu-serif", 18, 0, 0, 1.0),
    ("liberation-30-turned", ["Custody suite", "Ring bell for entry"], "liberation-sans", 30, 10, 0, 1.0),
    ("mono-20-blurred", ["Shift rota week 24", "Patrol route seven"], "liberation-mono", 20, 0, 1, 1.0),
    ("bold-26-dark", ["Briefing at 0600", "Vote Smith for mayor"], "dejavu-bold", 26, 0, 0, 0.55),
    ("serif-24-bright-turned", ["Vehicle pound", "Keys at front desk"], "liberation-serif", 24, -6, 0, 1.25),
    (
        "sans-16-turned-blurred",
        ["Interview room three", "Recording in progress"],
        "liberation-sans",
        16,
        5,
        1,
        1.0,
    ),
    ("dejavu-40-turned", ["Armoury", "Keep locked"], "dejavu-sans", 40, 14, 0, 1.0),
]


def test_legible_text_is_read_across_fonts_angles_blur_and_lighting() -> None:
    """Recall of the words written, over the rendered set, is at least the issue's bar (0.90)."""
    detector = OcrDetector()
    written = read = 0
    missed: dict[str, list[str]] = {}
    for name, lines, face, size, angle, blur, light in VARIANTS:
        img = sign(lines, face, size, angle=angle, blur=blur, light=light)
        expected = words(" ".join(lines))
        sightings = detector.detect(frame_of(img))
        assert all(s.kind == "text" and 0.5 <= s.score <= 1.0 for s in sightings)
        got = words(" ".join(s.evidence for s in sightings))
        hits = [w for w in expected if w in got]
        written += len(expected)
        read += len(hits)
        if len(hits) < len(expected):
            missed[name] = [w for w in expected if w not in got]
    recall = read / written
    assert recall >= 0.90, (recall, missed)


def test_text_sightings_carry_lines_and_boxes_in_the_originals_pixels() -> None:
    img = sign(["Evidence store B", "Authorised staff only"], "dejavu-serif", 18)
    full = OcrDetector().detect(frame_of(img))
    halved = OcrDetector().detect(frame_of(img.resize((img.width * 2, img.height * 2)), scale=2.0))
    assert len(full) == len(halved) == 1
    (a,), (b,) = full, halved
    assert a.box is not None and b.box is not None
    # the same block, found on a copy twice the size, maps back to about the same place
    assert all(abs(p - q) <= 6 for p, q in zip(a.box, b.box, strict=True)), (a.box, b.box)
    assert a.evidence.splitlines() == ["Evidence store B", "Authorised staff only"]
    assert [line["text"] for line in a.detail["lines"]] == a.evidence.splitlines()


def line(text: str, x: float, y: float, w: float, h: float = 20.0) -> TextLine:
    return TextLine(text, 0.9, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def test_lines_are_grouped_into_blocks_in_reading_order() -> None:
    memo = [
        line("first line of memo", 50, 100, 300),
        line("second line", 50, 128, 180),
        line("third", 50, 156, 90),
    ]
    far = [line("EXIT", 600, 110, 80)]
    row = [line("Room", 50, 400, 70), line("12B", 130, 401, 50)]
    blocks = group_blocks(far + row + memo)
    assert [block_text(b) for b in blocks] == [
        "first line of memo\nsecond line\nthird",
        "EXIT",
        "Room 12B",
    ]
    # a caption three times smaller is not the same block as the headline over it
    assert len(group_blocks([line("HEADLINE", 50, 50, 400, 80), line("small print", 50, 135, 100, 15)])) == 2


def test_a_memo_on_a_desk_is_a_document_and_read_as_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from postguard.media import ocr

    frame = frame_of(memo_on_desk())
    calls: list[int] = []
    engine = ocr.shared_engine()
    real = engine.read
    monkeypatch.setattr(engine, "read", lambda pixels: calls.append(1) or real(pixels))
    texts = OcrDetector().detect(frame)
    documents = DocumentDetector().detect(frame)
    plates = PlateDetector().detect(frame)
    assert len(calls) == 1, "the frame is read once for all three detectors"
    assert plates == []
    assert len(texts) == 1
    assert words(texts[0].evidence) == words(" ".join(MEMO))
    assert kinds(documents) == ["document"]
    (page,) = documents
    assert page.box is not None
    x, y, w, h = page.box
    # the page (about 420 x 520, turned 6 degrees, at 180, 30) and nothing of the desk
    assert 160 <= x <= 200 and 10 <= y <= 50 and 430 <= w <= 520 and 520 <= h <= 600, page.box
    assert "CONFIDENTIAL" in page.evidence and page.detail["lines"] == len(MEMO)


def test_a_monitor_showing_a_record_is_a_screen_not_a_document() -> None:
    frame = frame_of(monitor())
    found = DocumentDetector().detect(frame)
    assert kinds(found) == ["screen"]
    assert found[0].box is not None
    x, y, w, h = found[0].box
    assert 100 <= x <= 140 and 80 <= y <= 140 and 520 <= w <= 600 and 270 <= h <= 360, found[0].box
    read = " ".join(s.evidence for s in OcrDetector().detect(frame))
    assert "Orchard Lane" in read and "surveillance" in read


def test_a_sign_with_big_words_is_text_but_not_a_document() -> None:
    frame = frame_of(sign(["POLICE", "NO PARKING", "AT ANY TIME"], "dejavu-bold", 44))
    assert "NO PARKING" in " ".join(s.evidence for s in OcrDetector().detect(frame))
    assert DocumentDetector().detect(frame) == []
    assert PlateDetector().detect(frame) == []


@pytest.mark.parametrize(
    ("text", "colour", "form"),
    [
        ("AB12 CDE", (250, 210, 30), "uk"),
        ("LM68 XYZ", (245, 245, 245), "uk"),
        ("7ABC123", (245, 245, 245), "us"),
    ],
)
def test_a_plate_on_a_car_is_read(text: str, colour: tuple[int, int, int], form: str) -> None:
    frame = frame_of(car_with_plate(text, colour))
    found = PlateDetector().detect(frame)
    assert kinds(found) == ["plate"]
    (plate,) = found
    assert plate.evidence == text and plate.detail["format"] == form
    assert plate.box is not None
    x, y, w, h = plate.box
    # the plate is drawn at (235, 235) to (405, 277)
    assert 215 <= x <= 250 and 220 <= y <= 245 and 150 <= w <= 200 and 35 <= h <= 65, plate.box
    assert DocumentDetector().detect(frame) == []


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("AB12 CDE", ("AB12 CDE", "uk")),
        ("GB AB12 CDE", ("AB12 CDE", "uk")),
        ("ABC-1234", ("ABC-1234", "us")),
        ("AB-123-CD", ("AB-123-CD", "eu")),
        ("XK 2Z9 Q", ("XK 2Z9 Q", "other")),
        ("Room 12b", None),  # lower case: not a plate
        ("2024", None),  # digits only
        ("ENTRY", None),  # letters only
        ("A1 B", None),  # too short
        ("CASE 2291 SUSPECT", None),  # too long
    ],
)
def test_plate_text_shapes(read: str, expected: tuple[str, str] | None) -> None:
    assert plate_text(read) == expected


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
def test_clean_photos_show_no_text_documents_or_plates(name: str) -> None:
    frame = frame_of(sample(name))
    found = [
        s for detector in (OcrDetector(), DocumentDetector(), PlateDetector()) for s in detector.detect(frame)
    ]
    assert found == []
    assert read_lines(frame) == []


def test_a_photographed_book_page_is_a_document() -> None:
    """scikit-image's ``page``: a close photograph of a book's page, unevenly lit, filling the frame."""
    frame = frame_of(sample("page"))
    found = DocumentDetector().detect(frame)
    assert kinds(found) == ["document"]
    assert found[0].detail["whole_frame"] is True
    assert "segmentation" in " ".join(s.evidence for s in OcrDetector().detect(frame))


def test_blue_marker_on_a_whiteboard_is_text_not_a_document() -> None:
    board = Image.new("RGB", (800, 600), (150, 140, 125))
    draw = ImageDraw.Draw(board)
    draw.rectangle((120, 100, 680, 460), fill=(245, 247, 250), outline=(160, 160, 165), width=6)
    typeface = font("liberation-sans", 24)
    for i, row in enumerate(
        ["WITNESSES", "Jane Carter - 12 Oak Road", "Mohammed Patel - 7 Hill St", "Call back Friday"]
    ):
        draw.text((150, 130 + i * 48), row, font=typeface, fill=(20, 50, 170))
    frame = frame_of(board)
    assert "Oak Road" in " ".join(s.evidence for s in OcrDetector().detect(frame))
    assert DocumentDetector().detect(frame) == []
    # the same board written in black reads as a page
    draw.rectangle((130, 110, 670, 450), fill=(245, 247, 250))
    for i, row in enumerate(
        ["WITNESSES", "Jane Carter - 12 Oak Road", "Mohammed Patel - 7 Hill St", "Call back Friday"]
    ):
        draw.text((150, 130 + i * 48), row, font=typeface, fill=(20, 20, 20))
    assert kinds(DocumentDetector().detect(frame_of(board))) == ["document"]
