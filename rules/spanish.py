"""Is this text Spanish? One detector for the crawl's language stage and the rules' ``language: es``.

Vigía only alerts on Spanish text, so the question is narrow: Spanish or not. Function
words settle it for Latin-script languages (including the close ones: Portuguese,
Catalan, Galician, Italian); text mostly in another script is not Spanish whatever the
page says. A declared language (``<html lang>``, the listing's) only decides when the
text is too short to vote, because CMS templates often declare the wrong language.

The rules' guard runs once per article per rule set, so the vote is counted in a few C
passes over the Latin-1 bytes of the text (~0.1 ms an article), not character by character.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping

UNDETERMINED = "und"
MIN_WORDS = 25
MIN_SHARE = 0.05  # Spanish prose runs at ~0.3 of these words; a stray "de" or "la" is not Spanish
MIN_DISTINCT = 8  # ...and uses many of them: Swahili's "la" alone must not pass
SHORT_TEXT = 60  # a text this short (a page whose only text is its summary) uses fewer of them
MIN_DISTINCT_SHORT = 6


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Words frequent in one language and rare (or spelled differently) in its neighbours.
STOP_WORDS: dict[str, frozenset[str]] = {
    "es": _words("el la los las del y con un una es al lo que se por para pero más fue su sus muy según también hasta cuando porque "
        "este esta estos estas ese esa como sobre entre sin ya le les han ha fueron era donde desde "
        "dijo tras durante aunque hay otro otros mientras"),
    "pt": _words("o os do da dos das em não é ao à mais pelo pela pelos pelas também seu sua são uma um com "
        "foi isso ele ela eles já há quando mas nos nas num numa está"),
    "ca": _words("els i amb és als dels per però més aquest aquesta pel seu seva perquè hi van"),
    "it": _words("il di e che della delle degli gli è sono non anche più nel nella alla al per questo"),
    "fr": _words("le les des du et un une qui pour dans sur pas au aux est ce il elle avec ne plus"),
    "en": _words("the and of to in a is that for on with as was by it at from be this are have has"),
    "de": _words("der die das und den von zu mit ist des sich dem nicht ein eine auch auf für im"),
    "nl": _words("het een van is dat op te zijn met voor niet aan ook"),
}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_FUNCTION_WORDS = frozenset().union(*STOP_WORDS.values())
# each function word's languages, by the word and by its Latin-1 bytes (what the counts on bytes are keyed by)
_LANGUAGES_OF: dict[str | bytes, list[str]] = {}
for _word in _FUNCTION_WORDS:
    _LANGUAGES_OF[_word] = _LANGUAGES_OF[_word.encode("latin-1")] = [
        lang for lang, words in STOP_WORDS.items() if _word in words]
_FUNCTION_WORDS_LATIN1 = frozenset(word.encode("latin-1") for word in _FUNCTION_WORDS)
_BEYOND_LATIN1 = re.compile(r"[^\x00-\xff]")
# A Latin-1 byte that is a letter (what WORD matches) becomes its lower case, every other byte a
# space: on text.encode("latin-1", "replace") that is text.lower() encoded and split into words,
# when no character beyond Latin-1 is a letter (none that is not a letter lowers to a Latin-1
# letter, and every Latin-1 letter lowers to one; tests/test_rules_language.py checks both).
_LOWER_LETTERS_ONLY = bytes(ord(chr(c).lower()) if chr(c).isalpha() else 32 for c in range(256))
_NOT_LETTERS = bytes(c for c in range(256) if not chr(c).isalpha())
_LATIN1_NON_LATIN_LETTERS = tuple(bytes([c]) for c in range(256) if chr(c).isalpha() and "LATIN" not in unicodedata.name(chr(c), ""))
_LATIN: dict[str, bool] = {}  # letter -> is it Latin script; looking up a character's name is the costly part


def normalise_tag(tag: str | None) -> str | None:
    """``es-MX``, ``es_ES``, ``ES`` → ``es``."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def _is_latin(char: str) -> bool:
    found = _LATIN.get(char)
    if found is None:
        found = _LATIN[char] = "LATIN" in unicodedata.name(char, "")
    return found


def latin_share(text: str, beyond_latin1: list[str] | None = None, raw: bytes | None = None) -> float:
    """Share of the letters that are Latin script. The Latin-1 ones are counted on bytes in
    C; only the few characters beyond Latin-1 (mostly quotes and dashes) are looked at one by one.
    ``raw``: ``text.encode("latin-1", "replace")``, if the caller has it."""
    raw = text.encode("latin-1", "replace") if raw is None else raw
    letters = len(raw.translate(None, _NOT_LETTERS))
    latin = letters - sum(map(raw.count, _LATIN1_NON_LATIN_LETTERS))
    beyond = _BEYOND_LATIN1.findall(text) if beyond_latin1 is None else beyond_latin1
    for char, count in Counter(beyond).items():
        if char.isalpha():
            letters += count
            latin += count if _is_latin(char) else 0
    return latin / letters if letters else 0.0


def _function_word_counts(text: str, beyond_latin1: list[str],
                          raw: bytes | None = None) -> tuple[Mapping[str, int] | Mapping[bytes, int], int]:
    """How often each function word occurs (casefolded; as Latin-1 bytes when every letter is
    Latin-1), and how many words there are."""
    if not any(char.isalpha() for char in beyond_latin1):
        # Every letter is Latin-1: the words are the runs of letter bytes, lowered by the same
        # C pass that blanks the rest (one to translate, one to split), and only the function
        # words among them are counted.
        raw = text.encode("latin-1", "replace") if raw is None else raw
        words = raw.translate(_LOWER_LETTERS_ONLY).split()
        return Counter(filter(_FUNCTION_WORDS_LATIN1.__contains__, words)), len(words)
    counts: Counter[str] = Counter()
    for word, count in Counter(WORD.findall(text)).items():  # casefold each distinct spelling once
        counts[word.casefold()] += count
    total = sum(counts.values())
    return {word: counts[word] for word in _FUNCTION_WORDS & counts.keys()}, total


def vote(text: str, beyond_latin1: list[str] | None = None, raw: bytes | None = None) -> tuple[str | None, float, int, int]:
    """The language whose function words are most frequent: its share of the words, how many
    distinct function words it used, and the word count.  ``raw`` as for :func:`latin_share`."""
    beyond = _BEYOND_LATIN1.findall(text) if beyond_latin1 is None else beyond_latin1
    counts, total = _function_word_counts(text, beyond, raw)
    if not total:
        return None, 0.0, 0, 0
    hits = dict.fromkeys(STOP_WORDS, 0)
    distinct = dict.fromkeys(STOP_WORDS, 0)
    for word, count in counts.items():  # a few dozen distinct function words
        for language in _LANGUAGES_OF[word]:
            hits[language] += count
            distinct[language] += 1
    best, best_hits = None, 0
    for language in STOP_WORDS:  # the first of equals wins, in STOP_WORDS' order
        if hits[language] > best_hits:
            best, best_hits = language, hits[language]
    return best, best_hits / total, distinct[best] if best else 0, total


def detect_language(text: str, declared: str | None = None, listed: str | None = None) -> str:
    """The text's language code; ``und`` when nothing tells. ``declared`` (``<html lang>``) and
    ``listed`` (the feed's language) decide only what the text cannot."""
    declared_tag = normalise_tag(declared) or normalise_tag(listed)
    not_spanish_or_unknown = declared_tag if declared_tag and declared_tag != "es" else UNDETERMINED
    raw = text.encode("latin-1", "replace")  # both counts are on these bytes
    # the few characters both counts look at one by one ("?" from nothing else: there are none)
    beyond_latin1 = _BEYOND_LATIN1.findall(text) if raw.count(b"?") != text.count("?") else []
    if text and latin_share(text, beyond_latin1, raw) < 0.5:
        return not_spanish_or_unknown
    best, share, distinct, count = vote(text, beyond_latin1, raw)
    if count < MIN_WORDS:
        return declared_tag or best or UNDETERMINED
    needed = MIN_DISTINCT if count >= SHORT_TEXT else MIN_DISTINCT_SHORT
    if best is None or (best == "es" and (share < MIN_SHARE or distinct < needed)):
        return not_spanish_or_unknown
    return best


def looks_spanish(text: str) -> bool:
    """The rules' ``language: es`` guard: Spanish, or too little text to tell (a short text
    is not held against a rule); False once the text is known to be in another language."""
    return detect_language(text) in ("es", UNDETERMINED)
