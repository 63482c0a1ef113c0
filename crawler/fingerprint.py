"""Content fingerprints: a 64-bit SimHash that stays close across syndicated copies.

A wire story (EFE, AP, Reuters) republished by ten outlets keeps most of its sentences
but not its headline, and each outlet adds or cuts a line or a paragraph. SimHash over
words and word pairs of the normalised text maps such copies to fingerprints a few bits apart,
while unrelated texts land about 32 bits apart; storage.stories.MAX_DISTANCE is the line
between the two, tuned in tests/test_fingerprint.py.

The value is signed so that it fits a SQL BIGINT; compare with storage.stories.hamming.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata

BITS = 64

# Function words carry no story: dropping them lets "acordaron mantener la coordinación"
# and "acordaron mantener coordinación" agree, and keeps unrelated texts apart.
STOPWORDS = frozenset(
    """a al ante bajo cabe con contra de del desde durante e el ella ellos en entre era eran es esa
    ese eso esta estas este esto estos fue fueron ha habia han hasta la las le les lo los mas me mi
    muy ni no nos o otra otras otro otros para pero por porque que quien se segun ser si sido sin
    sobre su sus tambien tan tras un una unas uno unos y ya""".split()
)

_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> list[str]:
    """Casefolded words without accents (ñ folds to n too: copies agree either way)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(folded)


def features(words: list[str]) -> dict[str, int]:
    """Weighted features: content words (more weight when repeated) and content-word bigrams.

    Why this mix (measured in tests/test_fingerprint.py on the labelled dev set): plain
    three-word shingles put a wire story and its copy with a rewritten lead 18 bits apart,
    as far as unrelated stories on the same topic; unigrams tolerate rewording and the
    bigrams keep two stories that share the topic's vocabulary apart.
    """
    content = [w for w in words if len(w) > 2 and w not in STOPWORDS]
    counts: dict[str, int] = {}
    for word in content:
        counts[word] = counts.get(word, 0) + 1
    # Integer weights (tenths) keep the tally exact: 1 + ln(count) for a word, 1 for a pair.
    weights = {word: round(10 * (1 + math.log(count))) for word, count in counts.items()}
    for first, second in zip(content, content[1:]):
        weights.setdefault(f"{first} {second}", 10)
    return weights


def _hash64(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")


def simhash(text: str) -> int:
    """The signed 64-bit SimHash of ``text`` (0 for a text without words).

    Bit votes are tallied a byte at a time (8 passes over the features plus a fixed
    256×8 table) rather than bit by bit, which keeps the pure-Python cost near 1 ms for
    a typical article.
    """
    weighted = features(normalise(text))
    if not weighted:
        return 0
    hashes = [(_hash64(feature), weight) for feature, weight in weighted.items()]
    total_weight = sum(weighted.values())
    totals = [0] * BITS
    for position in range(BITS // 8):
        shift = position * 8
        tally: dict[int, int] = {}
        for value, weight in hashes:
            byte = (value >> shift) & 0xFF
            tally[byte] = tally.get(byte, 0) + weight
        for byte, count in tally.items():
            for bit in range(8):
                if byte >> bit & 1:
                    totals[shift + bit] += count
    result = 0
    for bit, total in enumerate(totals):
        if 2 * total > total_weight:
            result |= 1 << bit
    return result - (1 << BITS) if result >= 1 << (BITS - 1) else result


def distance(a: int, b: int) -> int:
    """Differing bits between two fingerprints (signed or not)."""
    return ((a ^ b) & ((1 << BITS) - 1)).bit_count()
