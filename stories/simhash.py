"""Same text: a 64-bit SimHash that stays close across near-identical copies.

A wire story (EFE, AP, Reuters) republished by ten outlets keeps most of its sentences but
not its headline, and each outlet adds or cuts a line or a paragraph. SimHash over words and
word pairs of the folded text maps such copies to fingerprints a few bits apart, while
unrelated texts land about 32 bits apart; ``MAX_DISTANCE`` is the line between the two, tuned
in tests/test_fingerprint.py. Copies an outlet edited more (its own lede, a trimmed ending)
drift further than that: stories.minhash finds those.

The value is signed so that it fits a SQL BIGINT; ``distance`` takes signed or unsigned.
"""

from __future__ import annotations

import hashlib
import itertools
import math

from stories.text import STOPWORDS, words

BITS = 64
# Two fingerprints this close (in differing bits) are the same story. Tuned in
# tests/test_fingerprint.py against edited copies and unrelated stories on one topic.
MAX_DISTANCE = 12


def features(folded_words: list[str]) -> dict[str, int]:
    """Weighted features: content words (more weight when repeated) and content-word bigrams.

    Why this mix (measured in tests/test_fingerprint.py on the labelled dev set): plain
    three-word shingles put a wire story and its copy with a rewritten lead 18 bits apart,
    as far as unrelated stories on the same topic; unigrams tolerate rewording and the
    bigrams keep two stories that share the topic's vocabulary apart.
    """
    content = [w for w in folded_words if len(w) > 2 and w not in STOPWORDS]
    counts: dict[str, int] = {}
    for word in content:
        counts[word] = counts.get(word, 0) + 1
    # Integer weights (tenths) keep the tally exact: 1 + ln(count) for a word, 1 for a pair.
    weights = {word: round(10 * (1 + math.log(count))) for word, count in counts.items()}
    for first, second in itertools.pairwise(content):
        weights.setdefault(f"{first} {second}", 10)
    return weights


def _digest64(feature: str) -> bytes:
    """The feature's 64-bit hash, as 8 bytes, least significant first."""
    return hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()


# For each bit 0..7, a byte → 1 or 0 table saying whether that bit is set.
_BIT_OF_BYTE = [bytes(byte >> bit & 1 for byte in range(256)) for bit in range(8)]


def simhash(text: str) -> int:
    """The signed 64-bit SimHash of ``text`` (0 for a text without words).

    Bit votes are counted by C-level byte operations rather than bit by bit in Python:
    features of equal weight (most of them weigh 10) are grouped, their 8-byte
    little-endian hashes joined, and for each byte position and bit the set bits are
    counted with ``translate`` + ``count``, about 0.1 ms for a typical article.
    """
    weighted = features(words(text))
    if not weighted:
        return 0
    by_weight: dict[int, list[bytes]] = {}
    for feature, weight in weighted.items():
        by_weight.setdefault(weight, []).append(_digest64(feature))
    total_weight = sum(weighted.values())
    totals = [0] * BITS
    for weight, digests in by_weight.items():
        joined = b"".join(digests)
        for position in range(BITS // 8):
            column = joined[position::8]  # byte ``position`` of every hash: bits 8*position...
            for bit, keep in enumerate(_BIT_OF_BYTE):
                totals[8 * position + bit] += weight * column.translate(keep).count(1)
    result = 0
    for bit, total in enumerate(totals):
        if 2 * total > total_weight:
            result |= 1 << bit
    return result - (1 << BITS) if result >= 1 << (BITS - 1) else result


def distance(a: int, b: int) -> int:
    """Differing bits between two fingerprints (signed or not)."""
    return ((a ^ b) & ((1 << BITS) - 1)).bit_count()
