"""The rulebook: risk taxonomy, policy packs and the obligation registry. Pure data, no I/O but pack files."""

from hegui.policy.pack import PolicyPack, load_pack
from hegui.policy.taxonomy import CATEGORIES, RISKS, Risk, RiskCategory

__all__ = ["CATEGORIES", "RISKS", "PolicyPack", "Risk", "RiskCategory", "load_pack"]
