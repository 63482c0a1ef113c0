"""Evaluating compiled rules against one document: term hits, entity resolution, boolean groups
and proximity windows.  Every result carries the hits that made it pass, or the reason it failed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from .compile import Compiler, EntityTerms
from .document import FIELDS, DocView
from .entities import acronym_ok, case_ok, glued_to_other_name, title_adjacent
from .language import About, Group, Leaf, Near, Node
from .spanish import looks_spanish
from .terms import Scanner, latin1_bytes

# A hit inside the matcher: (field, folded start, folded end, term id or -1 for regex, entity id or None,
# the leaf that found it — or None while entities are being resolved)
RawHit = tuple


@dataclass
class Outcome:
    passed: bool
    hits: list
    reason: str = ""


class DocContext:
    """Everything computed once per document and shared by all rules."""

    def __init__(self, view: DocView, compiler: Compiler, scanner: Scanner) -> None:
        self.view = view
        self.compiler = compiler
        self.term_hits: dict[str, dict[int, list[tuple[int, int]]]] = {}
        self._latin1: dict[str, bytes | None] = {}
        for name in FIELDS:
            fv = view.fields[name]
            raw = self._latin1[name] = latin1_bytes(fv.folded)
            found = scanner.scan(fv.folded, fv.original, fv.offsets, raw)
            if fv.ignored and found:
                found = {tid: kept for tid, spans in found.items()
                         if (kept := [s for s in spans if not fv.is_ignored(s[0])])}
            self.term_hits[name] = found
        self.present: set[int] = set()
        for found_in_field in self.term_hits.values():
            self.present.update(found_in_field)
        self._entities: dict[str, list[RawHit]] = {}
        self._leaves: dict[int, list[RawHit]] = {}
        self._shared_leaves: dict[int, list[RawHit]] = {}
        self._spanish: bool | None = None
        self._present_entities: set[str] | None = None
        self._word_classes: dict[str, bytes | bool] = {}

    # -- entities -------------------------------------------------------------------------------
    def entity_hits(self, entity_id: str) -> list[RawHit]:
        found = self._entities.get(entity_id)
        if found is None:
            terms = self.compiler.entity_terms[entity_id]
            found = self._resolve_entity(terms) if not self.present.isdisjoint(terms.all_ids) else []
            self._entities[entity_id] = found
        return found

    def _resolve_entity(self, terms: EntityTerms) -> list[RawHit]:
        view = self.view
        entity = terms.entity
        present = self.present  # visit only the names found, in the catalogue's order
        aliases = [tid for tid in terms.aliases if tid in present]
        acronyms = [item for item in terms.acronyms if item[0] in present]
        shorts = [item for item in terms.short if item[0] in present]
        full: list[RawHit] = []
        for name in FIELDS:
            hits = self.term_hits[name]
            for tid in aliases:
                for start, end in hits.get(tid, ()):
                    full.append((name, start, end, tid, entity.id))
            for tid, spelling in acronyms:
                fv = view.fields[name]
                for start, end in hits.get(tid, ()):
                    o_start, o_end = fv.original_span(start, end)
                    if acronym_ok(spelling, fv.original[o_start:o_end]):
                        full.append((name, start, end, tid, entity.id))
        short: list[RawHit] = []
        seen_full = bool(aliases)  # a full name anywhere in the document
        for name in FIELDS if shorts else ():
            hits = self.term_hits[name]
            fv = view.fields[name]
            for tid, spelling in shorts:
                for start, end in hits.get(tid, ()):
                    o_start, o_end = fv.original_span(start, end)
                    if not case_ok(spelling, fv.original[o_start:o_end]):
                        continue
                    if glued_to_other_name(fv.original, o_start, o_end, entity.folded_titles):
                        continue
                    if seen_full or title_adjacent(fv.folded, start, end, entity.folded_titles):
                        short.append((name, start, end, tid, entity.id))
        found = _drop_overlaps(full + short)
        excepts = [tid for tid in terms.except_ids if tid in present]
        if excepts and found:  # "Guardia Nacional de Texas" is not the Mexican Guardia Nacional
            spans = {name: [span for tid in excepts for span in self.term_hits[name].get(tid, ())] for name in FIELDS}
            found = [hit for hit in found if not _inside(hit, spans[hit[0]])]
        return found

    # -- leaves ---------------------------------------------------------------------------------
    def leaf_hits(self, leaf: Leaf) -> list[RawHit]:
        """Whole-document hits of a leaf: fields in document order, then the leaf's term order
        (then position), then its entities in catalogue order.  Only the terms and entities
        present in the document are visited (a leaf may list hundreds)."""
        key = id(leaf)
        found = self._leaves.get(key)
        if found is not None:
            return found
        share = leaf.hits_key
        if share:
            shared = self._shared_leaves.get(share)
            if shared is not None:  # a leaf with the same terms, fields, entities and excepts: same places
                found = self._leaves[key] = [(name, start, end, tid, entity_id, leaf)
                                             for name, start, end, tid, entity_id, _ in shared]
                return found
        found = self._leaves[key] = self._leaf_hits(leaf)
        if share:
            self._shared_leaves[share] = found
        return found

    def _leaf_hits(self, leaf: Leaf) -> list[RawHit]:
        found = []
        rank = leaf.term_rank
        terms: list[int] | set[int] = ()
        if rank:  # the leaf's terms found in the document (a set intersection in C), in the leaf's order
            if leaf.duplicate_terms:  # a term listed twice reports its hits twice, as listed
                terms = [tid for tid in leaf.term_ids if tid in self.present]
            else:
                terms = rank.keys() & self.present
                if len(terms) > 1:
                    terms = sorted(terms, key=rank.__getitem__)
        add = found.append  # a plain loop: most terms have one or two spans, less than a list comprehension's call
        for name in leaf.field_order:
            if terms:
                hits = self.term_hits[name]
                if hits:
                    for tid in terms:
                        spans = hits.get(tid)
                        if spans:
                            for start, end in spans:
                                add((name, start, end, tid, None, leaf))
            for pattern in leaf.regexes:
                fv = self.view.fields[name]
                for m in pattern.finditer(fv.folded):
                    if m.end() > m.start() and not fv.is_ignored(m.start()):
                        found.append((name, m.start(), m.end(), -1, None, leaf))
        if leaf.entity_rank:
            entity_rank = leaf.entity_rank
            present_entities = self.present_entities() & entity_rank.keys()
            if present_entities:
                fields = leaf.field_order
                for entity_id in sorted(present_entities, key=entity_rank.__getitem__):
                    found += [h[:5] + (leaf,) for h in self.entity_hits(entity_id) if h[0] in fields]
        if leaf.except_ids and found:
            # hits inside an except phrase are dropped: gather the except phrases found, per field
            except_spans: dict[str, list[tuple[int, int]]] = {}
            except_ids = [tid for tid in leaf.except_ids if tid in self.present]
            for name in FIELDS if except_ids else ():
                spans = self.term_hits[name]
                within = [span for tid in except_ids for span in spans.get(tid, ())]
                if within:
                    except_spans[name] = within
            if except_spans:
                found = [h for h in found if not _inside(h, except_spans.get(h[0]))]
        return found

    def word_indices(self, name: str, positions: list[int]) -> list[int]:
        """``unit_index("words", p)`` for each folded offset ``p`` of field ``name``, without
        listing every word of the field: a word starts where a word character follows a non-word
        one, i.e. at each b" a" of the field classified byte by byte, so the word index of ``p``
        is the count of those up to ``p`` (counted in C, one pass over the field for all positions)."""
        classes = self._word_classes.get(name)
        if classes is None:
            raw = self._latin1[name]
            classes = self._word_classes[name] = False if raw is None else b" " + raw.translate(_WORD_CLASS)
        if classes is False:  # a letter beyond latin-1: list the words
            return [self.view.fields[name].unit_index("words", p) for p in positions]
        index: dict[int, int] = {}
        count = -1
        scanned = 0
        for position in sorted(set(positions)):
            count += classes.count(b" a", scanned, position + 2)
            scanned = position + 1
            index[position] = count
        return [index[p] for p in positions]

    def present_entities(self) -> set[str]:
        """Entities one of whose names was found (before case and context checks)."""
        found = self._present_entities
        if found is None:
            by_term = self.compiler.entities_by_term
            found = set()
            for term_id in by_term.keys() & self.present:  # the few names among the terms found
                found.update(by_term[term_id])
            self._present_entities = found
        return found

    def looks_spanish(self) -> bool:
        """The ``language: es`` guard: the crawl's own detector (rules.spanish) on each field's start."""
        if self._spanish is None:
            self._spanish = looks_spanish(" ".join(self.view.fields[n].original[:3000] for n in FIELDS))
        return self._spanish


# \w (what document._WORD counts as a word) is a letter, a digit or "_": those bytes become "a",
# every other byte a space
_WORD_CLASS = bytes(97 if (chr(c).isalnum() or c == 95) else 32 for c in range(256))


def _inside(hit: RawHit, spans: list[tuple[int, int]] | None) -> bool:
    """True when ``hit`` lies within one of ``spans`` (same field)."""
    if spans:
        start, end = hit[1], hit[2]
        for lo, hi in spans:
            if lo <= start and end <= hi:
                return True
    return False


def _drop_overlaps(hits: list[RawHit]) -> list[RawHit]:
    """Keep the longest of overlapping entity mentions ("Juan Ramón de la Fuente" over "de la Fuente")."""
    if len(hits) < 2:
        return hits
    hits.sort(key=lambda h: (h[0], h[1], -(h[2] - h[1])))
    kept: list[RawHit] = []
    for hit in hits:
        if kept and kept[-1][0] == hit[0] and hit[1] < kept[-1][2]:
            continue
        kept.append(hit)
    return kept


# -- the condition tree ---------------------------------------------------------------------------
Scope = tuple  # ((field, unit, lo, hi), …)


def _in_scope(ctx: DocContext, hit: RawHit, scope: Scope) -> bool:
    for name, unit, lo, hi in scope:
        if hit[0] != name:
            return False
        index = ctx.view.fields[name].unit_index(unit, hit[1])
        if index < lo or index > hi:
            return False
    return True


def evaluate(node: Node, ctx: DocContext, scope: Scope = ()) -> Outcome:
    """Evaluate a condition within ``scope`` (the whole document when empty)."""
    if isinstance(node, Leaf):
        hits = ctx.leaf_hits(node)
        if scope and hits:
            hits = [h for h in hits if _in_scope(ctx, h, scope)]
        if node.min > 1:
            distinct = {(h[3], h[4]) if h[4] is None else h[4] for h in hits}
            if len(distinct) < node.min:
                return Outcome(False, [], f"{_name(node)}: {len(distinct)} distinct terms found, {node.min} needed")
        if hits:
            return Outcome(True, hits)
        return Outcome(False, [], f"{_name(node)}: no term found")
    if isinstance(node, Near):
        return _evaluate_near(node, ctx, scope)
    if isinstance(node, About):
        return _evaluate_about(node, ctx, scope)
    return _evaluate_group(node, ctx, scope)


def _name(node: Node) -> str:
    return f"{node.path} ({node.label})" if node.label and node.label != node.path else node.path


def _evaluate_group(node: Group, ctx: DocContext, scope: Scope) -> Outcome:
    if node.op == "all":
        hits: list = []
        for child in node.children:
            result = evaluate(child, ctx, scope)
            if not result.passed:
                return Outcome(False, [], result.reason)
            hits.extend(result.hits)
        return Outcome(True, hits)
    if node.op == "any":
        hits = []
        passed = 0
        reasons = []
        for child in node.children:
            result = evaluate(child, ctx, scope)
            if result.passed:
                passed += 1
                hits.extend(result.hits)
            else:
                reasons.append(result.reason)
        if passed >= node.min:
            return Outcome(True, hits)
        if node.min > 1:
            return Outcome(False, [], f"{_name(node)}: {passed} of {len(node.children)} members found, {node.min} needed")
        if len(node.children) == 1:
            return Outcome(False, [], reasons[0])
        if all(isinstance(c, Leaf) for c in node.children):
            return Outcome(False, [], f"{_name(node)}: no term found")
        # alternatives that are themselves groups: say why each one failed
        parts = [f"[{c.label}] {r}" if c.label else r for c, r in zip(node.children, reasons)]
        return Outcome(False, [], f"{_name(node)}: no alternative matched: " + "; ".join(parts))
    # none
    for child in node.children:
        result = evaluate(child, ctx, scope)
        if result.passed:
            return Outcome(False, [], f"{_name(node)}: excluded by {_describe(ctx, result.hits[:1])}")
    return Outcome(True, [])


def _describe(ctx: DocContext, hits: list) -> str:
    if not hits:
        return "a match"
    name, start, end = hits[0][:3]
    fv = ctx.view.fields[name]
    o_start, o_end = fv.original_span(start, end)
    return f"'{fv.original[o_start:o_end]}' in {name}"


def _simple(node: Node) -> bool:
    """True when a node is present in a window exactly when one of its hits is (leaves, plain
    ``any``, and ``near`` whose hits are already positions), so windows need no re-evaluation."""
    if isinstance(node, Leaf):
        return node.min == 1
    if isinstance(node, Near):
        return True
    if isinstance(node, About):
        return False  # its verdict weighs the whole scope, not one position
    return node.op == "any" and node.min == 1 and all(_simple(c) for c in node.children)


def _evaluate_near(node: Near, ctx: DocContext, scope: Scope) -> Outcome:
    child_hits = []
    for child in node.children:
        result = evaluate(child, ctx, scope)
        if not result.passed:
            return Outcome(False, [], result.reason)
        child_hits.append(result.hits)
    unit = node.unit
    if unit == "lead":
        collected = _lead_window(child_hits, ctx, node.within)
        if collected:
            return Outcome(True, collected)
        return Outcome(False, [], f"{_name(node)}: all found, but never all in the title, summary and first "
                                  f"{node.within} paragraph(s)")
    span = node.within if unit == "words" else node.within - 1
    if all(_simple(c) for c in node.children):
        collected = _windows_by_position(child_hits, ctx, unit, span)
    else:
        collected = _windows_by_evaluation(node, ctx, scope, child_hits, unit, span)
    if collected:
        return Outcome(True, list(dict.fromkeys(collected)))
    what = {"words": "words", "sentences": "sentence(s)", "paragraphs": "paragraph(s)"}[unit]
    return Outcome(False, [], f"{_name(node)}: all found, but never together within {node.within} {what}")


def lead_end(ctx: DocContext, lead: int) -> int:
    """Folded offset where the text's paragraph number ``lead`` (0-based) starts: the lead ends
    there.  A first paragraph that repeats the headline (pages often keep their <h1> in the
    text) takes no place of the lead."""
    text = ctx.view.fields["text"]
    starts = text.starts("paragraphs")
    title = ctx.view.fields["title"].folded.strip()
    if title and len(starts) > 1 and text.folded[: starts[1]].strip() == title:
        lead += 1
    return starts[lead] if lead < len(starts) else len(text.folded) + 1


def in_lead(ctx: DocContext, hit: RawHit, lead: int) -> bool:
    """True for a hit in the title, the summary or the first ``lead`` paragraphs of the text."""
    return hit[0] != "text" or hit[1] < lead_end(ctx, lead)


def _lead_window(child_hits: list[list], ctx: DocContext, lead: int) -> list | None:
    """The lead hits of every child when each child has one there (``near`` with ``unit: lead``)."""
    collected: list = []
    end = lead_end(ctx, lead)
    for hits in child_hits:
        kept = [h for h in hits if h[0] != "text" or h[1] < end]
        if not kept:
            return None
        collected += kept
    return list(dict.fromkeys(collected))


def _any_in_lead(ctx: DocContext, hits: list, lead: int) -> bool:
    end = lead_end(ctx, lead)
    return any(h[0] != "text" or h[1] < end for h in hits)


def position_weights(ctx: DocContext, hits: list, lead: int) -> dict[str, float]:
    """Where a side is mentioned, each place once: title 3, summary 2, a lead paragraph 2, any
    later paragraph 1 (places named "title", "summary", "¶3")."""
    places: dict[str, float] = {}
    text = ctx.view.fields["text"]
    end = lead_end(ctx, lead)
    for hit in hits:
        name = hit[0]
        if name == "title":
            places["title"] = 3.0
        elif name == "summary":
            places["summary"] = 2.0
        else:
            index = text.unit_index("paragraphs", hit[1])
            places[f"¶{index + 1}"] = 2.0 if hit[1] < end else 1.0
    return places


def describe_weights(label: str, places: dict[str, float]) -> str:
    ordered = sorted(places, key=lambda place: {"title": -2, "summary": -1}.get(place) or int(place[1:]))
    shown = ", ".join(ordered[:6]) + (", …" if len(ordered) > 6 else "")
    return f"{label} {sum(places.values()):g} ({shown or 'absent'})"


def _weigh_about(node: About, ctx: DocContext, side_hits: list[list], rival_hits: list) -> tuple[bool, str]:
    """Every side at least as heavy as the rival?  And the sentence that says so."""
    rival = position_weights(ctx, rival_hits, node.lead)
    # a rival only named further down (a country in a list of embassies) is not what the story is about
    rival_leads = _any_in_lead(ctx, rival_hits, node.lead)
    rival_weight = sum(rival.values()) if rival_leads else 0.0
    parts = []
    ok = True
    for side, hits in zip(node.sides, side_hits):
        places = position_weights(ctx, hits, node.lead)
        parts.append(describe_weights(side.label or side.path, places))
        ok = ok and sum(places.values()) >= rival_weight
    rival_label = node.rival.label or node.rival.path if node.rival is not None else "rival"
    relation = "≥" if ok else "not all ≥"
    rival_text = describe_weights(rival_label, rival) + ("" if rival_leads or not rival else ", not in the lead: 0")
    return ok, f"{'; '.join(parts)} {relation} {rival_text}"


def about_account(node: About, ctx: DocContext) -> str:
    """How each side and the rival weigh in the whole document (for explanations)."""
    side_hits = [evaluate(side, ctx).hits for side in node.sides]
    rival_hits = evaluate(node.rival, ctx).hits if node.rival is not None else []
    return _weigh_about(node, ctx, side_hits, rival_hits)[1]


def _evaluate_about(node: About, ctx: DocContext, scope: Scope) -> Outcome:
    side_hits = []
    for side in node.sides:
        result = evaluate(side, ctx, scope)
        if not result.passed:
            return Outcome(False, [], result.reason)
        side_hits.append(result.hits)
    rival_hits = evaluate(node.rival, ctx, scope).hits if node.rival is not None else []
    ok, account = _weigh_about(node, ctx, side_hits, rival_hits)
    if not ok:
        return Outcome(False, [], f"{_name(node)}: the story is about something else: {account}")
    return Outcome(True, list(dict.fromkeys(h for hits in side_hits for h in hits)))


def _windows_by_position(child_hits: list[list], ctx: DocContext, unit: str, span: int) -> list:
    """Hits of every window [a, a+span] (in units) where each child has at least one hit."""
    placed = []  # per child: {field: (sorted unit indices, hits in that order)}
    anchors: set[tuple[str, int]] = set()
    starts_of: dict[str, list[int]] = {}
    fields = ctx.view.fields
    for hits in child_hits:
        by_field: dict[str, list] = {}
        for hit in hits:
            items = by_field.get(hit[0])
            if items is None:
                by_field[hit[0]] = [hit]
            else:
                items.append(hit)
        sorted_by_field = {}
        for name, items in by_field.items():
            if unit == "words":
                indices = ctx.word_indices(name, [hit[1] for hit in items])
            else:
                starts = starts_of.get(name)
                if starts is None:
                    starts = starts_of[name] = fields[name].starts(unit)
                indices = [bisect_right(starts, hit[1]) - 1 for hit in items]
            ordered = sorted(indices)
            if ordered != indices:  # a stable sort of the hits by unit index
                order = sorted(range(len(items)), key=indices.__getitem__)
                items = [items[i] for i in order]
                indices = ordered
            sorted_by_field[name] = (indices, items)
            anchors.update([(name, index) for index in set(indices)])
        placed.append(sorted_by_field)
    collected: list = []
    for name, lo in sorted(anchors):
        hi = lo + span
        window: list = []
        for by_field in placed:
            entry = by_field.get(name)
            if entry is None:
                break
            indices, ordered = entry
            first = bisect_left(indices, lo)
            last = bisect_right(indices, hi)
            if first == last:
                break
            window += ordered[first:last]
        else:
            collected += window
    return collected


def _windows_by_evaluation(node: Near, ctx: DocContext, scope: Scope, child_hits: list[list], unit: str,
                           span: int) -> list:
    """Re-evaluate every child inside each candidate window (needed for all/none/min children)."""
    anchors = sorted({(h[0], ctx.view.fields[h[0]].unit_index(unit, h[1])) for hits in child_hits for h in hits})
    collected: list = []
    for name, index in anchors:
        window = scope + ((name, unit, index, index + span),)
        hits = []
        for child in node.children:
            result = evaluate(child, ctx, window)
            if not result.passed:
                break
            hits.extend(result.hits)
        else:
            collected.extend(hits)
    return collected


# -- the verdict alone: condition trees compiled into closures --------------------------------------
# match() needs only whether a rule passed and the hits that made it pass; the reasons for a
# failure (built as strings at every failed leaf by :func:`evaluate`) are thrown away there.  Each
# node compiles into ``run(ctx, scope) -> hits | None`` (None = failed) that returns exactly the
# hits, in the same order, that :func:`evaluate` returns for a passing node; evaluate() stays the
# reference for verdicts with reasons (RuleSet.evaluate and explain).


def compile_verdict(node: Node, requirements=None, known: frozenset = frozenset()):
    """A closure computing ``evaluate(node, ctx, scope).hits`` when it passes, None when it fails.

    ``requirements(node)`` lists term-id sets one term of each of which must be in the document
    for ``node`` to pass (None for a set that cannot be known); a ``near`` or ``all`` node first
    checks those (C set operations) and fails at once, before evaluating any child, when one is
    missing.  ``known``: sets already checked (the rule's own, by RuleSet.match)."""
    if isinstance(node, Leaf):
        return _verdict_leaf(node)
    if isinstance(node, Near):
        return _guarded(_verdict_near(node, requirements, known), node, requirements, known)
    if isinstance(node, About):
        return _guarded(_verdict_about(node, requirements, known), node, requirements, known)
    runs = tuple(compile_verdict(child, requirements, known) for child in node.children)
    if node.op == "all":
        if len(runs) == 1:
            only = runs[0]
            return only  # nothing downstream mutates a node's hits, so one child's list is the group's

        # Leaves first (cheap, and the likeliest to fail), groups and proximity after; the hits
        # are still joined in the order written.
        order = sorted(range(len(runs)), key=lambda i: not isinstance(node.children[i], Leaf))

        def run_all(ctx: DocContext, scope: Scope):
            hits: list = []
            for run in runs:
                found = run(ctx, scope)
                if found is None:
                    return None
                hits += found
            return hits

        def run_all_leaves_first(ctx: DocContext, scope: Scope):
            results: list = [None] * len(runs)
            for i in order:
                found = runs[i](ctx, scope)
                if found is None:
                    return None
                results[i] = found
            hits: list = []
            for found in results:
                hits += found
            return hits
        run = run_all if order == sorted(order) else run_all_leaves_first
        return _guarded(run, node, requirements, known)
    if node.op == "any":
        need = node.min

        def run_any(ctx: DocContext, scope: Scope):
            hits: list = []
            passed = 0
            for run in runs:
                found = run(ctx, scope)
                if found is not None:
                    passed += 1
                    hits += found
            return hits if passed >= need else None
        return run_any

    def run_none(ctx: DocContext, scope: Scope):
        for run in runs:
            if run(ctx, scope) is not None:
                return None
        return []
    return run_none


def _verdict_leaf(leaf: Leaf):
    need = leaf.min
    if need > 1:
        def run_min(ctx: DocContext, scope: Scope):
            hits = ctx.leaf_hits(leaf)
            if scope and hits:
                hits = [h for h in hits if _in_scope(ctx, h, scope)]
            if len({(h[3], h[4]) if h[4] is None else h[4] for h in hits}) < need:
                return None
            return hits or None
        return run_min

    def run_leaf(ctx: DocContext, scope: Scope):
        hits = ctx.leaf_hits(leaf)
        if scope and hits:
            hits = [h for h in hits if _in_scope(ctx, h, scope)]
        return hits or None

    if leaf.entity_ids or leaf.regexes:
        return run_leaf
    terms = frozenset(leaf.term_ids)

    def run_terms_leaf(ctx: DocContext, scope: Scope):
        if terms.isdisjoint(ctx.present):  # none of its terms in the document: no hits
            return None
        hits = ctx.leaf_hits(leaf)
        if scope and hits:
            hits = [h for h in hits if _in_scope(ctx, h, scope)]
        return hits or None
    return run_terms_leaf


def _guarded(run, node: Node, requirements, known: frozenset):
    """``run`` preceded by the check of ``node``'s required term sets (see compile_verdict)."""
    needs = [] if requirements is None else requirements(node)
    needs = list(dict.fromkeys(n for n in needs if n is not None and n not in known))
    if not needs:
        return run

    def run_guarded(ctx: DocContext, scope: Scope):
        present = ctx.present
        for need in needs:
            if present.isdisjoint(need):
                return None
        return run(ctx, scope)
    return run_guarded


def _verdict_about(node: About, requirements=None, known: frozenset = frozenset()):
    sides = tuple(compile_verdict(child, requirements, known) for child in node.sides)
    rival = compile_verdict(node.rival, requirements, known) if node.rival is not None else None
    lead = node.lead

    def run_about(ctx: DocContext, scope: Scope):
        side_hits = []
        for run in sides:
            found = run(ctx, scope)
            if found is None:
                return None
            side_hits.append(found)
        rival_hits = (rival(ctx, scope) or []) if rival is not None else []
        # the common case: no rival in the lead, nothing to weigh
        if rival_hits and _any_in_lead(ctx, rival_hits, lead):
            ok, _ = _weigh_about(node, ctx, side_hits, rival_hits)
            if not ok:
                return None
        if len(side_hits) == 1:
            return side_hits[0]
        return list(dict.fromkeys(h for hits in side_hits for h in hits))
    return run_about


def _verdict_near(node: Near, requirements=None, known: frozenset = frozenset()):
    runs = tuple(compile_verdict(child, requirements, known) for child in node.children)
    unit = node.unit
    if unit == "lead":
        lead = node.within

        def run_lead(ctx: DocContext, scope: Scope):
            child_hits = []
            for run in runs:
                found = run(ctx, scope)
                if found is None:
                    return None
                child_hits.append(found)
            return _lead_window(child_hits, ctx, lead)
        return run_lead
    span = node.within if unit == "words" else node.within - 1
    by_position = all(_simple(c) for c in node.children)

    def run_near(ctx: DocContext, scope: Scope):
        child_hits = []
        for run in runs:
            found = run(ctx, scope)
            if found is None:
                return None
            child_hits.append(found)
        if by_position:
            collected = _windows_by_position(child_hits, ctx, unit, span)
        else:
            anchors = sorted({(h[0], ctx.view.fields[h[0]].unit_index(unit, h[1])) for hits in child_hits for h in hits})
            collected = []
            for name, index in anchors:
                window = scope + ((name, unit, index, index + span),)
                hits: list = []
                for run in runs:
                    found = run(ctx, window)
                    if found is None:
                        break
                    hits += found
                else:
                    collected += hits
        if collected:
            return list(dict.fromkeys(collected))
        return None
    return run_near
