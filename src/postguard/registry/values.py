"""Parsing and checking the values that registry commands take."""

from __future__ import annotations

import datetime as dt
import ipaddress

from postguard.errors import ValidationError
from postguard.registry.models import ROLES

__all__ = ["check_period", "iso", "parse_addresses", "parse_roles", "parse_when", "utcnow"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


def parse_when(value: str | dt.datetime | None, field: str) -> dt.datetime | None:
    """A date or date-time (ISO 8601; no zone means UTC), or None for an empty value."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = value.strip()
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


def parse_addresses(addresses: list[str] | tuple[str, ...]) -> list[str]:
    out = []
    for address in addresses:
        try:
            out.append(str(ipaddress.ip_address(address.strip())))
        except ValueError:
            raise ValidationError(f"'{address}' is not an IPv4 or IPv6 address.") from None
    return out
