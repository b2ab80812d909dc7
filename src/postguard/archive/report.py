"""The report of an archive scan, from its output folder (:mod:`postguard.archive.scan`).

``write_report(out)`` writes, beside ``state.json`` and ``findings.jsonl``:

- ``report.html``: one self-contained page (no script, no external file: its
  Content-Security-Policy allows nothing to load), with the pack and model the
  scan used, its filters, the decisions, inline SVG charts of the posts with
  findings per month, per clause and per account (each with its table), and the
  posts found with their findings: the first :data:`MAX_POSTS` of them, the rest
  being in the CSV. Every value is escaped (Jinja2 autoescaping): post texts come
  from the platforms, and imports may hold anything.
- ``counts.csv``: ``dimension,key,posts,flagged`` for every count (``all``,
  ``decision``, ``account``, ``month``, ``clause``);
- ``findings.csv``: one row per finding (a post that could not be checked: one
  row with its error), streamed from ``findings.jsonl`` so its size is no limit.

A cell that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``…)
is written with a leading ``'``, as the audit export does (OWASP's advice on CSV
injection). The charts are drawn here rather than with the dashboard's
:mod:`postguard.web.charts` (day series from the audit trail), whose import would
bring the whole web application into a command-line report.

A report of a scan that is not finished says so, and covers the posts scanned so far.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from postguard.archive.scan import FINDINGS, Counts, read_state
from postguard.errors import ValidationError
from postguard.registry.values import csv_safe

__all__ = ["MAX_POSTS", "ReportPaths", "write_report"]

#: Posts with findings shown in report.html (findings.csv has them all).
MAX_POSTS = 1000
#: Bars drawn in a per-key chart (the largest first); the table and counts.csv have every key.
MAX_BARS = 40
_COLOUR = re.compile(r"#[0-9A-Fa-f]{3}(?:[0-9A-Fa-f]{3})?")
_GREY = "#777777"
FINDINGS_COLUMNS = (
    "id",
    "account",
    "platform",
    "platform_id",
    "url",
    "posted_at",
    "decision",
    "clause",
    "clause_title",
    "start",
    "end",
    "quote",
    "why",
    "error",
)


@dataclass(frozen=True)
class ReportPaths:
    """The files written: the page and the two CSV files."""

    html: Path
    counts: Path
    findings: Path


def _cell(value: Any) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return "" if value is None else csv_safe(str(value))


def _lines(out: Path, size: int) -> Iterator[dict[str, Any]]:
    """The findings lines saved by the scan (the first ``size`` bytes: what state.json vouches for)."""
    path = out / FINDINGS
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise ValidationError(f"{path} is missing: the scan's folder is incomplete.") from None
    with fh:
        read = 0
        for number, raw in enumerate(fh, 1):
            read += len(raw)
            if read > size:
                return
            try:
                line = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise ValidationError(f"{path}, line {number}: not a JSON line the scan wrote.") from None
            if not isinstance(line, dict):
                raise ValidationError(f"{path}, line {number}: not a JSON object.")
            yield line


def _colour(value: Any) -> str:
    return value if isinstance(value, str) and _COLOUR.fullmatch(value) else _GREY


def _months(counts: Counts, width: int = 720, height: int = 180) -> dict[str, Any]:
    """The months from the first to the last posted, each with its posts and flagged posts."""
    data = counts.data.get("month", {})
    if not data:
        return {"bars": [], "rows": []}
    first, last = min(data), max(data)
    year, month = int(first[:4]), int(first[5:7])
    labels = []
    while True:
        label = f"{year:04d}-{month:02d}"
        labels.append(label)
        if label >= last or len(labels) > 1200:
            break
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    peak = max((data.get(m, [0, 0])[1] for m in labels), default=0) or 1
    step = width / len(labels)
    rows, bars = [], []
    for i, label in enumerate(labels):
        posts, flagged = data.get(label, [0, 0])
        rows.append({"label": label, "posts": posts, "value": flagged})
        if flagged:
            h = flagged / peak * (height - 14)
            bars.append(
                {
                    "x": round(i * step + 0.5, 1),
                    "y": round(height - h, 1),
                    "w": round(max(step - 1, 0.6), 1),
                    "h": round(h, 1),
                    "label": label,
                    "value": flagged,
                    "posts": posts,
                }
            )
    return {
        "bars": bars or [{"x": 0, "y": height, "w": 0, "h": 0, "label": first, "value": 0, "posts": 0}],
        "rows": rows,
        "width": width,
        "height": height,
        "first": first,
        "last": last,
        "peak": peak if bars else 0,
        "posts": sum(r["posts"] for r in rows),
    }


def _hbars(
    items: list[tuple[str, str, int, int, str]],
    *,
    caption: str,
    key_name: str,
    show_posts: bool,
    width: int = 720,
    label_width: int = 260,
) -> dict[str, Any]:
    """Horizontal bars, largest first: items are (label, short label, posts, flagged, colour)."""
    ordered = sorted(items, key=lambda item: (-item[3], item[0]))
    drawn = [item for item in ordered if item[3]][:MAX_BARS]
    peak = max((item[3] for item in drawn), default=0) or 1
    room = width - label_width - 60
    bars = [
        {
            "y": 4 + i * 22,
            "w": round(max(flagged / peak * room, 1), 1),
            "label": label,
            "short": short if len(short) <= 38 else short[:37] + "…",
            "value": flagged,
            "posts": posts,
            "colour": colour,
        }
        for i, (label, short, posts, flagged, colour) in enumerate(drawn)
    ]
    return {
        "caption": caption,
        "key_name": key_name,
        "show_posts": show_posts,
        "bars": bars,
        "rows": [
            {"label": label, "posts": posts, "value": flagged} for label, _s, posts, flagged, _c in ordered
        ],
        "more": max(0, sum(1 for item in ordered if item[3]) - len(drawn)),
        "width": width,
        "height": 8 + 22 * len(bars),
        "label_width": label_width,
    }


def _post(line: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any]:
    url = str(line.get("url") or "")
    findings = []
    for f in line.get("findings") or []:
        clause = str(f.get("clause", ""))
        label = labels.get(clause) or {}
        span = f.get("span") or [0, 0]
        findings.append(
            {
                "clause": clause,
                "title": label.get("title", ""),
                "colour": _colour(label.get("colour")),
                "quote": f.get("quote", ""),
                "why": f.get("why", ""),
                "start": span[0],
                "end": span[1],
            }
        )
    return {
        "id": line.get("id"),
        "account": line.get("account", ""),
        "posted_at": line.get("posted_at", ""),
        "decision": str(line.get("decision", "")),
        "url": url,
        # Only a web address is a link: an imported "javascript:" URL stays text.
        "link": url if url.startswith(("https://", "http://")) else "",
        "error": line.get("error", ""),
        "findings": findings,
    }


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("postguard.archive", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _replace(path: Path) -> tuple[Path, Any]:
    tmp = path.with_name(path.name + ".tmp")
    return tmp, tmp.open("w", encoding="utf-8", newline="")


def write_report(out: Path) -> ReportPaths:
    """Write report.html, counts.csv and findings.csv into the scan folder ``out``."""
    state = read_state(out)
    counts = Counts(state.get("counts"))
    labels: dict[str, Any] = state.get("clauses") or {}
    size = int(state.get("findings_bytes", 0))
    paths = ReportPaths(out / "report.html", out / "counts.csv", out / "findings.csv")

    tmp_counts, fh = _replace(paths.counts)
    with fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["dimension", "key", "posts", "flagged"])
        for row in counts.rows():
            writer.writerow([_cell(v) for v in row])

    posts: list[dict[str, Any]] = []
    total_lines = 0
    tmp_findings, fh = _replace(paths.findings)
    with fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(FINDINGS_COLUMNS)
        for line in _lines(out, size):
            total_lines += 1
            if len(posts) < MAX_POSTS:
                posts.append(_post(line, labels))
            head = [line.get(k) for k in ("id", "account", "platform", "platform_id", "url", "posted_at")]
            head.append(line.get("decision"))
            findings = line.get("findings") or []
            if not findings:
                writer.writerow([_cell(v) for v in [*head, "", "", "", "", "", "", line.get("error", "")]])
            for f in findings:
                clause = str(f.get("clause", ""))
                span = f.get("span") or ["", ""]
                cells = [*head, clause, (labels.get(clause) or {}).get("title", ""), span[0], span[1]]
                cells += [f.get("quote", ""), f.get("why", ""), line.get("error", "")]
                writer.writerow([_cell(v) for v in cells])

    clause_items = [
        (
            f"{key} {(labels.get(key) or {}).get('title', '')}".strip(),
            f"{key} {(labels.get(key) or {}).get('name', '')}".strip(),
            posts_,
            flagged,
            _colour((labels.get(key) or {}).get("colour")),
        )
        for key, (posts_, flagged) in counts.data.get("clause", {}).items()
    ]
    account_items = [
        (key, key, posts_, flagged, "#0072B2")
        for key, (posts_, flagged) in counts.data.get("account", {}).items()
    ]
    html = (
        _environment()
        .get_template("scan_report.html")
        .render(
            summary={"posts": counts.posts, "flagged": counts.flagged},
            fingerprint=state["fingerprint"],
            done=bool(state.get("done")),
            last_id=state.get("last_id", 0),
            database=state.get("database", ""),
            filters=state.get("filters") or {},
            started_at=state.get("started_at", ""),
            updated_at=state.get("updated_at", ""),
            seconds=float(state.get("seconds", 0.0)),
            engine=state.get("engine", "local"),
            decisions=sorted(
                ((k, v[0]) for k, v in counts.data.get("decision", {}).items()), key=lambda kv: -kv[1]
            ),
            months=_months(counts),
            clauses=_hbars(
                clause_items, caption="Posts with findings per clause", key_name="Clause", show_posts=False
            ),
            accounts=_hbars(
                account_items, caption="Posts with findings per account", key_name="Account", show_posts=True
            ),
            posts=posts,
            shown=len(posts),
            total_lines=total_lines,
        )
    )
    tmp_html = paths.html.with_name(paths.html.name + ".tmp")
    tmp_html.write_text(html, encoding="utf-8")
    for tmp, final in ((tmp_counts, paths.counts), (tmp_findings, paths.findings), (tmp_html, paths.html)):
        os.replace(tmp, final)
    return paths
