"""The condition tree: one class per operator of the rule language.

Every node answers four questions, and nothing else in the engine asks them by node type:

- :meth:`Node.hits` — does it hold in this document (within ``scope``), and on which hits?
  ``None`` when it fails.  The crawl (``RuleSet.match``) asks only this.
- :meth:`Node.reason` — why it fails, naming it by its path in the rule (``any[0].near``): what a
  rule author debugging YAML reads (``RuleEvaluation.reason``).
- :meth:`Node.failure` — the same in words for a reader of ``vigia match`` ("no “lado
  mexicano” found (needs one of: …)").
- :meth:`Node.requires` — the term sets one term of each of which the document must contain for
  the node to hold: the crawl's prefilter is derived from it, so it cannot disagree with
  :meth:`hits` unless a class lies about itself.

Adding an operator is one class here (or in :mod:`rules.proximity`) and one branch in the parser.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .wording import bullet, join, limit

if TYPE_CHECKING:
    from .matcher import DocContext, Found, Scope

FIELD_NAMES = ("title", "summary", "text")

# One term set of which the document must contain a term, or None when that cannot be known
# before evaluating (a regex can match anything).
Requirement = frozenset[int] | None


class Outcome(NamedTuple):
    """A node's verdict with its hits, or the reason it failed."""

    passed: bool
    hits: list[Found]
    reason: str = ""


class Regex(Protocol):
    """What the rules need of a compiled RE2 pattern (rules.linear_regex)."""

    pattern: str

    def finditer(self, text: str) -> Iterator[RegexMatch]: ...


class RegexMatch(Protocol):
    def start(self) -> int: ...

    def end(self) -> int: ...


@dataclass
class TermPattern:
    """One term as written by the user, classified: exact phrase, prefix wildcard or stem."""

    text: str
    mode: str  # "exact" | "prefix" | "stem"
    case_sensitive: bool = False

    @property
    def shown(self) -> str:
        return self.text + ("*" if self.mode == "prefix" else "")


class Node(ABC):
    """A condition of a rule.  Subclasses are dataclasses with ``path``, ``label`` and ``children``."""

    path: str
    label: str
    children: list[Node]

    @abstractmethod
    def hits(self, ctx: DocContext, scope: Scope = ()) -> list[Found] | None:
        """The hits that make the node hold within ``scope`` (the whole document when empty), in
        a fixed order; None when it does not hold."""

    @abstractmethod
    def reason(self, ctx: DocContext, scope: Scope = ()) -> str:
        """Why :meth:`hits` is None, naming nodes by their path (only called when it is)."""

    @abstractmethod
    def requires(self) -> list[Requirement]:
        """Term sets (a conjunction) one term of each of which must be present for the node to hold."""

    def evaluate(self, ctx: DocContext, scope: Scope = ()) -> Outcome:
        found = self.hits(ctx, scope)
        if found is None:
            return Outcome(False, [], self.reason(ctx, scope))
        return Outcome(True, found)

    @property
    def simple(self) -> bool:
        """True when the node holds in a window exactly when one of its hits is in it, so a
        ``near`` need not evaluate it again window by window."""
        return False

    def name(self) -> str:
        """The node as the matcher's reasons name it: its path, and its label if it has one."""
        return f"{self.path} ({self.label})" if self.label and self.label != self.path else self.path

    def shown(self) -> str:
        """The node as a reader knows it: its name, else what it is made of."""
        if self.label and self.label != "rule" and self.label != self.path:
            return f"“{self.label}”"
        if self.children:
            return join([child.shown() for child in self.children], self.joined_by)
        return f"“{self.label or self.path}”"

    joined_by = "and"

    def failure(self, ctx: DocContext) -> str:
        """Why the node (known to fail on the whole document) fails, in words."""
        for child in self.children:
            if child.hits(ctx) is None:
                return child.failure(ctx)
        return f"{self.shown()}: {self.reason(ctx)}"

    def binding_nodes(self) -> list[Node]:
        """The named ``near`` and ``about`` nodes under this one, outside ``none`` (explanations
        show whether each held)."""
        return [found for child in self.children for found in child.binding_nodes()]

    def binding(self, ctx: DocContext) -> str:
        """How a named binding held in the document, or why it did not."""
        found = self.hits(ctx)
        if found is None:
            return self.reason(ctx).split(": ", 1)[-1]
        return "held in " + ", ".join(ctx.places(found))

    def leaves(self, negated: bool = False) -> Iterator[tuple[Leaf, bool]]:
        """Every leaf with whether it is under a ``none`` (its hits never add to the score)."""
        for child in self.children:
            yield from child.leaves(negated)


@dataclass(eq=False)
class Leaf(Node):
    """A term list: phrases, wildcards, stems, entities, entity groups and regexes, with their
    modifiers (fields, except, case, weight, min, role).  Holds on any hit (``min`` distinct ones)."""

    path: str
    label: str
    patterns: list[TermPattern] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    entity_groups: list[str] = field(default_factory=list)
    regexes: list[Regex] = field(default_factory=list)
    fields: frozenset[str] | None = None
    excepts: list[TermPattern] = field(default_factory=list)
    weight: float = 1.0
    min: int = 1
    role: str | None = None  # "decisive" (None: not said, decisive unless a group says otherwise) | "context"
    children: list[Node] = field(default_factory=list)  # always empty
    # filled by rules.compile: term ids, entity ids, except term ids
    term_ids: list[int] = field(default_factory=list)
    entity_ids: frozenset[str] = frozenset()
    except_ids: list[int] = field(default_factory=list)
    # fields and entities in a fixed order (catalogue order, not set order, so hits and
    # explanations do not change with the hash seed), and each term id's first position
    field_order: tuple[str, ...] = FIELD_NAMES
    entity_order: tuple[str, ...] = ()
    entity_rank: dict[str, int] = field(default_factory=dict)
    term_rank: dict[int, int] = field(default_factory=dict)
    duplicate_terms: bool = False
    # the term ids whose presence can make the leaf hold (its terms and its entities' names)
    triggers: frozenset[int] = frozenset()
    # a number for what the leaf's hits depend on; leaves with the same number find the same
    # places (YAML anchors reuse a leaf); 0 = not compiled
    hits_key: int = 0
    # the first compiled leaf with the same places and the same weight, label and role (all a
    # hit reads of its leaf): its hits serve as this leaf's, the same objects; None = itself
    hits_owner: Leaf | None = field(default=None, repr=False)

    def hits(self, ctx: DocContext, scope: Scope = ()) -> list[Found] | None:
        if not self.regexes and self.triggers.isdisjoint(ctx.present):
            return None  # none of its terms or names in the document (a C set test; most leaves)
        found = ctx.leaf_hits(self)
        if scope and found:
            found = [hit for hit in found if ctx.in_scope(hit, scope)]
        if self.min > 1 and self._distinct(found) < self.min:
            return None
        return found or None

    def reason(self, ctx: DocContext, scope: Scope = ()) -> str:
        if self.min > 1:
            return f"{self.name()}: {self._distinct(self._scoped(ctx, scope))} distinct terms found, {self.min} needed"
        return f"{self.name()}: no term found"

    def requires(self) -> list[Requirement]:
        return [None] if self.regexes else [self.triggers]

    @property
    def simple(self) -> bool:
        return self.min == 1

    def _scoped(self, ctx: DocContext, scope: Scope) -> list[Found]:
        found = ctx.leaf_hits(self)
        if scope and found:
            return [hit for hit in found if ctx.in_scope(hit, scope)]
        return found

    @staticmethod
    def _distinct(found: list[Found]) -> int:
        """Distinct terms as ``min`` counts them: an entity once whatever its spelling, a term by its id."""
        return len({(hit.term_id, None) if hit.entity_id is None else hit.entity_id for hit in found})

    def failure(self, ctx: DocContext) -> str:
        needs = limit(self.need_items())
        if self.min > 1:
            # distinct as a reader counts them: an entity once whatever its spelling, a term by its text
            found: dict[object, str] = {}
            for hit in ctx.leaf_hits(self):
                key = hit.entity_id or ctx.folded_text(hit)
                found.setdefault(key, ctx.entity_name(hit.entity_id) if hit.entity_id else ctx.original_text(hit))
            shown = f" (found: {limit(list(found.values()))})" if found else f" (any of: {needs})"
            return f"{self.shown()}: {len(found)} different name(s) found, {self.min} needed{shown}"
        if self.label == self.auto_label():  # no name of its own: what it looks for is all there is to say
            if not self.patterns and not self.regexes:
                return f"no name from {join(list(self.entities) + list(self.entity_groups), 'or')} found"
            return f"none of these found: {needs}"
        return f"no {self.shown()} found (needs one of: {needs})"

    def need_items(self) -> list[str]:
        """What would satisfy the leaf: its terms as written, then its entities and entity groups."""
        items = [pattern.shown for pattern in self.patterns]
        items += list(self.entities) + [f"a name from {group}" for group in self.entity_groups]
        return items + [f"/{regex.pattern}/" for regex in self.regexes]

    def auto_label(self) -> str:
        """The label of a leaf without ``name:``: its first terms and entities."""
        shown = [pattern.shown for pattern in self.patterns] + self.entities + self.entity_groups
        return ", ".join(shown[:3]) + ("…" if len(shown) > 3 else "") if shown else "regex"

    def binding_nodes(self) -> list[Node]:
        return []

    def leaves(self, negated: bool = False) -> Iterator[tuple[Leaf, bool]]:
        yield self, negated


@dataclass(eq=False)
class All(Node):
    """``all: [...]`` (and a rule's own condition keys): every child holds; their hits, in order."""

    path: str
    label: str
    children: list[Node]

    def hits(self, ctx: DocContext, scope: Scope = ()) -> list[Found] | None:
        if len(self.children) == 1:
            return self.children[0].hits(ctx, scope)
        collected: list[Found] = []
        for child in self.children:
            found = child.hits(ctx, scope)
            if found is None:
                return None
            collected += found
        return collected

    def reason(self, ctx: DocContext, scope: Scope = ()) -> str:
        failed = next(child for child in self.children if child.hits(ctx, scope) is None)
        return failed.reason(ctx, scope)

    def requires(self) -> list[Requirement]:
        return [need for child in self.children for need in child.requires()]

    def failure(self, ctx: DocContext) -> str:
        failed = [child for child in self.children if child.hits(ctx) is None]
        if len(failed) == 1:
            return failed[0].failure(ctx)
        return "\n".join(bullet(child.failure(ctx)) for child in failed)


@dataclass(eq=False)
class Any(Node):
    """``any: [...]``: at least ``min`` children hold; the hits of every child that does."""

    path: str
    label: str
    children: list[Node]
    min: int = 1
    joined_by = "or"

    def hits(self, ctx: DocContext, scope: Scope = ()) -> list[Found] | None:
        collected: list[Found] = []
        passed = 0
        for child in self.children:
            found = child.hits(ctx, scope)
            if found is not None:
                passed += 1
                collected += found
        return collected if passed >= self.min else None

    def reason(self, ctx: DocContext, scope: Scope = ()) -> str:
        outcomes = [child.evaluate(ctx, scope) for child in self.children]
        passed = sum(outcome.passed for outcome in outcomes)
        if self.min > 1:
            return f"{self.name()}: {passed} of {len(self.children)} members found, {self.min} needed"
        if len(self.children) == 1:
            return outcomes[0].reason
        if all(isinstance(child, Leaf) for child in self.children):
            return f"{self.name()}: no term found"
        # alternatives that are themselves groups: say why each one failed
        parts = [f"[{child.label}] {outcome.reason}" if child.label else outcome.reason
                 for child, outcome in zip(self.children, outcomes)]
        return f"{self.name()}: no alternative matched: " + "; ".join(parts)

    def requires(self) -> list[Requirement]:
        """One set: the union of each child's smallest required set (unknowable if one child's is)."""
        union: set[int] = set()
        for child in self.children:
            needs = child.requires()
            if not needs or None in needs:
                return [None]
            known: list[frozenset[int]] = [need for need in needs if need is not None]
            smallest: frozenset[int] = min(known, key=len)
            union.update(smallest)
        return [frozenset(union)]

    @property
    def simple(self) -> bool:
        return self.min == 1 and all(child.simple for child in self.children)

    def failure(self, ctx: DocContext) -> str:
        failed = [child for child in self.children if child.hits(ctx) is None]
        passed = len(self.children) - len(failed)
        if self.min > 1:
            return (f"{self.shown()}: {passed} of {len(self.children)} found, {self.min} needed; missing: "
                    + "; ".join(child.failure(ctx) for child in failed))
        if all(isinstance(child, Leaf) for child in failed):
            items = list(dict.fromkeys(item for child in failed if isinstance(child, Leaf)
                                       for item in child.need_items()))
            return f"no {self.shown()} found (needs one of: {limit(items)})"
        if len(failed) == 1:
            return failed[0].failure(ctx)
        return "no alternative held:\n" + "\n".join(bullet(f"{child.shown()}: {child.failure(ctx)}")
                                                    for child in failed)


@dataclass(eq=False)
class Not(Node):
    """``none: [...]``: no child holds.  Adds no hits (and its leaves never add to the score)."""

    path: str
    label: str
    children: list[Node]

    def hits(self, ctx: DocContext, scope: Scope = ()) -> list[Found] | None:
        for child in self.children:
            if child.hits(ctx, scope) is not None:
                return None
        return []

    def reason(self, ctx: DocContext, scope: Scope = ()) -> str:
        for child in self.children:
            found = child.hits(ctx, scope)
            if found is not None:
                return f"{self.name()}: excluded by {ctx.describe(found[:1])}"
        return f"{self.name()}: excluded"

    def requires(self) -> list[Requirement]:
        return []

    def failure(self, ctx: DocContext) -> str:
        for child in self.children:
            found = child.hits(ctx)
            if found is not None:
                quoted = [f"'{ctx.original_text(hit)}'" for hit in found[:3]]
                return f"excluded: {child.shown()} found ({', '.join(quoted) or 'present'})"
        return f"excluded by {self.shown()}"

    def binding_nodes(self) -> list[Node]:
        return []

    def leaves(self, negated: bool = False) -> Iterator[tuple[Leaf, bool]]:
        for child in self.children:
            yield from child.leaves(True)
