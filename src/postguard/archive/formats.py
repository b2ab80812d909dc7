"""Reading the platforms' own exports of an account: X/Twitter, Facebook and Mastodon (issue 14).

A department may bring into the archive what its accounts posted before postguard watched
them, from the export each platform gives its users. :func:`read_export` takes the export as
downloaded (a ``.zip``), its unpacked folder, or the one data file, and answers an
:class:`Export` whose :meth:`Export.posts` yields each post as an :class:`ExportedPost`.

Formats read (each documented at its reader below):

- X/Twitter archive: ``data/tweets.js`` (older ``data/tweet.js``; big ones split into
  ``tweets-part1.js``, ...), ``data/account.js``, ``data/tweets_media/``.
- Facebook "Download your information" in JSON format:
  ``.../posts/your_posts__check_ins__photos_and_videos_1.json`` (older ``posts/your_posts_1.json``),
  numbered ``_1``, ``_2``...; the media under the paths it names.
- Mastodon archive: ``outbox.json`` (an ActivityPub collection), ``actor.json``, ``media_attachments/``.

Exports are input from outside, and are treated as hostile:

- a zip is never extracted to disk: its members are read from the zip itself, by name, and a
  member's name is never used as a file path (so ``../../etc/passwd`` in a zip is a name that
  nothing matches, never a file written or read);
- in a folder, every file the export names is looked up under the folder, and one that
  resolves outside it (``..``, a symbolic link) is taken as missing;
- a data file over :data:`MAX_DATA_BYTES` or a media file over :data:`MAX_MEDIA_BYTES`
  (uncompressed) is refused before it is read, and a member is read in pieces with the cap
  counted, so a zip whose header lies about a member's size cannot fill memory either;
- media bytes are read only when asked (:meth:`ExportedMedia.read`), one file at a time.

Every problem with the export as a whole (missing, not an export, damaged JSON, not UTF-8, a
member too big) raises :class:`~postguard.errors.ValidationError` with a message that names the
file (and the line, for JSON), which the CLI shows as it is. A single post that lacks what a
post needs (an id, a time) does not stop the import: it is left out and its reason kept in
:attr:`Export.skipped`. Posts left out on purpose (retweets, boosts, followers-only posts) are
counted in :attr:`Export.left_out`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import os
import re
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from postguard.connectors.mastodon import html_to_text, with_warning
from postguard.errors import ValidationError
from postguard.media.store import CONTENT_TYPES

__all__ = [
    "ACCEPTED",
    "MAX_DATA_BYTES",
    "MAX_MEDIA_BYTES",
    "Export",
    "ExportedMedia",
    "ExportedPost",
    "fix_mojibake",
    "read_export",
]

#: The largest data file (tweets.js, a posts file, outbox.json) read, uncompressed: it is parsed whole.
MAX_DATA_BYTES = 2 * 1024**3
#: The largest media file read, uncompressed (a long video is refused, not read into memory).
MAX_MEDIA_BYTES = 200 * 1024**2
#: Account and profile files are small; anything bigger is not one.
_MAX_SMALL_BYTES = 16 * 1024**2
_CHUNK = 1024 * 1024

#: What :func:`read_export` reads, and how each is got: said whenever an input is not one of them.
ACCEPTED = (
    "postguard reads three kinds of export, each as the .zip downloaded, its unpacked folder, or its "
    "data file: an X/Twitter archive (Settings > Your account > Download an archive of your data; "
    "data file data/tweets.js); a Facebook export in JSON format (Settings > Your information > "
    "Download your information, format JSON; data file your_posts__check_ins__photos_and_videos_1.json "
    "or your_posts_1.json); a Mastodon archive (Preferences > Import and export > Request your archive; "
    "data file outbox.json)."
)

#: By file extension, where the export does not say: the media store's, and what else exports hold.
_CONTENT_TYPES = {**CONTENT_TYPES, ".jpeg": "image/jpeg", ".m4a": "audio/mp4", ".mp3": "audio/mpeg"}


def _content_type(name: str) -> str:
    """The type a file's name suggests: a fixed table first (the same answer on every machine,
    whatever its mime.types says), then :mod:`mimetypes`."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in _CONTENT_TYPES:
        return _CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=True)
    return guessed or "application/octet-stream"


# Where the export's files are read from ------------------------------------------------------


class _Source(ABC):
    """The files of one export, by their names inside it (``/``-separated, relative)."""

    def __init__(self, label: str) -> None:
        self.label = label  # the path the user gave, for messages
        self.closed = False

    @abstractmethod
    def names(self) -> list[str]:
        """The names of the files the export holds (for finding its data files)."""

    @abstractmethod
    def size(self, name: str) -> int | None:
        """The uncompressed size of ``name``; None when the export has no such file."""

    @abstractmethod
    def _open_read(self, name: str, cap: int) -> bytes:
        """The bytes of ``name`` (which exists), read in pieces, refusing more than ``cap``."""

    def exists(self, name: str) -> bool:
        return self.size(name) is not None

    def read(self, name: str, cap: int) -> bytes | None:
        """The bytes of ``name``, or None when the export lacks it; ValidationError over ``cap``."""
        if self.closed:
            raise ValidationError(f"The export {self.label} is closed; open it again to read {name}.")
        size = self.size(name)
        if size is None:
            return None
        if size > cap:
            raise ValidationError(
                f"{self.label}: {name} is {size:,} bytes uncompressed; postguard reads at most {cap:,} "
                "for such a file, so it was not read."
            )
        return self._open_read(name, cap)

    def _too_big(self, name: str, cap: int) -> ValidationError:
        return ValidationError(
            f"{self.label}: {name} holds more than the {cap:,} bytes its header declares or postguard "
            "reads; the export is damaged or crafted, and was not read further."
        )

    def close(self) -> None:
        self.closed = True


class _ZipSource(_Source):
    """A zip read in place: members by name, nothing extracted, names never used as paths."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise ValidationError(f"{path} is not a zip file postguard can read ({exc}).") from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            if info.is_dir():
                continue
            # Zips made on Windows may separate folders with backslashes: the name is only ever a
            # key to look the member up by, so normalising it cannot reach outside the zip.
            self.members.setdefault(info.filename.replace("\\", "/"), info)

    def names(self) -> list[str]:
        return list(self.members)

    def size(self, name: str) -> int | None:
        info = self.members.get(name)
        return None if info is None else info.file_size

    def _open_read(self, name: str, cap: int) -> bytes:
        info = self.members[name]
        pieces: list[bytes] = []
        total = 0
        try:
            with self.zip.open(info) as member:
                while piece := member.read(_CHUNK):
                    total += len(piece)
                    if total > cap:
                        raise self._too_big(name, cap)
                    pieces.append(piece)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ValidationError(f"{self.label}: {name} cannot be read from the zip ({exc}).") from None
        except NotImplementedError as exc:  # a compression method zipfile lacks
            raise ValidationError(
                f"{self.label}: {name} is compressed in a way postguard cannot read ({exc})."
            ) from None
        except RuntimeError as exc:  # encrypted: a password is needed
            raise ValidationError(
                f"{self.label}: {name} cannot be read ({exc}); unpack the zip first."
            ) from None
        return b"".join(pieces)

    def close(self) -> None:
        if not self.closed:
            self.zip.close()
        super().close()


class _FolderSource(_Source):
    """An unpacked export (or the folder around its one data file).

    ``only``, given, is the one data file the user named: the export's data files are that one
    alone, while the files it refers to (media, account) are still looked up in the folder."""

    def __init__(self, root: Path, label: str, only: str | None = None) -> None:
        super().__init__(label)
        self.root = root.resolve()
        self.only = only

    def names(self) -> list[str]:
        if self.only is not None:
            return [self.only]
        found: list[str] = []
        for folder, dirs, files in os.walk(self.root):  # symbolic links to folders are not followed
            dirs.sort()
            base = Path(folder).relative_to(self.root)
            found.extend((base / f).as_posix() if base != Path(".") else f for f in sorted(files))
        return found

    def _path(self, name: str) -> Path | None:
        if not name or "\x00" in name or PurePosixPath(name).is_absolute():
            return None
        try:
            path = (self.root / name).resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def size(self, name: str) -> int | None:
        path = self._path(name)
        if path is None:
            return None
        try:
            return path.stat().st_size
        except OSError:
            return None

    def _open_read(self, name: str, cap: int) -> bytes:
        path = self._path(name)
        if path is None:
            raise ValidationError(f"{self.label}: {name} went away while it was read.")
        pieces: list[bytes] = []
        total = 0
        try:
            with path.open("rb") as fh:
                while piece := fh.read(_CHUNK):
                    total += len(piece)
                    if total > cap:
                        raise self._too_big(name, cap)
                    pieces.append(piece)
        except OSError as exc:
            raise ValidationError(f"{self.label}: {name} cannot be read ({exc.strerror or exc}).") from None
        return b"".join(pieces)


# What an export yields ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedMedia:
    """A photo or video of an exported post: its name inside the export, read when asked."""

    name: str  # the file's name inside the export, e.g. "data/tweets_media/123-abc.jpg"
    content_type: str  # as the export says, or guessed from the name
    _source: _Source | None = field(default=None, repr=False, compare=False)

    def read(self) -> bytes | None:
        """The file's bytes, or None when the export lacks the file (exports often leave media out).

        Raises :class:`ValidationError` for a file over :data:`MAX_MEDIA_BYTES`, one the zip cannot
        give back (damaged, encrypted), or when the export has been closed: the caller may note it
        and go on with the next file."""
        if self._source is None:
            return None
        return self._source.read(self.name, MAX_MEDIA_BYTES)


@dataclass(frozen=True)
class ExportedPost:
    """One post of the account, as its export shows it."""

    platform_id: str
    url: str
    text: str
    posted_at: dt.datetime  # aware, UTC
    media: tuple[ExportedMedia, ...] = ()


class _SkipError(Exception):
    """An item of the export that is not a post postguard can keep; the message says why."""


class _LeftOutError(Exception):
    """An item left out on purpose (a retweet, a boost); the message is what it is counted as."""


@dataclass
class Export:
    """An opened export: its platform, account and format, and its posts (:meth:`posts`).

    Close it when done (or use it as a context manager): a zip stays open while posts and their
    media are read. :attr:`skipped` (reasons) and :attr:`left_out` (counts by kind) are filled
    as :meth:`posts` goes, and start again on each call."""

    platform: str  # "twitter" | "facebook" | "mastodon"
    account: str  # "twitter:@HANDLE", "facebook:NAME", "mastodon:@USER@HOST" (or "...:unknown")
    format: str  # e.g. "X/Twitter archive (tweets.js)"
    data_files: tuple[str, ...]  # the data files the posts are read from, inside the export
    _source: _Source = field(repr=False)
    _reader: _Reader = field(repr=False)
    skipped: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    def posts(self) -> Iterator[ExportedPost]:
        """Each post, in the export's order, one data file parsed at a time.

        Raises :class:`ValidationError` when a data file is damaged (not JSON, not UTF-8, too
        big): posts of the data files before it have been yielded by then."""
        self.skipped.clear()
        self.left_out.clear()
        for name in self.data_files:
            for where, item in self._reader.items(self._source, name):
                try:
                    yield self._reader.post(self._source, item)
                except _SkipError as exc:
                    self.skipped.append(f"{where}: {exc}")
                except _LeftOutError as exc:
                    self.left_out[str(exc)] = self.left_out.get(str(exc), 0) + 1

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> Export:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# Shared helpers -------------------------------------------------------------------------------


def _decode(source: _Source, name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ValidationError(
            f"{source.label}: {name} is not UTF-8 text (line {line}, byte {exc.start}): exports are "
            "UTF-8, so the file is damaged or was saved again in another encoding; use the file as "
            "downloaded."
        ) from None


def _parse_json(source: _Source, name: str, text: str, *, first_line_col: int = 0) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        column = exc.colno + (first_line_col if exc.lineno == 1 else 0)
        raise ValidationError(
            f"{source.label}: {name} is not valid JSON at line {exc.lineno}, column {column} ({exc.msg}); "
            "the export is damaged or incomplete: download it again."
        ) from None
    except RecursionError:
        raise ValidationError(f"{source.label}: {name} is nested too deeply to be an export.") from None


def _load_json(source: _Source, name: str, cap: int | None = None) -> Any:
    raw = source.read(name, MAX_DATA_BYTES if cap is None else cap)
    if raw is None:
        raise ValidationError(f"{source.label}: {name} is missing from the export.")
    return _parse_json(source, name, _decode(source, name, raw))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text_field(value: Any) -> str:
    return value if isinstance(value, str) else ""


class _Reader(ABC):
    """One platform's export: where its data files are, its items, and a post from an item."""

    platform: str
    format: str

    def __init__(self, prefix: str, files: list[str]) -> None:
        self.prefix = prefix  # the folder inside the export the platform's paths start from
        self.files = files  # the data files, in the order their posts are read

    @abstractmethod
    def account(self, source: _Source) -> str | None:
        """The account's name as the export gives it (None: it does not say)."""

    @abstractmethod
    def items(self, source: _Source, name: str) -> Iterator[tuple[str, Any]]:
        """Each item of data file ``name``, with where it is (for a skip's reason)."""

    @abstractmethod
    def post(self, source: _Source, item: Any) -> ExportedPost:
        """The post an item is; raises _SkipError or _LeftOutError."""


# X/Twitter ------------------------------------------------------------------------------------

_TWEETS_FILE = re.compile(r"^(?P<dir>(?:.*/)?)(?P<file>tweets?(?:-part(?P<part>\d+))?\.js)$")
_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_RETWEET = re.compile(r"^RT @\w{1,15}:")
_YTD = re.compile(r"^\s*window\.YTD\.[A-Za-z0-9_]+\.part\d+\s*=\s*")


def _twitter_time(value: Any) -> dt.datetime:
    """``Wed Oct 10 20:19:24 +0000 2018``, read without the locale (strptime's %a/%b follow it)."""
    parts = value.split() if isinstance(value, str) else []
    if len(parts) != 6 or parts[1] not in _MONTHS or not re.fullmatch(r"[+-]\d{4}", parts[4]):
        raise _SkipError(f"created_at {value!r} is not a time X writes")
    try:
        hour, minute, second = (int(p) for p in parts[3].split(":"))
        offset = dt.timedelta(hours=int(parts[4][1:3]), minutes=int(parts[4][3:5]))
        zone = dt.timezone(offset if parts[4][0] == "+" else -offset)
        return dt.datetime(
            int(parts[5]), _MONTHS[parts[1]], int(parts[2]), hour, minute, second, tzinfo=zone
        ).astimezone(dt.UTC)
    except ValueError:
        raise _SkipError(f"created_at {value!r} is not a time X writes") from None


def _unescape_tweet(text: str) -> str:
    """X escapes only ``&``, ``<`` and ``>`` in a tweet's text; undo exactly those (a ``&quot;``
    the author typed stays as typed)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class _TwitterReader(_Reader):
    """An X/Twitter archive.

    - Posts: every item of ``data/tweets.js`` (then ``tweets-part1.js``, ``-part2``... in order;
      older archives: ``tweet.js``), ``{"tweet": {...}}`` each, after the ``window.YTD.tweets.part0 =``
      the file starts with.
    - ``platform_id`` is ``id_str``; the URL ``https://x.com/HANDLE/status/ID``
      (``https://x.com/i/web/status/ID`` when the archive names no handle).
    - The text is ``full_text`` with ``&amp;``, ``&lt;``, ``&gt;`` undone, every t.co link of
      ``entities.urls`` replaced by the link it stands for (``expanded_url``), and the t.co link
      X appends for attached photos or video removed (it points at the media, which is kept).
    - Retweets are left out (counted as "retweet"): an archive keeps no ``retweeted_status``, and
      marks a retweet only by its text, ``RT @name:`` at the very start; so that is the rule (a
      tweet typed by hand to start so is quoting another's words, and is left out too). Replies
      and quote tweets are the account's own words, and kept.
    - Media: ``extended_entities.media`` (else ``entities.media``); the file is
      ``data/tweets_media/ID-NAME`` (older: ``tweet_media``), NAME the last part of ``media_url``,
      or for a video or GIF of its best MP4 variant.
    - Account: ``data/account.js`` ``username``.
    """

    platform = "twitter"

    def __init__(self, prefix: str, files: list[str]) -> None:
        super().__init__(prefix, files)
        self.format = f"X/Twitter archive ({PurePosixPath(files[0]).name})"
        self.handle = ""

    def account(self, source: _Source) -> str | None:
        name = f"{self.prefix}account.js"
        raw = source.read(name, _MAX_SMALL_BYTES)
        if raw is None:
            return None
        data = self._ytd(source, name, raw)
        for item in data if isinstance(data, list) else []:
            entry = item.get("account") if isinstance(item, dict) else None
            username = entry.get("username") if isinstance(entry, dict) else None
            if isinstance(username, str) and re.fullmatch(r"\w{1,50}", username):
                self.handle = username
                return f"twitter:@{username}"
        return None

    def _ytd(self, source: _Source, name: str, raw: bytes) -> Any:
        text = _decode(source, name, raw)
        prefix = _YTD.match(text)
        if prefix is None:
            raise ValidationError(
                f"{source.label}: {name} does not start with 'window.YTD.…  =' as an X archive's "
                "data files do; the file is damaged or not from an X archive."
            )
        body = text[prefix.end() :].rstrip().removesuffix(";")
        return _parse_json(source, name, body, first_line_col=prefix.end())

    def items(self, source: _Source, name: str) -> Iterator[tuple[str, Any]]:
        raw = source.read(name, MAX_DATA_BYTES)
        if raw is None:
            raise ValidationError(f"{source.label}: {name} is missing from the export.")
        data = self._ytd(source, name, raw)
        if not isinstance(data, list):
            raise ValidationError(f"{source.label}: {name} holds no list of tweets.")
        for index, item in enumerate(data):
            yield f"{name} item {index + 1}", item

    def post(self, source: _Source, item: Any) -> ExportedPost:
        tweet = item.get("tweet", item) if isinstance(item, dict) else None
        if not isinstance(tweet, dict):
            raise _SkipError("not a tweet")
        tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
        if not tweet_id.isdigit():
            raise _SkipError("no id_str")
        text = tweet.get("full_text", tweet.get("text"))
        if not isinstance(text, str):
            raise _SkipError(f"tweet {tweet_id} has no full_text")
        if not tweet.get("created_at"):
            raise _SkipError(f"tweet {tweet_id} has no created_at")
        posted_at = _twitter_time(tweet.get("created_at"))
        if _RETWEET.match(text):
            raise _LeftOutError("retweet")
        entities, extended = _dict(tweet.get("entities")), _dict(tweet.get("extended_entities"))
        media_items = [
            m for m in (extended.get("media") or entities.get("media") or []) if isinstance(m, dict)
        ]
        text = _unescape_tweet(text)
        for link in entities.get("urls") or []:
            if isinstance(link, dict) and isinstance(link.get("url"), str) and link["url"]:
                expanded = link.get("expanded_url")
                text = text.replace(
                    link["url"], expanded if isinstance(expanded, str) and expanded else link["url"]
                )
        for m in media_items:
            if isinstance(m.get("url"), str) and m["url"]:
                text = text.replace(m["url"], "")
        media: list[ExportedMedia] = []
        for m in media_items:
            found = self._media(source, tweet_id, m)
            if found is not None and found.name not in {x.name for x in media}:
                media.append(found)
        url = (
            f"https://x.com/{self.handle}/status/{tweet_id}"
            if self.handle
            else f"https://x.com/i/web/status/{tweet_id}"
        )
        return ExportedPost(tweet_id, url, text.strip(), posted_at, tuple(media))

    def _media(self, source: _Source, tweet_id: str, m: dict[str, Any]) -> ExportedMedia | None:
        basenames: list[str] = []
        video = _dict(m.get("video_info"))
        variants = [
            v for v in video.get("variants") or [] if isinstance(v, dict) and isinstance(v.get("url"), str)
        ]
        mp4 = [v for v in variants if v.get("content_type") == "video/mp4"]
        mp4.sort(key=lambda v: v["bitrate"] if isinstance(v.get("bitrate"), int) else -1, reverse=True)
        basenames.extend(PurePosixPath(urlsplit(v["url"]).path).name for v in mp4)
        for key in ("media_url_https", "media_url"):
            if isinstance(m.get(key), str):
                basenames.append(PurePosixPath(urlsplit(m[key]).path).name)
        candidates = [
            f"{self.prefix}{folder}/{tweet_id}-{base}"
            for base in basenames
            if base
            for folder in ("tweets_media", "tweet_media")
        ]
        if not candidates:
            return None
        name = next((c for c in candidates if source.exists(c)), candidates[0])
        return ExportedMedia(name, _content_type(name), source)


# Facebook -------------------------------------------------------------------------------------

_FACEBOOK_FILE = re.compile(
    r"^(?P<dir>(?:.*/)?)(?P<file>your_posts(?:__check_ins__photos_and_videos)?_(?P<n>\d+)\.json)$"
)
_FACEBOOK_HTML = re.compile(r"(?:^|/)your_posts(?:__check_ins__photos_and_videos)?_\d+\.html$")
#: The folders a Facebook export has put its activity under, over the years.
_FACEBOOK_ACTIVITY = (
    "your_activity_across_facebook/",
    "your_facebook_activity/",
    "this_profile's_activity_across_facebook/",
)


def fix_mojibake(text: str) -> str:
    """Undo Facebook's export encoding: it writes each UTF-8 byte of a character as its own
    ``\\u00XX`` escape, so ``é`` arrives as ``Ã©``. Encoding as Latin-1 gives the bytes back, and
    decoding them as UTF-8 the text; a string that does not survive that round trip (already
    right, or really Latin-1) is kept as it is."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _fix_all(value: Any) -> Any:
    if isinstance(value, str):
        return fix_mojibake(value)
    if isinstance(value, list):
        return [_fix_all(v) for v in value]
    if isinstance(value, dict):
        return {fix_mojibake(k): _fix_all(v) for k, v in value.items()}
    return value


class _FacebookReader(_Reader):
    """A Facebook "Download your information" export, JSON format.

    - Posts: the items of ``.../posts/your_posts__check_ins__photos_and_videos_N.json`` (older
      exports ``posts/your_posts_N.json``), N = 1, 2... in order; each ``{"timestamp": epoch
      seconds, "data": [{"post": text}], "attachments": [{"data": [{"media": {"uri": ...}}]}]}``.
    - Every string is put right with :func:`fix_mojibake` first.
    - The text is the ``post`` entries, one per line; a post with none takes the description
      of its one photo (where Facebook keeps a photo's caption); the link of a shared page
      (``external_context.url``) is added on a line of its own when the text lacks it.
    - Facebook's export gives no post ids nor links, so ``platform_id`` is made, stably, as
      ``TIMESTAMP-HASH``: HASH the first 16 hex digits of the SHA-256 of the text and the
      media's paths, one per line; the URL is left empty.
    - An item with no text, link or media (a check-in, a life event) is skipped.
    - Media: each attachment ``media.uri``, a path from the export's top folder.
    - Account: ``profile_information.json``'s full name, when the export includes it.
    """

    platform = "facebook"

    def __init__(self, prefix: str, files: list[str]) -> None:
        # The media's paths start from the export's top folder: above posts/ and the activity folder.
        prefix = prefix.removesuffix("posts/")
        root = prefix
        for activity in _FACEBOOK_ACTIVITY:
            if prefix.endswith(activity):
                root = prefix[: -len(activity)]
        super().__init__(root, files)
        self.format = f"Facebook export, JSON ({PurePosixPath(files[0]).name})"

    def account(self, source: _Source) -> str | None:
        for name in (
            "personal_information/profile_information/profile_information.json",
            "profile_information/profile_information.json",
        ):
            if source.exists(self.prefix + name):
                data = _fix_all(_load_json(source, self.prefix + name, _MAX_SMALL_BYTES))
                profile = (data.get("profile_v2") or data.get("profile")) if isinstance(data, dict) else None
                names = profile.get("name") if isinstance(profile, dict) else None
                full = names.get("full_name") if isinstance(names, dict) else None
                if isinstance(full, str) and full.strip():
                    return f"facebook:{full.strip()}"
        return None

    def items(self, source: _Source, name: str) -> Iterator[tuple[str, Any]]:
        data = _load_json(source, name)
        if isinstance(data, dict):  # some older exports wrap the list: {"status_updates": [...]}
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else None
        if not isinstance(data, list):
            raise ValidationError(f"{source.label}: {name} holds no list of posts.")
        for index, item in enumerate(data):
            yield f"{name} item {index + 1}", _fix_all(item)

    def post(self, source: _Source, item: Any) -> ExportedPost:
        if not isinstance(item, dict):
            raise _SkipError("not a post")
        stamp = item.get("timestamp")
        if not isinstance(stamp, int) or isinstance(stamp, bool) or stamp <= 0:
            raise _SkipError("no timestamp")
        try:
            posted_at = dt.datetime.fromtimestamp(stamp, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise _SkipError(f"timestamp {stamp} is not a time") from None
        texts = [
            d["post"]
            for d in item.get("data") or []
            if isinstance(d, dict) and isinstance(d.get("post"), str)
        ]
        links: list[str] = []
        media: list[ExportedMedia] = []
        descriptions: list[str] = []
        for attachment in item.get("attachments") or []:
            for entry in attachment.get("data") or [] if isinstance(attachment, dict) else []:
                if not isinstance(entry, dict):
                    continue
                context = entry.get("external_context")
                if isinstance(context, dict) and isinstance(context.get("url"), str) and context["url"]:
                    links.append(context["url"])
                found = entry.get("media")
                if isinstance(found, dict) and isinstance(found.get("uri"), str):
                    uri = found["uri"].strip()
                    if uri and "://" not in uri:
                        media.append(self._media(source, uri))
                        descriptions.append(_text_field(found.get("description")))
        text = "\n".join(t for t in texts if t.strip())
        if not text and len(descriptions) == 1:
            text = descriptions[0]
        for link in links:
            if link not in text:
                text = f"{text}\n{link}" if text else link
        if not text.strip() and not media:
            raise _SkipError(f"nothing posted at {posted_at.isoformat()} (no text, link or media)")
        digest = hashlib.sha256("\n".join([text, *(m.name for m in media)]).encode("utf-8")).hexdigest()
        return ExportedPost(f"{stamp}-{digest[:16]}", "", text, posted_at, tuple(media))

    def _media(self, source: _Source, uri: str) -> ExportedMedia:
        uri = uri.lstrip("/")
        candidates = [self.prefix + uri, uri]
        name = next((c for c in candidates if source.exists(c)), candidates[0])
        return ExportedMedia(name, _content_type(name), source)


# Mastodon -------------------------------------------------------------------------------------

_OUTBOX_FILE = re.compile(r"^(?P<dir>(?:.*/)?)(?P<file>outbox\.json)$")
_PUBLIC = {"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"}
_STATUS_ID = re.compile(r"/statuses/(\d+)/?$")


def _audience(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


class _MastodonReader(_Reader):
    """A Mastodon archive.

    - Posts: ``outbox.json``'s ``orderedItems``, the ``Create`` activities of a ``Note`` (or a
      ``Question``, a poll); ``Announce`` (boosts: others' posts) are left out, counted "boost".
    - Only public and unlisted posts are kept (``as:Public`` in ``to`` or ``cc``): they are what the
      account published. Followers-only and direct posts are left out, counted "not public".
    - ``platform_id`` is the status id that ends the object's ``id`` (``.../statuses/ID``), the id
      Mastodon's API (and so the watch) uses; the whole ``id`` where it has none. The URL is
      ``url``, the time ``published``.
    - The text is ``content`` by :func:`html_to_text`, after the content warning (``summary``),
      when there is one, and a blank line: the warning is published words too.
    - Media: each ``attachment``'s ``url`` (``/media_attachments/files/...``), a path inside the archive.
    - Account: ``actor.json`` ``preferredUsername`` and its server, as ``@user@host``.
    """

    platform = "mastodon"
    format = "Mastodon archive (outbox.json)"

    def account(self, source: _Source) -> str | None:
        name = f"{self.prefix}actor.json"
        actor = _load_json(source, name, _MAX_SMALL_BYTES) if source.exists(name) else None
        if not isinstance(actor, dict):
            return self._outbox_account(source)
        user = actor.get("preferredUsername")
        host = urlsplit(actor["id"]).hostname if isinstance(actor.get("id"), str) else None
        if isinstance(user, str) and user.strip():
            return f"mastodon:@{user.strip()}@{host}" if host else f"mastodon:@{user.strip()}"
        return self._outbox_account(source)

    def __init__(self, prefix: str, files: list[str]) -> None:
        super().__init__(prefix, files)
        self._loaded: list[Any] | None = None  # the outbox, when read early for its actor

    def _outbox(self, source: _Source, name: str) -> list[Any]:
        data = _load_json(source, name)
        items = data.get("orderedItems") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ValidationError(f"{source.label}: {name} has no orderedItems: it is not a Mastodon outbox.")
        return items

    def _outbox_account(self, source: _Source) -> str | None:
        """Without ``actor.json``: the account from the activities' ``actor``
        (``https://HOST/users/USER``). The outbox is read now and kept for :meth:`items`."""
        self._loaded = self._outbox(source, self.files[0])
        for item in self._loaded:
            actor = item.get("actor") if isinstance(item, dict) else None
            parts = urlsplit(actor) if isinstance(actor, str) else None
            found = re.fullmatch(r"/users/([^/]+)/?", parts.path) if parts and parts.hostname else None
            if parts is not None and found is not None:
                return f"mastodon:@{found.group(1)}@{parts.hostname}"
        return None

    def items(self, source: _Source, name: str) -> Iterator[tuple[str, Any]]:
        items, self._loaded = self._loaded or self._outbox(source, name), None
        for index, item in enumerate(items):
            yield f"{name} item {index + 1}", item

    def post(self, source: _Source, item: Any) -> ExportedPost:
        if not isinstance(item, dict):
            raise _SkipError("not an activity")
        kind = item.get("type")
        if kind == "Announce":
            raise _LeftOutError("boost")
        if kind != "Create":
            raise _LeftOutError(f"{kind} activity" if isinstance(kind, str) else "unknown activity")
        note = item.get("object")
        if not isinstance(note, dict) or note.get("type") not in ("Note", "Question"):
            raise _LeftOutError("not a post")
        audience = _audience(note.get("to", item.get("to"))) | _audience(note.get("cc", item.get("cc")))
        if not audience & _PUBLIC:
            raise _LeftOutError("not public")
        object_id = note.get("id")
        if not isinstance(object_id, str) or not object_id:
            raise _SkipError("no id")
        found = _STATUS_ID.search(object_id)
        platform_id = found.group(1) if found else object_id
        try:
            posted_at = _utc(dt.datetime.fromisoformat(note.get("published") or item.get("published") or ""))
        except (TypeError, ValueError):
            raise _SkipError(f"status {platform_id} has no published time") from None
        content = note.get("content")
        if not isinstance(content, str):
            raise _SkipError(f"status {platform_id} has no content")
        text = with_warning(html_to_text(content), _text_field(note.get("summary")))
        url = note.get("url")
        media: list[ExportedMedia] = []
        for attachment in note.get("attachment") or []:
            if isinstance(attachment, dict) and isinstance(attachment.get("url"), str):
                media.append(self._media(source, attachment["url"], attachment.get("mediaType")))
        return ExportedPost(
            platform_id, url if isinstance(url, str) else object_id, text, posted_at, tuple(media)
        )

    def _media(self, source: _Source, url: str, media_type: Any) -> ExportedMedia:
        path = urlsplit(url).path if "://" in url else url
        start = path.find("media_attachments/")
        name = self.prefix + (path[start:] if start >= 0 else path.lstrip("/"))
        kind = media_type if isinstance(media_type, str) and "/" in media_type else _content_type(name)
        return ExportedMedia(name, kind, source)


# Finding the export ---------------------------------------------------------------------------


def _outermost(found: list[tuple[str, re.Match[str]]]) -> tuple[str, list[re.Match[str]]]:
    """The matches under the outermost folder (a zip may hold a second export further down)."""
    prefix = min((m.group("dir") for _, m in found), key=lambda d: (d.count("/"), d))
    return prefix, [m for _, m in found if m.group("dir") == prefix]


def _detect(source: _Source) -> _Reader:
    names = source.names()
    tweets = [
        (n, m)
        for n in names
        if (m := _TWEETS_FILE.match(n)) and (m.group("dir") == "" or m.group("dir").endswith("data/"))
    ]
    facebook = [(n, m) for n in names if (m := _FACEBOOK_FILE.match(n))]
    outbox = [(n, m) for n in names if (m := _OUTBOX_FILE.match(n))]
    kinds = [k for k, found in (("X/Twitter", tweets), ("Facebook", facebook), ("Mastodon", outbox)) if found]
    if len(kinds) > 1:
        raise ValidationError(
            f"{source.label} holds more than one export ({' and '.join(kinds)}); import each on its own."
        )
    if tweets:
        prefix, matches = _outermost(tweets)
        # tweets.js before tweet.js (an archive has one or the other), each before its parts, in order.
        matches.sort(key=lambda m: (not m.group("file").startswith("tweets"), int(m.group("part") or 0)))
        newest = [m for m in matches if m.group("file").startswith("tweets")] or matches
        files = [m.group(0) for m in newest]
        reader: _Reader = _TwitterReader(prefix, files)
    elif facebook:
        prefix, matches = _outermost(facebook)
        matches.sort(key=lambda m: ("check_ins" not in m.group("file"), int(m.group("n"))))
        newest = [m for m in matches if "check_ins" in m.group("file")] or matches
        files = [m.group(0) for m in newest]
        reader = _FacebookReader(prefix, files)
    elif outbox:
        prefix, matches = _outermost(outbox)
        files = [matches[0].group(0)]
        reader = _MastodonReader(prefix, files)
    else:
        if any(_FACEBOOK_HTML.search(n) for n in names):
            raise ValidationError(
                f"{source.label} is a Facebook export in HTML format; postguard reads the JSON format: "
                "request the export again with Format: JSON."
            )
        raise ValidationError(f"{source.label} is not an export postguard reads. {ACCEPTED}")
    return reader


def _single_file(path: Path) -> _FolderSource:
    """The folder around a data file given alone, rooted where the export's own paths start
    (so its media and account files are found), reading posts from that file only."""
    name = path.name
    parent = path.parent
    if _TWEETS_FILE.match(name):
        return _FolderSource(parent, str(path), name)  # paths start in data/, where tweets.js is
    if _FACEBOOK_FILE.match(name):
        root, relative = parent, name
        if parent.name == "posts":
            root, relative = parent.parent, f"posts/{name}"
            if f"{root.name}/" in _FACEBOOK_ACTIVITY:
                root, relative = root.parent, f"{root.name}/{relative}"
        return _FolderSource(root, str(path), relative)
    if name == "outbox.json":
        return _FolderSource(parent, str(path), name)
    if _FACEBOOK_HTML.search(name):
        raise ValidationError(
            f"{path} is from a Facebook export in HTML format; postguard reads the JSON format: "
            "request the export again with Format: JSON."
        )
    raise ValidationError(f"{path} is not an export's data file postguard reads. {ACCEPTED}")


def read_export(path: Path, account: str | None = None) -> Export:
    """Open the export at ``path`` (a .zip, its unpacked folder, or its one data file).

    ``account``, given, names the account the posts are of, over what the export says (a
    Facebook export often does not say; an X archive without ``account.js`` neither): exports
    name it ``platform:handle`` as the registry does, and ``platform:unknown`` when they cannot.
    Raises :class:`ValidationError` for a path that is missing or not an export read here.
    """
    path = Path(path)
    source: _Source
    if not path.exists():
        raise ValidationError(f"There is no file or folder {path}.")
    if path.is_dir():
        source = _FolderSource(path, str(path))
    elif not path.is_file():
        raise ValidationError(f"{path} is not a file or folder.")
    elif zipfile.is_zipfile(path):
        source = _ZipSource(path)
    elif path.suffix.lower() == ".zip":
        raise ValidationError(f"{path} is not a zip file postguard can read: it is damaged or incomplete.")
    else:
        source = _single_file(path)
    try:
        reader = _detect(source)
        named = reader.account(source)
    except BaseException:
        source.close()
        raise
    if account is not None and account.strip():
        chosen = account.strip()
    else:
        chosen = named or f"{reader.platform}:unknown"
    return Export(reader.platform, chosen, reader.format, tuple(reader.files), source, reader)
