"""Clause C at publication: the device a post is submitted from, as a finding or advice.

A post submitted for the department's accounts names the device it came
from. A registered department computer raises nothing here (clause B is the
proxy's). A personally owned device needs the Commissioner's current written
permission for that member and device: without one the post gets a ``C``
finding (so the pack's rules block it); with one, the permission is cited as
advice. A device the registry does not know is a finding too: it cannot be
told to be the department's.
"""

from __future__ import annotations

import datetime as dt

from postguard.access.decide import personal_device_decision
from postguard.access.snapshot import Snapshot
from postguard.checks.types import Finding

__all__ = ["device_items"]

_FIX = "Submit from a department computer, or ask the Commissioner for written permission for this device."


def device_items(
    snapshot: Snapshot, member: str | None, device: str, clause: str, when: dt.datetime | None = None
) -> tuple[list[Finding], list[Finding]]:
    """(findings, advice) under ``clause`` (C) for a post submitted by ``member`` from ``device``."""
    if snapshot.computers.get(device):
        return [], []
    decision = personal_device_decision(snapshot, member, device, clause, when)
    item = Finding(
        clause=clause,
        start=0,
        end=0,
        evidence="",
        score=1.0,
        explanation=f"Submitted from a personally owned device: {decision.reason}.",
        suggestion="" if decision.allowed else _FIX,
        source="registry",
        rule="personal-device-permission",
        trace=decision.reason,
    )
    return ([], [item]) if decision.allowed else ([item], [])
