"""Stories in the database: the candidates the joins of the ``stories`` package compare, and
the LSH band keys that make edited copies findable by an index.

What makes two articles one story is decided in ``stories`` (pure computation); here are
only the reads it needs, cheapest first, each a query over indexed columns returning plain
rows (no ORM objects), and the write of an article's band keys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from stories import Candidate, Signed, is_edited_copy, nearest_same_text, same_event
from stories.joins import CANDIDATES, EVENT_WINDOW, event_window
from storage.models import Article, Match, StoryBand

# Band rows read at most for one article (a text of boilerplate alone could share bands with thousands).
MAX_BAND_ROWS = 20_000
_CHUNK = 500  # values per IN (...) list


def remember(session: Session, article_id: int, signed: Signed) -> None:
    """Store the new article's LSH band keys so later copies find it."""
    if signed.band_keys:
        session.execute(insert(StoryBand), [{"article_id": article_id, "band_key": key} for key in signed.band_keys])


def find_story(
    session: Session, fingerprint: int, signed: Signed, since: datetime, now: datetime, *, exclude: int | None = None
) -> int | None:
    """The story id of the earlier article first seen since ``since`` that this one retells, or None.

    ``exclude``: the new article's own id (already inserted).
    """
    same_text = _same_text(session, fingerprint, since, exclude)
    if same_text is not None:
        return same_text
    if not signed.telling.text:
        return None
    copy = _edited_copy(session, signed, since, exclude)
    if copy is not None:
        return copy
    return _same_event(session, signed, now, exclude)


def _same_text(session: Session, fingerprint: int, since: datetime, exclude: int | None) -> int | None:
    """One XOR per recent article: (story, fingerprint) pairs read from the first-seen index."""
    rows = session.execute(
        select(Article.story_id, Article.fingerprint)
        .where(Article.first_seen_at >= since, Article.fingerprint.is_not(None), Article.story_id.is_not(None),
               Article.id != (exclude or 0))
    )
    return nearest_same_text(
        fingerprint, ((story_id, other) for story_id, other in rows if story_id is not None and other is not None)
    )


def _edited_copy(session: Session, signed: Signed, since: datetime, exclude: int | None) -> int | None:
    """LSH candidates (articles sharing a band key), most shared bands first, verified."""
    shared: dict[int, int] = {}
    for start in range(0, len(signed.band_keys), _CHUNK):
        sharing = session.scalars(
            select(StoryBand.article_id)
            .join(Article, Article.id == StoryBand.article_id)
            .where(StoryBand.band_key.in_(signed.band_keys[start : start + _CHUNK]), Article.first_seen_at >= since)
            .limit(MAX_BAND_ROWS)
        )
        for article_id in sharing:
            if article_id != exclude:
                shared[article_id] = shared.get(article_id, 0) + 1
    if not shared:
        return None
    ranked = sorted(shared, key=lambda article_id: (-shared[article_id], article_id))[:CANDIDATES]
    rows = session.execute(
        select(Article.id, Article.story_id, Article.text, Article.title)
        .where(Article.id.in_(ranked), Article.first_seen_at >= since, Article.story_id.is_not(None))
    ).all()
    by_id = {article_id: Candidate(story_id, text, title) for article_id, story_id, text, title in rows
             if story_id is not None}
    for article_id in ranked:
        candidate = by_id.get(article_id)
        if candidate is not None and is_edited_copy(signed, candidate):
            return candidate.story_id
    return None


def _same_event(session: Session, signed: Signed, now: datetime, exclude: int | None) -> int | None:
    """Earlier articles that matched one of the same rules around this one's date."""
    window = event_window(signed, now)
    if window is None:
        return None
    rows = session.execute(
        select(Article.id, Article.story_id, Article.text, Article.title, Article.published_at, Article.first_seen_at)
        .join(Match, Match.article_id == Article.id)
        .where(Match.rule_id.in_(sorted(signed.telling.rule_ids)), Article.story_id.is_not(None),
               Article.first_seen_at >= window[0] - EVENT_WINDOW)
        .order_by(Article.id)
    ).all()
    candidates = {
        article_id: Candidate(story_id, text, title, published_at or first_seen_at)
        for article_id, story_id, text, title, published_at, first_seen_at in rows
        if article_id != exclude and story_id is not None
    }
    return same_event(signed, candidates.values(), now)
