"""The site catalogue: which destinations are social media, and in which category.

A destination (a URL, ``host:port`` from an HTTPS CONNECT, or a bare host) is
parsed into a host; the host is matched with its parents down to its
registrable domain (by the public-suffix list shipped inside ``tldextract``,
never fetched), so ``m.facebook.com`` and ``video.fbcdn.net`` are Facebook's,
``news.ycombinator.com`` is listed on its own and ``ycombinator.com`` is not.
Literal IP addresses are recognised as such: the catalogue cannot name them,
and the policy pack says what happens to them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import unquote, urlsplit

import tldextract

from postguard.policy.schema import PolicyPack

__all__ = ["Catalogue", "Destination", "Match", "parse_destination"]

_MAX_HOST = 253
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+))*")


@dataclass(frozen=True, slots=True)
class Destination:
    """A parsed destination: its host (lower case, IDNA) or IP address, and its port."""

    raw: str
    host: str
    port: int | None = None
    ip: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """A catalogue site that a destination belongs to."""

    site: str
    category: str
    category_name: str


def parse_destination(value: str) -> Destination | None:
    """Parse a URL, ``host:port`` or host; ``None`` when no host can be read from it."""
    raw = value.strip()
    if not raw or len(raw) > 8192:
        return None
    text = unquote(raw) if "%" in raw else raw
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch.isspace() for ch in text):
        # urlsplit would quietly drop a tab or newline ("facebook.com%0A0" -> "facebook.com0"):
        # a destination with control characters or spaces is not read at all, so it is refused.
        return None
    try:
        parts = urlsplit(text if "//" in text else f"//{text}")
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    host = host.strip().rstrip(".").lower()
    if not host or len(host) > _MAX_HOST:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if _NUMERIC_HOST.fullmatch(host):  # 3232235521, 0x7f.1, 127.1: addresses too
            return Destination(raw, host, port, ip=True)
    else:
        return Destination(raw, host, port, ip=True)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if any(not label or len(label) > 63 or not _LABEL.fullmatch(label) for label in host.split(".")):
        return None
    return Destination(raw, host, port)


class Catalogue:
    """The pack's categories and sites, looked up by host, and the clauses that govern reaching them.

    ``computer_clause`` (clause B in the shipped pack) governs department
    computers, ``device_clause`` (clause C) personally owned devices.
    """

    def __init__(self, pack: PolicyPack) -> None:
        self.pack = pack
        self.computer_clause = pack.clause_for("department-computers")
        self.device_clause = pack.clause_for("personal-devices")
        self._sites: dict[str, Match] = {}
        for category in pack.categories:
            for site in category.sites:
                self._sites[site.lower().rstrip(".")] = Match(site.lower(), category.id, category.name)

    @cached_property
    def _extract(self) -> tldextract.TLDExtract:
        # The snapshot bundled with tldextract; no download, no cache files.
        return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def __len__(self) -> int:
        return len(self._sites)

    def sites(self) -> list[Match]:
        return sorted(self._sites.values(), key=lambda m: (m.category, m.site))

    def registrable(self, host: str) -> str:
        result = self._extract(host)
        return result.top_domain_under_public_suffix or host

    def lookup(self, destination: Destination | str) -> Match | None:
        """The catalogue site ``destination`` belongs to, or ``None`` (not social media)."""
        dest = parse_destination(destination) if isinstance(destination, str) else destination
        if dest is None or dest.ip:
            return None
        host = dest.host
        floor = self.registrable(host)
        while True:
            found = self._sites.get(host)
            if found is not None:
                return found
            if host == floor or "." not in host:
                return None
            host = host.split(".", 1)[1]
