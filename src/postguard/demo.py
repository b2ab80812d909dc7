"""Demo data for ``make run``: a small department on an embedded SQLite database.

``python -m postguard.demo FOLDER`` creates (once) FOLDER/postguard.db and
FOLDER/keys with one member per role (each with a demo password), a
department computer, a personal device, an official account connected to a
local fake Mastodon, an authorisation, a written permission and sample
drafts, and prints the sign-ins and an API token per member.

``python -m postguard.demo FOLDER --serve`` then starts the fake Mastodon (on
port 8401, or ``POSTGUARD_DEMO_MASTODON_PORT``) in the background and the
service in front (``PORT``, 8400). The passwords and passphrases are demo
values, printed for the demo only: never use them for a real department.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from postguard.audit.checkpoints import checkpoint_if_due
from postguard.audit.witness import Witness
from postguard.factory import build_checker
from postguard.keys import init_key, load_signing
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.workflow import Workflow

DEMO_PASSPHRASE = "demo passphrase, not for real use"
DEMO_PASSWORD = "demo-password-{number}"  # each member's, with their service number
DEMO_MASTODON_TOKEN = "demo-mastodon-token"
ACCOUNT = "@police@127.0.0.1"
MEMBERS = [
    ("1001", "Ada Admin", "Inspector", "Information Technology Unit", "it_admin"),
    ("2002", "Cora Reid", "Commissioner", "Office of the Commissioner", "commissioner"),
    ("3003", "Pat Lee", "Constable", "Public Information Office", "pio,officer"),
    ("4004", "Rhys Okafor", "Sergeant", "Public Information Office", "reviewer"),
    ("5005", "Una Sharma", "Inspector", "Professional Standards", "auditor"),
]


#: Bumped when the demo's contents change; a demo folder of another version is set aside and rebuilt.
DEMO_VERSION = "3"


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
        settings = Settings(database_url=f"sqlite:///{db_path}", keys_dir=keys)
        flow = Workflow(registry, grants, build_checker(settings, permissions=grants))
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
    return int(os.environ.get("POSTGUARD_DEMO_MASTODON_PORT", "8401"))


def serve(folder: Path) -> None:
    """The fake Mastodon in a thread, and the service (plain HTTP on loopback) in front."""
    import uvicorn

    from postguard.fakes import FakeMastodon

    port = int(os.environ.get("PORT", "8400"))
    fake = FakeMastodon(DEMO_MASTODON_TOKEN, port=mastodon_port())
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
    )
    print(f"Fake Mastodon (demo only) on {fake.url}/ : what the demo publishes lands there.")
    print(f"Audit checkpoints every minute, witnessed in {folder / 'audit-witness.jsonl'}.")
    print(f"postguard on http://127.0.0.1:{port}/  (sign in with a demo sign-in above; API /api/v1;")
    print("OpenAPI document /openapi.json). Ctrl-C stops both.", flush=True)
    try:
        uvicorn.run(
            "postguard.web.asgi:build", host="127.0.0.1", port=port, factory=True, log_level="warning"
        )
    finally:
        fake.close()


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    folder = Path(args[0] if args else "demo")
    info = build(folder)
    state = "created" if info["created"] else "reused"
    print(f"Demo department {state} in {folder}/ (database {info['database']}).")
    print(f"Demo commissioner key passphrase (demo only): {DEMO_PASSPHRASE!r}")
    print("Demo sign-ins (service number / password) and API tokens (Authorization: Bearer ...):")
    roles = {m[0]: m[4] for m in MEMBERS}
    for number, token in dict(info["tokens"]).items():  # type: ignore[call-overload]
        password = DEMO_PASSWORD.format(number=number)
        print(f"  {number:<5} {roles.get(number, '?'):<13} {password:<20} {token}")
    if "--serve" in sys.argv[1:]:
        serve(folder)


if __name__ == "__main__":
    main()
