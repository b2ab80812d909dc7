"""The policy as data: the pack's schema and its loader."""

from postguard.policy.loader import DEFAULT_PACK, default_pack, load_pack
from postguard.policy.schema import Clause, DecisionRule, PolicyPack

__all__ = ["DEFAULT_PACK", "Clause", "DecisionRule", "PolicyPack", "default_pack", "load_pack"]
