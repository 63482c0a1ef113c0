"""Turning parsed rules into compiled rules that share one term table and one entity catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field

from .document import FIELDS
from .entities import Catalogue, Entity
from .errors import RuleSyntaxError
from .nodes import Leaf
from .syntax import RuleSpec
from .terms import TermTable


@dataclass
class EntityTerms:
    """The term ids under which one entity's names were registered."""

    entity: Entity
    aliases: list[int] = field(default_factory=list)
    acronyms: list[tuple[int, str]] = field(default_factory=list)
    short: list[tuple[int, str]] = field(default_factory=list)
    all_ids: frozenset[int] = frozenset()
    except_ids: list[int] = field(default_factory=list)


@dataclass
class CompiledRule(RuleSpec):
    """A parsed rule with its leaves registered in the term table; its attribute names
    (id, name, channel, mode, digest, threshold…) are the public surface others read."""

    leaves: list[Leaf] = field(default_factory=list)
    none_leaves: set[int] = field(default_factory=set)  # id() of leaves under a `none` (they never add to the score)
    matches_empty: bool = False

    def positive_leaves(self) -> list[Leaf]:
        """The leaves not under a ``none``: those whose hits can make the rule match."""
        return [leaf for leaf in self.leaves if id(leaf) not in self.none_leaves]


class Compiler:
    """Registers terms and entities of many rules in one table."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.table = TermTable()
        self.entity_terms: dict[str, EntityTerms] = {}
        self.entities_by_term: dict[int, list[str]] = {}  # term id -> entities it names
        self._leaf_signatures: dict[tuple[object, ...], int] = {}  # what a leaf's hits depend on -> Leaf.hits_key
        self._hits_owners: dict[tuple[object, ...], Leaf] = {}  # that, and what a hit reads of its leaf -> Leaf.hits_owner

    def compile(self, spec: RuleSpec) -> CompiledRule:
        leaves: list[Leaf] = []
        none_leaves: set[int] = set()
        for leaf, negated in spec.condition.leaves():
            self._compile_leaf(leaf, spec)
            leaves.append(leaf)
            if negated:
                none_leaves.add(id(leaf))
        return CompiledRule(**vars(spec), leaves=leaves, none_leaves=none_leaves)

    def _compile_leaf(self, leaf: Leaf, spec: RuleSpec) -> None:
        leaf.term_ids = [self.table.add(p.text, p.mode, p.case_sensitive) for p in leaf.patterns]
        leaf.except_ids = [self.table.add(p.text, p.mode, p.case_sensitive) for p in leaf.excepts]
        entity_ids: set[str] = set()
        for name in leaf.entities:
            entity = self.catalogue.entities.get(name)
            if entity is None:
                raise RuleSyntaxError(spec.file, spec.id, f"{leaf.path}.entities" if leaf.path != "entities" else "entities",
                                      f"unknown entity {name!r}")
            entity_ids.add(entity.id)
        for name in leaf.entity_groups:
            members = self.catalogue.groups.get(name)
            if not members:
                key = f"{leaf.path}.entity_groups" if leaf.path != "entity_groups" else "entity_groups"
                known = ", ".join(sorted(self.catalogue.groups)) or "none"
                raise RuleSyntaxError(spec.file, spec.id, key, f"unknown entity group {name!r} (known: {known})")
            entity_ids.update(members)
        leaf.entity_order = tuple(e for e in self.catalogue.entities if e in entity_ids)
        for entity_id in leaf.entity_order:
            self._register_entity(self.catalogue.entities[entity_id])
        leaf.entity_ids = frozenset(entity_ids)
        leaf.entity_rank = {e: i for i, e in enumerate(leaf.entity_order)}
        leaf.field_order = tuple(f for f in FIELDS if leaf.fields is None or f in leaf.fields)
        leaf.term_rank = {}
        for position, term_id in enumerate(leaf.term_ids):
            leaf.term_rank.setdefault(term_id, position)
        leaf.duplicate_terms = len(leaf.term_rank) < len(leaf.term_ids)
        signature = (tuple(leaf.term_ids), leaf.field_order, leaf.entity_order, tuple(leaf.except_ids),
                     tuple(r.pattern for r in leaf.regexes))
        leaf.hits_key = self._leaf_signatures.setdefault(signature, len(self._leaf_signatures) + 1)
        leaf.hits_owner = self._hits_owners.setdefault((leaf.hits_key, leaf.weight, leaf.label, leaf.role), leaf)
        triggers = set(leaf.term_ids)
        for entity_id in leaf.entity_ids:
            triggers.update(self.entity_terms[entity_id].all_ids)
        leaf.triggers = frozenset(triggers)

    def _register_entity(self, entity: Entity) -> None:
        if entity.id in self.entity_terms:
            return
        terms = EntityTerms(entity)
        terms.aliases = [self.table.add(a, "exact") for a in entity.aliases]
        terms.acronyms = [(self.table.add(a, "exact"), a) for a in entity.acronyms]
        terms.short = [(self.table.add(s, "exact"), s) for s in entity.short]
        terms.except_ids = [self.table.add(e, "exact") for e in entity.excepts]
        terms.all_ids = frozenset(terms.aliases + [t for t, _ in terms.acronyms] + [t for t, _ in terms.short])
        for term_id in terms.all_ids:
            self.entities_by_term.setdefault(term_id, []).append(entity.id)
        self.entity_terms[entity.id] = terms
