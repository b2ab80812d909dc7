"""Access control for clauses B and C: the site catalogue, decisions, and the proxy helper."""

from postguard.access.catalogue import Catalogue, Destination, Match, parse_destination
from postguard.access.decide import AccessDecision, AccessRequest, decide

__all__ = [
    "AccessDecision",
    "AccessRequest",
    "Catalogue",
    "Destination",
    "Match",
    "decide",
    "parse_destination",
]
