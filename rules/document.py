"""The document a rule is matched against, and its folded view with paragraph/sentence/word positions.

Positions (which paragraph, sentence or word a hit falls in) are only needed by proximity
conditions, so they are computed lazily, once per field.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate

from .normalize import fold_with_offsets, to_original

FIELDS = ("title", "summary", "text")

_PARAGRAPH_BREAK = re.compile(r"\n\s*")
# A sentence ends at . ! ? … (plus closing quotes) followed by space and an opening capital or mark.
_SENTENCE_BREAK = re.compile(r"[.!?…][\"'»”’)]*\s+(?=[\"'«“¿¡(]?[A-ZÁÉÍÓÚÑÜ0-9])|\n\s*")
_WORD = re.compile(r"\w+")
_WORD_SPLIT = re.compile(r"(\w+)")

# Paragraphs that are navigation boxes left in the text ("Lee también: …", "Te puede interesar")
# are not the article: their words must not make a story match.  Folded-text prefixes.
_NAV_PARAGRAPH = re.compile(
    r"(?:lee|leer|lea|ver|mira|checa) (?:tambien|mas|aqui)\b|te (?:puede|podria) interesar|"
    r"te recomendamos|recomendamos\b|noticias? relacionadas?|notas? relacionadas?|relacionad[oa]s?\s*:|"
    r"temas? relacionados?|mas (?:noticias|informacion|notas|leidas?)\b|lo mas (?:leido|visto)|"
    r"(?:etiquetas|tags|temas)\s*:|siguenos\b|suscribete\b|comparte esta|tambien te puede|"
    r"quiza te interese|otras noticias|ultimas noticias|seguir leyendo"
)

# searched in "\n" + text: a pattern that starts with a literal lets the search skip to line starts
_NAV_START = re.compile(r"\n[ \t\-•*>|]*(?:" + _NAV_PARAGRAPH.pattern + ")")
# where a sentence break can start: the search for breaks tries only these
_SENTENCE_CANDIDATE = re.compile(r"[.!?…\n]")


@dataclass(frozen=True)
class Document:
    """An article as the matcher sees it: text is the body paragraphs joined by blank lines."""

    title: str
    text: str
    summary: str = ""


class FieldView:
    """One field folded for matching, with lazily computed unit boundaries."""

    __slots__ = ("original", "folded", "offsets", "_starts", "ignored")

    def __init__(self, original: str, ignore_navigation: bool) -> None:
        self.original = original
        self.folded, self.offsets = fold_with_offsets(original)
        self._starts: dict[str, list[int]] = {}
        self.ignored: list[tuple[int, int]] = _navigation_spans(self.folded) if ignore_navigation else []

    def starts(self, unit: str) -> list[int]:
        """Start offsets (folded) of each paragraph, sentence or word of this field."""
        found = self._starts.get(unit)
        if found is None:
            if unit == "words":
                # split on words keeps them at odd indices; summed lengths give their starts
                parts = _WORD_SPLIT.split(self.folded)
                found = list(accumulate(map(len, parts), initial=0))[1:-1:2]
            elif unit == "paragraphs":
                found = [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(self.folded)]
            else:  # sentences need the original capitals to see where the next one starts
                found = _sentence_starts(self.original)
                if self.offsets is not None:
                    found = [bisect_left(self.offsets, position) for position in found]
            self._starts[unit] = found
        return found

    def unit_index(self, unit: str, position: int) -> int:
        """Index of the paragraph/sentence/word containing folded offset ``position``."""
        return bisect_right(self.starts(unit), position) - 1

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return to_original(self.offsets, start, end)

    def is_ignored(self, position: int) -> bool:
        for lo, hi in self.ignored:
            if lo <= position < hi:
                return True
        return False


def _sentence_starts(original: str) -> list[int]:
    """``[0]`` plus the end of each ``_SENTENCE_BREAK`` match, as ``finditer`` finds them, trying
    the pattern only where a break can start (each one starts with . ! ? … or a newline)."""
    found = [0]
    match = _SENTENCE_BREAK.match
    resume = 0
    for position in _break_candidates(original):
        if position >= resume:
            m = match(original, position)
            if m:
                resume = m.end()
                found.append(resume)
    return found


def _break_candidates(original: str) -> list[int]:
    """The offsets ``_SENTENCE_CANDIDATE.finditer`` would give, in order: each of its characters
    found by ``str.find`` (a fast C scan; a regex tries its character class at every position)."""
    positions: list[int] = []
    find = original.find
    add = positions.append
    for char in _BREAK_CHARS:
        position = find(char)
        while position >= 0:
            add(position)
            position = find(char, position + 1)
    positions.sort()
    return positions


_BREAK_CHARS = ".!?…\n"  # the characters of _SENTENCE_CANDIDATE


def _navigation_spans(folded: str) -> list[tuple[int, int]]:
    """Spans of paragraphs that are navigation boxes; a bare marker line also hides the line after it."""
    if not _NAV_START.search("\n" + folded):
        return []
    spans: list[tuple[int, int]] = []
    starts = [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(folded)]
    ends = [m.start() for m in _PARAGRAPH_BREAK.finditer(folded)] + [len(folded)]
    hide_next = False
    for lo, hi in zip(starts, ends):
        paragraph = folded[lo:hi].lstrip(" \t-•*>|")
        if hide_next:
            spans.append((lo, hi))
            hide_next = False
            continue
        marker = _NAV_PARAGRAPH.match(paragraph)
        if marker:
            spans.append((lo, hi))
            rest = paragraph[marker.end():].strip(" :.-–—»>")
            hide_next = not rest
    return spans


class DocView:
    """The folded fields of a document, shared by every rule evaluated against it."""

    __slots__ = ("document", "fields")

    def __init__(self, document: Document) -> None:
        self.document = document
        self.fields = {
            "title": FieldView(document.title or "", ignore_navigation=False),
            "summary": FieldView(document.summary or "", ignore_navigation=False),
            "text": FieldView(document.text or "", ignore_navigation=True),
        }
