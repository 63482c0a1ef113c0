"""Scores, snippets and explanations: what an analyst reads to trust (or fix) a rule."""

from __future__ import annotations

from .compile import CompiledRule
from .document import FIELDS
from .language import About, Group, Leaf, Near, Node
from .matcher import DocContext, about_account, evaluate
from .model import Hit

_FIELD_ORDER = {name: i for i, name in enumerate(FIELDS)}
SNIPPET_MAX = 480


def leaf_hits_for_rule(rule: CompiledRule, ctx: DocContext) -> list[tuple[Leaf, list]]:
    """Whole-document hits of every positive (not under `none`) leaf of the rule."""
    return [(leaf, ctx.leaf_hits(leaf)) for leaf in rule.leaves if id(leaf) not in rule.none_leaves]


def score(rule: CompiledRule, gate_hits: list, ctx: DocContext) -> tuple[float, list[dict]]:
    """Sum, over each distinct term or entity that satisfied the conditions, of its leaf weight
    times its best field weight.

    Only the evidence that made the conditions pass counts (a word elsewhere in the article that
    satisfied nothing adds nothing), and distinct terms count once, so a long article repeating
    one word does not outscore a short one that mentions several facets of the topic.
    """
    best: dict[tuple, dict] = {}
    for hit in gate_hits:
        name, start, end, _tid, entity_id, leaf = hit
        key = ("entity", entity_id) if entity_id else ("term", ctx.view.fields[name].folded[start:end])
        points = leaf.weight * rule.weights.get(name, 1.0)
        current = best.get(key)
        if current is None or points > current["points"]:
            best[key] = {"what": entity_name(ctx, entity_id) if entity_id else original_text(ctx, hit),
                         "field": name, "group": leaf.label, "points": points}
    breakdown = sorted(best.values(), key=lambda item: -item["points"])
    return round(sum(item["points"] for item in breakdown), 3), breakdown


def score_total(rule: CompiledRule, gate_hits: list, ctx: DocContext) -> float:
    """The total of :func:`score` alone (the verdict needs no breakdown), with the same keys and
    summed in the same order, so the two always agree to the last digit."""
    best: dict = {}
    weights = rule.weights
    fields = ctx.view.fields
    # an exact term's hit is its folded key letter for letter: no slice (and hash) of the text
    exact = ctx.compiler.table.exact_keys
    for name, start, end, tid, entity_id, leaf in gate_hits:
        if entity_id:
            key = ("entity", entity_id)
        else:
            key = exact.get(tid)
            if key is None:
                key = fields[name].folded[start:end]
        points = leaf.weight * weights.get(name, 1.0)
        if points > best.get(key, -1.0):
            best[key] = points
    return round(sum(sorted(best.values(), reverse=True)), 3)


def entity_name(ctx: DocContext, entity_id: str) -> str:
    return ctx.compiler.entity_terms[entity_id].entity.name


def original_text(ctx: DocContext, hit: tuple) -> str:
    fv = ctx.view.fields[hit[0]]
    start, end = fv.original_span(hit[1], hit[2])
    return fv.original[start:end]


def to_hits(gate_hits: list, ctx: DocContext) -> list[Hit]:
    """Public Hit objects (original offsets) for the evidence that made the rule pass."""
    out: dict[tuple, Hit] = {}
    for hit in gate_hits:
        name, start, end, _tid, entity_id, leaf = hit
        fv = ctx.view.fields[name]
        o_start, o_end = fv.original_span(start, end)
        key = (name, o_start, o_end)
        role = "context" if leaf.role == "context" else "decisive"
        if key in out:
            if role == "decisive":  # a place found by a decisive and a context leaf is decisive
                out[key].role = role
            continue
        text = fv.original[o_start:o_end]
        if entity_id:
            out[key] = Hit(name, o_start, o_end, text, "entity", entity_name(ctx, entity_id), role)
        else:
            out[key] = Hit(name, o_start, o_end, text, "term", leaf.label, role)
    return sorted(out.values(), key=lambda h: (_FIELD_ORDER[h.field], h.start))


def term_list(gate_hits: list, ctx: DocContext) -> list[str]:
    """The matched terms as shown to a reader (``RuleMatch.terms``): decisive terms first, in
    document order, then the terms of ``role: context`` leaves (place names, "reunión",
    "seguridad"…), which count for the verdict but say little on their own.  Entities are listed
    apart, in ``RuleMatch.entities``."""
    decisive: dict[str, None] = {}
    context: dict[str, None] = {}
    seen: set[tuple] = set()
    ordered = sorted((h for h in gate_hits if not h[4]), key=lambda h: (_FIELD_ORDER[h[0]], h[1], h[5].role == "context"))
    for hit in ordered:
        place = hit[:3]
        if place in seen:  # one place found by a decisive and a context leaf counts as decisive
            continue
        seen.add(place)
        (context if hit[5].role == "context" else decisive)[original_text(ctx, hit)] = None
    return list(decisive) + [t for t in context if t not in decisive]


def snippet(ctx: DocContext, gate_hits: list, all_hits: list[Hit]) -> tuple[str, list[tuple[int, int]]]:
    """Two or three sentences around the densest cluster of the hits that made the rule pass."""
    for name in ("text", "summary", "title"):
        in_field = [h for h in gate_hits if h[0] == name]
        if not in_field:
            continue
        fv = ctx.view.fields[name]
        starts = fv.starts("sentences")
        counts: dict[int, set] = {}
        for hit in in_field:
            index = fv.unit_index("sentences", hit[1])
            counts.setdefault(index, set()).add(hit[4] or fv.folded[hit[1]:hit[2]])
        best = max(counts, key=lambda i: (len(counts[i]), -i))
        lo_index, hi_index = best, best
        if best + 1 < len(starts):
            hi_index = best + 1
        elif best > 0:
            lo_index = best - 1
        lo = starts[lo_index]
        hi = starts[hi_index + 1] if hi_index + 1 < len(starts) else len(fv.folded)
        o_lo, o_hi = fv.original_span(lo, max(lo + 1, hi))
        text = fv.original[o_lo:o_hi]
        if len(text) > SNIPPET_MAX:
            o_hi = o_lo + SNIPPET_MAX
            cut = fv.original.rfind(" ", o_lo, o_hi)
            o_hi = cut if cut > o_lo + SNIPPET_MAX // 2 else o_hi
        raw = fv.original[o_lo:o_hi]
        left = len(raw) - len(raw.lstrip())
        body = raw.strip()
        if o_hi < o_lo + len(text):
            body += "…"
        highlights = [(h.start - o_lo - left, h.end - o_lo - left) for h in all_hits
                      if h.field == name and h.start >= o_lo + left and h.end <= o_lo + left + len(body.rstrip("…"))]
        return " ".join(body.split("\n")), sorted(set(highlights))
    return "", []


def explanation(rule: CompiledRule, ctx: DocContext, per_leaf: list[tuple[Leaf, list]], total: float,
                breakdown: list[dict], matched: bool, reason: str) -> str:
    """Multi-line account: the verdict, each term group with where it fired, and the score sum."""
    verdict = "MATCH" if matched else "no match"
    lines = [f"{rule.id} ({rule.name}): {verdict}, score {total:g} (threshold {rule.threshold:g})"]
    if not matched and reason:
        lines.append(f"  why not: {reason}")
    shown_bindings = bindings(rule.condition, ctx)
    if shown_bindings:
        lines.append("  bindings:")
        lines += shown_bindings
    lines.append("  term groups:")
    seen: set[tuple] = set()
    for leaf, hits in per_leaf:
        # YAML anchors repeat a term group in several places; show each group once
        identity = (leaf.label, tuple(leaf.term_ids), leaf.entity_ids, leaf.fields)
        if identity in seen:
            continue
        seen.add(identity)
        mark = "✓" if hits else "·"
        role = " (context)" if leaf.role == "context" else ""
        where = []
        for hit in hits[:4]:
            text = original_text(ctx, hit)
            shown = f"'{text}'" + (f" → {entity_name(ctx, hit[4])}" if hit[4] else "")
            fv = ctx.view.fields[hit[0]]
            place = hit[0] if hit[0] != "text" else f"text ¶{fv.unit_index('paragraphs', hit[1]) + 1}"
            where.append(f"{shown} ({place})")
        more = f" +{len(hits) - 4} more" if len(hits) > 4 else ""
        lines.append(f"    {mark} {leaf.label}{role}: " + (", ".join(where) + more if where else "nothing"))
    for leaf in rule.leaves:
        if id(leaf) in rule.none_leaves:
            hits = ctx.leaf_hits(leaf)
            lines.append(f"    {'✗' if hits else '·'} {leaf.label} (excluded): "
                         + (", ".join(f"'{original_text(ctx, h)}' ({h[0]})" for h in hits[:3]) if hits else "absent"))
    if breakdown:
        parts = [f"{item['what']} {item['points']:g} ({item['field']})" for item in breakdown[:12]]
        more = f" + {len(breakdown) - 12} more" if len(breakdown) > 12 else ""
        lines.append(f"  score: {' + '.join(parts)}{more} = {total:g}")
    return "\n".join(lines)


def bindings(condition: Node, ctx: DocContext) -> list[str]:
    """One line per named ``near`` and ``about`` of the rule (outside ``none``): whether it held
    and where, so an analyst sees which binding of the sides made the story match (or which one
    failed and why)."""
    lines = []
    for node in _binding_nodes(condition):
        result = evaluate(node, ctx)
        mark = "✓" if result.passed else "·"
        if isinstance(node, About):
            detail = about_account(node, ctx)
        elif result.passed:
            detail = "held in " + ", ".join(_places(ctx, result.hits))
        else:
            detail = result.reason.split(": ", 1)[-1]
        lines.append(f"    {mark} {node.label}: {detail}")
    return lines


def _binding_nodes(node: Node) -> list[Node]:
    if isinstance(node, Leaf):
        return []
    if isinstance(node, (Near, About)):
        return [node] if node.label else []
    if isinstance(node, Group) and node.op == "none":
        return []
    return [found for child in node.children for found in _binding_nodes(child)]


def _places(ctx: DocContext, hits: list) -> list[str]:
    places: dict[str, None] = {}
    for hit in sorted(hits, key=lambda h: (_FIELD_ORDER[h[0]], h[1])):
        if hit[0] == "text":
            places[f"text ¶{ctx.view.fields['text'].unit_index('paragraphs', hit[1]) + 1}"] = None
        else:
            places[hit[0]] = None
    return list(places)


# -- why a rule did not match, in words ---------------------------------------------------------
# The matcher's reasons name nodes by their path in the rule (``any[0].near.all[2]``), which is
# what a rule author debugging YAML needs; a reader of `vigia match` needs the condition in words:
# which named group was missing, or which ones were found but not close enough.

NEEDS_SHOWN = 6
_UNIT_WORDS = {"words": ("word", "words"), "sentences": ("sentence", "sentences"),
               "paragraphs": ("paragraph", "paragraphs")}


def why_not(rule: CompiledRule, ctx: DocContext) -> str:
    """The condition of ``rule`` the document does not meet, in words ("" when every condition
    holds: then only the score can have failed).  Several lines when alternatives all failed."""
    if rule.language == "es" and not ctx.looks_spanish():
        return "the rule is for Spanish text and this document is not in Spanish"
    if evaluate(rule.condition, ctx).passed:
        return ""
    return _failure(rule.condition, ctx)


def _failure(node: Node, ctx: DocContext) -> str:
    """Why ``node`` (known to fail on the whole document) fails."""
    if isinstance(node, Leaf):
        return _leaf_failure(node, ctx)
    if isinstance(node, Near):
        return _near_failure(node, ctx)
    if isinstance(node, Group):
        return _group_failure(node, ctx)
    # A node kind this wording does not know yet: say which of its parts failed, if it has
    # parts, else fall back on the matcher's own reason.
    for child in getattr(node, "children", None) or []:
        if not evaluate(child, ctx).passed:
            return _failure(child, ctx)
    return f"{_shown(node)}: {evaluate(node, ctx).reason}"


def _leaf_failure(leaf: Leaf, ctx: DocContext) -> str:
    needs = _limit(_need_items(leaf))
    if leaf.min > 1:
        # distinct as the matcher counts them: an entity once whatever its spelling, a term by its text
        found: dict[object, str] = {}
        for hit in ctx.leaf_hits(leaf):
            key = hit[4] or ctx.view.fields[hit[0]].folded[hit[1]:hit[2]]
            found.setdefault(key, entity_name(ctx, hit[4]) if hit[4] else original_text(ctx, hit))
        shown = f" (found: {_limit(list(found.values()))})" if found else f" (any of: {needs})"
        return f"{_shown(leaf)}: {len(found)} different name(s) found, {leaf.min} needed{shown}"
    if leaf.label == _auto_label(leaf):  # no name of its own: what it looks for is all there is to say
        if not leaf.patterns and not leaf.regexes:
            return f"no name from {_join(list(leaf.entities) + list(leaf.entity_groups), 'or')} found"
        return f"none of these found: {needs}"
    return f"no {_shown(leaf)} found (needs one of: {needs})"


def _group_failure(group: Group, ctx: DocContext) -> str:
    if group.op == "none":
        for child in group.children:
            outcome = evaluate(child, ctx)
            if outcome.passed:
                quoted = [f"'{original_text(ctx, h)}'" for h in outcome.hits[:3]]
                return f"excluded: {_shown(child)} found ({', '.join(quoted) or 'present'})"
        return f"excluded by {_shown(group)}"
    failed = [child for child in group.children if not evaluate(child, ctx).passed]
    if group.op == "all":
        if len(failed) == 1:
            return _failure(failed[0], ctx)
        return "\n".join(_bullet(_failure(child, ctx)) for child in failed)
    # any
    passed = len(group.children) - len(failed)
    if group.min > 1:
        return (f"{_shown(group)}: {passed} of {len(group.children)} found, {group.min} needed; missing: "
                + "; ".join(_failure(child, ctx) for child in failed))
    if all(isinstance(child, Leaf) for child in failed):
        items = list(dict.fromkeys(item for child in failed for item in _need_items(child)))
        return f"no {_shown(group)} found (needs one of: {_limit(items)})"
    if len(failed) == 1:
        return _failure(failed[0], ctx)
    return "no alternative held:\n" + "\n".join(_bullet(f"{_shown(child)}: {_failure(child, ctx)}") for child in failed)


def _bullet(text: str) -> str:
    """``- first line``, later lines indented under it (nested alternatives stay readable)."""
    first, *rest = text.splitlines()
    return "\n".join([f"- {first}", *("  " + line for line in rest)])


def _near_failure(near: Near, ctx: DocContext) -> str:
    missing = [child for child in near.children if not evaluate(child, ctx).passed]
    found = [_shown(child) for child in near.children if child not in missing]
    if len(missing) == 1:  # the one thing missing, in detail
        return _failure(missing[0], ctx) + (f" ({_join(found)} found)" if found else "")
    if missing:
        return (f"no {_join([_shown(child) for child in missing], 'nor')} found"
                + (f" ({_join(found)} found)" if found else ""))
    one, many = _UNIT_WORDS.get(near.unit, (near.unit, near.unit))
    distance = f"one {one}" if near.within == 1 else f"{near.within} {many}"
    if near.unit == "words":
        distance = f"{near.within} {many} of each other"
    elif near.within > 1:
        distance = f"{near.within} consecutive {many}"
    return f"{_join([_shown(child) for child in near.children])} found but not within {distance}"


def _shown(node: Node) -> str:
    """A node as a reader knows it: its name, else what it is made of."""
    label = getattr(node, "label", "") or ""
    if label and label not in ("rule",) and label != getattr(node, "path", None):
        return f"“{label}”"
    children = getattr(node, "children", None)
    if children:
        return _join([_shown(child) for child in children], "or" if getattr(node, "op", "") == "any" else "and")
    return f"“{label or getattr(node, 'path', '?')}”"


def _need_items(leaf: Leaf) -> list[str]:
    """What would satisfy a leaf: its terms as written, then its entities and entity groups."""
    items = [p.text + ("*" if p.mode == "prefix" else "") for p in leaf.patterns]
    items += list(leaf.entities) + [f"a name from {group}" for group in leaf.entity_groups]
    return items + [f"/{r.pattern}/" for r in leaf.regexes]


def _auto_label(leaf: Leaf) -> str:
    """The label the parser gives a leaf without ``name:`` (its first terms and entities)."""
    shown = [p.text + ("*" if p.mode == "prefix" else "") for p in leaf.patterns] + leaf.entities + leaf.entity_groups
    return ", ".join(shown[:3]) + ("…" if len(shown) > 3 else "") if shown else "regex"


def _limit(items: list[str], limit: int = NEEDS_SHOWN) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", … ({len(items) - limit} more)"


def _join(parts: list[str], word: str = "and") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {word} " + parts[-1]
