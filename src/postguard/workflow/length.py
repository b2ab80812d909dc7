"""Where a draft goes and whether it fits there: the account that publishes it, and its length.

A draft is published on one of the department's official accounts, so before it is
submitted (and again when it is approved) it must name an account that can publish:
active, and connected (a connector to send it with). Its text must fit that platform:
the pack's ``limits.post_length`` gives the most characters for the account's platform
(or, failing that, its connector's kind), counted as the platform counts them: grapheme
clusters (what a reader sees as one character, an emoji with its modifiers included),
every web address as ``url_characters`` when the pack says so (Mastodon: 23).

The compose page counts the same way as one types (``static/compose.js``); these are
the rules the workflow enforces, for the pages and the API alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex
from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.errors import ValidationError
from postguard.policy.schema import PolicyPack
from postguard.registry.models import OfficialAccount
from postguard.registry.service import Registry

__all__ = [
    "URL",
    "PostLimit",
    "account_label",
    "count_characters",
    "destinations",
    "length_problem",
    "limit_for",
    "measure",
    "publishable",
]

#: A web address as the platforms see one: http(s)://, up to white space, less a final
#: punctuation mark (the same expression as compose.js's).
URL = regex.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'\"]", regex.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True)
class PostLimit:
    """The most characters a post may have on a platform, and how web addresses count."""

    platform: str
    characters: int
    url_characters: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "characters": self.characters,
            "url_characters": self.url_characters,
        }


def count_characters(text: str, url_characters: int | None = None) -> int:
    """``text``'s length as a platform counts it: grapheme clusters, each web address as
    ``url_characters`` when given."""
    if url_characters is None:
        return len(_GRAPHEME.findall(text))
    urls = URL.findall(text)
    rest = URL.sub("", text)
    return len(_GRAPHEME.findall(rest)) + url_characters * len(urls)


def limit_for(pack: PolicyPack, platform: str, connector: str = "") -> PostLimit | None:
    """The pack's limit for an account on ``platform`` (else its ``connector``'s kind), or None."""
    table = pack.limits.post_length
    for key in (platform.strip().lower(), connector.strip().lower()):
        if key and key in table:
            entry = table[key]
            return PostLimit(key, entry.characters, entry.url_characters)
    return None


def account_label(account: OfficialAccount) -> str:
    return f"{account.platform}:{account.handle}"


def publishable(account: OfficialAccount | None, code: str = "the draft") -> OfficialAccount:
    """``account`` if a post can be published on it (active, connected), else a clear refusal."""
    if account is None:
        raise ValidationError(
            f"{code} has no official account yet: choose the account it is published on first."
        )
    if not account.active:
        raise ValidationError(f"the official account {account_label(account)} is retired: choose another.")
    if not account.connector:
        raise ValidationError(
            f"the official account {account_label(account)} is not connected for publishing (it has no "
            "connector): ask the Information Technology Unit to connect it, or choose another."
        )
    return account


def length_problem(pack: PolicyPack, text: str, account: OfficialAccount) -> str:
    """Why ``text`` does not fit ``account``'s platform, or "" when it fits (or has no limit)."""
    limit = limit_for(pack, account.platform, account.connector)
    if limit is None:
        return ""
    used = count_characters(text, limit.url_characters)
    if used <= limit.characters:
        return ""
    counted = limit.url_characters and URL.search(text)
    urls = f", each web address counted as {limit.url_characters}" if counted else ""
    return (
        f"the post is {used:,} characters{urls}; {account_label(account)} takes at most "
        f"{limit.characters:,} on {limit.platform}: shorten it by {used - limit.characters:,}."
    )


def destinations(registry: Registry, pack: PolicyPack) -> list[dict[str, Any]]:
    """The active official accounts a draft may name, those that can publish first: each with
    ``value`` (platform:handle), ``platform``, ``handle``, ``publishable`` and its ``limit``."""

    def read(session: Session) -> list[dict[str, Any]]:
        query = (
            select(OfficialAccount)
            .where(OfficialAccount.active)
            .order_by(OfficialAccount.platform, OfficialAccount.handle)
        )
        out = []
        for account in session.scalars(query):
            limit = limit_for(pack, account.platform, account.connector)
            out.append(
                {
                    "value": account_label(account),
                    "platform": account.platform,
                    "handle": account.handle,
                    "publishable": bool(account.connector),
                    "limit": limit.to_dict() if limit else None,
                }
            )
        return sorted(out, key=lambda d: not d["publishable"])

    return registry.read(read)


def measure(text: str, destination: dict[str, Any] | None) -> dict[str, Any]:
    """``text`` counted for ``destination`` (one of :func:`destinations`): used, limit, over."""
    limit = (destination or {}).get("limit")
    if not limit:
        return {"used": count_characters(text), "limit": None, "over": 0, "platform": ""}
    used = count_characters(text, limit["url_characters"])
    return {
        "used": used,
        "limit": limit["characters"],
        "over": max(0, used - limit["characters"]),
        "platform": limit["platform"],
    }
