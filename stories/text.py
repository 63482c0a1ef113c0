"""The words the story comparisons see: folded text, content words, word shingles.

Folding is ``rules.normalize.fold`` (casefolded, accents stripped) with one step more: ñ
folds to n as well. The matcher keeps ñ (año and ano are different words to a rule), but a
copy and its original must agree whichever way an outlet's system wrote them ("Pena Nieto").
"""

from __future__ import annotations

import re

from rules.normalize import fold

_WORD = re.compile(r"[^\W_]+")

# Function words carry no story: dropping them lets "acordaron mantener la coordinación"
# and "acordaron mantener coordinación" agree, and keeps unrelated texts apart.
STOPWORDS = frozenset(
    ["a", "al", "ante", "bajo", "cabe", "con", "contra", "de", "del", "desde", "durante", "e", "el", "ella", "ellos", "en", "entre", "era", "eran", "es", "esa", "ese", "eso", "esta", "estas", "este", "esto", "estos", "fue", "fueron", "ha", "habia", "han", "hasta", "la", "las", "le", "les", "lo", "los", "mas", "me", "mi", "muy", "ni", "no", "nos", "o", "otra", "otras", "otro", "otros", "para", "pero", "por", "porque", "que", "quien", "se", "segun", "ser", "si", "sido", "sin", "sobre", "su", "sus", "tambien", "tan", "tras", "un", "una", "unas", "uno", "unos", "y", "ya"]
)
# Shingles and word overlap also drop the reporting verb that every write-up of an event has.
SHINGLE_STOPWORDS = STOPWORDS | {"dijo"}
SHINGLE = 3  # words per shingle (content words: function words dropped)


def comparable(text: str) -> str:
    """``text`` folded for comparing tellings: casefolded, without accents, ñ as n."""
    return fold(text).replace("ñ", "n")


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return _WORD.findall(comparable(text))


def content_words(text: str) -> list[str]:
    """Words of more than two letters that are not function words, in order."""
    return [w for w in words(text) if len(w) > 2 and w not in SHINGLE_STOPWORDS]


def shingles(text: str) -> set[str]:
    """Every run of ``SHINGLE`` consecutive content words (the whole text when shorter)."""
    found = content_words(text)
    if len(found) < SHINGLE:
        return {" ".join(found)} if found else set()
    return {" ".join(found[i : i + SHINGLE]) for i in range(len(found) - SHINGLE + 1)}
