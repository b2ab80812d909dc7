"""The archive's read side (issue 14): its queries, its pages and its API, on SQLite and PostgreSQL.

Archived posts and their versions are inserted directly (the database's rules stop only
deleting and changing them); the checks at the time are real reports of the shipped checker.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import World
from postguard.archive.queries import MAX_OFFSET, ArchiveFilter, find_posts, get_post
from postguard.checks import Checker
from postguard.errors import NotFoundError, ValidationError
from postguard.registry.models import ArchivedPost, PostVersion
from postguard.registry.roles import allowed
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.web import create_app

MASTODON = "mastodon:@police@social.example"
BLUESKY = "bluesky:police.example"
VIOLATING = "We got our man! The thug who robbed the corner shop is behind bars."
NEUTRAL = "A man has been arrested and charged in connection with the robbery of the corner shop."
PLAIN = "Harbour Road is closed after a collision. Please use the bypass."
HOSTILE = '<script>alert("archived")</script> Road closed.'
DIGEST = "ab" * 32
T0 = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
_NUMBERS = itertools.count(1)


def _insert(
    world: World,
    checker: Checker,
    *,
    account: str,
    texts: list[tuple[str, str]],
    source: str = "watch",
    outside: bool = False,
    posted_at: dt.datetime = T0,
    url: str = "",
    media: list[dict[str, Any]] | None = None,
    checked: bool = True,
) -> int:
    """One archived post with a version per (kind, text), each checked by the shipped checker as
    the watch would; the post holds the last version's text and check. Its id."""
    platform = account.partition(":")[0]
    reports = [checker.check(text).to_dict() if checked and text else {} for _, text in texts]
    kinds = [kind for kind, _ in texts]
    last: dict[str, Any] = next(
        (r for (k, _), r in zip(reversed(texts), reversed(reports), strict=True) if k != "deletion"), {}
    )
    current = next(t for k, t in reversed(texts) if k != "deletion")
    at = [posted_at + dt.timedelta(hours=i) for i in range(len(texts))]
    with world.db.session() as session:
        row = ArchivedPost(
            platform=platform,
            account=account,
            platform_id=f"{platform}-{next(_NUMBERS)}",
            url=url,
            text=current,
            media=media or [],
            posted_at=posted_at,
            first_seen_at=posted_at,
            updated_at=at[-1],
            edited_at=next(
                (a for a, k in zip(reversed(at), reversed(kinds), strict=True) if k == "edit"), None
            ),
            deleted_at=at[-1] if kinds[-1] == "deletion" else None,
            source=source,
            outside_workflow=outside,
            decision=str(last.get("decision", "")),
            clauses=" " + " ".join(sorted({f["clause"] for f in last.get("findings", [])})) + " "
            if last.get("findings")
            else "",
            report=last,
            policy_version=checker.policy_version if last else "",
            retain_until=posted_at + dt.timedelta(days=3650),
        )
        session.add(row)
        session.flush()
        for number, ((kind, text), report, when) in enumerate(zip(texts, reports, at, strict=True), 1):
            session.add(
                PostVersion(
                    post_id=row.id,
                    number=number,
                    kind=kind,
                    text=text,
                    media=media or [],
                    at=when,
                    seen_at=when + dt.timedelta(minutes=5),
                    decision=str(report.get("decision", "")),
                    report=report,
                )
            )
        return int(row.id)


@dataclass
class Archive:
    edited: int  # seen on the account, outside the workflow, violating then edited
    published: int  # published by postguard, on another platform
    deleted: int  # imported, then deleted; its text has a % and an _
    hostile: int  # a post whose text, address and file name are markup
    clause: str  # a clause the edited post's first version was found to violate


@pytest.fixture
def archive(world: World, checker: Checker) -> Archive:
    clause = checker.check(VIOLATING).findings[0].clause
    return Archive(
        edited=_insert(
            world,
            checker,
            account=MASTODON,
            texts=[("original", VIOLATING), ("edit", NEUTRAL)],
            outside=True,
            posted_at=T0,
            url="https://social.example/@police/1",
            media=[{"sha256": f"sha256:{DIGEST}", "content_type": "image/jpeg", "filename": "scene.jpg"}],
        ),
        published=_insert(
            world,
            checker,
            account=BLUESKY,
            texts=[("original", PLAIN)],
            source="published",
            posted_at=T0 + dt.timedelta(days=1),
        ),
        deleted=_insert(
            world,
            checker,
            account=MASTODON,
            texts=[("original", "Lost dog 100% found_today on Quay Street."), ("deletion", "")],
            source="import",
            posted_at=T0 + dt.timedelta(days=2),
            checked=False,
        ),
        hostile=_insert(
            world,
            checker,
            account=MASTODON,
            texts=[("original", HOSTILE)],
            posted_at=T0 + dt.timedelta(days=3),
            url="javascript:alert(1)",
            media=[{"sha256": "not a digest", "filename": "<img src=x onerror=alert(1)>", "url": "data:x"}],
        ),
        clause=clause,
    )


# The queries ---------------------------------------------------------------------------------


def _ids(world: World, **wanted: Any) -> list[int]:
    return [r["id"] for r in find_posts(world.registry, ArchiveFilter(**wanted)).rows]


def test_the_filters_narrow_the_list_in_sql_newest_first(world: World, archive: Archive) -> None:
    everything = [archive.hostile, archive.deleted, archive.published, archive.edited]
    assert _ids(world) == everything
    assert _ids(world, account=BLUESKY) == [archive.published]
    assert _ids(world, platform="bluesky") == [archive.published]
    assert _ids(world, source="import") == [archive.deleted]
    assert _ids(world, outside_workflow=True) == [archive.edited]
    assert _ids(world, outside_workflow=False) == [archive.hostile, archive.deleted, archive.published]
    assert _ids(world, edited=True) == [archive.edited]
    assert _ids(world, deleted=True) == [archive.deleted]
    assert archive.deleted not in _ids(world, deleted=False)
    # The check at the time: the edit is clean, so the clause is no longer the post's...
    assert archive.edited not in _ids(world, clause=archive.clause)
    # ...but what a post once said is still found by its words.
    assert _ids(world, text="THUG") == [archive.edited]
    # LIKE's wildcards are taken literally.
    assert _ids(world, text="100%") == [archive.deleted]
    assert _ids(world, text="Lost%Street") == [] and _ids(world, text="dog_100") == []
    assert _ids(world, text="found_today") == [archive.deleted]
    day = (T0 + dt.timedelta(days=1)).date()
    assert _ids(world, since=day, until=day) == [archive.published]
    assert _ids(world, since=day) == [archive.hostile, archive.deleted, archive.published]


def test_a_clause_found_at_the_time_is_filtered_by(world: World, checker: Checker) -> None:
    clause = checker.check(VIOLATING).findings[0].clause
    seen = _insert(world, checker, account=MASTODON, texts=[("original", VIOLATING)], outside=True)
    _insert(
        world, checker, account=MASTODON, texts=[("original", PLAIN)], posted_at=T0 + dt.timedelta(hours=1)
    )
    assert _ids(world, clause=clause) == [seen]
    assert _ids(world, clause=clause.rsplit(".", 1)[0]) == [seen]  # a clause's parent finds its parts
    assert _ids(world, clause=clause[:1] + "%") == []  # a clause is matched whole


def test_pages_are_ordered_counted_and_capped(world: World, checker: Checker) -> None:
    ids = [
        _insert(
            world, checker, account=MASTODON, texts=[("original", f"Note {i}")], posted_at=T0, checked=False
        )
        for i in range(5)
    ]
    first = find_posts(world.registry, ArchiveFilter(size=2))
    assert (first.total, first.pages, first.page) == (5, 3, 1)
    assert [r["id"] for r in first.rows] == ids[::-1][:2]  # the same second: the newest id first
    assert [r["id"] for r in find_posts(world.registry, ArchiveFilter(size=2, page=3)).rows] == [ids[0]]
    assert find_posts(world.registry, ArchiveFilter(size=2, page=9)).page == 3  # past the last: the last
    for bad in (
        {"page": 0},
        {"size": 0},
        {"size": 10_000},
        {"source": "rumour"},
        {"page": MAX_OFFSET},
        {"text": "road\0"},
    ):
        with pytest.raises(ValidationError):
            ArchiveFilter(**bad)
    with pytest.raises(ValidationError, match="after"):
        ArchiveFilter(since=dt.date(2026, 2, 2), until=dt.date(2026, 1, 1))


def test_one_post_has_its_versions_oldest_first_with_the_check_of_each(
    world: World, archive: Archive
) -> None:
    post = get_post(world.registry, archive.edited)
    assert post["edited"] and post["outside_workflow"] and not post["deleted"]
    assert post["text"] == NEUTRAL and post["media"][0]["sha256"] == DIGEST
    assert [(v["number"], v["kind"], v["text"]) for v in post["versions"]] == [
        (1, "original", VIOLATING),
        (2, "edit", NEUTRAL),
    ]
    first = post["versions"][0]
    assert first["decision"] in ("review", "block") and archive.clause in {
        f["clause"] for f in first["findings"]
    }
    assert post["versions"][1]["findings"] == []
    for missing in (archive.hostile + 1000, 2**40, 0):
        with pytest.raises(NotFoundError):
            get_post(world.registry, missing)


# The pages and the API -----------------------------------------------------------------------


@pytest.fixture
def site(world: World, archive: Archive, tmp_path: Any) -> Iterator[TestClient]:
    world.registry.add_member("IT-1", service_number="OFF-2", name="Olu Other", roles="officer")
    for member in ("PIO-1", "REV-1", "CP-1", "AUD-1", "IT-1", "OFF-2"):
        set_password(world.registry, "IT-1", member=member, password=f"password-of-{member}")
    app = create_app(
        Settings(
            database_url=world.db.url,
            keys_dir=world.keys_dir,
            media_root=tmp_path / "media",
            secure_cookies=False,
            scheduler_interval=0,
        )
    )
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _sign_in(client: TestClient, member: str) -> None:
    client.cookies.clear()
    page = client.get("/signin").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/signin",
        data={"service_number": member, "password": f"password-of-{member}", "csrf_token": token},
    )
    assert answer.status_code == 303, answer.text


def _listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/archive/(\d+)"', page)]


def test_who_may_read_the_archive() -> None:
    for role in ("reviewer", "commissioner", "auditor", "it_admin", "pio"):
        assert allowed([role], "archive.read"), role
    assert not allowed(["officer"], "archive.read")


def test_the_list_page_filters_and_shows_each_post_s_check_and_flags(
    site: TestClient, archive: Archive
) -> None:
    _sign_in(site, "AUD-1")
    page = site.get("/archive").text
    assert 'href="/archive" aria-current="page">Archive</a>' in page
    assert _listed(page) == [archive.hostile, archive.deleted, archive.published, archive.edited]
    assert "4 post(s)" in page and '<th scope="col">Posted (UTC)</th>' in page
    row = page.split(f'href="/archive/{archive.edited}"')[1].split("</tr>")[0]
    assert 'data-flag="outside-workflow"' in row and 'data-flag="edited"' in row
    assert "seen on the account" in row and "2026-11-02 09:30" in page
    deleted_row = page.split(f'href="/archive/{archive.deleted}"')[1].split("</tr>")[0]
    assert 'data-flag="deleted"' in deleted_row and "not checked" in deleted_row and "imported" in deleted_row
    assert _listed(site.get("/archive", params={"account": BLUESKY}).text) == [archive.published]
    assert _listed(site.get("/archive", params={"outside": "yes"}).text) == [archive.edited]
    assert _listed(site.get("/archive", params={"q": "thug"}).text) == [archive.edited]
    assert _listed(site.get("/archive", params={"deleted": "yes", "source": "import"}).text) == [
        archive.deleted
    ]
    assert _listed(site.get("/archive", params={"clause": archive.clause}).text) == []
    # A value not understood is said, and the list is not filtered by it.
    bad = site.get("/archive", params={"outside": "perhaps", "from": "last week", "account": BLUESKY})
    assert bad.status_code == 200 and "yes or no" in bad.text and "YYYY-MM-DD" in bad.text
    assert _listed(bad.text) == [archive.published]
    nul = site.get("/archive", params={"q": "road\0"})
    assert nul.status_code == 200 and "NUL" in nul.text and len(_listed(nul.text)) == 4
    deep = site.get("/archive", params={"page": str(MAX_OFFSET)})
    assert deep.status_code == 200 and "narrow the list" in deep.text and len(_listed(deep.text)) == 4


def test_the_list_page_keeps_its_filters_from_page_to_page(
    site: TestClient, world: World, checker: Checker
) -> None:
    for i in range(27):
        _insert(
            world, checker, account=BLUESKY, texts=[("original", f"Road note {i}")], checked=False,
            posted_at=T0 + dt.timedelta(minutes=i),
        )  # fmt: skip
    _sign_in(site, "REV-1")
    page = site.get("/archive", params={"q": "road note", "account": BLUESKY}).text
    assert "27 post(s); page 1 of 2" in page and len(_listed(page)) == 25
    found = re.search(r'href="([^"]+)" rel="next"', page)
    assert found is not None
    link = found.group(1).replace("&amp;", "&")
    assert "q=road+note" in link and "account=bluesky" in link and "page=2" in link
    second = site.get(link).text
    assert len(_listed(second)) == 2 and 'rel="prev"' in second


def test_the_post_page_shows_every_version_what_changed_and_the_check_made(
    site: TestClient, archive: Archive
) -> None:
    _sign_in(site, "PIO-1")
    page = site.get(f"/archive/{archive.edited}")
    assert page.status_code == 200
    text = page.text
    assert 'href="https://social.example/@police/1" rel="noopener noreferrer"' in text
    assert ">https://social.example/@police/1</a>" in text
    assert f"sha256:{DIGEST}" in text and "scene.jpg" in text and "not in the media store" in text
    versions = text.split('id="versions"')[1].split("</section>")[0]
    assert 'id="version-1"' in versions and 'id="version-2"' in versions
    first, second = versions.split('id="version-2"')
    assert "As first seen" in first and f'data-clause="{archive.clause}"' in first
    assert "<del>" in second and "<ins>" in second and "thug" in second.split("<del>", 1)[1]
    assert "No findings" in second
    deleted = site.get(f"/archive/{archive.deleted}").text
    assert "Deleted" in deleted.split('id="version-2"')[1] and "was not checked" in deleted


def test_hostile_post_text_address_and_file_names_are_shown_as_text(
    site: TestClient, archive: Archive
) -> None:
    _sign_in(site, "IT-1")
    for url in ("/archive", f"/archive/{archive.hostile}"):
        page = site.get(url).text
        assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
        assert "<img src=x" not in page
    page = site.get(f"/archive/{archive.hostile}").text
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page
    assert 'href="data:' not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_pages_refuse_an_officer_and_say_what_is_missing(
    site: TestClient, archive: Archive, world: World
) -> None:
    _sign_in(site, "OFF-2")
    assert 'href="/archive"' not in site.get("/").text
    for url in ("/archive", f"/archive/{archive.edited}"):
        refused = site.get(url)
        assert refused.status_code == 403 and VIOLATING not in refused.text and NEUTRAL not in refused.text
    with world.db.engine.connect() as conn:
        denied = conn.execute(
            sa.text("SELECT COUNT(*) FROM audit_entry WHERE action = 'denied' AND actor = 'OFF-2'")
        ).scalar()
    assert denied == 2
    _sign_in(site, "CP-1")
    assert site.get("/archive/999999").status_code == 404
    assert site.get("/archive/not-a-number").status_code == 404


def test_the_api_lists_and_shows_posts_and_refuses_others(
    site: TestClient, archive: Archive, world: World
) -> None:
    tokens = {m: create_token(world.registry, "IT-1", member=m, name=f"t-{m}")[0] for m in ("AUD-1", "OFF-2")}

    def get(url: str, member: str = "AUD-1", **params: Any) -> Any:
        return site.get(url, params=params, headers={"Authorization": f"Bearer {tokens[member]}"})

    site.cookies.clear()
    answer = get("/api/v1/archive/posts", size=2)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"rows", "total", "page", "size", "pages"}
    assert (body["total"], body["page"], body["size"], body["pages"]) == (4, 1, 2, 2)
    assert [r["id"] for r in body["rows"]] == [archive.hostile, archive.deleted]
    row = body["rows"][1]
    assert row["deleted"] is True and row["source"] == "import" and row["deleted_at"].startswith("2026-11-04")
    assert {"account", "platform", "posted_at", "decision", "clauses", "outside_workflow", "url"} <= set(row)
    only = get("/api/v1/archive/posts", outside_workflow="true", q="THUG").json()
    assert [r["id"] for r in only["rows"]] == [archive.edited] and only["total"] == 1
    dated = get("/api/v1/archive/posts", since="2026-11-03", until="2026-11-03").json()
    assert [r["id"] for r in dated["rows"]] == [archive.published]
    assert get("/api/v1/archive/posts", source="rumour").status_code == 422
    assert get("/api/v1/archive/posts", since="soon").status_code == 422
    assert get("/api/v1/archive/posts", q="road\0").status_code == 422  # never a server error

    post = get(f"/api/v1/archive/posts/{archive.edited}").json()
    assert [v["kind"] for v in post["versions"]] == ["original", "edit"]
    assert post["versions"][0]["findings"] and post["versions"][0]["findings"][0]["clause"] == archive.clause
    assert post["versions"][1]["text"] == NEUTRAL and post["findings"] == []
    assert post["media"] == [
        {"sha256": DIGEST, "content_type": "image/jpeg", "filename": "scene.jpg", "url": ""}
    ]
    missing = get("/api/v1/archive/posts/999999")
    assert missing.status_code == 404 and "999999" in missing.text
    assert get("/api/v1/archive/posts/99999999999999").status_code == 404

    assert get("/api/v1/archive/posts", "OFF-2").status_code == 403
    assert get(f"/api/v1/archive/posts/{archive.edited}", "OFF-2").status_code == 403
    assert site.get("/api/v1/archive/posts").status_code == 401
