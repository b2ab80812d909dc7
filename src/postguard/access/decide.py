"""Access decisions for clauses B and C: a pure function of (snapshot, catalogue, request).

``decide`` says whether a member, on a department computer or a personally
owned device, may reach a destination, under which clause, and on which
authorisation or permission. Destinations outside the catalogue are outside
the policy and allowed. What cannot be told (an unreadable destination, an
unknown member or computer) is refused, and the reason says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from postguard.access.catalogue import Catalogue, Destination, parse_destination
from postguard.access.snapshot import Grant, Snapshot
from postguard.policy.schema import AccessRules

__all__ = ["AccessDecision", "AccessRequest", "decide", "personal_device_decision"]


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Who (member), from what (computer by asset tag or address, or a personal device), to where."""

    destination: str
    member: str | None = None
    computer: str | None = None
    address: str | None = None
    device: str | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessDecision:
    allowed: bool
    clause: str  # the computers' or the devices' clause (B, C), or "" outside the policy
    reason: str
    grant: str | None = None
    site: str | None = None
    category: str | None = None
    member: str | None = None
    computer: str | None = None
    device: str | None = None
    host: str | None = None


def decide(
    snapshot: Snapshot, catalogue: Catalogue, rules: AccessRules, request: AccessRequest
) -> AccessDecision:
    dest = parse_destination(request.destination)
    when = request.at or dt.datetime.now(dt.UTC)
    clause = catalogue.device_clause if request.device else catalogue.computer_clause
    if dest is None:
        return AccessDecision(
            False,
            clause,
            "the destination cannot be read, so it cannot be told apart from social media",
            member=request.member,
        )
    match = catalogue.lookup(dest)
    if match is None and not dest.ip:
        return AccessDecision(
            True,
            "",
            f"{dest.host} is not a social media site: outside the policy",
            member=request.member,
            host=dest.host,
        )
    if dest.ip and rules.raw_ip == "allow":
        return AccessDecision(
            True,
            "",
            f"{dest.host} is an address; the policy lets addresses through",
            member=request.member,
            host=dest.host,
        )
    site, category = (match.site, match.category) if match else (None, None)
    if request.device:
        decision = personal_device_decision(snapshot, request.member, request.device, clause, when)
        return replace(decision, site=site, category=category, host=dest.host)
    return _department_computer(snapshot, request, dest, site, category, clause, when)


def _member_problem(snapshot: Snapshot, member: str | None) -> str | None:
    if not member or member == "-":
        return "no member is signed in, so who is asking cannot be told"
    found = snapshot.members.get(member)
    if found is None:
        return f"'{member}' is not a member of the department"
    if not found:
        return f"member {member} is not active"
    return None


def _covers(grant: Grant, site: str | None, category: str | None, host: str) -> bool:
    """Whether an authorisation's scope takes in this site (or, for scope all, anything)."""
    if grant.scope == "all":
        return True
    if site is None:
        return False
    if grant.scope == "category":
        return grant.target == category
    return grant.target in (site, host) or host.endswith("." + grant.target)


def _what(site: str | None, category: str | None, dest: Destination) -> str:
    return f"{site} ({category})" if site else f"the address {dest.host}"


def _department_computer(
    snapshot: Snapshot,
    request: AccessRequest,
    dest: Destination,
    site: str | None,
    category: str | None,
    clause: str,
    when: dt.datetime,
) -> AccessDecision:
    tag = request.computer or (snapshot.computer_at(request.address) if request.address else None)
    problem = _member_problem(snapshot, request.member)
    if problem is None and (tag is None or tag not in snapshot.computers):
        where = request.computer or request.address or "unknown"
        problem = f"{where} is not a registered department computer, so the request cannot be told"
    elif problem is None and not snapshot.computers[tag or ""]:
        problem = f"computer {tag} is retired"
    base = AccessDecision(
        False, clause, "", site=site, category=category, member=request.member, computer=tag, host=dest.host
    )
    if problem is not None:
        return replace(base, reason=problem)
    for grant in snapshot.authorisations:
        if grant.member not in (None, request.member) or grant.computer not in (None, tag):
            continue
        if not grant.in_force(when):
            continue
        if _covers(grant, site, category, dest.host):
            return replace(
                base,
                allowed=True,
                reason=f"authorised by {grant.code} for {_what(site, category, dest)}",
                grant=grant.code,
            )
    return replace(
        base,
        reason=f"no current authorisation covers {request.member} on {tag} for {_what(site, category, dest)}",
    )


def personal_device_decision(
    snapshot: Snapshot, member: str | None, device: str, clause: str, when: dt.datetime | None = None
) -> AccessDecision:
    """Clause C (``clause``): may ``member`` use personal ``device`` for the department's social media?"""
    when = when or dt.datetime.now(dt.UTC)
    base = AccessDecision(False, clause, "", member=member, device=device)
    problem = _member_problem(snapshot, member)
    found = snapshot.devices.get(device)
    if problem is None and found is None:
        problem = f"{device} is not a registered personally owned device"
    elif problem is None and found is not None and not found.active:
        problem = f"device {device} is retired"
    if problem is not None:
        return replace(base, reason=problem)
    for permit in snapshot.permissions:
        if permit.member == member and permit.device == device and permit.in_force(when):
            reason = f"the Commissioner's written permission {permit.code} covers {member} on {device}"
            return replace(base, allowed=True, reason=reason, grant=permit.code)
    return replace(
        base,
        reason=f"no current written permission of the Commissioner covers {member} "
        f"on personal device {device}",
    )
