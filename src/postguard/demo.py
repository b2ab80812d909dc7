"""Demo data for ``make run``: a small department on an embedded SQLite database.

``python -m postguard.demo FOLDER`` creates (once) FOLDER/postguard.db and
FOLDER/keys with one member per role (each with a demo password), a
department computer, a personal device, an official account connected to a
local fake Mastodon, an authorisation, a written permission and sample
drafts, and prints the sign-ins and an API token per member.

``python -m postguard.demo FOLDER --serve`` then starts the fake Mastodon (on
port 8401, or ``POSTGUARD_DEMO_MASTODON_PORT``) in the background and the
service in front (``PORT``, 8400). Both ports are checked first: one that is
taken (or the same for both) is one line on stderr that says how to choose
others, and exit status 1. The fake Mastodon keeps what it received in
FOLDER/fake-mastodon.json, so its links work after a restart. On the first
start a post is made on the fake Mastodon "from the app", outside postguard;
the watch reads the account before the service starts (and every minute
after), so that post's alert is waiting for the reviewer. The passwords
and passphrases are demo values, printed for the demo only: never use them
for a real department.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import time
from pathlib import Path

from postguard.audit.checkpoints import checkpoint_if_due
from postguard.audit.witness import Witness
from postguard.factory import build_checker, build_watch
from postguard.keys import init_key, load_signing
from postguard.registry.acknowledgements import Acknowledgements
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.registry.values import utcnow
from postguard.settings import Settings
from postguard.watch.run import WatchResult
from postguard.workflow import Workflow

DEMO_PASSPHRASE = "demo passphrase, not for real use"
DEMO_PASSWORD = "demo-password-{number}"  # each member's, with their service number
DEMO_MASTODON_TOKEN = "demo-mastodon-token"
ACCOUNT = "@police@127.0.0.1"
#: Typed straight into the platform's app (the demo's fake Mastodon), not through postguard: the watch
#: finds it, checks it and raises an alert.
OUTSIDE_POST = (
    "Posted from my phone: the man we arrested for the Harbour Road robbery is guilty, no doubt about "
    "it. He will go down for this."
)
MEMBERS = [
    ("1001", "Ada Admin", "Inspector", "Information Technology Unit", "it_admin"),
    ("2002", "Cora Reid", "Commissioner", "Office of the Commissioner", "commissioner"),
    ("3003", "Pat Lee", "Constable", "Public Information Office", "pio,officer"),
    ("4004", "Rhys Okafor", "Sergeant", "Public Information Office", "reviewer"),
    ("5005", "Una Sharma", "Inspector", "Professional Standards", "auditor"),
]


#: Bumped when the demo's contents change; a demo folder of another version is set aside and rebuilt.
DEMO_VERSION = "4"


def build(folder: Path) -> dict[str, object]:
    marker = folder / "demo-version"
    if folder.exists() and any(folder.iterdir()) and _read(marker) != DEMO_VERSION:
        aside = folder.with_name(f"{folder.name}.old-{int(time.time())}")
        folder.rename(aside)  # demo data only, but never deleted
        print(f"The demo in {folder}/ was made by an older postguard; it is kept as {aside}/.")
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text(DEMO_VERSION + "\n")
    db_path = folder / "postguard.db"
    created = not db_path.exists()
    db = Database(f"sqlite:///{db_path}", create=True)
    db.upgrade()
    registry = Registry(db, origin="demo")
    keys = folder / "keys"
    tokens: dict[str, str] = {}
    if created:
        registry.bootstrap(
            service_number="1001", name="Ada Admin", rank="Inspector", unit="Information Technology Unit"
        )
        for number, name, rank, unit, roles in MEMBERS[1:]:
            plain = ",".join(r for r in roles.split(",") if r != "reviewer") or "officer"
            registry.add_member("1001", service_number=number, name=name, rank=rank, unit=unit, roles=plain)
        registry.grant_roles("2002", "4004", "reviewer")  # a privileged role: the Commissioner grants it
        for name in ("commissioner", "department"):
            init_key(keys, name, DEMO_PASSPHRASE)  # type: ignore[arg-type]
        registry.add_computer("1001", asset_tag="PC-0042", hostname="pio-02", addresses=["127.0.0.1"])
        registry.add_device("1001", identifier="IMEI-3531", owner="3003", description="iPhone 15")
        registry.add_account("1001", platform="mastodon", handle=ACCOUNT)
        registry.connect_account(
            "1001",
            platform="mastodon",
            handle=ACCOUNT,
            connector="mastodon",
            endpoint=f"http://127.0.0.1:{mastodon_port()}",
            credential=DEMO_MASTODON_TOKEN,
            keys_dir=keys,
        )
        # An account IT has not connected yet: listed on the compose page, but it cannot publish.
        registry.add_account("1001", platform="bluesky", handle="@police.example")
        for number, *_ in MEMBERS:
            set_password(registry, "1001", member=number, password=DEMO_PASSWORD.format(number=number))
        grants = Grants(registry, keys)
        grants.authorise(
            "2002",
            member="3003",
            computer="PC-0042",
            scope="category",
            target="micro-blogging",
            reason="press office duty",
        )
        grants.permit(
            "2002",
            load_signing(keys, "commissioner", DEMO_PASSPHRASE),
            kind="personal-device",
            member="3003",
            device="IMEI-3531",
            reason="on-call PIO",
            text_="Constable Lee may use her own phone for the department's Mastodon account.",
        )
        grants.permit(  # one that ends soon: the first page of 2002 and 3003 warns of it
            "2002",
            load_signing(keys, "commissioner", DEMO_PASSPHRASE),
            kind="confidential-release",
            member="3003",
            post="D-00002",
            valid_until=utcnow() + dt.timedelta(days=10),
            reason="witness appeal",
            text_="Constable Lee may publish the CCTV still with the appeal in D-00002.",
        )
        settings = Settings(database_url=f"sqlite:///{db_path}", keys_dir=keys)
        flow = Workflow(registry, grants, build_checker(settings, permissions=grants))
        # The policy in force, acknowledged (its quiz answered) by three members; 4004 and 5005
        # have yet to, so the dashboard lists them and they see the banner (issue 12).
        acks = Acknowledgements(registry, flow.checker.pack)
        for number in ("1001", "2002", "3003"):
            right = {q.id: q.answer for q in acks.quiz(number)}
            acks.acknowledge(number, sha256=flow.checker.pack.sha256, answers=right)
        flow.create(
            "3003",
            account=f"mastodon:{ACCOUNT}",
            text="ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass.",
        )
        draft = flow.create(
            "3003",
            account=f"mastodon:{ACCOUNT}",
            text="We got our man! The thug who robbed the corner shop is behind bars.",
        )
        flow.submit("3003", draft.code, device="PC-0042")
        for number, *_ in MEMBERS:
            tokens[number], _ = create_token(registry, "1001", member=number, name=f"demo-{number}")
        fd = os.open(folder / "tokens.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # bearer tokens
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(tokens, indent=2) + "\n")
        # The first signed checkpoint, witnessed: the service signs the next ones itself.
        witness = Witness(folder / "audit-witness.jsonl")
        checkpoint_if_due(db.session, load_signing(keys, "department", DEMO_PASSPHRASE), witness)
    else:
        tokens = json.loads((folder / "tokens.json").read_text())
    db.engine.dispose()
    return {"database": f"sqlite:///{db_path}", "keys": str(keys), "tokens": tokens, "created": created}


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def mastodon_port() -> int:
    return _port("POSTGUARD_DEMO_MASTODON_PORT", 8401)


def service_port() -> int:
    return _port("PORT", 8400)


class PortError(Exception):
    """A port the demo needs is taken or unusable: the one-line message says which and what to do."""


_HOW = "choose others, e.g. PORT={service} POSTGUARD_DEMO_MASTODON_PORT={fake} make run"


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise PortError(f"{name}={raw!r} is not a port (1-65535); " + _HOW.format(service=8500, fake=8501))
    return int(raw)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on ``host:port`` (binding as the servers do, address reuse on)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _free_pair(service: int, fake: int) -> tuple[int, int]:
    """Two ports near the asked ones that are free now, to suggest (the usual 8500/8501 first)."""
    for step in range(100, 1100, 100):
        pair = (
            (8400 + step, 8401 + step) if (service, fake) == (8400, 8401) else (service + step, fake + step)
        )
        if all(p <= 65535 and not port_in_use(p) for p in pair):
            return pair
    return 8500, 8501


def check_ports() -> tuple[int, int]:
    """The service's and the fake Mastodon's ports, checked free before anything starts.

    Raises :class:`PortError` with one line naming the port that is taken (or invalid)
    and how to choose others.
    """
    service, fake = service_port(), mastodon_port()
    if service == fake:
        raise PortError(
            f"PORT and POSTGUARD_DEMO_MASTODON_PORT are both {service}: the service and the fake "
            "Mastodon need a port each; " + _HOW.format(service=service, fake=service + 1)
        )
    taken = [
        f"{port} ({what})"
        for port, what in (
            (service, "the service, PORT"),
            (fake, "the fake Mastodon, POSTGUARD_DEMO_MASTODON_PORT"),
        )
        if port_in_use(port)
    ]
    if taken:
        suggestion = _free_pair(service, fake)
        raise PortError(
            f"port{'s' if len(taken) > 1 else ''} {' and '.join(taken)} "
            f"{'are' if len(taken) > 1 else 'is'} in use by another program (another 'make run'?); "
            + _HOW.format(service=suggestion[0], fake=suggestion[1])
        )
    return service, fake


def serve(folder: Path) -> None:
    """The fake Mastodon in a thread, and the service (plain HTTP on loopback) in front."""
    import uvicorn

    from postguard.fakes import FakeMastodon

    port = service_port()
    try:
        # What it receives is kept in the demo folder, so the links it returned outlive a restart.
        fake = FakeMastodon(DEMO_MASTODON_TOKEN, port=mastodon_port(), store=folder / "fake-mastodon.json")
    except OSError as exc:  # taken between the check and now
        raise PortError(
            f"the fake Mastodon cannot listen on port {mastodon_port()} ({exc.strerror}); "
            + _HOW.format(service=port + 100, fake=mastodon_port() + 100)
        ) from None
    outside = folder / "demo-outside-post"
    if not outside.exists():  # once: a post typed straight into the platform's app, not through postguard
        status = fake.post_from_app(OUTSIDE_POST)
        outside.write_text(f"{status['id']}\n")
    os.environ.update(
        POSTGUARD_DATABASE_URL=f"sqlite:///{folder / 'postguard.db'}",
        POSTGUARD_KEYS_DIR=str(folder / "keys"),
        POSTGUARD_SECURE_COOKIES="false",  # plain HTTP on loopback, for the demo only
        # The service signs an audit checkpoint every minute and appends it to the witness;
        # a real department keeps the witness on another disk or host, and the passphrase
        # in a credentials file (POSTGUARD_DEPARTMENT_PASSPHRASE_FILE), not the environment.
        POSTGUARD_DEPARTMENT_PASSPHRASE=DEMO_PASSPHRASE,
        POSTGUARD_AUDIT_WITNESS=str(folder / "audit-witness.jsonl"),
        POSTGUARD_AUDIT_SPOOL=str(folder / "audit-spool.jsonl"),
        POSTGUARD_MEDIA_ROOT=str(folder / "media"),  # uploaded photos and videos, by SHA-256
        POSTGUARD_WATCH_INTERVAL="60",  # the watch reads the fake Mastodon every minute
    )
    found = _watch_once()
    print(
        f"Fake Mastodon (demo only) on {fake.url}/ : what the demo publishes lands there "
        f"(kept in {folder / 'fake-mastodon.json'})."
    )
    print(f"Audit checkpoints every minute, witnessed in {folder / 'audit-witness.jsonl'}.")
    print(
        f"The watch read the fake Mastodon: {len(found.posts)} new post(s), {len(found.alerts)} alert(s) "
        "raised (one post there was made outside postguard: sign in as 4004 or 2002 to see its alert); "
        "it reads it again every minute."
    )
    print(f"postguard on http://127.0.0.1:{port}/  (sign in with a demo sign-in above; API /api/v1;")
    print("OpenAPI document /openapi.json). Ctrl-C stops both.", flush=True)
    try:
        uvicorn.run(
            "postguard.web.asgi:build", host="127.0.0.1", port=port, factory=True, log_level="warning"
        )
    finally:
        fake.close()


def _watch_once() -> WatchResult:
    """One round of the watch over the demo's accounts, before the service starts (it then runs its own)."""
    settings = Settings()
    db = Database(settings.database_url)
    try:
        registry = Registry(db, origin="demo")
        return build_watch(settings, registry, build_checker(settings)).run()
    finally:
        db.engine.dispose()


def main() -> None:
    """Build (or reuse) the demo and, with ``--serve``, serve it; a port problem is one line, exit 1."""
    try:
        _run()
    except PortError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _run() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = Path(args[0] if args else "demo")
    serving = "--serve" in sys.argv[1:]
    if serving:
        check_ports()  # before anything is built or started
    info = build(folder)
    state = "created" if info["created"] else "reused"
    print(f"Demo department {state} in {folder}/ (database {info['database']}).")
    print(f"Demo commissioner key passphrase (demo only): {DEMO_PASSPHRASE!r}")
    print("Demo sign-ins (service number / password) and API tokens (Authorization: Bearer ...):")
    roles = {m[0]: m[4] for m in MEMBERS}
    for number, token in dict(info["tokens"]).items():  # type: ignore[call-overload]
        password = DEMO_PASSWORD.format(number=number)
        print(f"  {number:<5} {roles.get(number, '?'):<13} {password:<20} {token}")
    if serving:
        serve(folder)


if __name__ == "__main__":
    main()
