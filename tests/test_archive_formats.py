"""Reading the platforms' exports (postguard.archive.formats): each format, each form, each error."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from archive_exports import (
    FACEBOOK_EXPECTED,
    FACEBOOK_NAME,
    FACEBOOK_PHOTO,
    FB_POSTS,
    MASTODON_EXPECTED,
    MASTODON_MEDIA,
    MASTODON_PHOTO,
    TWEET_PHOTO,
    TWEET_VIDEO,
    TWITTER_EXPECTED,
    Form,
    facebook_files,
    mastodon_files,
    mojibake,
    png_bytes,
    twitter_files,
    write_facebook,
    write_files,
    write_mastodon,
    write_twitter,
)
from postguard.archive import formats
from postguard.archive.formats import Export, ExportedPost, fix_mojibake, read_export
from postguard.connectors.mastodon import html_to_text
from postguard.errors import ValidationError

FORMS = ["zip", "folder"]


def _posts(export: Export) -> list[ExportedPost]:
    return list(export.posts())


# X/Twitter ------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_an_x_archive_reads_every_own_tweet_with_its_text_time_and_media(tmp_path: Path, form: Form) -> None:
    with read_export(write_twitter(tmp_path / "twitter", form)) as export:
        posts = _posts(export)
        assert (export.platform, export.account) == ("twitter", "twitter:@SpringfieldPD")
        assert export.format == "X/Twitter archive (tweets.js)"
        assert export.data_files == ("data/tweets.js", "data/tweets-part1.js")
        assert [p.platform_id for p in posts] == list(TWITTER_EXPECTED)
        for post in posts:
            text, posted_at, media = TWITTER_EXPECTED[post.platform_id]
            assert post.text == text
            assert post.posted_at == posted_at and post.posted_at.tzinfo == dt.UTC
            assert tuple(m.name for m in post.media) == media
            assert post.url == f"https://x.com/SpringfieldPD/status/{post.platform_id}"
        by_id = {p.platform_id: p for p in posts}
        photo = by_id["1050200000000000002"].media[0]
        video = by_id["1050500000000000005"].media[0]
        absent = by_id["1050600000000000006"].media[0]
        assert (photo.content_type, photo.read()) == ("image/jpeg", TWEET_PHOTO)
        assert (video.content_type, video.read()) == ("video/mp4", TWEET_VIDEO)
        assert (absent.content_type, absent.read()) == ("image/png", None)
        assert export.left_out == {"retweet": 1}
        assert export.skipped == ["data/tweets.js item 7: tweet 1050700000000000007 has no created_at"]


def test_reading_the_posts_again_counts_afresh(tmp_path: Path) -> None:
    with read_export(write_twitter(tmp_path / "t", "zip")) as export:
        assert len(_posts(export)) == len(_posts(export)) == 6
        assert len(export.skipped) == 1 and export.left_out == {"retweet": 1}


def test_an_x_archive_without_its_account_file_has_an_unknown_account_and_handle_free_links(
    tmp_path: Path,
) -> None:
    path = write_twitter(tmp_path / "t", "folder", account=False)
    with read_export(path) as export:
        assert export.account == "twitter:unknown"
        assert _posts(export)[0].url == "https://x.com/i/web/status/1050118621198921728"
    with read_export(path, account="twitter:@springfieldpd") as export:
        assert export.account == "twitter:@springfieldpd"


def test_the_data_file_alone_reads_that_file_and_still_finds_its_media_and_account(tmp_path: Path) -> None:
    folder = write_twitter(tmp_path / "t", "folder")
    with read_export(folder / "data" / "tweets.js") as export:
        posts = _posts(export)
        assert export.account == "twitter:@SpringfieldPD"
        assert export.data_files == ("tweets.js",)
        assert "1060000000000000008" not in {p.platform_id for p in posts}  # in the other part
        photo = next(p for p in posts if p.platform_id == "1050200000000000002").media[0]
        assert photo.read() == TWEET_PHOTO


def test_an_archive_zipped_inside_a_folder_of_its_own_is_read(tmp_path: Path) -> None:
    path = write_twitter(tmp_path / "t", "zip", wrap="twitter-2024-05-01-abc/")
    with read_export(path) as export:
        posts = _posts(export)
        assert export.data_files[0] == "twitter-2024-05-01-abc/data/tweets.js"
        photo = next(p for p in posts if p.platform_id == "1050200000000000002").media[0]
        assert photo.read() == TWEET_PHOTO


def test_an_older_archive_with_tweet_js_is_read(tmp_path: Path) -> None:
    files = twitter_files()
    files["data/tweet.js"] = files.pop("data/tweets.js").replace(b"YTD.tweets.", b"YTD.tweet.")
    del files["data/tweets-part1.js"]
    with read_export(write_files(files, tmp_path / "old", "zip")) as export:
        assert export.format == "X/Twitter archive (tweet.js)"
        assert len(_posts(export)) == 5


def test_twitter_times_are_read_whatever_the_locale_and_bad_ones_skip_the_tweet(tmp_path: Path) -> None:
    files = twitter_files()
    items = [
        {"tweet": {"id_str": "1", "full_text": "a", "created_at": "Mon Feb 29 23:59:59 -0130 2016"}},
        {"tweet": {"id_str": "2", "full_text": "b", "created_at": "2016-02-29T23:59:59Z"}},
        {"tweet": {"id_str": "3", "full_text": "c", "created_at": "Mon Feb 30 23:59:59 +0000 2016"}},
        {"tweet": {"full_text": "no id", "created_at": "Mon Feb 29 23:59:59 +0000 2016"}},
        {"tweet": {"id_str": "5", "created_at": "Mon Feb 29 23:59:59 +0000 2016"}},
        "not a tweet",
    ]
    files["data/tweets.js"] = f"window.YTD.tweets.part0 = {json.dumps(items)}".encode()
    del files["data/tweets-part1.js"]
    with read_export(write_files(files, tmp_path / "t", "folder")) as export:
        posts = _posts(export)
        assert [(p.platform_id, p.posted_at) for p in posts] == [
            ("1", dt.datetime(2016, 3, 1, 1, 29, 59, tzinfo=dt.UTC))
        ]
        assert export.skipped == [
            "data/tweets.js item 2: created_at '2016-02-29T23:59:59Z' is not a time X writes",
            "data/tweets.js item 3: created_at 'Mon Feb 30 23:59:59 +0000 2016' is not a time X writes",
            "data/tweets.js item 4: no id_str",
            "data/tweets.js item 5: tweet 5 has no full_text",
            "data/tweets.js item 6: not a tweet",
        ]


# Facebook -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_facebook_export_reads_posts_with_its_text_put_right(tmp_path: Path, form: Form) -> None:
    with read_export(write_facebook(tmp_path / "fb", form)) as export:
        posts = _posts(export)
        assert (export.platform, export.account) == ("facebook", f"facebook:{FACEBOOK_NAME}")
        assert export.format.startswith("Facebook export, JSON")
        assert [(p.text, p.posted_at, tuple(m.name for m in p.media)) for p in posts] == FACEBOOK_EXPECTED
        assert all(re.fullmatch(r"\d+-[0-9a-f]{16}", p.platform_id) for p in posts)
        assert posts[0].platform_id.startswith("1672574400-")
        assert len({p.platform_id for p in posts}) == len(posts)
        assert all(p.url == "" for p in posts)
        photo = posts[1].media[0]
        assert (photo.content_type, photo.read()) == ("image/jpeg", FACEBOOK_PHOTO)
        assert export.left_out == {}
        assert [s.split(": ", 1)[1] for s in export.skipped] == [
            "no timestamp",
            "nothing posted at 2023-01-04T12:00:00+00:00 (no text, link or media)",
        ]
        assert export.skipped[0].startswith(f"{FB_POSTS} item 4")


def test_facebook_ids_are_the_same_whichever_form_the_export_takes(tmp_path: Path) -> None:
    with (
        read_export(write_facebook(tmp_path / "a", "zip")) as a,
        read_export(write_facebook(tmp_path / "b", "folder")) as b,
    ):
        assert [p.platform_id for p in a.posts()] == [p.platform_id for p in b.posts()]


def test_a_facebook_posts_file_alone_finds_its_media_from_the_exports_top(tmp_path: Path) -> None:
    folder = write_facebook(tmp_path / "fb", "folder")
    with read_export(folder / FB_POSTS) as export:
        posts = _posts(export)
        assert export.account == f"facebook:{FACEBOOK_NAME}"
        assert len(posts) == 3
        assert posts[1].media[0].read() == FACEBOOK_PHOTO


def test_a_facebook_posts_file_copied_out_alone_reads_without_its_media(tmp_path: Path) -> None:
    folder = write_facebook(tmp_path / "fb", "folder")
    alone = tmp_path / "your_posts__check_ins__photos_and_videos_1.json"
    alone.write_bytes((folder / FB_POSTS).read_bytes())
    with read_export(alone) as export:
        posts = _posts(export)
        assert export.account == "facebook:unknown"
        assert [p.text for p in posts] == [t for t, _, _ in FACEBOOK_EXPECTED[:3]]
        assert posts[1].media[0].read() is None


def test_an_older_facebook_export_and_one_without_profile(tmp_path: Path) -> None:
    files = facebook_files(profile=False)
    files["posts/your_posts_1.json"] = files.pop(FB_POSTS)
    del files["your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_2.json"]
    files["posts/media/Timelinephotos_123/4567890123.jpg"] = files.pop(
        "your_activity_across_facebook/posts/media/Timelinephotos_123/4567890123.jpg"
    )
    items = json.loads(files["posts/your_posts_1.json"])
    items[1]["attachments"][0]["data"][0]["media"]["uri"] = "posts/media/Timelinephotos_123/4567890123.jpg"
    files["posts/your_posts_1.json"] = json.dumps({"status_updates_v2": items}).encode()
    path = write_files(files, tmp_path / "old", "zip")
    with read_export(path) as export:
        posts = _posts(export)
        assert export.account == "facebook:unknown"
        assert [p.text for p in posts] == [t for t, _, _ in FACEBOOK_EXPECTED[:3]]
        assert posts[1].media[0].read() == FACEBOOK_PHOTO
    with read_export(path, account="facebook:Springfield Police") as export:
        assert export.account == "facebook:Springfield Police"


def test_fixing_facebooks_encoding_leaves_right_text_alone() -> None:
    assert fix_mojibake(mojibake("Montréal — 😀")) == "Montréal — 😀"
    assert fix_mojibake("Montréal") == "Montréal"  # already right: é alone is no UTF-8
    assert fix_mojibake("😀 ok") == "😀 ok"  # not Latin-1 at all
    assert fix_mojibake("plain") == "plain"


def test_a_facebook_html_export_is_refused_with_the_way_to_get_json(tmp_path: Path) -> None:
    path = write_files(
        {"your_activity_across_facebook/posts/your_posts_1.html": b"<html/>"}, tmp_path / "h", "zip"
    )
    with pytest.raises(ValidationError, match=r"HTML format.*Format: JSON"):
        read_export(path)


# Mastodon -------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_mastodon_archive_reads_public_and_unlisted_posts(tmp_path: Path, form: Form) -> None:
    with read_export(write_mastodon(tmp_path / "m", form)) as export:
        posts = _posts(export)
        assert (export.platform, export.account) == ("mastodon", "mastodon:@police@social.example")
        assert export.format == "Mastodon archive (outbox.json)"
        assert [p.platform_id for p in posts] == list(MASTODON_EXPECTED)
        for post in posts:
            text, url, posted_at, media = MASTODON_EXPECTED[post.platform_id]
            assert (post.text, post.url, post.posted_at, tuple(m.name for m in post.media)) == (
                text,
                url,
                posted_at,
                media,
            )
        photo = posts[0].media[0]
        assert (photo.content_type, photo.read()) == ("image/png", MASTODON_PHOTO)
        assert export.left_out == {"boost": 1, "not public": 1}
        assert export.skipped == ["outbox.json item 5: status 109500000000000005 has no published time"]


def test_a_mastodon_archive_without_actor_json_names_the_account_from_its_activities(tmp_path: Path) -> None:
    with read_export(write_mastodon(tmp_path / "m", "zip", actor=False)) as export:
        assert export.account == "mastodon:@police@social.example"
        assert len(_posts(export)) == 2


def test_mastodon_html_becomes_plain_text() -> None:
    assert html_to_text("<p>a &amp; b</p><p>c<br>d</p>") == "a & b\n\nc\nd"
    assert (
        html_to_text('<p><a href="x"><span class="invisible">https://</span>ex.am/ple</a></p>')
        == "https://ex.am/ple"
    )
    assert html_to_text("<p>x</p><script>alert(1)</script><p>y</p>") == "x\n\ny"
    assert html_to_text("") == ""


# Hostile and broken input ---------------------------------------------------------------------


def test_a_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"There is no file or folder .*nothing\.zip"):
        read_export(tmp_path / "nothing.zip")


@pytest.mark.parametrize(
    "make",
    [
        lambda p: write_files({"notes.txt": b"hello"}, p / "x", "zip"),
        lambda p: write_files(
            {"notes.txt": b"hello", "data/like.js": b"window.YTD.like.part0 = []"}, p / "x", "folder"
        ),
    ],
    ids=["zip", "folder"],
)
def test_something_that_is_no_export_says_which_three_are_read_and_how_to_get_them(
    tmp_path: Path, make: Callable[[Path], Path]
) -> None:
    with pytest.raises(ValidationError) as caught:
        read_export(make(tmp_path))
    message = str(caught.value)
    assert "is not an export postguard reads" in message
    for hint in (
        "X/Twitter archive",
        "Download an archive of your data",
        "Facebook",
        "format JSON",
        "Mastodon",
        "Request your archive",
    ):
        assert hint in message


def test_a_lone_file_of_another_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "posts.csv").write_text("a,b\n")
    with pytest.raises(ValidationError, match="not an export's data file postguard reads"):
        read_export(tmp_path / "posts.csv")


def test_a_damaged_zip_is_refused(tmp_path: Path) -> None:
    good = write_mastodon(tmp_path / "m", "zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValidationError, match="not a zip file postguard can read"):
        read_export(tmp_path / "cut.zip")


def test_two_exports_in_one_zip_are_refused(tmp_path: Path) -> None:
    path = write_files(twitter_files() | mastodon_files(), tmp_path / "both", "zip")
    with pytest.raises(ValidationError, match="more than one export"):
        read_export(path)


@pytest.mark.parametrize("form", FORMS)
def test_corrupt_json_is_reported_with_its_file_and_line(tmp_path: Path, form: Form) -> None:
    files = mastodon_files()
    files["outbox.json"] = b'{\n  "orderedItems": [\n    {"type": "Create",,}\n  ]\n}'
    with (
        read_export(write_files(files, tmp_path / "m", form)) as export,
        pytest.raises(ValidationError, match=r"outbox\.json is not valid JSON at line 3, column 23"),
    ):
        _posts(export)


def test_a_broken_tweets_file_reports_the_line_past_its_prefix(tmp_path: Path) -> None:
    files = twitter_files()
    files["data/tweets-part1.js"] = b'window.YTD.tweets.part1 = [ {"tweet": } ]'
    with (
        read_export(write_files(files, tmp_path / "t", "zip")) as export,
        pytest.raises(ValidationError, match=r"tweets-part1\.js is not valid JSON at line 1, column 39"),
    ):
        _posts(export)
    files["data/tweets-part1.js"] = b'[{"tweet": {}}]'
    with (
        read_export(write_files(files, tmp_path / "t2", "zip")) as export,
        pytest.raises(ValidationError, match=r"does not start with 'window\.YTD"),
    ):
        _posts(export)


def test_a_file_not_in_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    files = facebook_files()
    files[FB_POSTS] = '[\n{"timestamp": 1, "data": [{"post": "Montréal"}]}\n]'.encode("latin-1")
    with (
        read_export(write_files(files, tmp_path / "fb", "zip")) as export,
        pytest.raises(ValidationError, match=r"is not UTF-8 text \(line 2"),
    ):
        _posts(export)


def test_an_outbox_without_items_is_refused(tmp_path: Path) -> None:
    files = mastodon_files()
    files["outbox.json"] = b'{"type": "OrderedCollection", "first": "outbox.json?page=1"}'
    with (
        read_export(write_files(files, tmp_path / "m", "folder")) as export,
        pytest.raises(ValidationError, match="has no orderedItems"),
    ):
        _posts(export)


def test_members_over_the_caps_are_refused_before_they_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_mastodon(tmp_path / "m", "zip")
    monkeypatch.setattr(formats, "MAX_MEDIA_BYTES", 10)
    with read_export(path) as export:
        posts = _posts(export)
        with pytest.raises(ValidationError, match=rf"{re.escape(MASTODON_MEDIA)} is \d+ bytes uncompressed"):
            posts[0].media[0].read()
    monkeypatch.setattr(formats, "MAX_DATA_BYTES", 100)
    with (
        read_export(path) as export,
        pytest.raises(ValidationError, match=r"outbox\.json is .* bytes uncompressed"),
    ):
        _posts(export)


def test_a_zip_member_larger_than_its_header_says_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crafted zip may declare a small size and inflate to much more: the bytes are counted as read."""
    path = write_mastodon(tmp_path / "m", "zip")
    monkeypatch.setattr(formats, "_CHUNK", 8)
    monkeypatch.setattr(formats, "MAX_MEDIA_BYTES", 16)
    monkeypatch.setattr(formats._ZipSource, "size", lambda self, name: 1 if name in self.members else None)
    with read_export(path) as export, pytest.raises(ValidationError, match="holds more than"):
        next(export.posts()).media[0].read()


def test_zip_member_names_are_never_paths(tmp_path: Path) -> None:
    files = mastodon_files()
    outbox = json.loads(files["outbox.json"])
    outbox["orderedItems"][0]["object"]["attachment"][0]["url"] = "/../../escaped.png"
    files["outbox.json"] = json.dumps(outbox).encode()
    files["../../escaped.png"] = png_bytes(1)
    (tmp_path / "inner").mkdir()
    zipped = write_files(files, tmp_path / "inner" / "m", "zip")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with read_export(zipped) as export:
        media = _posts(export)[0].media[0]
        assert media.name == "../../escaped.png"
        assert media.read() == png_bytes(1)  # the zip's own member of that name, read from the zip
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written anywhere


def test_an_unpacked_export_cannot_reach_files_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(png_bytes(2))
    files = mastodon_files()
    outbox = json.loads(files["outbox.json"])
    outbox["orderedItems"][0]["object"]["attachment"][0]["url"] = "/../secret.png"
    files["outbox.json"] = json.dumps(outbox).encode()
    folder = write_files(files, tmp_path / "export", "folder")
    (folder / "media_attachments" / "link.png").symlink_to(tmp_path / "secret.png")
    with read_export(folder) as export:
        media = _posts(export)[0].media[0]
        assert media.read() is None
        assert formats.ExportedMedia("media_attachments/link.png", "image/png", export._source).read() is None


def test_media_cannot_be_read_once_the_export_is_closed(tmp_path: Path) -> None:
    export = read_export(write_twitter(tmp_path / "t", "zip"))
    photo = next(p for p in export.posts() if p.media).media[0]
    export.close()
    with pytest.raises(ValidationError, match="is closed"):
        photo.read()


def test_a_zip_with_windows_separators_is_read(tmp_path: Path) -> None:
    target = tmp_path / "win.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for name, data in mastodon_files().items():
            info = zipfile.ZipInfo(name.replace("/", "\\"))
            zf.writestr(info, data)
    with read_export(target) as export:
        assert _posts(export)[0].media[0].read() == MASTODON_PHOTO
