"""The ids that grants carry (AU-0001, CP-2026-0001), and finding a grant by its id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.errors import NotFoundError
from postguard.registry.models import Authorisation, Permission

__all__ = ["by_code", "next_code"]


def next_code(session: Session, model: type[Authorisation] | type[Permission], prefix: str) -> str:
    """The next id after ``prefix`` (``AU-``, ``CP-2026-``), numbered from 0001."""
    count = session.scalar(select(func.count()).select_from(model).where(model.code.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:04d}"


def by_code(session: Session, model: type[Any], code: str, what: str) -> Any:
    """The ``what`` (authorisation, permission) with id ``code``; NotFoundError names it."""
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        raise NotFoundError(f"No {what} has id '{code}'.")
    return row
