"""The rule language: YAML mappings parsed into a small condition tree, with precise errors.

A rule is a mapping with an ``id`` and conditions; every condition key present on the rule must
hold (an implicit ``all``).  Conditions:

``terms: [...]``
    Phrases matched case- and accent-insensitively on word boundaries ("tráfico de armas").
    A trailing ``*`` is a wildcard for the rest of the word (``cooperaci*``).
``stems: [...]``
    Topic words matched by their Snowball Spanish stem, so ``cooperación`` also finds
    cooperar, cooperaciones, cooperó.  Multi-word stems stem every word.  Never use it for names.
``entities: [...]`` / ``entity_groups: [...]``
    Entities from the catalogue (by id) or whole groups (``mx-officials``, ``us-agencies``…).
    Short forms ("Rubio", "De la Fuente") only count with the right case and context.
``regex: ...``
    A regular expression searched in the folded (lowercase, accent-free) text, in RE2 syntax
    (linear time: no backreferences or lookaround; see rules.linear_regex).
``all: [...]`` / ``any: [...]`` / ``none: [...]``
    Boolean groups, nestable.  ``any`` takes ``min: N`` (at least N members).  A bare string in a
    group is shorthand for ``{terms: [that string]}``.
``near: {terms: [...], within: N, unit: words|sentences|paragraphs|lead}``
    Every item must occur within N words of each other (or within N consecutive sentences or
    paragraphs; N=1 means the same one).  An item is a string, a list of alternatives, or a
    condition mapping.  ``near`` may use ``all: [...]`` instead of ``terms``.  ``unit: lead``
    binds across fields: every item in the title, the summary or the first N paragraphs of the
    text (default 2).
``about: {sides: [...], rival: ..., lead: N}``
    What the story is about, weighed by position: each side's mentions count once per place,
    3 in the title, 2 in the summary or the first N paragraphs of the text (default 2), 1 further
    down.  Holds when every side is found and weighs at least as much as the rival (a third
    country, say), so a story where the rival dominates and a side is only context fails.  A
    rival that is not in the lead (title, summary, first N paragraphs) weighs nothing.

Modifiers on a term leaf: ``in: [title, summary, text]`` (fields), ``except: [...]`` (drop hits
inside these phrases, e.g. ``seguridad`` except ``seguridad alimentaria``), ``case: sensitive``,
``weight: N`` (score), ``name:`` (label shown in explanations; groups take ``name`` too),
``role: context`` (on a leaf or a group, inherited by everything inside it unless a member says
``role: decisive``): the terms still count for the verdict and the score, and stay in the hits and
the explanation, but a match lists them in ``terms`` after the decisive ones — for weak words such
as a place name, "reunión" or "seguridad" that only make sense next to the real evidence.

Rule keys besides conditions: ``name``, ``description``, ``channel``, ``mode: instant|digest``,
``digest: {every: hourly|daily|weekly, at: "HH:MM", timezone: ...}``, ``threshold`` (score to
reach, default 1), ``weights: {title: 3, summary: 2, text: 1}``, ``language: es``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import RuleSyntaxError
from .linear_regex import RegexSyntaxError, compile_linear
from .nodes import FIELD_NAMES, All, Leaf, Node, Not, TermPattern
from .nodes import Any as AnyOf
from .proximity import About, Near
from .settings import RULE_KEYS, ParseContext, parse_settings

LEAF_KEYS = {"terms", "stems", "entities", "entity_groups", "regex"}
LEAF_MODIFIERS = {"in", "except", "case", "weight", "name", "min", "role"}
ROLES = ("decisive", "context")
GROUP_KEYS = {"all", "any", "none", "near", "about"}
NEAR_KEYS = {"terms", "all", "within", "unit", "name", "role"}
ABOUT_KEYS = {"sides", "rival", "lead", "name", "role"}
DEFAULT_LEAD = 2
UNITS = {"word": "words", "words": "words", "sentence": "sentences", "sentences": "sentences",
         "paragraph": "paragraphs", "paragraphs": "paragraphs", "lead": "lead"}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_WORDLIKE = re.compile(r"\w")


@dataclass
class RuleSpec:
    """A parsed, not yet compiled rule."""

    id: str
    name: str
    description: str
    channel: str | None
    mode: str
    digest: dict[str, str] | None
    threshold: float
    weights: dict[str, float]
    language: str | None
    condition: Node
    file: str


def parse_rule(raw: Any, file: str, index: int) -> RuleSpec:
    """Parse one rule mapping; raise RuleSyntaxError naming the file, rule and key on any mistake."""
    if not isinstance(raw, dict):
        raise RuleSyntaxError(file, None, f"rules[{index}]", "a rule must be a mapping with an 'id'")
    rule_id = raw.get("id")
    ctx = ParseContext(file, str(rule_id) if rule_id is not None else None)
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise ctx.error("id", "every rule needs an 'id' made of letters, digits, '-', '_' or '.'")
    unknown = set(raw) - RULE_KEYS - LEAF_KEYS - GROUP_KEYS - LEAF_MODIFIERS - {"match"}
    if unknown:
        raise ctx.error(sorted(unknown)[0], f"unknown key (expected one of: {', '.join(sorted(RULE_KEYS | GROUP_KEYS | LEAF_KEYS))})")
    condition = _rule_condition(_condition_keys(raw, ctx), ctx)
    return RuleSpec(id=rule_id, **parse_settings(raw, rule_id, ctx), condition=condition, file=file)


def _condition_keys(raw: dict[str, Any], ctx: ParseContext) -> dict[str, Any]:
    """The rule's condition: its condition keys, or its ``match:`` mapping."""
    condition_raw = {k: v for k, v in raw.items() if k in LEAF_KEYS or k in GROUP_KEYS or k in LEAF_MODIFIERS - {"name"}}
    if "match" in raw:
        if condition_raw:
            raise ctx.error("match", "use either 'match:' or condition keys on the rule, not both")
        if not isinstance(raw["match"], dict):
            raise ctx.error("match", "must be a mapping of conditions")
        condition_raw = raw["match"]
    if not condition_raw:
        raise ctx.error(None, "the rule has no condition (add terms, all, any, near…)")
    return condition_raw


def _rule_condition(condition_raw: dict[str, Any], ctx: ParseContext) -> Node:
    """Every condition key of a rule must hold: an ``all`` of its term list and its groups.
    Modifiers on the rule itself apply to its term list (in, except, case, weight, min) or, for
    ``min`` without a term list, to its ``any`` group."""
    modifiers = {k: v for k, v in condition_raw.items() if k in LEAF_MODIFIERS}
    leaf_keys = [k for k in ("terms", "stems", "entities", "entity_groups", "regex") if k in condition_raw]
    if modifiers and not leaf_keys and set(modifiers) != {"min"}:
        raise ctx.error(sorted(set(modifiers) - {"min"})[0], "only allowed next to terms, stems, entities or regex")
    if "min" in modifiers and not leaf_keys and "any" not in condition_raw:
        raise ctx.error("min", "only allowed with 'any' or a term list")
    children = []
    if leaf_keys:
        leaf_raw: dict[str, Any] = {k: condition_raw[k] for k in leaf_keys}
        leaf_raw.update(modifiers)
        label_path = leaf_keys[0] if len(leaf_keys) == 1 else "terms"
        children.append(_parse_node(leaf_raw, label_path, ctx))
    for key in [k for k in condition_raw if k in GROUP_KEYS]:  # in the order written: the first to fail is the reason
        group_raw = {key: condition_raw[key]}
        if key == "any" and "min" in modifiers and not leaf_keys:
            group_raw["min"] = modifiers["min"]
        children.append(_parse_node(group_raw, key, ctx))
    extra = set(condition_raw) - LEAF_KEYS - GROUP_KEYS - LEAF_MODIFIERS
    if extra:
        raise ctx.error(f"match.{sorted(extra)[0]}", "unknown key")
    if len(children) == 1 and isinstance(children[0], All):
        return children[0]
    return All(path="rule", label="rule", children=children)


def _string_list(value: Any, key: str, ctx: ParseContext) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ctx.error(key, "must be a list of strings")
    if not value:
        raise ctx.error(key, "is empty")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ctx.error(key, f"must be a list of strings, got {item!r}")
        text = str(item).strip()
        if not text:
            raise ctx.error(key, "contains an empty term")
        out.append(text)
    return out


def parse_term(text: str, mode: str, case_sensitive: bool, key: str, ctx: ParseContext) -> TermPattern:
    """Classify one term; wildcards are only allowed at the end of the last word."""
    if "*" in text:
        if mode == "stem":
            raise ctx.error(key, f"bad wildcard in {text!r}: stems already match word endings")
        if text.count("*") > 1 or not text.endswith("*"):
            raise ctx.error(key, f"bad wildcard in {text!r}: '*' is only allowed once, at the end of a word")
        stem = text[:-1]
        last_word = stem.split()[-1] if stem.split() else ""
        if stem != stem.rstrip() or len(last_word) < 3 or not all(_WORDLIKE.match(c) for c in last_word):
            raise ctx.error(key, f"bad wildcard in {text!r}: needs at least 3 letters right before '*'")
        return TermPattern(stem, "prefix", case_sensitive)
    if not _WORDLIKE.search(text):
        raise ctx.error(key, f"term {text!r} has no letters or digits")
    return TermPattern(text, mode, case_sensitive)


N = TypeVar("N", bound=Node)
_GROUPS: dict[str, type[All | Not]] = {"all": All, "none": Not}


def _parse_node(raw: Any, path: str, ctx: ParseContext) -> Node:
    if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
        return Leaf(path=path, label=str(raw), patterns=[parse_term(str(raw), "exact", False, path, ctx)])
    if isinstance(raw, list):
        # a list of alternatives inside near/all: any of them
        return _parse_node({"any": raw}, path, ctx)
    if not isinstance(raw, dict):
        raise ctx.error(path, f"expected a condition mapping or a term, got {type(raw).__name__}")
    keys = set(raw)
    unknown = keys - LEAF_KEYS - LEAF_MODIFIERS - GROUP_KEYS
    if unknown:
        bad = sorted(unknown)[0]
        raise ctx.error(f"{path}.{bad}", "unknown key")
    groups = keys & GROUP_KEYS
    leaves = keys & LEAF_KEYS
    label = raw.get("name")
    if label is not None and not isinstance(label, str):
        raise ctx.error(f"{path}.name", "must be a string")
    if groups and leaves:
        raise ctx.error(f"{path}.{sorted(groups)[0]}", "a condition is either a group or a term list, not both")
    if len(groups) > 1:
        raise ctx.error(f"{path}.{sorted(groups)[1]}", "one group per mapping; nest them in 'all'")
    if groups:
        return _parse_group(raw, groups.pop(), path, label, ctx)
    if not leaves:
        raise ctx.error(path, "needs terms, stems, entities, entity_groups or regex")
    return _parse_leaf(raw, path, label, ctx)


def _parse_group(raw: dict[str, Any], op: str, path: str, label: str | None, ctx: ParseContext) -> Node:
    mods = set(raw) - {op, "name", "min", "role"}
    if mods:
        raise ctx.error(f"{path}.{sorted(mods)[0]}", f"not allowed on an '{op}' group")
    if op == "near":
        near = _parse_near(raw["near"], f"{path}.near" if path != "near" else "near", label, ctx)
        return _apply_role(near, raw, path, ctx)
    if op == "about":
        about = _parse_about(raw["about"], f"{path}.about" if path != "about" else "about", label, ctx)
        return _apply_role(about, raw, path, ctx)
    items = raw[op]
    key = f"{path}.{op}" if path != op else op
    if not isinstance(items, list):
        raise ctx.error(key, "must be a list of conditions")
    if not items:
        raise ctx.error(key, "empty group")
    children = [_parse_node(item, f"{key}[{i}]", ctx) for i, item in enumerate(items)]
    if op == "any" and "min" not in raw:
        children = _merge_bare_terms(children, items, key)
    minimum = raw.get("min", 1)
    if op != "any" and "min" in raw:
        raise ctx.error(f"{path}.min", "only allowed on 'any'")
    if isinstance(minimum, bool) or not isinstance(minimum, int) or not 1 <= minimum <= len(children):
        raise ctx.error(f"{path}.min", f"must be an integer between 1 and {len(children)}")
    group: Node = AnyOf(key, label or "", children, minimum) if op == "any" else _GROUPS[op](key, label or "", children)
    return _apply_role(group, raw, path, ctx)


def _role(value: Any, key: str, ctx: ParseContext) -> str:
    if value not in ROLES:
        raise ctx.error(key, f"must be one of: {', '.join(ROLES)}")
    return str(value)


def _apply_role(node: N, raw: dict[str, Any], path: str, ctx: ParseContext) -> N:
    """``role:`` on a group: every leaf inside that did not say its own role inherits it."""
    if "role" in raw:
        role = _role(raw["role"], f"{path}.role" if path != "role" else "role", ctx)
        stack: list[Node] = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, Leaf):
                if item.role is None:
                    item.role = role
            else:
                stack.extend(item.children)
    return node


def _merge_bare_terms(children: list[Node], items: list[Any], key: str) -> list[Node]:
    """Fold the bare strings of an ``any`` into one term leaf: same meaning, one lookup instead of many."""
    bare = [c for c, item in zip(children, items)
            if isinstance(c, Leaf) and isinstance(item, (str, int, float)) and not isinstance(item, bool)]
    if len(bare) < 2:
        return children
    merged = Leaf(path=key, label=", ".join(b.label for b in bare[:3]) + ("…" if len(bare) > 3 else ""),
                  patterns=[p for b in bare for p in b.patterns])
    rest = [c for c in children if c not in bare]
    return [merged] + rest


def _parse_leaf(raw: dict[str, Any], path: str, label: str | None, ctx: ParseContext) -> Leaf:
    def k(name: str) -> str:
        return f"{path}.{name}" if path != name else name

    leaf = Leaf(path=path, label=label or "")
    _parse_leaf_terms(raw, leaf, k, ctx)
    if "in" in raw:
        fields = _string_list(raw["in"], k("in"), ctx)
        for name in fields:
            if name not in FIELD_NAMES:
                raise ctx.error(k("in"), f"unknown field {name!r} (use title, summary or text)")
        leaf.fields = frozenset(fields)
    if "except" in raw:
        leaf.excepts = [parse_term(t, "exact", False, k("except"), ctx) for t in _string_list(raw["except"], k("except"), ctx)]
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise ctx.error(k("weight"), "must be a number ≥ 0")
    leaf.weight = float(weight)
    minimum = raw.get("min", 1)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        raise ctx.error(k("min"), "must be a positive integer (distinct terms required)")
    leaf.min = minimum
    if "role" in raw:
        leaf.role = _role(raw["role"], k("role"), ctx)
    if not leaf.label:
        leaf.label = leaf.auto_label()
    return leaf


def _parse_leaf_terms(raw: dict[str, Any], leaf: Leaf, k: Callable[[str], str], ctx: ParseContext) -> None:
    """What the leaf looks for: terms (in their case, if ``case: sensitive``), stems, entities,
    entity groups and regexes."""
    case = raw.get("case", "insensitive")
    if case not in ("sensitive", "insensitive"):
        raise ctx.error(k("case"), "must be 'sensitive' or 'insensitive'")
    for term in _string_list(raw["terms"], k("terms"), ctx) if "terms" in raw else []:
        leaf.patterns.append(parse_term(term, "exact", case == "sensitive", k("terms"), ctx))
    for term in _string_list(raw["stems"], k("stems"), ctx) if "stems" in raw else []:
        leaf.patterns.append(parse_term(term, "stem", False, k("stems"), ctx))
    if "entities" in raw:
        leaf.entities = _string_list(raw["entities"], k("entities"), ctx)
    if "entity_groups" in raw:
        leaf.entity_groups = _string_list(raw["entity_groups"], k("entity_groups"), ctx)
    for source in _string_list(raw["regex"], k("regex"), ctx) if "regex" in raw else []:
        try:
            leaf.regexes.append(compile_linear(source))
        except RegexSyntaxError as exc:
            raise ctx.error(k("regex"), f"bad regular expression {source!r}: {exc}") from None


def _parse_near(raw: Any, path: str, label: str | None, ctx: ParseContext) -> Near:
    if not isinstance(raw, dict):
        raise ctx.error(path, "must be a mapping with terms, within and unit")
    unknown = set(raw) - NEAR_KEYS
    if unknown:
        raise ctx.error(f"{path}.{sorted(unknown)[0]}", "unknown key (expected terms, all, within, unit)")
    if ("terms" in raw) == ("all" in raw):
        raise ctx.error(path, "needs exactly one of 'terms' or 'all'")
    items_key = "terms" if "terms" in raw else "all"
    items = raw[items_key]
    if not isinstance(items, list):
        raise ctx.error(f"{path}.{items_key}", "must be a list")
    if len(items) < 2:
        raise ctx.error(f"{path}.{items_key}", "empty group: needs at least two items to be near each other")
    unit = raw.get("unit", "words")
    if unit not in UNITS:
        raise ctx.error(f"{path}.unit", "must be words, sentence, paragraph or lead")
    unit = UNITS[unit]
    within = raw.get("within", {"words": 10, "lead": DEFAULT_LEAD}.get(unit, 1))
    if isinstance(within, bool) or not isinstance(within, int) or within < 1:
        raise ctx.error(f"{path}.within", "must be a positive integer")
    children = [_parse_node(item, f"{path}.{items_key}[{i}]", ctx) for i, item in enumerate(items)]
    near = Near(path=path, label=label or raw.get("name") or "", children=children, within=within, unit=unit)
    return _apply_role(near, raw, path, ctx)


def _parse_about(raw: Any, path: str, label: str | None, ctx: ParseContext) -> About:
    if not isinstance(raw, dict):
        raise ctx.error(path, "must be a mapping with sides (and rival, lead)")
    unknown = set(raw) - ABOUT_KEYS
    if unknown:
        raise ctx.error(f"{path}.{sorted(unknown)[0]}", "unknown key (expected sides, rival, lead)")
    sides = raw.get("sides")
    if not isinstance(sides, list) or not sides:
        raise ctx.error(f"{path}.sides", "must be a non-empty list of conditions")
    lead = raw.get("lead", DEFAULT_LEAD)
    if isinstance(lead, bool) or not isinstance(lead, int) or lead < 0:
        raise ctx.error(f"{path}.lead", "must be an integer ≥ 0 (paragraphs of the text counted as lead)")
    children = [_parse_node(item, f"{path}.sides[{i}]", ctx) for i, item in enumerate(sides)]
    has_rival = "rival" in raw
    if has_rival:
        children.append(_parse_node(raw["rival"], f"{path}.rival", ctx))
    about = About(path=path, label=label or raw.get("name") or "", children=children, lead=lead, has_rival=has_rival)
    return _apply_role(about, raw, path, ctx)
