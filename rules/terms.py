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
_NON_ALNUM = re.compile(r"[\W_]")      # exactly the characters for which str.isalnum() is False
_WORD_REST = re.compile(r"[^\W_]*")   # the rest of a word: letters and digits
_SPACE_TABLE = bytes(c if chr(c).isalnum() else 32 for c in range(256))


# A term's place in a folded field: [start, end)
Span = tuple[int, int]

_BEYOND_LATIN1_ALNUM = re.compile(r"[^\W_\x00-\xff]")  # a letter or digit beyond latin-1


def latin1_bytes(folded: str) -> bytes | None:
    """``folded`` as latin-1 bytes, characters beyond latin-1 as "?", when none of those is a
    letter or digit (“ ” — … are not), so that classifying the bytes classifies the characters;
    None otherwise.  Every "?" being a real one means nothing was replaced (two C counts)."""
    raw = folded.encode("latin-1", "replace")
    if b"?" in raw and raw.count(b"?") != folded.count("?") and _beyond_latin1_alnum(folded):
        return None
    return raw


def _beyond_latin1_alnum(folded: str) -> bool:
    """``_BEYOND_LATIN1_ALNUM.search(folded) is not None``; text whose characters all have a cp1252
    byte (“ ” — … €) is told by the bytes of the few letters cp1252 adds (Š œ ž…), in C."""
    try:
        narrow = folded.encode("cp1252")
    except UnicodeEncodeError:
        return _BEYOND_LATIN1_ALNUM.search(folded) is not None
    return bool(narrow.translate(None, _NOT_CP1252_WIDE_ALNUM))


def _not_cp1252_wide_alnum() -> bytes:
    """Every byte but those of the letters and digits beyond latin-1 that cp1252 encodes."""
    wide_alnum = set()
    for code in range(0x80, 0xA0):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            continue
        if ord(char) > 0xFF and _BEYOND_LATIN1_ALNUM.match(char):
            wide_alnum.add(code)
    return bytes(c for c in range(256) if c not in wide_alnum)


_NOT_CP1252_WIDE_ALNUM = _not_cp1252_wide_alnum()


def spaced_out(folded: str, raw: bytes | None = None) -> str:
    """``folded`` with every character that is not a letter or digit replaced by a space, padded
    with one space at each end.  Usual text goes through latin-1 bytes (one C pass, ``raw`` from
    :func:`latin1_bytes` when the caller has it); characters beyond latin-1 that are not letters
    (“ ” —) become "?" on the way, which is a space anyway."""
    if raw is None:
        raw = latin1_bytes(folded)
    if raw is not None:
        core = raw.translate(_SPACE_TABLE).decode("latin-1")
    else:
        core = _NON_ALNUM.sub(" ", folded)
    return " " + core + " "


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
        self.exact_keys: dict[int, str] = {}

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
        """Build the automaton over keys with word-boundary sentinels (see :meth:`Scanner.scan`)."""
        automaton = ahocorasick.Automaton()
        by_key: dict[str, dict[str, list[int]]] = {}
        for term_id, spec in enumerate(self.specs):
            by_key.setdefault(_automaton_key(spec), {}).setdefault(spec.key, []).append(term_id)
        for akey, keys in by_key.items():
            entries = []  # "ee uu" and "ee.uu." share the key " ee uu ": one entry per original key
            for key, ids in keys.items():
                trail = 1 if akey.endswith(" ") and key[-1:].isalnum() else 0
                # A key with spaces or punctuation matched the spaced-out text: confirm it letter for letter.
                confirm = key if _NON_ALNUM.search(key) else None
                # The usual cases carry a kind and the bare term id, handled inline by the scan:
                # one exact term, one wildcard, or one single-word stem (aux: the stem), all
                # case-insensitive; anything else goes through Scanner._check (kind _GENERAL).
                spec = self.specs[ids[0]]
                if len(ids) > 1 or spec.case is not None or (spec.mode == "stem" and len(spec.stems) != 1):
                    entries.append((trail, len(key), confirm, _GENERAL, -1, tuple(ids)))
                elif spec.mode == "exact":
                    entries.append((trail, len(key), confirm, _EXACT, ids[0], None))
                elif spec.mode == "prefix":
                    entries.append((trail, len(key), confirm, _PREFIX, ids[0], None))
                else:
                    entries.append((trail, len(key), confirm, _STEM, ids[0], spec.key))
            if len(entries) == 1 and entries[0][2:4] == (None, _EXACT) and entries[0][0] == 1 \
                    and entries[0][1] <= _LENGTH_MASK:
                # the commonest case, one exact word: the value is an int, term id and key length
                automaton.add_word(akey, entries[0][4] << _LENGTH_BITS | entries[0][1])
            else:
                # the value is the first entry, flat, plus any further entries (rare) as a tuple
                automaton.add_word(akey, entries[0] + (tuple(entries[1:]) or None,))
        if by_key:
            automaton.make_automaton()
        self.automaton = automaton if by_key else None
        # the text of any hit of an exact term is its key (the scan confirms whatever the
        # spaced-out text could blur), so scoring can use the key instead of slicing the field
        self.exact_keys = {term_id: spec.key for term_id, spec in enumerate(self.specs) if spec.mode == "exact"}


_EXACT, _PREFIX, _STEM, _GENERAL = range(4)  # how the scan checks an automaton entry
_LENGTH_BITS = 16  # an int automaton value is term_id << _LENGTH_BITS | key length
_LENGTH_MASK = (1 << _LENGTH_BITS) - 1


def _automaton_key(spec: TermSpec) -> str:
    """The key searched in the spaced-out text: a space before a key that starts with a letter
    or digit (it must start a word), and after an exact key that ends with one (it must end a word)."""
    key = spec.key
    lead = " " if key[:1].isalnum() else ""
    trail = " " if spec.mode == "exact" and key[-1:].isalnum() else ""
    return lead + _NON_ALNUM.sub(" ", key) + trail


class Scanner:
    """Finds every term of a table in one folded field; returns ``{term_id: [(start, end), …]}``.

    Word boundaries are checked by the automaton itself: it runs over the folded text with every
    character that is not a letter or digit turned into a space (same length, so offsets hold) and
    one space of padding at each end, and keys carry a space where a word boundary is required.
    Hits inside words are never reported, so the Python loop only sees real candidates.
    """

    def __init__(self, table: TermTable) -> None:
        self.table = table
        self._stem_cache: dict[str, str] = {}

    def scan(self, folded: str, original: str, offsets: list[int] | None,
             raw: bytes | None = None) -> dict[int, list[tuple[int, int]]]:
        """``raw``: :func:`latin1_bytes` of ``folded``, if the caller has it."""
        table = self.table
        if table.automaton is None:
            table.build()
        automaton = table.automaton
        found: dict[int, list[tuple[int, int]]] = {}
        if automaton is None or not folded:
            return found
        spaced = spaced_out(folded, raw)
        stem_cache = self._stem_cache
        word_at = _WORD_AT.match
        bits, mask = _LENGTH_BITS, _LENGTH_MASK
        find = spaced.find
        plain_words = "_" not in folded
        for last, value in automaton.iter(spaced):
            if value.__class__ is int:  # one exact word, followed by its boundary space
                end = last - 1
                term_id = value >> bits
                spans = found.get(term_id)
                if spans is None:
                    found[term_id] = [(end - (value & mask), end)]
                else:
                    spans.append((end - (value & mask), end))
                continue
            trail, key_len, confirm, kind, term_id, aux, more = value
            end = last - trail  # folded offset: spaced index minus the leading pad, plus one
            start = end - key_len
            if confirm is not None and folded[start:end] != confirm:
                pass
            elif kind == _GENERAL:
                self._check(found, aux, folded, original, offsets, start, end)
            else:
                if kind == _EXACT:
                    hit_end = end
                elif kind == _PREFIX:  # to the end of the letters and digits: the next space in ``spaced``
                    hit_end = find(" ", end + 1) - 1
                else:  # one word: its stem, memoised by word
                    # the word (\w+) ends where letters and digits do, unless the field has a "_"
                    hit_end = find(" ", end + 1) - 1 if plain_words else word_at(folded, start).end()
                    text = folded[start:hit_end]
                    stem = stem_cache.get(text)
                    if stem is None:
                        stem = self._stem(text)
                    if stem != aux:
                        hit_end = -1
                if hit_end >= 0:
                    spans = found.get(term_id)
                    if spans is None:
                        found[term_id] = [(start, hit_end)]
                    else:
                        spans.append((start, hit_end))
            if more is not None:
                for trail, key_len, confirm, kind, term_id, aux in more:
                    end = last - trail
                    start = end - key_len
                    if confirm is not None and folded[start:end] != confirm:
                        continue
                    self._check(found, aux if kind == _GENERAL else (term_id,), folded, original, offsets, start, end)
        return found

    def _check(self, found: dict, ids: tuple[int, ...], folded: str, original: str, offsets: list[int] | None,
               start: int, end: int) -> None:
        """Record the hits at ``[start, end)`` of terms that need more than the automaton's word
        boundaries: wildcards and stems extended to the end of the word, stems confirmed, exact
        case checked."""
        specs = self.table.specs
        stem_cache = self._stem_cache
        for term_id in ids:
            spec = specs[term_id]
            mode = spec.mode
            if mode == "exact":
                hit_end = end
            elif mode == "prefix":
                hit_end = _WORD_REST.match(folded, end).end()
            elif len(spec.stems) == 1:  # one word: its stem, memoised by word
                word = _WORD_AT.match(folded, start)
                hit_end = word.end()
                text = word.group()
                stem = stem_cache.get(text)
                if stem is None:
                    stem = self._stem(text)
                if stem != spec.key:
                    continue
            else:
                hit_end = self._match_stems(folded, start, spec.stems)
                if hit_end < 0:
                    continue
            if spec.case is not None:
                o_start, o_end = (start, hit_end) if offsets is None else (offsets[start], offsets[hit_end - 1] + 1)
                if original[o_start:o_end] != spec.case:
                    continue
            spans = found.get(term_id)
            if spans is None:
                found[term_id] = [(start, hit_end)]
            else:
                spans.append((start, hit_end))

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
