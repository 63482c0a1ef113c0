"""Vigía's rules engine: keyword, stem and entity matching for Spanish news, with explanations.

A standalone library (it imports nothing else of Vigía).  ``load_rules`` compiles the config's
``rules:`` entries into a :class:`RuleSet`; ``RuleSet.match(Document)`` returns the rules that
matched, best first, each with hits, a highlighted snippet and a plain-language explanation;
``RuleSet.evaluate`` gives every rule's verdict and, for misses, the group that failed.

The rule language is documented in :mod:`rules.syntax` and in ``rules/README.md``.
"""

from .document import Document
from .errors import RuleError, RuleSyntaxError
from .loader import builtin_names, load_rule_file, load_rules
from .model import Hit, RuleEvaluation, RuleMatch
from .ruleset import RuleSet

__all__ = [
    "Document", "Hit", "RuleError", "RuleEvaluation", "RuleMatch", "RuleSet", "RuleSyntaxError",
    "builtin_names", "load_rule_file", "load_rules",
]
