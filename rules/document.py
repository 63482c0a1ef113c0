"""The document a rule is matched against, and its folded view with paragraph/sentence/word positions.

Positions (which paragraph, sentence or word a hit falls in) are only needed by proximity
conditions, so they are computed lazily, once per field.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate

from .normalize import fold, fold_with_offsets, to_original

FIELDS = ("title", "summary", "text")

_PARAGRAPH_BREAK = re.compile(r"\n\s*")
# A sentence ends at . ! ? … (plus closing quotes) followed by space and an opening capital or mark.
_SENTENCE_BREAK = re.compile(r"[.!?…][\"'»”’)]*\s+(?=[\"'«“¿¡(]?[A-ZÁÉÍÓÚÑÜ0-9])|\n\s*")
_WORD = re.compile(r"\w+")
_WORD_SPLIT = re.compile(r"(\w+)")

# Paragraphs that are navigation boxes left in the text ("Lee también: …", "Te puede interesar")
# are not the article: their words must not make a story match.  One filter, here: the crawl
# drops these paragraphs from what it stores (``drop_navigation``), and the matcher ignores
# them in any document it is given.  Patterns are on folded text (lower case, no accents).
#
# A navigation marker opens a box whatever follows it; a bare marker line hides the line after it.
_NAV_PARAGRAPH = re.compile(
    r"(?:lee|leer|lea|ver|mira|checa) (?:tambien|mas|aqui)\b|te (?:puede|podria) interesar|"
    r"te recomendamos|recomendamos\b|noticias? relacionadas?|notas? relacionadas?|relacionad[oa]s?\s*:|"
    r"temas? relacionados?|mas (?:noticias|informacion|notas|leidas?)\b|lo mas (?:leido|visto)|"
    r"(?:etiquetas|tags|temas)\s*:|siguenos\b|suscribete\b|comparte esta|tambien te puede|"
    r"quiza te interese|otras noticias|ultimas noticias|seguir leyendo"
)
# A teaser or call to action: navigation only when short (a long paragraph starting "Vea…" is prose).
_TEASER = re.compile(
    r"\W*(?:lea|lee|leer|vea|ver|mira|le puede|te puede|les puede|puede|tambien te puede|te recomendamos|"
    r"recomendamos|relacionad[oa]s?|notas? relacionadas?|mas (?:informacion|noticias|sobre)|siguenos|"
    r"suscribete|unete|hazte miembro|descarga nuestra|lo mas leido|"
    r"te sugerimos|quizas te interese|quiza te interese|tambien lee|tambien puedes leer)\b"
)
_TEASER_MAX = 300
# A "related" heading: the short headline lines under it (no sentence end) are links too.
_LIST_HEADING = re.compile(r"\W*(?:notas? relacionadas?|te recomendamos|lo mas leido|mas noticias|relacionad[oa]s)\W*$")
_LIST_LINE_MAX = 160

# searched in "\n" + text: a pattern that starts with a literal lets the search skip to line starts
_NAV_START = re.compile(r"\n[ \t\-•*>|]*(?:" + _NAV_PARAGRAPH.pattern + ")|\n" + _TEASER.pattern)
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

    __slots__ = ("_starts", "folded", "ignored", "offsets", "original")

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
        return any(lo <= position < hi for lo, hi in self.ignored)


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


def navigation_flags(folded_paragraphs: list[str]) -> list[bool]:
    """Which of these (folded) paragraphs are navigation: a marker's box, the line a bare marker
    announces, a short teaser, a "related" heading and the short headline lines under it."""
    flags: list[bool] = []
    hide_next = in_list = False
    for paragraph in folded_paragraphs:
        if hide_next:
            hide_next = False
            flags.append(True)
            continue
        if _LIST_HEADING.match(paragraph):
            in_list = True
            flags.append(True)
            continue
        if in_list and len(paragraph) < _LIST_LINE_MAX and not paragraph.rstrip().endswith((".", "»", '"')):
            flags.append(True)
            continue
        in_list = False
        stripped = paragraph.lstrip(" \t-•*>|")
        marker = _NAV_PARAGRAPH.match(stripped)
        if marker:
            hide_next = not stripped[marker.end():].strip(" :.-–—»>")
            flags.append(True)
            continue
        flags.append(bool(_TEASER.match(paragraph)) and len(paragraph) < _TEASER_MAX)
    return flags


def drop_navigation(paragraphs: list[str]) -> list[str]:
    """The paragraphs that are the article: what the crawl keeps of an extracted page."""
    flags = navigation_flags([fold(paragraph) for paragraph in paragraphs])
    return [paragraph for paragraph, navigation in zip(paragraphs, flags) if not navigation]


def _navigation_spans(folded: str) -> list[tuple[int, int]]:
    """Spans (folded offsets) of the paragraphs of a field that are navigation."""
    if not _NAV_START.search("\n" + folded):
        return []
    starts = [0] + [m.end() for m in _PARAGRAPH_BREAK.finditer(folded)]
    ends = [m.start() for m in _PARAGRAPH_BREAK.finditer(folded)] + [len(folded)]
    flags = navigation_flags([folded[lo:hi] for lo, hi in zip(starts, ends)])
    return [(lo, hi) for lo, hi, navigation in zip(starts, ends, flags) if navigation]


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
