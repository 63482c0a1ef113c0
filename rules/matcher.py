"""One document as every rule sees it (:class:`DocContext`): its fields scanned once for every
term of every rule, entity mentions resolved, each leaf's hits found once and shared.

The condition tree (:mod:`rules.nodes`, :mod:`rules.proximity`) reads hits from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .compile import Compiler, EntityTerms
from .document import FIELDS, DocView
from .entities import acronym_ok, case_ok, glued_to_other_name, title_adjacent
from .spanish import looks_spanish
from .terms import Scanner, Span, latin1_bytes

if TYPE_CHECKING:
    from .nodes import Leaf

_FIELD_ORDER = {name: i for i, name in enumerate(FIELDS)}


class Found(NamedTuple):
    """One place a leaf (or, while being resolved, an entity) fired; offsets are into the folded field."""

    field: str
    start: int
    end: int
    term_id: int  # -1 for a regex
    entity_id: str | None
    leaf: Leaf | None  # None only for an entity's own hits, before a leaf takes them


# Found(...) runs a Python-level __new__; the hot loops build the same tuple in C with
# new_found(Found, (field, start, end, term_id, entity_id, leaf)).
new_found = tuple.__new__

# Where a node is evaluated: ((field, unit, first index, last index), …); empty = the whole document.
Scope = tuple[tuple[str, str, int, int], ...]


class DocContext:
    """Everything computed once per document and shared by all rules."""

    def __init__(self, view: DocView, compiler: Compiler, scanner: Scanner) -> None:
        self.view = view
        self.compiler = compiler
        self.term_hits: dict[str, dict[int, list[Span]]] = {}
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
        self._entities: dict[str, list[Found]] = {}
        self._leaves: dict[Leaf, list[Found]] = {}
        self._shared_leaves: dict[int, list[Found]] = {}
        self._spanish: bool | None = None
        self._present_entities: set[str] | None = None
        self._word_classes: dict[str, bytes | None] = {}

    # -- entities -------------------------------------------------------------------------------
    def entity_hits(self, entity_id: str) -> list[Found]:
        found = self._entities.get(entity_id)
        if found is None:
            terms = self.compiler.entity_terms[entity_id]
            found = self._resolve_entity(terms) if not self.present.isdisjoint(terms.all_ids) else []
            self._entities[entity_id] = found
        return found

    def _resolve_entity(self, terms: EntityTerms) -> list[Found]:
        present = self.present  # visit only the names found, in the catalogue's order
        found = _drop_overlaps(self._full_names(terms) + self._short_forms(terms))
        excepts = [tid for tid in terms.except_ids if tid in present]
        if excepts and found:  # "Guardia Nacional de Texas" is not the Mexican Guardia Nacional
            spans = {name: [span for tid in excepts for span in self.term_hits[name].get(tid, ())] for name in FIELDS}
            found = [hit for hit in found if not _inside(hit, spans[hit.field])]
        return found

    def _full_names(self, terms: EntityTerms) -> list[Found]:
        """Aliases anywhere, acronyms in their exact case."""
        entity_id = terms.entity.id
        aliases = [tid for tid in terms.aliases if tid in self.present]
        acronyms = [item for item in terms.acronyms if item[0] in self.present]
        full: list[Found] = []
        for name in FIELDS:
            hits = self.term_hits[name]
            fv = self.view.fields[name]
            for tid in aliases:
                full += [new_found(Found, (name, start, end, tid, entity_id, None)) for start, end in hits.get(tid, ())]
            for tid, spelling in acronyms:
                for start, end in hits.get(tid, ()):
                    o_start, o_end = fv.original_span(start, end)
                    if acronym_ok(spelling, fv.original[o_start:o_end]):
                        full.append(Found(name, start, end, tid, entity_id, None))
        return full

    def _short_forms(self, terms: EntityTerms) -> list[Found]:
        """Short forms in the right case, not glued to another name, vouched for by a full name
        in the document or a title next to them."""
        entity = terms.entity
        shorts = [item for item in terms.short if item[0] in self.present]
        seen_full = any(tid in self.present for tid in terms.aliases)
        short: list[Found] = []
        for name in FIELDS if shorts else ():
            hits = self.term_hits[name]
            fv = self.view.fields[name]
            for tid, spelling in shorts:
                for start, end in hits.get(tid, ()):
                    o_start, o_end = fv.original_span(start, end)
                    if not case_ok(spelling, fv.original[o_start:o_end]):
                        continue
                    if glued_to_other_name(fv.original, o_start, o_end, entity.folded_titles):
                        continue
                    if seen_full or title_adjacent(fv.folded, start, end, entity.folded_titles):
                        short.append(Found(name, start, end, tid, entity.id, None))
        return short

    # -- leaves ---------------------------------------------------------------------------------
    def leaf_hits(self, leaf: Leaf) -> list[Found]:
        """Whole-document hits of a leaf: fields in document order, then the leaf's term order
        (then position), then its entities in catalogue order.  Only the terms and entities
        present in the document are visited (a leaf may list hundreds)."""
        owner = leaf.hits_owner or leaf  # a leaf like it compiled first: the same hits serve both
        found = self._leaves.get(owner)
        if found is not None:
            return found
        share = owner.hits_key
        shared = self._shared_leaves.get(share) if share else None
        if shared is not None:  # same places, another weight, label or role: each hit names its leaf
            found = [new_found(Found, (name, start, end, tid, entity_id, owner))
                     for name, start, end, tid, entity_id, _ in shared]
        else:
            found = self._leaf_hits(owner)
            if share:
                self._shared_leaves[share] = found
        self._leaves[owner] = found
        return found

    def _leaf_hits(self, leaf: Leaf) -> list[Found]:
        found: list[Found] = []
        rank = leaf.term_rank
        # the leaf's terms found in the document (a set intersection in C), in the leaf's order;
        # a term listed twice reports its hits twice, as listed
        if leaf.duplicate_terms:
            terms = [tid for tid in leaf.term_ids if tid in self.present]
        else:
            terms = sorted(rank.keys() & self.present, key=rank.__getitem__) if rank else []
        add = found.append  # plain loops: most terms have one or two spans, less than a comprehension's call
        term_hits = self.term_hits
        for name in leaf.field_order if terms or leaf.regexes else ():
            hits = term_hits[name]
            for tid in terms if hits else ():
                spans = hits.get(tid)
                if spans:
                    for start, end in spans:
                        add(new_found(Found, (name, start, end, tid, None, leaf)))
            for pattern in leaf.regexes:
                fv = self.view.fields[name]
                found += [Found(name, m.start(), m.end(), -1, None, leaf) for m in pattern.finditer(fv.folded)
                          if m.end() > m.start() and not fv.is_ignored(m.start())]
        if leaf.entity_rank:
            present_entities = self.present_entities() & leaf.entity_rank.keys()
            for entity_id in sorted(present_entities, key=leaf.entity_rank.__getitem__):
                found += [new_found(Found, (name, start, end, tid, entity, leaf))
                          for name, start, end, tid, entity, _ in self.entity_hits(entity_id)
                          if name in leaf.field_order]
        if found and not self.present.isdisjoint(leaf.except_ids):
            except_ids = [tid for tid in leaf.except_ids if tid in self.present]
            # hits inside an except phrase are dropped: gather the except phrases found, per field
            except_spans = {name: [span for tid in except_ids for span in self.term_hits[name].get(tid, ())]
                            for name in FIELDS}
            found = [hit for hit in found if not _inside(hit, except_spans[hit.field])]
        return found

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

    # -- positions ------------------------------------------------------------------------------
    def in_scope(self, hit: Found, scope: Scope) -> bool:
        for name, unit, lo, hi in scope:
            if hit.field != name:
                return False
            index = self.view.fields[name].unit_index(unit, hit.start)
            if index < lo or index > hi:
                return False
        return True

    def word_indices(self, name: str, positions: list[int]) -> list[int]:
        """``unit_index("words", p)`` for each folded offset ``p`` of field ``name``, without
        listing every word of the field: a word starts where a word character follows a non-word
        one, i.e. at each b" a" of the field classified byte by byte, so the word index of ``p``
        is the count of those up to ``p`` (counted in C, one pass over the field for all positions)."""
        if name not in self._word_classes:
            raw = self._latin1[name]
            self._word_classes[name] = None if raw is None else b" " + raw.translate(_WORD_CLASS)
        classes = self._word_classes[name]
        if classes is None:  # a letter beyond latin-1: list the words
            return [self.view.fields[name].unit_index("words", p) for p in positions]
        index: dict[int, int] = {}
        count = -1
        scanned = 0
        for position in sorted(set(positions)):
            count += classes.count(b" a", scanned, position + 2)
            scanned = position + 1
            index[position] = count
        return [index[p] for p in positions]

    # -- text of hits, for reasons and explanations ----------------------------------------------
    def original_text(self, hit: Found) -> str:
        fv = self.view.fields[hit.field]
        start, end = fv.original_span(hit.start, hit.end)
        return fv.original[start:end]

    def folded_text(self, hit: Found) -> str:
        return self.view.fields[hit.field].folded[hit.start:hit.end]

    def entity_name(self, entity_id: str) -> str:
        return self.compiler.entity_terms[entity_id].entity.name

    def describe(self, found: list[Found]) -> str:
        """The first hit quoted with its field ("'Texas' in text"), for reasons."""
        if not found:
            return "a match"
        return f"'{self.original_text(found[0])}' in {found[0].field}"

    def places(self, found: list[Found]) -> list[str]:
        """Where hits are, in document order, each place once ("title", "text ¶3")."""
        places: dict[str, None] = {}
        for hit in sorted(found, key=lambda h: (_FIELD_ORDER[h.field], h.start)):
            if hit.field == "text":
                places[f"text ¶{self.view.fields['text'].unit_index('paragraphs', hit.start) + 1}"] = None
            else:
                places[hit.field] = None
        return list(places)

    def looks_spanish(self) -> bool:
        """The ``language: es`` guard: the crawl's own detector (rules.spanish) on each field's start."""
        if self._spanish is None:
            self._spanish = looks_spanish(" ".join(self.view.fields[n].original[:3000] for n in FIELDS))
        return self._spanish


# \w (what document._WORD counts as a word) is a letter, a digit or "_": those bytes become "a",
# every other byte a space
_WORD_CLASS = bytes(97 if (chr(c).isalnum() or c == 95) else 32 for c in range(256))


def _inside(hit: Found, spans: list[Span] | None) -> bool:
    """True when ``hit`` lies within one of ``spans`` (same field)."""
    if spans:
        for lo, hi in spans:
            if lo <= hit.start and hit.end <= hi:
                return True
    return False


def _drop_overlaps(found: list[Found]) -> list[Found]:
    """Keep the longest of overlapping entity mentions ("Juan Ramón de la Fuente" over "de la Fuente")."""
    if len(found) < 2:
        return found
    found.sort(key=lambda h: (h.field, h.start, -(h.end - h.start)))
    kept: list[Found] = []
    for hit in found:
        if kept and kept[-1].field == hit.field and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept
