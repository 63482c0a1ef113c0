"""Syndication clusters: copies of one wire story share a story, found by SimHash distance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Article

# Two 64-bit SimHashes this close (in differing bits) are the same story. Tuned in
# tests/test_fingerprint.py against edited copies and unrelated stories on one topic.
MAX_DISTANCE = 12


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


def find_story(session: Session, fingerprint: int, since: datetime, max_distance: int = MAX_DISTANCE) -> int | None:
    """The story id of the closest earlier article seen since ``since``, or None.

    A linear scan over recent fingerprints: a few thousand articles a day is the scale
    of one deployment, and the comparison is one XOR each.
    """
    rows = session.execute(
        select(Article.story_id, Article.fingerprint)
        .where(Article.fingerprint.is_not(None), Article.first_seen_at >= since, Article.story_id.is_not(None))
        .order_by(Article.id)
    )
    best: tuple[int, int] | None = None
    for story_id, other in rows:
        distance = hamming(fingerprint, other)
        if distance <= max_distance and (best is None or distance < best[0]):
            best = (distance, story_id)
    return best[1] if best else None
