"""Proximity rules (组合词): term groups that must all occur within a window of normalised text.

``ComboDetector`` is the compiled, immutable matcher (detector name ``combo``); ``ComboRule`` and
``RuleSet`` are the rules as data, read from YAML or JSONL files (``load_rules``) and shipped in
``data/`` (``default_rules``). See docs/lexicons.md, "Proximity rules".
"""

from hegui.detect.combo.detector import ComboDetector, ComboHit, combo_detectors
from hegui.detect.combo.rules import ComboRule, RuleSet, default_rules, load_rules, parse_jsonl, parse_yaml

__all__ = ["ComboDetector", "ComboHit", "ComboRule", "RuleSet", "combo_detectors", "default_rules", "load_rules",
           "parse_jsonl", "parse_yaml"]
