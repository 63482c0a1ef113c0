"""Stories, not pages: whether two articles are tellings of one story.

Pure computation (no database, no network); storage/stories.py reads the candidates and
stores what this package computes. Three joins, cheapest first:

1. **Same text**: the 64-bit SimHash of the text (stories.simhash) within ``MAX_DISTANCE``
   bits: near-identical copies, one XOR each.
2. **Edited copy**: a wire story (EFE, AP, Reuters) that an outlet republished with its own
   lede, byline, dateline, a trimmed ending or inserted boilerplate. Each article's MinHash
   over word shingles (stories.minhash) is cut into LSH bands that storage indexes, so the
   copies of a text are found by an indexed lookup whatever the size of the archive; each
   candidate is then checked by shingle containment and the headline (stories.joins).
3. **Same event**: two outlets' own write-ups of one event: the same rule matched, the same
   people named, the same days, enough words in common (stories.joins).

Text is folded by ``rules.normalize.fold`` with ñ as n too (stories.text).
"""

from stories.joins import (
    EVENT_WINDOW,
    STORY_WINDOW,
    Candidate,
    Signed,
    Telling,
    containment,
    is_edited_copy,
    nearest_same_text,
    person_names,
    same_event,
    sign,
    title_similarity,
)
from stories.simhash import MAX_DISTANCE, distance, simhash

__all__ = [
    "EVENT_WINDOW",
    "MAX_DISTANCE",
    "STORY_WINDOW",
    "Candidate",
    "Signed",
    "Telling",
    "containment",
    "distance",
    "is_edited_copy",
    "nearest_same_text",
    "person_names",
    "same_event",
    "sign",
    "simhash",
    "title_similarity",
]
