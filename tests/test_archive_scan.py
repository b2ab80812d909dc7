"""postguard.archive.scan and .report: every archived post checked again, into a folder that resumes.

The expected figures are worked out here post by post with the shipped checker (a separate path
from the scan's pages, workers and counts), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from postguard.archive import report as report_module
from postguard.archive.report import write_report
from postguard.archive.scan import FINDINGS, STATE, ScanSummary, read_state, scan
from postguard.checks import Checker
from postguard.errors import ConflictError, DatabaseError, NotFoundError, ValidationError
from postguard.registry.db import Database
from postguard.registry.models import ArchivedPost
from postguard.settings import Settings

ORDINARY = [
    "Road closure: Mill Lane is shut until 6pm for resurfacing. Please use Station Road.",
    "Can you help? We are looking for witnesses to a collision on Bridge Street on Friday evening. Call 101.",
    "Thank you to everyone who came to our open day at Northgate station!",
    "Warning: scam callers are pretending to be police officers. We will never ask for your bank details.",
]
VIOLATING = [
    "We got our man! The thug who robbed the corner shop is behind bars.",  # as in test_drafts_pages
    "The man we arrested yesterday is guilty of the Elm Road burglary and everyone knows it.",
    "What a pathetic bunch of idiots the protesters were today, lol.",
]
ACCOUNTS = ["mastodon:@police@town.example", "bluesky:police.town.example", "twitter:@TownPolice"]
START = dt.datetime(2022, 1, 15, 9, 30, tzinfo=dt.UTC)


def archive_rows(n: int) -> list[dict[str, Any]]:
    """``n`` archived posts: mostly ordinary, every 7th violating, every 50th empty (media only),
    over three accounts and a post every 5 days (about two years of months)."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(n):
        if i % 50 == 49:
            text = ""
        elif i % 7 == 3:
            text = VIOLATING[i % len(VIOLATING)]
        else:
            text = ORDINARY[i % len(ORDINARY)]
        account = ACCOUNTS[i % len(ACCOUNTS)]
        rows.append(
            {
                "platform": account.split(":", 1)[0],
                "account": account,
                "platform_id": f"p{i}",
                "url": f"https://social.example/{account}/{i}",
                "text": text,
                "media": [],
                "posted_at": START + dt.timedelta(days=5 * i, hours=i % 11),
                "first_seen_at": now,
                "updated_at": now,
                "source": "import",
                "outside_workflow": False,
                "decision": "",
                "clauses": "",
                "report": {},
                "policy_version": "",
                "retain_until": now + dt.timedelta(days=3650),
            }
        )
    return rows


def fill(url: str, rows: list[dict[str, Any]]) -> None:
    db = Database(url, create=True)
    if db.current_revision() is None:
        db.upgrade()
    with db.engine.begin() as conn:
        conn.execute(sa.insert(ArchivedPost.__table__), rows)
    db.engine.dispose()


def expected(checker: Checker, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and findings lines worked out post by post (ids are 1.. in insertion order)."""
    counts: dict[str, Counter[str]] = {d: Counter() for d in ("posts", "flagged", "decision", "clause")}
    lines = []
    for post_id, row in enumerate(rows, 1):
        text = row["text"]
        report = checker.check(text) if text.strip() else None
        decision = report.decision if report else "empty"
        clauses = sorted({f.clause for f in report.findings}) if report else []
        month = row["posted_at"].strftime("%Y-%m")
        for key in ("all", row["account"], month):
            counts["posts"][key] += 1
            counts["flagged"][key] += bool(clauses)
        counts["decision"][decision] += 1
        counts["clause"].update(clauses)
        if report and report.findings:
            lines.append(
                {
                    "id": post_id,
                    "decision": decision,
                    "account": row["account"],
                    "findings": [[f.clause, f.start, f.end, f.evidence] for f in report.findings],
                }
            )
    return {"counts": counts, "lines": lines}


def settings_for(url: str, **changes: Any) -> Settings:
    return Settings.defaults().model_copy(update={"database_url": url, **changes})


def read_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / FINDINGS).read_text(encoding="utf-8").splitlines()]


def assert_matches(summary: ScanSummary, out: Path, want: dict[str, Any]) -> None:
    data = summary.counts.data
    counts = want["counts"]
    assert summary.posts == counts["posts"]["all"]
    assert summary.flagged == counts["flagged"]["all"]
    for account in ACCOUNTS:
        assert data["account"][account] == [counts["posts"][account], counts["flagged"][account]]
    months = {k for k in counts["posts"] if k[:2] == "20"}
    assert set(data["month"]) == months
    for month in months:
        assert data["month"][month] == [counts["posts"][month], counts["flagged"][month]]
    assert {k: v[0] for k, v in data["decision"].items()} == dict(counts["decision"])
    assert {k: v[0] for k, v in data["clause"].items()} == dict(counts["clause"])
    got = [
        {
            "id": line["id"],
            "decision": line["decision"],
            "account": line["account"],
            "findings": [[f["clause"], *f["span"], f["quote"]] for f in line["findings"]],
        }
        for line in read_lines(out)
    ]
    assert got == want["lines"]
    state = read_state(out)
    assert state["done"] is True
    assert state["findings_bytes"] == (out / FINDINGS).stat().st_size
    assert state["findings_lines"] == len(want["lines"])


@pytest.fixture
def archive(database_url: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    rows = archive_rows(300)
    fill(database_url, rows)
    yield database_url, rows


def test_a_scan_finds_what_the_checker_finds_and_counts_it(
    archive: tuple[str, list[dict[str, Any]]], checker: Checker, tmp_path: Path
) -> None:
    url, rows = archive
    seen: list[tuple[int, int]] = []
    summary = scan(
        settings_for(url), tmp_path / "scan", workers=1, chunk=64, progress=lambda d, t: seen.append((d, t))
    )
    want = expected(checker, rows)
    assert_matches(summary, tmp_path / "scan", want)
    assert summary.flagged > 30 and summary.checked_now == 300 and summary.done and not summary.resumed
    assert seen[0] == (0, 300) and seen[-1] == (300, 300) and len(seen) == 1 + 5  # a call per page of 64
    # A violating post gets a finding whose quote is its own words; an empty one is counted, not checked.
    line = next(x for x in read_lines(tmp_path / "scan") if x["id"] == 4)
    assert rows[3]["text"] in VIOLATING and line["findings"]
    for finding in line["findings"]:
        start, end = finding["span"]
        assert rows[3]["text"][start:end] == finding["quote"] and finding["why"]
    assert (
        line["url"] == rows[3]["url"]
        and line["platform_id"] == "p3"
        and line["posted_at"].startswith("2022-01-30")
    )
    assert summary.counts.data["decision"]["empty"] == [6, 0]


def test_filters_take_one_account_and_a_time_span(
    archive: tuple[str, list[dict[str, Any]]], checker: Checker, tmp_path: Path
) -> None:
    url, rows = archive
    since, until = dt.date(2022, 6, 1), dt.datetime(2023, 6, 1, tzinfo=dt.UTC)
    summary = scan(
        settings_for(url), tmp_path / "s", workers=1, account=ACCOUNTS[1], since=since, until=until, chunk=10
    )
    chosen = [
        (i, r)
        for i, r in enumerate(rows, 1)
        if r["account"] == ACCOUNTS[1] and dt.datetime(2022, 6, 1, tzinfo=dt.UTC) <= r["posted_at"] < until
    ]
    assert 10 < len(chosen) < 100
    assert summary.posts == len(chosen)
    assert set(summary.counts.data["account"]) == {ACCOUNTS[1]}
    flagged_ids = [i for i, r in chosen if r["text"].strip() and checker.check(r["text"]).findings]
    assert [line["id"] for line in read_lines(tmp_path / "s")] == flagged_ids
    assert read_state(tmp_path / "s")["filters"]["account"] == ACCOUNTS[1]


def _interrupt_after(pages: int) -> Any:
    calls = {"n": 0}

    def progress(done: int, total: int) -> None:
        calls["n"] += 1
        if calls["n"] > pages:  # the first call is before any page
            raise KeyboardInterrupt

    return progress


def _resume_matches_one_run(url: str, tmp_path: Path, workers: int) -> None:
    settings = settings_for(url)
    whole = scan(settings, tmp_path / "whole", workers=1, chunk=40)
    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        scan(settings, out, workers=workers, chunk=40, progress=_interrupt_after(3))
    state = read_state(out)
    assert state["done"] is False and state["counts"]["all"]["posts"] == [
        120,
        state["counts"]["all"]["posts"][1],
    ]
    assert state["last_id"] == 120
    # A crash between writing a page's lines and saving the state leaves lines the state does not
    # count (and half a line): resuming cuts them off, so nothing is doubled.
    with (out / FINDINGS).open("ab") as fh:
        fh.write(b'{"id": 121, "account": "x", "decision": "block", "findings": []}\n{"id": 1')
    with pytest.raises(ConflictError, match="not empty"):
        scan(settings, out, workers=1)
    resumed = scan(settings, out, workers=workers, chunk=40, resume=True)
    assert resumed.resumed and resumed.done and resumed.checked_now == 180
    assert resumed.counts == whole.counts
    assert (out / FINDINGS).read_bytes() == (tmp_path / "whole" / FINDINGS).read_bytes()
    ids = [line["id"] for line in read_lines(out)]
    assert ids == sorted(set(ids))
    again = scan(settings, out, workers=1, resume=True)  # a finished scan: nothing left to do
    assert again.checked_now == 0 and again.counts == whole.counts


def test_an_interrupted_scan_resumes_to_the_same_result(
    archive: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    _resume_matches_one_run(archive[0], tmp_path, workers=1)


@pytest.mark.slow
def test_worker_processes_give_the_same_result_and_resume(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    fill(url, archive_rows(300))
    _resume_matches_one_run(url, tmp_path, workers=2)
    several = scan(settings_for(url), tmp_path / "two", workers=2, chunk=25)
    assert (tmp_path / "two" / FINDINGS).read_bytes() == (tmp_path / "whole" / FINDINGS).read_bytes()
    assert several.counts == read_state_counts(tmp_path / "whole")


def read_state_counts(out: Path) -> Any:
    from postguard.archive.scan import Counts

    return Counts(read_state(out)["counts"])


def test_refusals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    fill(url, archive_rows(30))
    settings = settings_for(url)
    with pytest.raises(NotFoundError, match="holds no archive scan"):
        scan(settings, tmp_path / "none", resume=True, workers=1)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConflictError, match="not empty"):
        scan(settings, tmp_path / "busy", workers=1)
    with pytest.raises(NotFoundError):
        scan(settings, tmp_path / "busy", resume=True, workers=1)
    # overwrite removes an earlier scan's files, and only those
    scan(settings, tmp_path / "busy", workers=1, overwrite=True)
    summary = scan(settings, tmp_path / "busy", workers=1, overwrite=True, account=ACCOUNTS[0])
    assert summary.posts == 10 and (tmp_path / "busy" / "notes.txt").read_text(encoding="utf-8") == "mine"
    # Another pack or model: the scan cannot be resumed with it.
    with pytest.raises(ConflictError, match="cannot mix"):
        scan(settings_for(url, scorer="none"), tmp_path / "busy", resume=True, workers=1)
    with pytest.raises(ConflictError, match="filters"):
        scan(settings, tmp_path / "busy", resume=True, workers=1, account=ACCOUNTS[1])
    with pytest.raises(ValidationError, match="either resume or overwrite"):
        scan(settings, tmp_path / "busy", resume=True, overwrite=True, workers=1)
    with pytest.raises(ValidationError, match="until"):
        scan(settings, tmp_path / "x", since=dt.date(2024, 1, 2), until=dt.date(2024, 1, 1))
    with pytest.raises(ValidationError, match="chunk"):
        scan(settings, tmp_path / "x", chunk=0)
    with pytest.raises(ValidationError, match="workers"):
        scan(settings, tmp_path / "x", workers=0)
    with pytest.raises(DatabaseError):
        scan(settings_for(f"sqlite:///{tmp_path / 'missing.db'}"), tmp_path / "x", workers=1)
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(ValidationError, match="not a folder"):
        scan(settings, tmp_path / "file", workers=1)
    (tmp_path / "busy" / STATE).write_text("{}", encoding="utf-8")
    with pytest.raises(ValidationError, match="not the state"):
        write_report(tmp_path / "busy")
    assert not (tmp_path / "x").exists()


class _Page(HTMLParser):
    """Collects the tags and the links of a page, and checks that every opened element closes."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: Counter[str] = Counter()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src")]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_report_is_self_contained_escaped_and_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    rows = archive_rows(120)
    hostile = dict(
        rows[0], platform_id="evil", url="javascript:alert('<script>')", account='=HYPERLINK("http://x")'
    )
    hostile["text"] = "<script>alert('x')</script> We got our man! <img src=x onerror=alert(2)>"
    fill(url, [hostile, *rows])  # the first post shown
    out = tmp_path / "scan"
    summary = scan(settings_for(url), out, workers=1, chunk=50)
    monkeypatch.setattr(report_module, "MAX_POSTS", 5)
    paths = write_report(out)

    html = paths.html.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    page.close()
    assert page.open == []
    assert page.tags["script"] == 0 and page.tags["img"] == 0 and page.tags["link"] == 0
    assert all(h.startswith("https://social.example/") for h in page.hrefs)  # no javascript: link
    assert "&lt;script&gt;" in html and "Content-Security-Policy" in html
    assert page.tags["svg"] >= 3 and page.tags["article"] == 5
    lines = read_lines(out)
    assert f"The first 5 of {len(lines)} posts are shown here" in " ".join(" ".join(page.text).split())
    assert "photos and videos of archived posts are not inspected" in html

    with paths.counts.open(encoding="utf-8", newline="") as fh:
        counted = list(csv.DictReader(fh))
    assert counted[0] == {"dimension": "all", "key": "posts", "posts": "121", "flagged": str(summary.flagged)}
    by = {(r["dimension"], r["key"]): (int(r["posts"]), int(r["flagged"])) for r in counted}
    for dimension, keys in summary.counts.data.items():
        for key, pair in keys.items():
            got = by[(dimension, key if not key.startswith("=") else "'" + key)]
            assert list(got) == pair
    with paths.findings.open(encoding="utf-8", newline="") as fh:
        found = list(csv.DictReader(fh))
    assert len(found) == sum(len(line["findings"]) for line in lines)
    evil = [r for r in found if r["platform_id"] == "evil"]
    assert evil and all(r["account"].startswith("'=HYPERLINK") for r in evil)
    assert {r["clause"] for r in found} == set(summary.counts.data["clause"])
    first = found[-1]
    assert int(first["id"]) == lines[-1]["id"] and first["quote"] == lines[-1]["findings"][-1]["quote"]


def test_a_report_of_an_unfinished_scan_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    fill(url, [*archive_rows(80), dict(archive_rows(1)[0], platform_id="long", text="word " * 14000)])
    out = tmp_path / "scan"
    with pytest.raises(KeyboardInterrupt):
        scan(settings_for(url), out, workers=1, chunk=30, progress=_interrupt_after(1))
    html = write_report(out).html.read_text(encoding="utf-8")
    assert "This scan is not finished" in html and "after post id 30" in html
    summary = scan(settings_for(url), out, workers=1, chunk=30, resume=True)
    # A text the checker cannot take (over 64 KiB) is reported with its reason, and the scan goes on.
    assert summary.counts.data["decision"]["error"] == [1, 0]
    line = read_lines(out)[-1]
    assert line["platform_id"] == "long" and line["decision"] == "error" and "64 KiB" in line["error"]
    html = write_report(out).html.read_text(encoding="utf-8")
    assert "This scan is not finished" not in html and "Not checked:" in html
