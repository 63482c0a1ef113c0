"""Scores, evidence, snippets and explanations: what an analyst reads to trust (or fix) a rule."""

from __future__ import annotations

from .compile import CompiledRule
from .document import FIELDS
from .matcher import DocContext, Found
from .model import Hit
from .nodes import Leaf, Node

_FIELD_ORDER = {name: i for i, name in enumerate(FIELDS)}
SNIPPET_MAX = 480

# What a rule's score is made of: for each distinct term (its folded text) or entity ("entity",
# id) that satisfied the conditions, the best points any of its hits earned, and that hit.
Points = dict[object, tuple[float, Found]]


def leaf_hits_for_rule(rule: CompiledRule, ctx: DocContext) -> list[tuple[Leaf, list[Found]]]:
    """Whole-document hits of every positive (not under `none`) leaf of the rule."""
    return [(leaf, ctx.leaf_hits(leaf)) for leaf in rule.positive_leaves()]


def points(rule: CompiledRule, gate_hits: list[Found], ctx: DocContext) -> Points:
    """Each distinct term or entity among the hits that made the rule pass, with its leaf weight
    times the field weight of its best hit.

    Only the evidence that made the conditions pass counts (a word elsewhere in the article that
    satisfied nothing adds nothing), and distinct terms count once, so a long article repeating
    one word does not outscore a short one that mentions several facets of the topic.

    A hit listed twice changes nothing (the same key earns the same, and the first of equals is
    kept), so the condition's hits need not be deduplicated first.
    """
    best: Points = {}
    weights = rule.weights
    # an exact term's hit is its folded key letter for letter: no slice of the text
    exact = ctx.compiler.table.exact_keys
    for hit in gate_hits:
        name, start, end, term_id, entity_id, leaf = hit  # one unpacking: cheaper than six attribute reads
        key: object
        if entity_id:
            key = ("entity", entity_id)
        else:
            key = exact.get(term_id) or ctx.view.fields[name].folded[start:end]
        assert leaf is not None
        earned = leaf.weight * weights.get(name, 1.0)
        current = best.get(key)
        if current is None or earned > current[0]:
            best[key] = (earned, hit)
    return best


def total(best: Points) -> float:
    """The score: the points summed, largest first (the order the breakdown shows them)."""
    return round(sum(sorted((earned for earned, _ in best.values()), reverse=True)), 3)


def breakdown(best: Points, ctx: DocContext) -> list[dict[str, object]]:
    """The points as an analyst reads them, largest first: what, where, which group, how much."""
    items = []
    for earned, hit in sorted(best.values(), key=lambda item: -item[0]):
        assert hit.leaf is not None
        what = ctx.entity_name(hit.entity_id) if hit.entity_id else ctx.original_text(hit)
        items.append({"what": what, "field": hit.field, "group": hit.leaf.label, "points": earned})
    return items


def to_hits(gate_hits: list[Found], ctx: DocContext) -> list[Hit]:
    """Public Hit objects (original offsets) for the evidence that made the rule pass."""
    out: dict[tuple[str, int, int], Hit] = {}
    for hit in gate_hits:
        assert hit.leaf is not None
        fv = ctx.view.fields[hit.field]
        o_start, o_end = fv.original_span(hit.start, hit.end)
        key = (hit.field, o_start, o_end)
        role = "context" if hit.leaf.role == "context" else "decisive"
        if key in out:
            if role == "decisive":  # a place found by a decisive and a context leaf is decisive
                out[key].role = role
            continue
        text = fv.original[o_start:o_end]
        if hit.entity_id:
            out[key] = Hit(hit.field, o_start, o_end, text, "entity", ctx.entity_name(hit.entity_id), role)
        else:
            out[key] = Hit(hit.field, o_start, o_end, text, "term", hit.leaf.label, role)
    return sorted(out.values(), key=lambda h: (_FIELD_ORDER[h.field], h.start))


def snippet(ctx: DocContext, gate_hits: list[Found], all_hits: list[Hit]) -> tuple[str, list[tuple[int, int]]]:
    """Two or three sentences around the densest cluster of the hits that made the rule pass."""
    for name in ("text", "summary", "title"):
        in_field = [h for h in gate_hits if h.field == name]
        if not in_field:
            continue
        fv = ctx.view.fields[name]
        starts = fv.starts("sentences")
        counts: dict[int, set[str]] = {}
        for hit in in_field:
            index = fv.unit_index("sentences", hit.start)
            counts.setdefault(index, set()).add(hit.entity_id or fv.folded[hit.start:hit.end])
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


def explanation(rule: CompiledRule, ctx: DocContext, total: float, score_parts: list[dict[str, object]],
                matched: bool, reason: str) -> str:
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
    seen: set[tuple[object, ...]] = set()
    for leaf, hits in leaf_hits_for_rule(rule, ctx):
        # YAML anchors repeat a term group in several places; show each group once
        identity = (leaf.label, tuple(leaf.term_ids), leaf.entity_ids, leaf.fields)
        if identity in seen:
            continue
        seen.add(identity)
        mark = "✓" if hits else "·"
        role = " (context)" if leaf.role == "context" else ""
        where = []
        for hit in hits[:4]:
            shown = f"'{ctx.original_text(hit)}'" + (f" → {ctx.entity_name(hit.entity_id)}" if hit.entity_id else "")
            place = ctx.places([hit])[0]
            where.append(f"{shown} ({place})")
        more = f" +{len(hits) - 4} more" if len(hits) > 4 else ""
        lines.append(f"    {mark} {leaf.label}{role}: " + (", ".join(where) + more if where else "nothing"))
    for leaf in rule.leaves:
        if id(leaf) in rule.none_leaves:
            hits = ctx.leaf_hits(leaf)
            lines.append(f"    {'✗' if hits else '·'} {leaf.label} (excluded): "
                         + (", ".join(f"'{ctx.original_text(h)}' ({h.field})" for h in hits[:3]) if hits else "absent"))
    if score_parts:
        parts = [f"{item['what']} {item['points']:g} ({item['field']})" for item in score_parts[:12]]
        more = f" + {len(score_parts) - 12} more" if len(score_parts) > 12 else ""
        lines.append(f"  score: {' + '.join(parts)}{more} = {total:g}")
    return "\n".join(lines)


def bindings(condition: Node, ctx: DocContext) -> list[str]:
    """One line per named ``near`` and ``about`` of the rule (outside ``none``): whether it held
    and where, so an analyst sees which binding of the sides made the story match (or which one
    failed and why)."""
    lines = []
    for node in condition.binding_nodes():
        mark = "✓" if node.hits(ctx) is not None else "·"
        lines.append(f"    {mark} {node.label}: {node.binding(ctx)}")
    return lines


# -- why a rule did not match, in words ---------------------------------------------------------
# The matcher's reasons name nodes by their path in the rule (``any[0].near.all[2]``), which is
# what a rule author debugging YAML needs; a reader of `vigia match` needs the condition in words:
# which named group was missing, or which ones were found but not close enough.

def why_not(rule: CompiledRule, ctx: DocContext) -> str:
    """The condition of ``rule`` the document does not meet, in words ("" when every condition
    holds: then only the score can have failed).  Several lines when alternatives all failed."""
    if refused_by_language(rule, ctx):
        return NOT_SPANISH
    if rule.condition.hits(ctx) is not None:
        return ""
    return rule.condition.failure(ctx)


NOT_SPANISH = "the rule is for Spanish text and this document is not in Spanish"


def refused_by_language(rule: CompiledRule, ctx: DocContext) -> bool:
    """The ``language: es`` guard: the one place a rule's language is checked."""
    return rule.language == "es" and not ctx.looks_spanish()
