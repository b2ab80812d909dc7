"""Start-up (issue 12): ``make run`` with its ports taken, the fake Mastodon's links and what it keeps
across restarts, ``make eval`` and ``postguard eval`` from a fresh clone, ``audit show --limit``
in the web's order, ``sites lookup``'s exit statuses, and ``--until DATE`` through the end of that day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import World, free_port
from postguard.access.decide import AccessRequest, decide
from postguard.access.snapshot import load_snapshot
from postguard.cli.app import app
from postguard.fakes import FakeMastodon
from postguard.keys import load_public
from postguard.policy import default_pack
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.registry.values import end_of_day, parse_when
from postguard.settings import Settings
from postguard.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
LAST_INSTANT = dt.datetime(2027, 6, 30, 23, 59, 59, 999999, tzinfo=dt.UTC)


# make run: the ports ---------------------------------------------------------------------------


def _demo(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "postguard.demo", str(folder), "--serve"],
        env={**os.environ, **env},
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def _one_line_refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""  # nothing was built or started
    return lines[0]


@pytest.mark.slow
def test_make_run_with_the_service_port_taken_says_so_in_one_line(tmp_path: Path, taken_port: int) -> None:
    folder = tmp_path / "demo"
    line = _one_line_refusal(
        _demo(folder, PORT=str(taken_port), POSTGUARD_DEMO_MASTODON_PORT=str(free_port()))
    )
    assert f"port {taken_port} (the service, PORT) is in use" in line
    assert re.search(r"PORT=\d+ POSTGUARD_DEMO_MASTODON_PORT=\d+ make run", line)
    assert not folder.exists()  # the ports are checked before anything is built


@pytest.mark.slow
def test_make_run_with_the_fake_mastodon_port_taken_says_so_in_one_line(
    tmp_path: Path, taken_port: int
) -> None:
    line = _one_line_refusal(
        _demo(tmp_path / "demo", PORT=str(free_port()), POSTGUARD_DEMO_MASTODON_PORT=str(taken_port))
    )
    assert f"port {taken_port} (the fake Mastodon, POSTGUARD_DEMO_MASTODON_PORT) is in use" in line
    suggested = re.search(r"PORT=(\d+) POSTGUARD_DEMO_MASTODON_PORT=(\d+) make run", line)
    assert suggested and int(suggested.group(2)) != taken_port


@pytest.mark.slow
@pytest.mark.parametrize(
    ("service", "fake", "expected"),
    [("8400x", "8401", "PORT='8400x' is not a port"), ("9999", "9999", "are both 9999")],
)
def test_make_run_with_unusable_ports_says_so_in_one_line(
    tmp_path: Path, service: str, fake: str, expected: str
) -> None:
    line = _one_line_refusal(_demo(tmp_path / "demo", PORT=service, POSTGUARD_DEMO_MASTODON_PORT=fake))
    assert expected in line and "make run" in line


# The fake Mastodon: links that work, kept across restarts -----------------------------------------


def _post(fake: FakeMastodon, text: str, key: str = "") -> dict[str, object]:
    headers = {"Authorization": "Bearer t"} | ({"Idempotency-Key": key} if key else {})
    answer = httpx.post(f"{fake.url}/api/v1/statuses", data={"status": text}, headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_fake_mastodon_serves_each_status_at_its_link(tmp_path: Path) -> None:
    fake = FakeMastodon("t")
    try:
        hostile = 'Road closed <script>alert("x")</script> & diverted'
        status = _post(fake, hostile)
        page = httpx.get(str(status["url"]), timeout=5)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<script>" not in page.text  # escaped, never obeyed
        assert "Road closed &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; diverted" in page.text
        as_json = httpx.get(f"{fake.url}/api/v1/statuses/{status['id']}", timeout=5)
        assert as_json.status_code == 200 and as_json.json() == status
        expected = "<p>Road closed &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; diverted</p>"
        assert as_json.json()["content"] == expected and status["created_at"]  # HTML, as Mastodon
        assert httpx.get(f"{fake.url}/api/v1/statuses/99", timeout=5).status_code == 404
        assert httpx.get(f"{fake.url}/@police/99", timeout=5).status_code == 404
        index = httpx.get(f"{fake.url}/", timeout=5).text
        assert f'href="/@police/{status["id"]}"' in index
    finally:
        fake.close()


def test_the_fake_mastodon_keeps_its_statuses_and_keys_across_restarts(tmp_path: Path) -> None:
    store = tmp_path / "fake-mastodon.json"
    port = free_port()
    fake = FakeMastodon("t", port=port, store=store)
    try:
        first = _post(fake, "Harbour Road is open again.", key="pub-1")
        second = _post(fake, "Lost dog found on Elm St.")
    finally:
        fake.close()
    saved = json.loads(store.read_text())
    posted = ["Harbour Road is open again.", "Lost dog found on Elm St."]
    assert [s["content"] for s in saved["statuses"]] == posted  # the text posted (served as HTML)
    assert [p.name for p in tmp_path.iterdir()] == ["fake-mastodon.json"]  # no temporary file left

    again = FakeMastodon("t", port=port, store=store)
    try:
        assert [s["id"] for s in again.statuses] == ["1", "2"]
        page = httpx.get(str(first["url"]), timeout=5)  # the link postguard recorded still works
        assert page.status_code == 200 and "Harbour Road is open again." in page.text
        assert httpx.get(f"{again.url}/api/v1/statuses/2", timeout=5).json()["content"] == second["content"]
        assert _post(again, "Harbour Road is open again.", key="pub-1") == first  # not posted twice
        third = _post(again, "Third post.")
        assert third["id"] == "3" and len(again.statuses) == 3
    finally:
        again.close()
    assert len(json.loads(store.read_text())["statuses"]) == 3


@pytest.mark.parametrize("broken", ["{not json", '["a list"]', '{"statuses": [{"no": "id"}]}'])
def test_an_unreadable_store_is_set_aside_not_lost(tmp_path: Path, broken: str) -> None:
    store = tmp_path / "fake-mastodon.json"
    store.write_text(broken)
    fake = FakeMastodon("t", store=store)
    try:
        assert fake.statuses == []
        _post(fake, "A fresh start.")
    finally:
        fake.close()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("fake-mastodon.json.unreadable-")]
    assert len(aside) == 1 and aside[0].read_text() == broken
    assert [s["content"] for s in json.loads(store.read_text())["statuses"]] == ["A fresh start."]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail(f"nothing answered at {url}")


def _serve_demo(folder: Path, port: int, fake: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PORT": str(port), "POSTGUARD_DEMO_MASTODON_PORT": str(fake)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "postguard.demo", str(folder), "--serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(f"http://127.0.0.1:{port}/signin")
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.slow
def test_what_the_demo_published_is_still_at_its_link_after_make_run_again(tmp_path: Path) -> None:
    folder, port, fake = tmp_path / "demo", free_port(), free_port()
    base = f"http://127.0.0.1:{port}/api/v1/drafts"
    proc = _serve_demo(folder, port, fake)
    try:
        tokens = json.loads((folder / "tokens.json").read_text())

        def call(member: str, path: str, body: dict[str, object]) -> dict[str, object]:
            auth = {"Authorization": f"Bearer {tokens[member]}"}
            answer = httpx.post(f"{base}{path}", json=body, headers=auth, timeout=30)
            assert answer.status_code in (200, 201), answer.text
            return dict(answer.json())

        # The post made on the fake Mastodon outside postguard: found by the watch, its alert waiting.
        auth = {"Authorization": f"Bearer {tokens['4004']}"}
        waiting = httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts?open=true", headers=auth, timeout=30)
        assert waiting.status_code == 200, waiting.text
        rows = waiting.json()["alerts"]
        assert [a["kind"] for a in rows] == ["outside_workflow"]
        assert {f["clause"] for f in rows[0]["findings"]} >= {"A.iii.guilt"}
        call("3003", "/D-00001/submit", {"device": "PC-0042"})  # the demo's clean road-closure draft
        call("4004", "/D-00001/approve", {})
        published = call("4004", "/D-00001/publish", {})["publication"]
        assert isinstance(published, dict) and published["status"] == "sent"
        url = str(published["url"])
        assert url.startswith(f"http://127.0.0.1:{fake}/@police/")
    finally:
        _stop(proc)
    assert (folder / "fake-mastodon.json").exists()

    proc = _serve_demo(folder, port, fake)
    try:
        page = httpx.get(url, timeout=5)
        assert page.status_code == 200 and "Harbour Road is closed after a collision" in page.text
        remote = str(published["remote_id"])
        status = httpx.get(f"http://127.0.0.1:{fake}/api/v1/statuses/{remote}", timeout=5).json()
        assert status["url"] == url and "Harbour Road" in status["content"]
    finally:
        _stop(proc)


# make eval and postguard eval without ../shared ----------------------------------------------------

LABELLED = [
    {"id": "p-1", "text": "Road closed on Main St after a collision.", "labels": []},
    {
        "id": "p-2",
        "text": "We got our man! The thug is behind bars.",
        "labels": ["A.iii.guilt"],
        "evidence": {"A.iii.guilt": ["We got our man"]},
    },
]


def _labelled(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in LABELLED))
    return path


def test_postguard_eval_of_a_missing_file_is_one_clear_line_and_status_2(tmp_path: Path) -> None:
    missing = tmp_path / "dev.jsonl"
    result = CliRunner().invoke(app, ["eval", str(missing)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [f"error: cannot read '{missing}': no such file."]


def test_postguard_eval_measures_a_small_labelled_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(_labelled(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["posts"] == 2 and figures["clean_posts"] == 1
    assert figures["clauses"]["A.iii.guilt"]["recall"] == 1.0
    assert figures["clean_false_positive_rate"] == 0.0


def _make_eval(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    stamp = f".venv/.installed-{hashlib.sha1((ROOT / 'pyproject.toml').read_bytes()).hexdigest()[:12]}"
    bin_dir = Path(sys.executable).parent
    args = [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(
        ["make", "-s", "-o", stamp, "eval", f"BIN={bin_dir}", *args],  # -o: never (re)install here
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_make_eval_in_a_fresh_clone_says_what_is_missing(tmp_path: Path) -> None:
    nowhere = tmp_path / "shared"
    result = _make_eval(tmp_path, DEV=str(nowhere / "eval" / "dev.jsonl"), REAL=str(nowhere / "real"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"no dev set at {nowhere / 'eval' / 'dev.jsonl'}" in result.stderr
    assert "DEV=FILE make eval" in result.stderr and "postguard eval FILE" in result.stderr
    assert f"no real posts at {nowhere / 'real'}" in result.stderr
    assert "nothing was measured" in result.stderr


@pytest.mark.slow
def test_make_eval_measures_a_file_of_ones_own(tmp_path: Path) -> None:
    result = _make_eval(tmp_path, DEV=str(_labelled(tmp_path)), REAL=str(tmp_path / "no-real"))
    assert result.returncode == 0, result.stderr
    assert "macro-F1" in result.stdout and "labelled.jsonl: 2 posts" in result.stdout
    assert "no real posts at" in result.stderr


# audit show --limit: the newest, in the web's order ------------------------------------------------


def _cli(world: World, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout  # what scripts read; log lines go to stderr


def _all_seqs(world: World) -> list[int]:
    with world.db.engine.connect() as conn:
        return [int(r[0]) for r in conn.exec_driver_sql("SELECT seq FROM audit_entry ORDER BY seq")]


def test_audit_show_limit_lists_the_newest_entries_as_the_web_and_the_api_do(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(5):
        world.registry.add_member(
            "IT-1", service_number=f"X-{number}", name=f"Extra {number}", roles="officer"
        )
    seqs = _all_seqs(world)
    newest = sorted(seqs, reverse=True)[:3]
    shown = json.loads(_cli(world, monkeypatch, "audit", "show", "--limit", "3", "--json"))
    assert [e["seq"] for e in shown] == newest
    assert [e["target"] for e in shown] == ["member:X-4", "member:X-3", "member:X-2"]
    filtered = json.loads(
        _cli(world, monkeypatch, "audit", "show", "--action", "member.add", "--limit", "2", "--json")
    )
    assert [e["target"] for e in filtered] == ["member:X-4", "member:X-3"]
    help_text = _cli(world, monkeypatch, "audit", "show", "--help")
    assert "newest" in help_text

    set_password(world.registry, "IT-1", member="AUD-1", password="password-of-AUD-1")
    token, _ = create_token(world.registry, "IT-1", member="AUD-1", name="audit-order")
    settings = Settings(
        database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        before = _all_seqs(world)
        api = client.get("/api/v1/audit", params={"limit": 3}, headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 200
        assert [e["seq"] for e in api.json()] == sorted(before, reverse=True)[:3]
        signin = client.get("/signin").text
        csrf = signin.split('name="csrf_token" value="')[1].split('"')[0]
        data = {"service_number": "AUD-1", "password": "password-of-AUD-1", "csrf_token": csrf}
        assert client.post("/signin", data=data).status_code == 303
        cli_now = [e["seq"] for e in json.loads(_cli(world, monkeypatch, "audit", "show", "--json"))]
        page = client.get("/audit", params={"limit": 200})
        assert page.status_code == 200
    shown_on_page = [int(n) for n in re.findall(r"<tr><td>(?:<a [^>]*>)?(\d+)<", page.text)]
    assert shown_on_page and shown_on_page == cli_now[: len(shown_on_page)]  # the same entries, same order
    assert shown_on_page == sorted(shown_on_page, reverse=True)


# sites lookup: its exit statuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "status", "says"),
    [
        ("https://video.xx.fbcdn.net/v/1.mp4", 0, "social media, category social-networking"),
        ("x.com", 0, "micro-blogging"),
        ("https://www.gov.uk/", 1, "outside the policy"),
        ("10.20.0.42", 1, "an IP address"),
        ("::::", 2, "has no host"),
    ],
)
def test_sites_lookup_exit_status_says_whether_it_is_social_media(
    destination: str, status: int, says: str
) -> None:
    result = CliRunner().invoke(app, ["sites", "lookup", destination], env={"COLUMNS": "200"})
    assert result.exit_code == status and says in result.output


def test_sites_lookup_help_documents_its_exit_statuses() -> None:
    text = " ".join(
        CliRunner().invoke(app, ["sites", "lookup", "--help"], env={"COLUMNS": "200"}).output.split()
    )
    assert "0 when the catalogue names it as social media" in text
    assert "1 when it does not" in text and "2 when no host" in text


# --until DATE: through the end of that day (UTC) ----------------------------------------------------


def test_a_date_alone_as_an_end_is_the_last_instant_of_that_day() -> None:
    assert parse_when("2027-06-30", "until", end=True) == LAST_INSTANT
    assert end_of_day(dt.date(2027, 6, 30)) == LAST_INSTANT
    assert parse_when("2027-06-30", "from") == dt.datetime(2027, 6, 30, tzinfo=dt.UTC)
    assert parse_when("2027-06-30", "since") == dt.datetime(2027, 6, 30, tzinfo=dt.UTC)
    assert parse_when("2027-06-30T12:00", "until", end=True) == dt.datetime(2027, 6, 30, 12, tzinfo=dt.UTC)
    assert parse_when("2027-06-30T23:00+02:00", "until", end=True) == dt.datetime(
        2027, 6, 30, 21, tzinfo=dt.UTC
    )


def _decide_at(world: World, when: dt.datetime) -> bool:
    pack = default_pack()
    from postguard.access.catalogue import Catalogue

    snapshot = load_snapshot(world.db, load_public(world.keys_dir, "commissioner"))
    request = AccessRequest("https://x.com/police", member="PIO-1", computer="PC-1", at=when)
    return decide(snapshot, Catalogue(pack), pack.access, request).allowed


def test_an_authorisation_until_a_date_covers_that_whole_day(world: World) -> None:
    row = world.grants.authorise(
        "IT-1",
        member="PIO-1",
        computer="PC-1",
        scope="category",
        target="micro-blogging",
        reason="press office duty",
        valid_from="2027-06-01",
        valid_until="2027-06-30",
    )
    assert row.valid_until == LAST_INSTANT
    assert _decide_at(world, dt.datetime(2027, 6, 30, 23, 59, 59, tzinfo=dt.UTC))
    assert not _decide_at(world, dt.datetime(2027, 7, 1, 0, 0, tzinfo=dt.UTC))
    # A grant for one day, given as the same date twice, is that day (it used to be refused as empty).
    one_day = world.grants.authorise(
        "IT-1",
        member="PIO-1",
        computer="PC-1",
        scope="all",
        reason="r",
        valid_from="2027-08-01",
        valid_until="2027-08-01",
    )
    assert one_day.valid_until == end_of_day(dt.date(2027, 8, 1))
    changed = world.grants.change_authorisation("IT-1", row.code, valid_until="2027-07-15")
    assert changed.valid_until == end_of_day(dt.date(2027, 7, 15))


def test_a_permission_until_a_date_is_honoured_through_that_day(world: World) -> None:
    row = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="personal-device",
        member="PIO-1",
        device="IMEI-1",
        reason="on call",
        text_="May use her own phone.",
        valid_from="2027-01-01",
        valid_until="2027-01-31",
    )
    assert row.valid_until == end_of_day(dt.date(2027, 1, 31))
    assert world.grants.honoured(row.code, at=dt.datetime(2027, 1, 31, 23, 59, 59, tzinfo=dt.UTC)).valid
    late = world.grants.honoured(row.code, at=dt.datetime(2027, 2, 1, 0, 0, tzinfo=dt.UTC))
    assert not late.valid and "expired" in late.reason
    changed = world.grants.change_permission(
        "CP-1", world.commissioner_key, row.code, valid_until="2027-03-31"
    )
    assert changed.valid_until == end_of_day(dt.date(2027, 3, 31))
    assert world.grants.honoured(row.code, at=dt.datetime(2027, 3, 31, 23, 0, tzinfo=dt.UTC)).valid


def test_the_cli_and_the_api_read_until_a_date_the_same_way(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = json.loads(
        _cli(
            world,
            monkeypatch,
            "authorise",
            "add",
            "--member",
            "PIO-1",
            "--computer",
            "PC-1",
            "--category",
            "micro-blogging",
            "--until",
            "2027-06-30",
            "--reason",
            "press office duty",
            "--actor",
            "IT-1",
            "--json",
        )
    )
    assert added["valid_until"] == "2027-06-30T23:59:59+00:00"
    assert "through the end of that day" in " ".join(
        _cli(world, monkeypatch, "authorise", "add", "--help").split()
    )

    token, _ = create_token(world.registry, "IT-1", member="IT-1", name="until-test")
    settings = Settings(database_url=world.db.url, keys_dir=world.keys_dir, scheduler_interval=0)
    with TestClient(create_app(settings)) as client:
        body = {
            "member": "PIO-1",
            "computer": "PC-1",
            "scope": "site",
            "target": "x.com",
            "valid_until": "2027-06-30",
            "reason": "press office duty",
        }
        answer = client.post(
            "/api/v1/authorisations", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["valid_until"] == "2027-06-30T23:59:59+00:00"
        code = answer.json()["id"]
    assert world.grants.get_authorisation(code)["valid_until"] == "2027-06-30T23:59:59+00:00"
    with world.db.reading() as session:
        from postguard.registry.models import Authorisation

        stored = session.query(Authorisation).filter_by(code=code).one().valid_until
    assert stored == LAST_INSTANT


def test_the_web_form_reads_until_a_date_the_same_way(world: World) -> None:
    set_password(world.registry, "IT-1", member="IT-1", password="password-of-IT-1")
    settings = Settings(
        database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        signin = client.get("/signin").text
        csrf = signin.split('name="csrf_token" value="')[1].split('"')[0]
        data = {"service_number": "IT-1", "password": "password-of-IT-1", "csrf_token": csrf}
        assert client.post("/signin", data=data).status_code == 303
        page = client.get("/registry").text
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        form = {
            "csrf_token": token,
            "member": "PIO-1",
            "computer": "PC-1",
            "scope": "site",
            "target": "x.com",
            "valid_until": "2027-06-30",
            "reason": "press office duty",
        }
        answer = client.post("/registry/authorisation", data=form)
        assert answer.status_code in (200, 303), answer.text[:500]
    [row] = [a for a in world.grants.list_authorisations() if a["target"] == "x.com"]
    assert row["valid_until"] == "2027-06-30T23:59:59+00:00"
