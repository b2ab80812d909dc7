"""Squid's ``external_acl_type`` helper protocol, for the format ``%LOGIN %SRC %DST``.

Each request line is ``[CHANNEL] LOGIN SRC DST`` (with ``concurrency=N`` in
squid.conf Squid puts a channel id first; answers may then come back in any
order). Squid URL-escapes each field. The answer is ``[CHANNEL] OK`` or
``[CHANNEL] ERR`` with ``message="..."`` (shown by the deny_info page as %o)
and ``log="..."`` (for access.log as %ea). A line that cannot be understood
is answered ``ERR``, never dropped, and the helper keeps serving.
"""

from __future__ import annotations

import ipaddress
import logging
import select
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote

from postguard.access.decide import AccessDecision, AccessRequest
from postguard.access.point import AccessPoint

__all__ = ["MAX_LINE", "answer_line", "quote_value", "serve", "serve_refusals"]

MAX_LINE = 65_536 + 1024
log = logging.getLogger("postguard.squid")


def quote_value(value: str) -> str:
    """A kv-pair value as Squid reads it: in quotes, with quotes and backslashes escaped."""
    clean = "".join(ch if ch.isprintable() else " " for ch in value)[:2000]
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(unquote(value))
    except ValueError:
        return False
    return True


def _reply(channel: str | None, decision: AccessDecision, how_to_ask: str) -> str:
    verdict = "OK" if decision.allowed else "ERR"
    message = f"clause {decision.clause}: {decision.reason}" if decision.clause else decision.reason
    if not decision.allowed:
        message += f". {how_to_ask}"
    outcome = "allow" if decision.allowed else "deny"
    log = f"postguard {decision.clause or '-'} {outcome} {decision.grant or '-'}"
    head = f"{channel} {verdict}" if channel is not None else verdict
    return f"{head} message={quote_value(message)} log={quote_value(log)}"


def _refuse(channel: str | None, why: str) -> str:
    head = f"{channel} ERR" if channel is not None else "ERR"
    message = quote_value("postguard cannot decide: " + why)
    return f"{head} message={message} log={quote_value('postguard error')}"


def _split_channel(fields: list[str]) -> tuple[str | None, list[str]]:
    """(channel id or None, the rest).

    With concurrency=N Squid puts a channel id first; after LOGIN SRC DST it
    may add the acl's arguments ("-" when none). SRC is an address, which
    tells the two layouts apart even when a login is all digits.
    """
    if not fields or not fields[0].isdigit():
        return None, fields
    if len(fields) >= 4:
        channelled = _is_address(fields[2]) or not _is_address(fields[1])
        return (fields[0], fields[1:]) if channelled else (None, fields)
    if len(fields) < 3:
        return fields[0], fields[1:]
    # Three fields: LOGIN SRC DST, or a channel and a line one field short (CHANNEL LOGIN SRC),
    # which must still be answered on its channel.
    if _is_address(fields[2]) and not _is_address(fields[1]):
        return fields[0], fields[1:]
    return None, fields


def answer_line(point: AccessPoint, line: str) -> str:
    """The answer to one request line (without its newline)."""
    channel, fields = _split_channel(line.strip().split())
    if len(fields) < 3:
        return _refuse(channel, f"expected LOGIN SRC DST, got {len(fields)} field(s)")
    login, src, dst = (unquote(f) for f in fields[:3])
    request = AccessRequest(destination=dst, member=login if login != "-" else None, address=src)
    try:
        decision = point.decide(request)
    except Exception as exc:
        log.exception("deciding %r failed; refused", dst[:200])
        return _refuse(channel, f"{type(exc).__name__}")
    return _reply(channel, decision, point.rules.how_to_ask)


class TooLong:
    """A line over :data:`MAX_LINE`, of which only the start (where a channel id is) was kept."""

    def __init__(self, head: bytes) -> None:
        first = head.split(b" ", 1)[0]
        self.channel = first.decode("ascii") if first.isdigit() and len(first) < 12 else None


class _LineReader:
    """Lines from a stream, read in chunks, knowing whether another line is already here."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buffer = b""
        self.pos = 0
        self.eof = False
        read1 = getattr(stream, "read1", None)
        self._read = read1 if read1 is not None else stream.read

    def _fill(self) -> None:
        chunk = self._read(65536)
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        self.eof = not chunk

    def lines(self) -> Iterator[str | TooLong]:
        """Each line, or :class:`TooLong` for one that was too long (its rest is skipped)."""
        head: bytes | None = None  # the start of a line being skipped
        while True:
            newline = self.buffer.find(b"\n", self.pos)
            if newline < 0:
                if len(self.buffer) - self.pos > MAX_LINE:  # drop the over-long part, keep skipping
                    if head is None:
                        head = self.buffer[self.pos : self.pos + 32]
                    self.buffer, self.pos = b"", 0
                    continue
                if self.eof:
                    rest = self.buffer[self.pos :]
                    self.buffer, self.pos = b"", 0
                    if head is not None:
                        yield TooLong(head)
                    elif rest:
                        yield rest.decode("utf-8", "replace").rstrip("\r")
                    return
                self._fill()
                continue
            raw = self.buffer[self.pos : newline]
            self.pos = newline + 1
            if head is not None or len(raw) > MAX_LINE:
                yield TooLong(head if head is not None else raw[:32])
                head = None
                continue
            yield raw.decode("utf-8", "replace").rstrip("\r")

    def more_waiting(self) -> bool:
        """Whether another line is here already, or more input is ready to read."""
        if self.buffer.find(b"\n", self.pos) >= 0:
            return True
        try:
            ready, _, _ = select.select([self.stream], [], [], 0)
        except (ValueError, OSError, TypeError):  # no file descriptor (a test's BytesIO)
            return False
        return bool(ready)


class _Answers:
    """Answers per request (the line without its channel), for as long as the decision may be cached."""

    def __init__(self, point: AccessPoint) -> None:
        self.point = point
        self.entries: dict[str, tuple[str, float, int]] = {}

    def answer(self, line: str) -> str:
        channel, _, rest = line.partition(" ")
        if not (self.point.cache_enabled and channel.isdigit() and rest):
            return answer_line(self.point, line)
        now = self.point.clock()
        hit = self.entries.get(rest)
        if hit is not None and hit[1] > now and hit[2] == self.point.generation:
            return f"{channel} {hit[0]}"
        answer = answer_line(self.point, line)
        head, _, body = answer.partition(" ")
        if head == channel:
            if len(self.entries) >= 100_000:
                self.entries = {}
            self.entries[rest] = (body, now + self.point.ttl, self.point.generation)
        return answer


def serve_refusals(reason: str, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer every line ERR, on its channel, with ``reason``: the helper fails closed when it
    cannot decide at all (no database), rather than exit and leave Squid without a helper."""
    count = 0
    reader = _LineReader(stdin)
    for line in reader.lines():
        channel = line.channel if isinstance(line, TooLong) else _split_channel(line.strip().split())[0]
        stdout.write(_refuse(channel, reason).encode("utf-8") + b"\n")
        count += 1
        if not reader.more_waiting():
            stdout.flush()
    stdout.flush()
    return count


def serve(point: AccessPoint, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer every line until stdin closes; returns how many lines were answered.

    Answers are flushed whenever no more input is waiting, so Squid never
    waits on an answer the helper holds back, and a burst costs one write.
    """
    count = 0
    answers = _Answers(point)
    reader = _LineReader(stdin)
    for line in reader.lines():
        if isinstance(line, TooLong):
            answer = _refuse(line.channel, "line too long")
        elif not line.strip():
            answer = _refuse(None, "empty line")
        else:
            answer = answers.answer(line)
        stdout.write(answer.encode("utf-8") + b"\n")
        count += 1
        if not reader.more_waiting():
            stdout.flush()
    stdout.flush()
    return count
