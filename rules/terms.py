"""The shared term table: every phrase, wildcard, stem and entity name of every rule in one
Aho-Corasick automaton, so a document is scanned once per field whatever the number of rules.

Keys are folded text.  Exact phrases need a word boundary on both sides; wildcards and stems are
stored as prefixes and extended to the end of the word, then stems are confirmed by stemming the
word found (memoised: a few thousand distinct words cover most news).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick  # type: ignore[import-not-found]  # pyahocorasick ships no types
import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no types

from .normalize import fold

_STEMMER = Stemmer.Stemmer("spanish")
_WORD_AT = re.compile(r"\w+")
_GAP = re.compile(r"[ \t\-]+")
_NON_ALNUM = re.compile(r"[\W_]")      # exactly the characters for which str.isalnum() is False
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
    stem: str = _STEMMER.stemWord(word)
    return stem


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
        """Build the automaton over keys with word-boundary sentinels (see :class:`Scanner`):
        each key's value is the entries of the terms searched under it ("ee uu" and "ee.uu."
        share the key " ee uu ")."""
        automaton = ahocorasick.Automaton()
        by_key: dict[str, list[Entry]] = {}
        for term_id, spec in enumerate(self.specs):
            akey = _automaton_key(spec)
            trail = 1 if akey.endswith(" ") and spec.key[-1:].isalnum() else 0
            # a key with spaces or punctuation matched the spaced-out text: confirm it letter for letter
            confirm = spec.key if _NON_ALNUM.search(spec.key) else None
            kind = _KINDS[spec.mode] if spec.mode != "stem" or len(spec.stems) == 1 else STEMS
            entry = Entry(trail, len(spec.key), confirm, term_id, kind, spec.stems, spec.case)
            by_key.setdefault(akey, []).append(entry)
        for akey, entries in by_key.items():
            automaton.add_word(akey, _value(entries))
        if by_key:
            automaton.make_automaton()
        self.automaton = automaton if by_key else None
        # the text of any hit of an exact term is its key (the scan confirms whatever the
        # spaced-out text could blur), so scoring can use the key instead of slicing the field
        self.exact_keys = {term_id: spec.key for term_id, spec in enumerate(self.specs) if spec.mode == "exact"}


# How a hit of an entry is checked and where it ends: an exact phrase ends with its key; a
# wildcard at the end of the word; a stem's word (or words) must have the stem(s).
EXACT, PREFIX, STEM, STEMS = range(4)
_KINDS = {"exact": EXACT, "prefix": PREFIX, "stem": STEM}


class Word(NamedTuple):
    """The commonest automaton value: one exact, case-insensitive word (or phrase of words),
    followed by its boundary space; nothing to check."""

    term_id: int
    back: int  # the term's length plus its boundary space: from the key's last index to the term's start


class Prefix(NamedTuple):
    """One case-insensitive wildcard (``cooperaci*``) whose key is plain letters and digits: the
    hit runs to the end of the word."""

    term_id: int
    length: int


class Stem(NamedTuple):
    """One case-insensitive one-word stem whose key is plain letters and digits: the word the key
    starts must have that stem.  ``entry`` is the general form, for a field with a "_" (a word
    character that the spaced-out text blanks)."""

    term_id: int
    length: int
    stem: str
    entry: Entry


class Entry(NamedTuple):
    """One term searched under an automaton key."""

    trail: int            # 1 when the key ends with the word-boundary space after the term
    length: int           # the term's key length in the folded text
    confirm: str | None   # the key, to compare letter for letter, when it has spaces or punctuation
    term_id: int
    kind: int             # EXACT, PREFIX, STEM (one word) or STEMS
    stems: tuple[str, ...]
    case: str | None      # the spelling a case-sensitive term must have in the original


def _value(entries: list[Entry]) -> Word | Prefix | Stem | tuple[Entry, ...]:
    """What the automaton stores under one key: the terms searched under it, as a one-term value
    that the scan checks inline when there is one plain term (most keys), else every entry."""
    only = entries[0]
    if len(entries) == 1 and only.confirm is None and only.case is None:
        if only.kind == EXACT and only.trail:
            return Word(only.term_id, only.length + 1)
        if only.kind == PREFIX:
            return Prefix(only.term_id, only.length)
        if only.kind == STEM:
            return Stem(only.term_id, only.length, only.stems[0], only)
    return tuple(entries)


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
             raw: bytes | None = None) -> dict[int, list[Span]]:
        """``raw``: :func:`latin1_bytes` of ``folded``, if the caller has it."""
        if self.table.automaton is None:
            self.table.build()
        automaton = self.table.automaton
        if automaton is None or not folded:
            return {}
        found: dict[int, list[Span]] = {}
        spans_of = found.setdefault
        spaced = spaced_out(folded, raw)
        underscore = "_" in folded  # a word character that ``spaced`` blanks: stems then find their word by regex
        stem_of = self._stem_cache
        # last: the spaced index of the key's last character, i.e. the folded offset just after it
        for last, value in automaton.iter(spaced):
            kind = value.__class__
            if kind is Word:  # found is all there is to it: the word ends before its space
                term_id, back = value
                spans_of(term_id, []).append((last - back, last - 1))
            elif kind is Prefix:  # to the end of the letters and digits: the next space in ``spaced``
                term_id, length = value
                spans_of(term_id, []).append((last - length, spaced.find(" ", last + 1) - 1))
            elif kind is Stem and not underscore:  # the word the key starts, if its stem is the key
                term_id, length, stem, _ = value
                word_end = spaced.find(" ", last + 1) - 1
                word = folded[last - length:word_end]
                if (stem_of.get(word) or self._stem(word)) == stem:
                    spans_of(term_id, []).append((last - length, word_end))
            else:
                for entry in (value.entry,) if kind is Stem else value:
                    span = self._check(entry, last, folded, spaced, original, offsets)
                    if span is not None:
                        spans_of(entry.term_id, []).append(span)
        return found

    def _check(self, entry: Entry, last: int, folded: str, spaced: str, original: str,
               offsets: list[int] | None) -> Span | None:
        """The hit of ``entry`` whose key ends at spaced index ``last``, if it is one: the key
        letter for letter, a wildcard or stem extended to the end of its word (stems confirmed),
        the exact case of a case-sensitive term."""
        trail, length, confirm, _, kind, _, case = entry
        end = last - trail  # folded offset: spaced index minus the leading pad, plus one
        start = end - length
        if confirm is not None and folded[start:end] != confirm:
            return None
        if kind == PREFIX:  # to the end of the letters and digits: the next space in ``spaced``
            end = spaced.find(" ", end + 1) - 1
        elif kind != EXACT:
            end = self._stem_end(entry, folded, spaced, start, end)
        if end < 0 or (case is not None and not _same_case(case, original, offsets, start, end)):
            return None
        return start, end

    def _stem_end(self, entry: Entry, folded: str, spaced: str, start: int, end: int) -> int:
        """Where the hit of a stem entry at ``[start, end)`` ends; -1 if the word's stem (or the
        words' stems) is not the entry's."""
        if entry.kind == STEMS:
            return self._match_stems(folded, start, entry.stems)
        # one word (\w+): it ends where letters and digits do (the next space in ``spaced``),
        # unless the field has a "_"
        if "_" in folded:
            word_end = _WORD_AT.match(folded, start).end()  # type: ignore[union-attr]  # a stem key starts a word
        else:
            word_end = spaced.find(" ", end + 1) - 1
        word = folded[start:word_end]
        stem = self._stem_cache.get(word)  # memoised by word: a few thousand cover most news
        if stem is None:
            stem = self._stem(word)
        return word_end if stem == entry.stems[0] else -1

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
            if word is None or self._stem(word.group()) != wanted:
                return -1
            position = word.end()
        return position


def _same_case(spelling: str, original: str, offsets: list[int] | None, start: int, end: int) -> bool:
    """True when the original text of the folded ``[start, end)`` is ``spelling`` letter for letter."""
    o_start, o_end = (start, end) if offsets is None else (offsets[start], offsets[end - 1] + 1)
    return original[o_start:o_end] == spelling
