"""The shared term table: every phrase, wildcard, stem and entity name of every rule in one
Aho-Corasick automaton, so a document is scanned once per field whatever the number of rules.

Keys are folded text.  Exact phrases need a word boundary on both sides; wildcards and stems are
stored as prefixes and extended to the end of the word, then stems are confirmed by stemming the
word found (memoised: a few thousand distinct words cover most news).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick
import Stemmer

from .normalize import fold

_STEMMER = Stemmer.Stemmer("spanish")
_WORD_AT = re.compile(r"\w+")
_GAP = re.compile(r"[ \t\-]+")


def stem_word(word: str) -> str:
    """Snowball Spanish stem of a folded word (the stemmer strips the accents itself)."""
    return _STEMMER.stemWord(word)


@dataclass(frozen=True)
class TermSpec:
    key: str                 # folded prefix or phrase searched by the automaton
    mode: str                # "exact" | "prefix" | "stem"
    case: str | None = None  # original spelling to match letter for letter (case-sensitive terms)
    stems: tuple[str, ...] = ()


class TermTable:
    """Deduplicated term specs plus the automaton built over their keys."""

    def __init__(self) -> None:
        self.specs: list[TermSpec] = []
        self._index: dict[TermSpec, int] = {}
        self.automaton: ahocorasick.Automaton | None = None

    def add(self, text: str, mode: str, case_sensitive: bool = False) -> int:
        """Register a term and return its id; identical terms across rules share one id."""
        folded = " ".join(fold(text).split())
        stems: tuple[str, ...] = ()
        key = folded
        if mode == "stem":
            words = _WORD_AT.findall(folded)
            stems = tuple(stem_word(w) for w in words)
            key = stems[0]
        spec = TermSpec(key, mode, text if case_sensitive else None, stems)
        found = self._index.get(spec)
        if found is None:
            found = len(self.specs)
            self.specs.append(spec)
            self._index[spec] = found
            self.automaton = None
        return found

    def build(self) -> None:
        automaton = ahocorasick.Automaton()
        by_key: dict[str, list[int]] = {}
        for term_id, spec in enumerate(self.specs):
            by_key.setdefault(spec.key, []).append(term_id)
        for key, ids in by_key.items():
            automaton.add_word(key, (len(key), tuple(ids)))
        if by_key:
            automaton.make_automaton()
        self.automaton = automaton if by_key else None


class Scanner:
    """Finds every term of a table in one folded field; returns ``{term_id: [(start, end), …]}``."""

    def __init__(self, table: TermTable) -> None:
        self.table = table
        self._stem_cache: dict[str, str] = {}

    def scan(self, folded: str, original: str, offsets: list[int] | None) -> dict[int, list[tuple[int, int]]]:
        table = self.table
        if table.automaton is None:
            table.build()
        automaton = table.automaton
        found: dict[int, list[tuple[int, int]]] = {}
        if automaton is None or not folded:
            return found
        specs = table.specs
        length = len(folded)
        for last, (key_len, ids) in automaton.iter(folded):
            start = last - key_len + 1
            if start > 0 and folded[start - 1].isalnum():
                if key_len and folded[start].isalnum():
                    continue
            end = last + 1
            for term_id in ids:
                spec = specs[term_id]
                mode = spec.mode
                if mode == "exact":
                    if end < length and folded[end].isalnum() and folded[end - 1].isalnum():
                        continue
                    hit_end = end
                else:
                    hit_end = end
                    while hit_end < length and folded[hit_end].isalnum():
                        hit_end += 1
                    if mode == "stem":
                        hit_end = self._match_stems(folded, start, spec.stems)
                        if hit_end < 0:
                            continue
                if spec.case is not None:
                    o_start, o_end = (start, hit_end) if offsets is None else (offsets[start], offsets[hit_end - 1] + 1)
                    if original[o_start:o_end] != spec.case:
                        continue
                found.setdefault(term_id, []).append((start, hit_end))
        return found

    def _stem(self, word: str) -> str:
        cached = self._stem_cache.get(word)
        if cached is None:
            cached = stem_word(word)
            if len(self._stem_cache) < 200_000:
                self._stem_cache[word] = cached
        return cached

    def _match_stems(self, folded: str, start: int, stems: tuple[str, ...]) -> int:
        """End offset of the words from ``start`` whose stems are ``stems``, or -1."""
        position = start
        for index, wanted in enumerate(stems):
            if index:
                gap = _GAP.match(folded, position)
                if not gap:
                    return -1
                position = gap.end()
            word = _WORD_AT.match(folded, position)
            if not word or self._stem(word.group()) != wanted:
                return -1
            position = word.end()
        return position
