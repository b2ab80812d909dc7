"""Grants: clause B authorisations and the authority's written permissions, behind one object.

:class:`Grants` joins :class:`~postguard.registry.authorisations.Authorisations`
and :class:`~postguard.registry.permissions.Permissions` over one registry and
one keys folder, since the service and the CLI use both.
"""

from __future__ import annotations

from pathlib import Path

from postguard.registry.authorisations import SCOPES, Authorisations, authorisation_dict
from postguard.registry.permissions import (
    PERMISSION_CONTEXT,
    PERMISSION_KINDS,
    Honoured,
    Permissions,
    judge,
    permission_dict,
    permission_payload,
    signature_problem,
)
from postguard.registry.service import Registry

__all__ = [
    "PERMISSION_CONTEXT",
    "PERMISSION_KINDS",
    "SCOPES",
    "Grants",
    "Honoured",
    "authorisation_dict",
    "judge",
    "permission_dict",
    "permission_payload",
    "signature_problem",
]


class Grants(Authorisations, Permissions):
    """Authorisations (clause B) and written permissions (clauses A.iii and C)."""

    def __init__(self, registry: Registry, keys_dir: Path) -> None:
        self.registry = registry
        self.keys_dir = keys_dir
