"""A written permission as a signed document, checkable offline, and as printable HTML.

The document is JSON: the signed payload, the signature, and the public key
it claims. ``verify_document`` checks it with a public key the verifier
trusts (a file of its own, never the one inside the document), then its
dates. Revocation cannot be seen offline; the report says so.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from postguard.audit.chain import canonical_json
from postguard.errors import ValidationError
from postguard.keys import PublicKey
from postguard.registry.grants import PERMISSION_CONTEXT, permission_payload
from postguard.registry.models import Permission

__all__ = ["DOCUMENT_FORMAT", "DocumentCheck", "export_document", "render_html", "verify_document"]

DOCUMENT_FORMAT = "postguard-signed-permission/1"


def export_document(row: Permission, public: PublicKey) -> dict[str, Any]:
    return {
        "format": DOCUMENT_FORMAT,
        "payload": permission_payload(row),
        "signature": row.signature,
        "algorithm": "Ed25519",
        "public_key": public.pem(),
    }


@dataclass(frozen=True)
class DocumentCheck:
    valid: bool
    reason: str
    payload: dict[str, Any]


def verify_document(raw: bytes, trusted: PublicKey, *, at: dt.datetime | None = None) -> DocumentCheck:
    try:
        doc = json.loads(raw.decode("utf-8"))
        payload, signature = doc["payload"], doc["signature"]
        if doc.get("format") != DOCUMENT_FORMAT or payload.get("context") != PERMISSION_CONTEXT:
            raise ValueError("not a postguard signed permission")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValidationError(f"The file is not a signed permission document: {exc}.") from None
    if payload.get("key_id") != trusted.key_id:
        return DocumentCheck(False, f"signed with key {payload.get('key_id')}, not {trusted.key_id}", payload)
    if not trusted.verify(str(signature), canonical_json(payload).encode("utf-8")):
        return DocumentCheck(
            False, "the signature does not match: the document was altered or forged", payload
        )
    when = at or dt.datetime.now(dt.UTC)
    start = dt.datetime.fromisoformat(payload["valid_from"])
    end = dt.datetime.fromisoformat(payload["valid_until"]) if payload.get("valid_until") else None
    if when < start:
        return DocumentCheck(False, f"genuine, but not in force until {payload['valid_from']}", payload)
    if end is not None and when >= end:
        return DocumentCheck(False, f"genuine, but expired on {payload['valid_until']}", payload)
    return DocumentCheck(
        True,
        "genuine and within its dates (whether it has been revoked since can only be seen in the registry)",
        payload,
    )


def render_html(document: dict[str, Any], authority: str, department: str) -> str:
    env = Environment(autoescape=select_autoescape(default=True), keep_trailing_newline=True)
    template = env.from_string(
        (resources.files("postguard.registry") / "templates" / "permission.html").read_text(encoding="utf-8")
    )
    return template.render(doc=document, p=document["payload"], authority=authority, department=department)


def write_document(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
