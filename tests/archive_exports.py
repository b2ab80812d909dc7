"""Sample platform exports, written by the tests themselves (no real account's data).

Each writer makes a small export laid out as the platform lays out its own — an X/Twitter
archive, a Facebook "Download your information" export in JSON, a Mastodon archive — as a
``.zip`` or an unpacked folder, with media files, and with the awkward things real exports
hold: a retweet and a boost to leave out, a followers-only post, Facebook's mis-encoded
text, HTML entities and t.co links, a media file the export lacks, items that lack fields.
The constants below say what reading each must give, so the tests of the reader and of the
import compare against one source.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Literal

Form = Literal["zip", "folder"]


def png_bytes(shade: int = 0) -> bytes:
    """A real 1x1 PNG (grey ``shade``): media the store and the readers take as a photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(bytes([0, shade]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg_bytes(tag: bytes = b"") -> bytes:
    """The start of a JPEG (what a sniffer checks), made distinct by ``tag``."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + tag + b"\xff\xd9"


def mp4_bytes() -> bytes:
    """The start of an MP4 file: an ``ftyp`` box."""
    return struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 16


def write_files(files: dict[str, bytes], dest: Path, form: Form, *, wrap: str = "") -> Path:
    """``files`` (name inside the export -> bytes) as ``dest``.zip or the folder ``dest``;
    ``wrap`` puts everything under one more folder, as some zip tools do."""
    if form == "zip":
        target = dest.with_suffix(".zip")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(f"{wrap}{name}", data)
        return target
    for name, data in files.items():
        path = dest / wrap / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


def _ytd(kind: str, part: int, items: list[dict[str, Any]]) -> bytes:
    return f"window.YTD.{kind}.part{part} = {json.dumps(items, indent=2)}".encode()


# X/Twitter --------------------------------------------------------------------------------------

TWITTER_HANDLE = "SpringfieldPD"
TWEET_PHOTO = jpeg_bytes(b"photo-1")
TWEET_VIDEO = mp4_bytes()


def _tweet(tweet_id: str, text: str, created: str, **extra: Any) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "edit_info": {"initial": {"editTweetIds": [tweet_id], "editableUntil": "2018-10-10T21:19:24.000Z"}},
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
        "display_text_range": ["0", str(len(text))],
        "favorite_count": "3",
        "id_str": tweet_id,
        "truncated": False,
        "retweet_count": "1",
        "id": tweet_id,
        "created_at": created,
        "favorited": False,
        "full_text": text,
        "lang": "en",
    }
    tweet.update(extra)
    return {"tweet": tweet}


def twitter_items() -> list[dict[str, Any]]:
    """tweets.js's items: six that read, one retweet, one without a time."""
    photo = {
        "url": "https://t.co/pic1AbCdEf",
        "media_url_https": "https://pbs.twimg.com/media/DpxAbCdX4AAb1cD.jpg",
        "media_url": "http://pbs.twimg.com/media/DpxAbCdX4AAb1cD.jpg",
        "id_str": "1050000000000000001",
        "type": "photo",
        "display_url": "pic.twitter.com/pic1AbCdEf",
        "expanded_url": "https://twitter.com/SpringfieldPD/status/1050118621198921728/photo/1",
        "indices": ["30", "53"],
    }
    video = {
        "url": "https://t.co/vid1AbCdEf",
        "media_url_https": "https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/thumbVid.jpg",
        "type": "video",
        "video_info": {
            "variants": [
                {
                    "bitrate": "0",
                    "content_type": "application/x-mpegURL",
                    "url": "https://video.twimg.com/x.m3u8",
                },
                {
                    "bitrate": 256000,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/v/low.mp4?tag=10",
                },
                {
                    "bitrate": 2176000,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/v/HiRes.mp4?tag=10",
                },
            ]
        },
        "indices": ["21", "44"],
    }
    absent = {
        "url": "https://t.co/gone1AbCd",
        "media_url_https": "https://pbs.twimg.com/media/NotInTheArchive.png",
        "type": "photo",
        "indices": ["15", "38"],
    }
    return [
        _tweet(
            "1050118621198921728",
            "Road closed on Main St &amp; 5th until 6pm. Details: https://t.co/abc123XyZ",
            "Wed Oct 10 20:19:24 +0000 2018",
            entities={
                "hashtags": [],
                "symbols": [],
                "user_mentions": [],
                "urls": [
                    {
                        "url": "https://t.co/abc123XyZ",
                        "expanded_url": "https://springfield.example/closures?day=1&area=main",
                        "display_url": "springfield.example/closures…",
                        "indices": ["53", "76"],
                    }
                ],
            },
        ),
        _tweet(
            "1050200000000000002",
            "Lost dog found near the park. https://t.co/pic1AbCdEf",
            "Thu Oct 11 08:00:00 +0000 2018",
            entities={"hashtags": [], "symbols": [], "user_mentions": [], "urls": [], "media": [photo]},
            extended_entities={"media": [photo]},
        ),
        _tweet(
            "1050300000000000003",
            "RT @CityHall: Council meeting tonight at 7 &amp; all welcome.",
            "Thu Oct 11 09:00:00 +0000 2018",
            entities={
                "hashtags": [],
                "symbols": [],
                "urls": [],
                "user_mentions": [{"screen_name": "CityHall", "name": "City Hall", "indices": ["3", "12"]}],
            },
        ),
        _tweet(
            "1050400000000000004",
            "@resident Thanks &lt;3 we are on it",
            "Fri Oct 12 23:30:05 +0200 2018",
            in_reply_to_status_id_str="1050399999999999999",
            in_reply_to_screen_name="resident",
            entities={
                "hashtags": [],
                "symbols": [],
                "urls": [],
                "user_mentions": [{"screen_name": "resident", "indices": ["0", "9"]}],
            },
        ),
        _tweet(
            "1050500000000000005",
            "Watch: safety demo. https://t.co/vid1AbCdEf",
            "Sat Oct 13 12:00:00 +0000 2018",
            extended_entities={"media": [video]},
        ),
        _tweet(
            "1050600000000000006",
            "Missing photo https://t.co/gone1AbCd",
            "Sun Oct 14 12:00:00 +0000 2018",
            extended_entities={"media": [absent]},
        ),
        {"tweet": {"id_str": "1050700000000000007", "full_text": "No time on this one"}},
    ]


#: What reading the sample X archive gives: id -> (text, posted_at UTC, media names).
TWITTER_EXPECTED: dict[str, tuple[str, dt.datetime, tuple[str, ...]]] = {
    "1050118621198921728": (
        "Road closed on Main St & 5th until 6pm. Details: https://springfield.example/closures?day=1&area=main",
        dt.datetime(2018, 10, 10, 20, 19, 24, tzinfo=dt.UTC),
        (),
    ),
    "1050200000000000002": (
        "Lost dog found near the park.",
        dt.datetime(2018, 10, 11, 8, 0, tzinfo=dt.UTC),
        ("data/tweets_media/1050200000000000002-DpxAbCdX4AAb1cD.jpg",),
    ),
    "1050400000000000004": (
        "@resident Thanks <3 we are on it",
        dt.datetime(2018, 10, 12, 21, 30, 5, tzinfo=dt.UTC),
        (),
    ),
    "1050500000000000005": (
        "Watch: safety demo.",
        dt.datetime(2018, 10, 13, 12, 0, tzinfo=dt.UTC),
        ("data/tweets_media/1050500000000000005-HiRes.mp4",),
    ),
    "1050600000000000006": (
        "Missing photo",
        dt.datetime(2018, 10, 14, 12, 0, tzinfo=dt.UTC),
        ("data/tweets_media/1050600000000000006-NotInTheArchive.png",),
    ),
    "1060000000000000008": ("From the second part.", dt.datetime(2019, 1, 2, 3, 4, 5, tzinfo=dt.UTC), ()),
}


def twitter_files(*, account: bool = True) -> dict[str, bytes]:
    files = {
        "Your archive.html": b"<html><body>Your archive</body></html>",
        "data/manifest.js": b'window.__THAR_CONFIG = {"userInfo": {}}',
        "data/tweets.js": _ytd("tweets", 0, twitter_items()),
        "data/tweets-part1.js": _ytd(
            "tweets",
            1,
            [_tweet("1060000000000000008", "From the second part.", "Wed Jan 02 03:04:05 +0000 2019")],
        ),
        "data/deleted-tweets.js": _ytd("deleted_tweets", 0, []),
        "data/tweets_media/1050200000000000002-DpxAbCdX4AAb1cD.jpg": TWEET_PHOTO,
        "data/tweets_media/1050500000000000005-HiRes.mp4": TWEET_VIDEO,
    }
    if account:
        files["data/account.js"] = _ytd(
            "account",
            0,
            [
                {
                    "account": {
                        "email": "press@springfield.example",
                        "createdVia": "web",
                        "username": TWITTER_HANDLE,
                        "accountId": "123456789",
                        "createdAt": "2010-01-01T00:00:00.000Z",
                        "accountDisplayName": "Springfield Police",
                    }
                }
            ],
        )
    return files


def write_twitter(dest: Path, form: Form = "zip", *, account: bool = True, wrap: str = "") -> Path:
    return write_files(twitter_files(account=account), dest, form, wrap=wrap)


# Facebook ---------------------------------------------------------------------------------------

FACEBOOK_NAME = "Police de Montréal"
FACEBOOK_PHOTO = jpeg_bytes(b"fb-photo")
FB_POSTS = "your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_1.json"
FB_POSTS_2 = "your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_2.json"
FB_PHOTO = "your_activity_across_facebook/posts/media/Timelinephotos_123/4567890123.jpg"


def mojibake(text: str) -> str:
    """``text`` as Facebook's export writes it: each UTF-8 byte as its own character."""
    return text.encode("utf-8").decode("latin-1")


def facebook_items() -> list[dict[str, Any]]:
    return [
        {
            "timestamp": 1672574400,  # 2023-01-01 12:00:00 UTC
            "data": [
                {"update_timestamp": 1672574400},
                {"post": mojibake("Bonne année à tous ! Café offert 😀")},
            ],
            "title": mojibake(FACEBOOK_NAME) + " updated their status.",
        },
        {
            "timestamp": 1672660800,  # 2023-01-02 12:00:00 UTC
            "attachments": [
                {
                    "data": [
                        {
                            "media": {
                                "uri": FB_PHOTO,
                                "creation_timestamp": 1672660790,
                                "media_metadata": {
                                    "photo_metadata": {"exif_data": [{"upload_ip": "192.0.2.1"}]}
                                },
                                "title": "Timeline photos",
                                "description": mojibake("Patrouille à vélo"),
                            }
                        }
                    ]
                }
            ],
            "data": [],
            "title": mojibake(FACEBOOK_NAME) + " added a new photo.",
        },
        {
            "timestamp": 1672747200,  # 2023-01-03 12:00:00 UTC
            "data": [{"post": "Read our annual report"}],
            "attachments": [
                {
                    "data": [
                        {
                            "external_context": {
                                "url": "https://springfield.example/report-2022",
                                "name": "Report",
                            }
                        }
                    ]
                }
            ],
        },
        {"data": [{"post": "No timestamp here"}]},
        {"timestamp": 1672833600, "title": mojibake(FACEBOOK_NAME) + " is feeling proud."},
    ]


#: Reading the sample Facebook export: (text, posted_at, media names), in order.
FACEBOOK_EXPECTED: list[tuple[str, dt.datetime, tuple[str, ...]]] = [
    ("Bonne année à tous ! Café offert 😀", dt.datetime(2023, 1, 1, 12, tzinfo=dt.UTC), ()),
    ("Patrouille à vélo", dt.datetime(2023, 1, 2, 12, tzinfo=dt.UTC), (FB_PHOTO,)),
    (
        "Read our annual report\nhttps://springfield.example/report-2022",
        dt.datetime(2023, 1, 3, 12, tzinfo=dt.UTC),
        (),
    ),
    ("From the second file.", dt.datetime(2023, 2, 1, 0, tzinfo=dt.UTC), ()),
]


def facebook_files(*, profile: bool = True) -> dict[str, bytes]:
    # Facebook writes its JSON with every non-ASCII byte escaped, as json.dumps does by default.
    files = {
        "index.html": b"<html>Your information</html>",
        FB_POSTS: json.dumps(facebook_items(), indent=2).encode(),
        FB_POSTS_2: json.dumps(
            [{"timestamp": 1675209600, "data": [{"post": "From the second file."}]}]
        ).encode(),
        FB_PHOTO: FACEBOOK_PHOTO,
    }
    if profile:
        files["personal_information/profile_information/profile_information.json"] = json.dumps(
            {
                "profile_v2": {
                    "name": {"full_name": mojibake(FACEBOOK_NAME), "first_name": "", "last_name": ""}
                }
            }
        ).encode()
    return files


def write_facebook(dest: Path, form: Form = "zip", *, profile: bool = True, wrap: str = "") -> Path:
    return write_files(facebook_files(profile=profile), dest, form, wrap=wrap)


# Mastodon ---------------------------------------------------------------------------------------

MASTODON_HOST = "social.example"
MASTODON_ACTOR = f"https://{MASTODON_HOST}/users/police"
MASTODON_PHOTO = png_bytes(90)
MASTODON_MEDIA = "media_attachments/files/109/500/000/000/000/001/original/a1b2c3d4e5f6.png"
_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _create(
    status_id: str, content: str, published: str | None, *, to: list[str], cc: list[str], **extra: Any
) -> dict[str, Any]:
    note: dict[str, Any] = {
        "id": f"{MASTODON_ACTOR}/statuses/{status_id}",
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "url": f"https://{MASTODON_HOST}/@police/{status_id}",
        "attributedTo": MASTODON_ACTOR,
        "to": to,
        "cc": cc,
        "sensitive": False,
        "atomUri": f"{MASTODON_ACTOR}/statuses/{status_id}",
        "conversation": f"tag:{MASTODON_HOST},2023-01-05:objectId=1:objectType=Conversation",
        "content": content,
        "contentMap": {"en": content},
        "attachment": [],
        "tag": [],
        "replies": {"id": f"{MASTODON_ACTOR}/statuses/{status_id}/replies", "type": "Collection"},
    }
    if published is not None:
        note["published"] = published
    note.update(extra)
    activity: dict[str, Any] = {
        "id": f"{MASTODON_ACTOR}/statuses/{status_id}/activity",
        "type": "Create",
        "actor": MASTODON_ACTOR,
        "to": to,
        "cc": cc,
        "object": note,
    }
    if published is not None:
        activity["published"] = published
    return activity


def mastodon_items() -> list[dict[str, Any]]:
    followers = f"{MASTODON_ACTOR}/followers"
    return [
        _create(
            "109500000000000001",
            '<p>Road closed &amp; detour via <a href="https://springfield.example/detour" rel="nofollow noopener" '
            'target="_blank"><span class="invisible">https://</span><span class="ellipsis">springfield.example/'
            'det</span><span class="invisible">our</span></a></p><p>Line two<br />line three <a href="https://'
            f'{MASTODON_HOST}/tags/traffic" class="mention hashtag" rel="tag">#<span>traffic</span></a></p>',
            "2023-01-05T10:00:00Z",
            to=[_PUBLIC],
            cc=[followers],
            attachment=[
                {
                    "type": "Document",
                    "mediaType": "image/png",
                    "url": f"/{MASTODON_MEDIA}",
                    "name": "A map of the detour",
                    "blurhash": "U00000fQfQfQfQfQfQfQfQfQfQfQ",
                    "width": 1,
                    "height": 1,
                }
            ],
        ),
        {
            "id": f"{MASTODON_ACTOR}/statuses/109500000000000002/activity",
            "type": "Announce",
            "actor": MASTODON_ACTOR,
            "published": "2023-01-06T10:00:00Z",
            "to": [_PUBLIC],
            "cc": [followers],
            "object": "https://other.example/users/cityhall/statuses/5555",
        },
        _create("109500000000000003", "<p>Followers only</p>", "2023-01-07T10:00:00Z", to=[followers], cc=[]),
        _create(
            "109500000000000004",
            "<p>Details of the incident &lt;updated&gt;</p>",
            "2023-01-08T10:00:00.000+01:00",
            to=[followers],
            cc=[_PUBLIC],
            summary="Violence mentioned",
            sensitive=True,
        ),
        _create("109500000000000005", "<p>No date</p>", None, to=[_PUBLIC], cc=[]),
    ]


#: Reading the sample Mastodon archive: id -> (text, url, posted_at, media names).
MASTODON_EXPECTED: dict[str, tuple[str, str, dt.datetime, tuple[str, ...]]] = {
    "109500000000000001": (
        "Road closed & detour via https://springfield.example/detour\n\nLine two\nline three #traffic",
        f"https://{MASTODON_HOST}/@police/109500000000000001",
        dt.datetime(2023, 1, 5, 10, tzinfo=dt.UTC),
        (MASTODON_MEDIA,),
    ),
    "109500000000000004": (
        "Violence mentioned\n\nDetails of the incident <updated>",
        f"https://{MASTODON_HOST}/@police/109500000000000004",
        dt.datetime(2023, 1, 8, 9, tzinfo=dt.UTC),
        (),
    ),
}


def mastodon_files(*, actor: bool = True) -> dict[str, bytes]:
    items = mastodon_items()
    outbox = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }
    files = {"outbox.json": json.dumps(outbox, indent=2).encode(), MASTODON_MEDIA: MASTODON_PHOTO}
    if actor:
        files["actor.json"] = json.dumps(
            {
                "@context": ["https://www.w3.org/ns/activitystreams"],
                "id": MASTODON_ACTOR,
                "type": "Person",
                "preferredUsername": "police",
                "name": "Springfield Police",
                "outbox": "outbox.json",
            }
        ).encode()
        files["likes.json"] = json.dumps({"type": "OrderedCollection", "orderedItems": []}).encode()
    return files


def write_mastodon(dest: Path, form: Form = "zip", *, actor: bool = True, wrap: str = "") -> Path:
    return write_files(mastodon_files(actor=actor), dest, form, wrap=wrap)
