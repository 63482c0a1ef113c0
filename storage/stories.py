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
    return _containment(_trigrams(a), _trigrams(b))


def find_story(
    session: Session, fingerprint: int, text: str | None, since: datetime, max_distance: int = MAX_DISTANCE
) -> int | None:
    """The story id of the closest earlier article seen since ``since``, or None.

    A linear scan over recent fingerprints: a few thousand articles a day is the scale
    of one deployment, and the comparison is one XOR each. Texts are compared only when
    no fingerprint is within ``max_distance`` (a nearer article always wins), nearest
    first, until one is a copy; the new text's trigrams are computed once.
    """
    rows = session.execute(
        select(Article.id, Article.story_id, Article.fingerprint)
        .where(Article.fingerprint.is_not(None), Article.first_seen_at >= since, Article.story_id.is_not(None))
        .order_by(Article.id)
    )
    close: list[tuple[int, int, int]] = []
    near: list[tuple[int, int, int]] = []
    for article_id, story_id, other in rows:
        distance = hamming(fingerprint, other)
        if distance <= max_distance:
            close.append((distance, story_id, article_id))
        elif distance <= CANDIDATE_DISTANCE:
            near.append((distance, story_id, article_id))
    if close:
        return min(close)[1]
    if not text or not near:
        return None
    near.sort()
    mine = _trigrams(text)
    for start in range(0, len(near), _TEXT_BATCH):
        batch = near[start : start + _TEXT_BATCH]
        ids = [article_id for _, _, article_id in batch]
        texts = dict(session.execute(select(Article.id, Article.text).where(Article.id.in_(ids))).all())
        for _distance, story_id, article_id in batch:
            other = texts.get(article_id)
            if other and _containment(mine, _trigrams(other)) >= MIN_CONTAINMENT:
                return story_id
    return None


# Candidate texts are loaded this many at a time (usually the first batch settles it).
_TEXT_BATCH = 50


def _containment(first: set[tuple[str, str, str]], second: set[tuple[str, str, str]]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


def _trigrams(text: str) -> set[tuple[str, str, str]]:
    words = _WORD.findall(_fold(text))
    return set(zip(words, words[1:], words[2:]))


def _fold(text: str) -> str:
    """Casefolded, NFKD, without combining marks (found among the distinct characters)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    marks = {ord(char): None for char in set(decomposed) if unicodedata.combining(char)}
    return decomposed.translate(marks) if marks else decomposed
