"""Demo data for ``make run``: a small department on an embedded SQLite database.

``python -m postguard.demo FOLDER`` creates (once) FOLDER/postguard.db and
FOLDER/keys with one member per role, a department computer, a personal
device, an official account, an authorisation, a written permission and
sample drafts, and prints an API token per member. The passphrases are demo
values, printed for the demo only: never use them for a real department.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from postguard import default_checker
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.keys import init_key, load_signing
from postguard.registry.service import Registry
from postguard.registry.tokens import create_token
from postguard.workflow import Workflow

DEMO_PASSPHRASE = "demo passphrase, not for real use"
MEMBERS = [
    ("1001", "Ada Admin", "Inspector", "Information Technology Unit", "it_admin"),
    ("2002", "Cora Reid", "Commissioner", "Office of the Commissioner", "commissioner"),
    ("3003", "Pat Lee", "Constable", "Public Information Office", "pio,officer"),
    ("4004", "Rhys Okafor", "Sergeant", "Public Information Office", "reviewer"),
    ("5005", "Una Sharma", "Inspector", "Professional Standards", "auditor"),
]


def build(folder: Path) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "postguard.db"
    created = not db_path.exists()
    db = Database(f"sqlite:///{db_path}")
    db.upgrade()
    registry = Registry(db, origin="demo")
    keys = folder / "keys"
    tokens: dict[str, str] = {}
    if created:
        registry.bootstrap(
            service_number="1001", name="Ada Admin", rank="Inspector", unit="Information Technology Unit"
        )
        for number, name, rank, unit, roles in MEMBERS[1:]:
            registry.add_member("1001", service_number=number, name=name, rank=rank, unit=unit, roles=roles)
        for name in ("commissioner", "department"):
            init_key(keys, name, DEMO_PASSPHRASE)  # type: ignore[arg-type]
        registry.add_computer("1001", asset_tag="PC-0042", hostname="pio-02", addresses=["127.0.0.1"])
        registry.add_device("1001", identifier="IMEI-3531", owner="3003", description="iPhone 15")
        registry.add_account("1001", platform="mastodon", handle="@police@127.0.0.1")
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
        flow = Workflow(registry, grants, default_checker())
        flow.create(
            "3003",
            account="mastodon:@police@127.0.0.1",
            text="ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass.",
        )
        draft = flow.create(
            "3003",
            account="mastodon:@police@127.0.0.1",
            text="We got our man! The thug who robbed the corner shop is behind bars.",
        )
        flow.submit("3003", draft.code, device="PC-0042")
        for number, *_ in MEMBERS:
            tokens[number], _ = create_token(registry, "1001", member=number, name=f"demo-{number}")
        (folder / "tokens.json").write_text(json.dumps(tokens, indent=2) + "\n")
    else:
        tokens = json.loads((folder / "tokens.json").read_text())
    db.engine.dispose()
    return {"database": f"sqlite:///{db_path}", "keys": str(keys), "tokens": tokens, "created": created}


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "demo")
    info = build(folder)
    state = "created" if info["created"] else "reused"
    print(f"Demo department {state} in {folder}/ (database {info['database']}).")
    print(f"Demo key passphrase (demo only): {DEMO_PASSPHRASE!r}")
    print("API tokens (Authorization: Bearer ...):")
    roles = {m[0]: m[4] for m in MEMBERS}
    for number, token in dict(info["tokens"]).items():  # type: ignore[call-overload]
        print(f"  {number} ({roles.get(number, '?')}): {token}")


if __name__ == "__main__":
    main()
