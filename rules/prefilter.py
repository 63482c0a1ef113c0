"""Which rules can match a document at all, from the terms found in it: the crawl evaluates only
those.  Each rule's required term sets come from its condition (:meth:`rules.nodes.Node.requires`),
so the prefilter cannot skip a rule that its own condition would pass."""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce
from itertools import repeat
from operator import or_


class Prefilter:
    """Rules by index, each with the term-id sets of which the document must contain a term.

    Bits of one big integer: level ``j`` holds one bit per rule (``offset[j] + index``), set when
    required set ``j`` of rule ``index`` is satisfied.  Each term carries the bits it satisfies, so
    one OR per term found (C arithmetic) covers every rule.  A level is only as wide as the
    highest rule index with that many sets (most rules have one or two; a watchlist rule may
    have more): the rules beyond a level's width have nothing to satisfy there.
    """

    def __init__(self, required: list[list[frozenset[int]]]) -> None:
        width = len(required)
        depth = max([len(sets) for sets in required] + [1])
        # level j spans the rules up to the last one with more than j sets
        widths = [1 + max([index for index, sets in enumerate(required) if len(sets) > j] + [-1])
                  for j in range(depth)]
        offsets = [sum(widths[:j]) for j in range(depth)]
        bits_by_term: dict[int, int] = {}
        for index, sets in enumerate(required):
            for j, term_ids in enumerate(sets):
                bit = 1 << (offsets[j] + index)
                for term_id in term_ids:
                    bits_by_term[term_id] = bits_by_term.get(term_id, 0) | bit
        self._bits_by_term = bits_by_term
        self._all = (1 << width) - 1
        # per level: where it starts, and the rules it does not span (always satisfied there)
        self._levels = [(offsets[j], self._all ^ ((1 << widths[j]) - 1)) for j in range(depth)]
        # a rule with fewer sets than a level it is spanned by has that level satisfied from the start
        self._start = 0
        for index, sets in enumerate(required):
            for j in range(len(sets), depth):
                if index < widths[j]:
                    self._start |= 1 << (offsets[j] + index)

    def candidates(self, present: set[int]) -> Iterator[int]:
        """Indices, lowest first, of the rules whose every required set has a term in ``present``."""
        satisfied: int = reduce(or_, map(self._bits_by_term.get, present, repeat(0)), self._start)
        candidates = self._all
        for offset, beyond in self._levels:
            candidates &= (satisfied >> offset) | beyond
        while candidates:
            lowest = candidates & -candidates
            candidates ^= lowest
            yield lowest.bit_length() - 1
