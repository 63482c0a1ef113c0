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

    Bits of one big integer: bit ``j * width + index`` is set when required set ``j`` of rule
    ``index`` is satisfied.  Each term carries the bits it satisfies, so one OR per term found (C
    arithmetic) covers every rule, and rules with fewer than j+1 sets have bit j set from the start.
    """

    def __init__(self, required: list[list[frozenset[int]]]) -> None:
        width = len(required)
        depth = max([len(sets) for sets in required] + [1])
        bits_by_term: dict[int, int] = {}
        start = 0
        for index, sets in enumerate(required):
            for j, term_ids in enumerate(sets):
                bit = 1 << (j * width + index)
                for term_id in term_ids:
                    bits_by_term[term_id] = bits_by_term.get(term_id, 0) | bit
            for j in range(len(sets), depth):
                start |= 1 << (j * width + index)
        self._bits_by_term = bits_by_term
        self._start = start
        self._width = width
        self._depth = depth
        self._all = (1 << width) - 1

    def candidates(self, present: set[int]) -> Iterator[int]:
        """Indices, lowest first, of the rules whose every required set has a term in ``present``."""
        satisfied: int = reduce(or_, map(self._bits_by_term.get, present, repeat(0)), self._start)
        candidates = self._all
        for j in range(self._depth):
            candidates &= satisfied >> (j * self._width)
        while candidates:
            lowest = candidates & -candidates
            candidates ^= lowest
            yield lowest.bit_length() - 1
