"""The batch contract (contract.md): JSON Lines in, one JSON line out per input line.

A line that cannot be read (invalid UTF-8, bad JSON, no ``text``, a text that
is empty or over 64 KiB, a malformed context) gets an output line with an
``error`` field, and the run goes on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from postguard.checks.engine import Checker
from postguard.checks.types import Context, Post
from postguard.errors import InputError

__all__ = ["BatchStats", "check_lines"]

_ID_GUESS = re.compile(rb'"id"\s*:\s*"((?:[^"\\]|\\.){0,200})"')


@dataclass
class BatchStats:
    lines: int = 0
    checked: int = 0
    errors: int = 0


def _error(post_id: Any, message: str) -> dict[str, Any]:
    return {"id": post_id, "error": message}


def _guess_id(raw: bytes) -> str | None:
    match = _ID_GUESS.search(raw)
    return match.group(1).decode("utf-8", "replace") if match else None


def check_line(checker: Checker, raw: bytes, number: int) -> dict[str, Any]:
    """The output object for one input line (bytes, without its newline)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(_guess_id(raw), f"line {number}: not valid UTF-8 (byte {exc.start}).")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return _error(_guess_id(raw), f"line {number}: not valid JSON ({exc.msg}, column {exc.colno}).")
    if not isinstance(data, dict):
        return _error(None, f"line {number}: a line must be a JSON object.")
    post_id = data.get("id")
    text = data.get("text")
    if not isinstance(text, str):
        return _error(post_id, f"line {number}: no 'text' string.")
    try:
        post = Post(text, Context.from_dict(data.get("context")))
    except InputError as exc:
        return _error(post_id, f"line {number}: {exc}")
    except ValueError as exc:
        return _error(post_id, f"line {number}: {exc}.")
    return checker.check_post(post).to_dict(post_id)


def check_lines(
    checker: Checker, lines: Iterable[bytes], stats: BatchStats | None = None
) -> Iterator[dict[str, Any]]:
    """Check each non-blank line; yields one output object per line."""
    stats = stats if stats is not None else BatchStats()
    for number, line in enumerate(lines, 1):
        raw = line.rstrip(b"\r\n")
        if not raw.strip():
            continue
        stats.lines += 1
        out = check_line(checker, raw, number)
        if "error" in out:
            stats.errors += 1
        else:
            stats.checked += 1
        yield out
