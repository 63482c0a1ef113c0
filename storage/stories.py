"""Syndication clusters: copies of one wire story share a story.

Two checks, cheap first. The 64-bit SimHash of the cleaned text (crawler/fingerprint.py)
says at once that near-identical copies are one story (within ``MAX_DISTANCE`` bits).
Copies that an outlet edited more (a rewritten lead, a paragraph cut, its own byline) can
drift further; for fingerprints within ``CANDIDATE_DISTANCE`` the stored texts are compared
by word-trigram containment, which does not care about a paragraph more or less. Without
that second check, whether a third copy joins the cluster would depend on the order in
which the copies arrived.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Article

# Two 64-bit SimHashes this close (in differing bits) are the same story. Tuned in
# tests/test_fingerprint.py against edited copies and unrelated stories on one topic.
MAX_DISTANCE = 12
# Unrelated texts land about 32 bits apart; closer than this, the texts are compared.
CANDIDATE_DISTANCE = 24
# Share of the shorter text's word trigrams found in the other: copies share most.
MIN_CONTAINMENT = 0.5

_WORD = re.compile(r"[^\W_]+")


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


def containment(a: str, b: str) -> float:
    """How much of the shorter text's word trigrams the other text has (0..1)."""
    first, second = _trigrams(a), _trigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


def find_story(
    session: Session, fingerprint: int, text: str | None, since: datetime, max_distance: int = MAX_DISTANCE
) -> int | None:
    """The story id of the closest earlier article seen since ``since``, or None.

    A linear scan over recent fingerprints: a few thousand articles a day is the scale
    of one deployment, and the comparison is one XOR each; texts are loaded only for
    the few near candidates.
    """
    rows = session.execute(
        select(Article.id, Article.story_id, Article.fingerprint)
        .where(Article.fingerprint.is_not(None), Article.first_seen_at >= since, Article.story_id.is_not(None))
        .order_by(Article.id)
    )
    candidates: list[tuple[int, int, int]] = []
    for article_id, story_id, other in rows:
        distance = hamming(fingerprint, other)
        if distance <= max_distance:
            candidates.append((distance, story_id, article_id))
        elif distance <= CANDIDATE_DISTANCE and text and _same_text(session, article_id, text):
            candidates.append((distance, story_id, article_id))
    return min(candidates)[1] if candidates else None


def _same_text(session: Session, article_id: int, text: str) -> bool:
    other = session.scalar(select(Article.text).where(Article.id == article_id))
    return bool(other) and containment(text, other) >= MIN_CONTAINMENT


def _trigrams(text: str) -> set[tuple[str, str, str]]:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    words = _WORD.findall(folded)
    return set(zip(words, words[1:], words[2:]))
