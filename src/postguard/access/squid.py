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
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote

from postguard.access.decide import AccessDecision, AccessRequest
from postguard.access.point import AccessPoint

__all__ = ["MAX_LINE", "answer_line", "quote_value", "serve"]

MAX_LINE = 65_536 + 1024


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
        return _refuse(channel, f"{type(exc).__name__}")
    return _reply(channel, decision, point.rules.how_to_ask)


def _lines(stream: BinaryIO) -> Iterator[str | None]:
    """Lines of the stream; ``None`` for one that was too long (its rest is skipped)."""
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            return
        if not raw.endswith(b"\n") and len(raw) >= MAX_LINE:
            while True:  # skip to the end of this over-long line
                rest = stream.readline(MAX_LINE)
                if not rest or rest.endswith(b"\n"):
                    break
            yield None
            continue
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def serve(point: AccessPoint, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Answer every line until stdin closes; returns how many lines were answered."""
    count = 0
    for line in _lines(stdin):
        if line is None:
            answer = _refuse(None, "line too long")
        elif not line.strip():
            answer = _refuse(None, "empty line")
        else:
            answer = answer_line(point, line)
        stdout.write(answer.encode("utf-8") + b"\n")
        stdout.flush()
        count += 1
    return count
