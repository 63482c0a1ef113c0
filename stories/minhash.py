"""Edited copy, candidates: a MinHash of the text's shingles, cut into LSH bands.

Each article's shingles (stories.text) are signed with ``NUM_PERM`` minimum hash values; two
texts agree on a value with probability their shingles' Jaccard similarity. The values are
cut into ``BANDS`` bands of ``ROWS``; articles that share a band's key (storage keeps them in
``story_bands``, indexed) are candidate copies, verified by stories.joins.

The signature is one-permutation hashing with densification (Shrivastava & Li, 2014): each
shingle is hashed once (BLAKE2b, 64 bits), its low 6 bits pick one of the 64 bins and the rest
is its value there; each bin keeps its least value, and an empty bin (a short text) borrows
the next non-empty bin's value to its right, offset by how far it looked. One hash per shingle
instead of 64 keeps signing an article well under a millisecond in plain Python, without
numpy; the collision probability per bin stays the Jaccard similarity.

A pair of texts with shingle Jaccard s becomes a candidate with probability 1 - (1 - s²)³²:
0.95 at s = 0.3 (a heavily edited copy), 0.08 at s = 0.05, ~0 for unrelated stories of one
topic (s ≈ 0.01).
"""

from __future__ import annotations

import hashlib

NUM_PERM = 64
BANDS = 32
ROWS = NUM_PERM // BANDS
_BIN_BITS = 6  # 2**6 == NUM_PERM bins
_VALUE_LIMIT = 1 << (64 - _BIN_BITS)  # values are what is left of a 64-bit hash: below this
# The version of this signature: stored band keys of another version are recomputed (migration 0006).
VERSION = 1


def signature(shingles: set[str]) -> tuple[int, ...] | None:
    """The ``NUM_PERM`` values of the shingles' MinHash (None for no shingles)."""
    if not shingles:
        return None
    best = [_VALUE_LIMIT] * NUM_PERM
    mask = NUM_PERM - 1
    for shingle in shingles:
        hashed = int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "little")
        slot, value = hashed & mask, hashed >> _BIN_BITS
        best[slot] = min(best[slot], value)
    return tuple(_densified(best))


def _densified(best: list[int]) -> list[int]:
    """Empty bins take the value of the next filled bin to the right (circularly), plus
    ``distance * _VALUE_LIMIT``, so a borrowed value never equals an owned one."""
    if _VALUE_LIMIT not in best:
        return best
    filled = [slot for slot, value in enumerate(best) if value < _VALUE_LIMIT]
    out = list(best)
    for slot in range(NUM_PERM):
        if best[slot] < _VALUE_LIMIT:
            continue
        source = next((f for f in filled if f > slot), filled[0])
        steps = (source - slot) % NUM_PERM
        out[slot] = best[source] + steps * _VALUE_LIMIT
    return out


def band_keys(values: tuple[int, ...]) -> list[int]:
    """One signed 64-bit key per LSH band (the band's number and its rows, hashed), distinct."""
    keys = []
    for band in range(BANDS):
        rows = b"".join(value.to_bytes(8, "little") for value in values[band * ROWS : (band + 1) * ROWS])
        digest = hashlib.blake2b(band.to_bytes(2, "little") + rows, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return list(dict.fromkeys(keys))
