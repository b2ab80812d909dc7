"""Parsing and checking the values that registry commands take."""

from __future__ import annotations

import datetime as dt
import ipaddress

from postguard.errors import ValidationError
from postguard.registry.models import ROLES

__all__ = [
    "check_period",
    "csv_safe",
    "date_only",
    "end_of_day",
    "iso",
    "like_anywhere",
    "overlapping",
    "parse_addresses",
    "parse_roles",
    "parse_when",
    "utcnow",
]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def csv_safe(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def like_anywhere(text: str) -> str:
    """``text`` as a LIKE pattern (escape character ``\\``) that matches it anywhere, its
    wildcards ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in UTC (23:59:59.999999): where an end given as a date falls."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)


def date_only(value: object) -> dt.date | None:
    """``value`` as a calendar date when it is a date without a time (``2027-06-30``), else None."""
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def parse_when(
    value: str | dt.date | dt.datetime | None, field: str, *, end: bool = False
) -> dt.datetime | None:
    """A date or date-time (ISO 8601; no zone means UTC), or None for an empty value.

    A date alone is the start of that day (00:00 UTC); with ``end`` (an ``--until``, a
    grant's end) it is the end of that day, 23:59:59.999999 UTC, so the day itself is included.
    """
    if value is None or value == "":
        return None
    day = date_only(value)
    if day is not None:
        return end_of_day(day) if end else dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"'{value}' ({field}) is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]."
            ) from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def check_period(valid_from: dt.datetime, valid_until: dt.datetime | None) -> None:
    if valid_until is not None and valid_until <= valid_from:
        raise ValidationError(
            f"the end ({iso(valid_until)}) is not after the start ({iso(valid_from)}): "
            "a grant must end after it starts."
        )


def parse_roles(roles: list[str] | tuple[str, ...] | str) -> list[str]:
    items = roles.split(",") if isinstance(roles, str) else list(roles)
    cleaned = sorted({r.strip().lower().replace("-", "_") for r in items if r.strip()})
    unknown = [r for r in cleaned if r not in ROLES]
    if unknown:
        raise ValidationError(f"unknown role(s) {', '.join(unknown)}; roles are: {', '.join(ROLES)}.")
    return cleaned


def parse_addresses(addresses: list[str] | tuple[str, ...] | str) -> list[str]:
    """Each an IPv4 or IPv6 address or a CIDR range, normalised (``10.0.0.0/24``, ``2001:db8::1``).

    A range's host bits are cleared (``10.0.0.7/24`` is ``10.0.0.0/24``); a range of one
    address (``/32``, ``/128``) is that address. Items may be separated by spaces or commas;
    the same address twice is kept once.
    """
    items = addresses.replace(",", " ").split() if isinstance(addresses, str) else list(addresses)
    out: list[str] = []
    for raw in items:
        address = raw.strip()
        if not address:
            continue
        try:
            if "/" in address:
                network = ipaddress.ip_network(address, strict=False)
                one = network.num_addresses == 1
                value = str(network.network_address) if one else str(network)
            else:
                value = str(ipaddress.ip_address(address))
        except ValueError:
            raise ValidationError(
                f"'{address}' is not an IPv4 or IPv6 address or a CIDR range (like 10.0.0.5 or 10.0.0.0/24).",
                field="addresses",
            ) from None
        if value not in out:
            out.append(value)
    return out


def overlapping(left: str, right: str) -> bool:
    """Whether two normalised addresses or ranges share an address."""
    a, b = ipaddress.ip_network(left, strict=False), ipaddress.ip_network(right, strict=False)
    return a.version == b.version and a.overlaps(b)
