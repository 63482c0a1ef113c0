"""Is this article Spanish? A cheap stop-word vote on the extracted text.

Vigía only alerts on Spanish text, so the question is narrow: Spanish or not. Function
words settle it for Latin-script languages (including the close ones: Portuguese,
Catalan, Galician, Italian); text mostly in another script is not Spanish whatever the
page says. ``<html lang>`` and the listing's language only decide when the text is too
short to vote, because CMS templates often declare the wrong language.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

MIN_WORDS = 25
MIN_SHARE = 0.05  # Spanish prose runs at ~0.3 of these words; a stray "de" or "la" is not Spanish
MIN_DISTINCT = 8  # ...and uses many of them: Swahili's "la" alone must not pass
SHORT_TEXT = 60  # a text this short (a page whose only text is its summary) uses fewer of them
MIN_DISTINCT_SHORT = 6

# Words frequent in one language and rare (or spelled differently) in its neighbours.
STOP_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        "el la los las del y con un una es al lo que se por para pero más fue su sus muy según también hasta cuando porque "
        "este esta estos estas ese esa como sobre entre sin ya le les han ha fueron era donde desde "
        "dijo tras durante aunque hay otro otros mientras".split()
    ),
    "pt": frozenset(
        "o os do da dos das em não é ao à mais pelo pela pelos pelas também seu sua são uma um com "
        "foi isso ele ela eles já há quando mas nos nas num numa está".split()
    ),
    "ca": frozenset("els i amb és als dels per però més aquest aquesta pel seu seva perquè hi van".split()),
    "it": frozenset("il di e che della delle degli gli è sono non anche più nel nella alla al per questo".split()),
    "fr": frozenset("le les des du et un une qui pour dans sur pas au aux est ce il elle avec ne plus".split()),
    "en": frozenset("the and of to in a is that for on with as was by it at from be this are have has".split()),
    "de": frozenset("der die das und den von zu mit ist des sich dem nicht ein eine auch auf für im".split()),
    "nl": frozenset("het een van is dat op te zijn met voor niet aan ook".split()),
}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def normalise_tag(tag: str | None) -> str | None:
    """``es-MX``, ``es_ES``, ``ES`` → ``es``."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def latin_share(text: str) -> float:
    """Share of the letters that are Latin script. Counted per distinct character: an
    article has a few hundred, and looking up a character's name is the costly part."""
    letters = latin = 0
    for char, count in Counter(text).items():
        if char.isalpha():
            letters += count
            if "LATIN" in unicodedata.name(char, ""):
                latin += count
    return latin / letters if letters else 0.0


def vote(text: str) -> tuple[str | None, float, int, int]:
    """The language whose function words are most frequent: its share of the words, how many
    distinct function words it used, and the word count."""
    words: Counter[str] = Counter()
    for word, count in Counter(WORD.findall(text)).items():  # casefold each distinct spelling once
        words[word.casefold()] += count
    total = sum(words.values())
    if not total:
        return None, 0.0, 0, 0
    best, best_hits, best_distinct = None, 0, 0
    for language, stop_words in STOP_WORDS.items():
        used = [words[word] for word in stop_words if word in words]
        if sum(used) > best_hits:
            best, best_hits, best_distinct = language, sum(used), len(used)
    return best, best_hits / total, best_distinct, total


def detect_language(text: str, declared: str | None = None, listed: str | None = None) -> str:
    """The article's language code; ``und`` when nothing tells."""
    declared_tag = normalise_tag(declared) or normalise_tag(listed)
    if text and latin_share(text) < 0.5:
        return declared_tag if declared_tag and declared_tag != "es" else "und"
    best, share, distinct, count = vote(text)
    if count < MIN_WORDS:
        return declared_tag or best or "und"
    needed = MIN_DISTINCT if count >= SHORT_TEXT else MIN_DISTINCT_SHORT
    if best == "es" and (share < MIN_SHARE or distinct < needed):
        return declared_tag if declared_tag and declared_tag != "es" else "und"
    if best is None:
        return declared_tag if declared_tag and declared_tag != "es" else "und"
    return best
