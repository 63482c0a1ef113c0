"""Stories in the database: the candidates the joins of the ``stories`` package compare, and
the LSH band keys that make edited copies findable by an index.

What makes two articles one story is decided in ``stories`` (pure computation); here are
only the reads it needs, cheapest first, each over indexed columns returning plain rows, and
the write of an article's band keys. Statements are built once (storage/tables.py says why).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from storage.tables import articles, matches, story_bands
from stories import Candidate, Signed, is_edited_copy, nearest_same_text, same_event
from stories.joins import CANDIDATES, EVENT_WINDOW, event_window

# Band rows read at most for one article (a text of boilerplate alone could share bands with thousands).
MAX_BAND_ROWS = 20_000

# Recent fingerprints, from the first-seen index: one XOR each.
_FINGERPRINTS = select(articles.c.story_id, articles.c.fingerprint).where(
    articles.c.first_seen_at >= bindparam("since"),
    articles.c.fingerprint.is_not(None),
    articles.c.story_id.is_not(None),
    articles.c.id != bindparam("exclude"),
)
# Articles sharing a band key (the band-key index), recent ones only.
_SHARING = (
    select(story_bands.c.article_id)
    .join(articles, articles.c.id == story_bands.c.article_id)
    .where(story_bands.c.band_key.in_(bindparam("keys", expanding=True)), articles.c.first_seen_at >= bindparam("since"))
    .limit(MAX_BAND_ROWS)
)
_TEXTS = select(articles.c.id, articles.c.story_id, articles.c.text, articles.c.title).where(
    articles.c.id.in_(bindparam("ids", expanding=True)),
    articles.c.first_seen_at >= bindparam("since"),
    articles.c.story_id.is_not(None),
)
# Articles that matched one of these rules since a time, oldest first.
_MATCHED = (
    select(articles.c.id, articles.c.story_id, articles.c.text, articles.c.title, articles.c.published_at,
           articles.c.first_seen_at)
    .join(matches, matches.c.article_id == articles.c.id)
    .where(matches.c.rule_id.in_(bindparam("rules", expanding=True)), articles.c.story_id.is_not(None),
           articles.c.first_seen_at >= bindparam("since"))
    .order_by(articles.c.id)
)
_INSERT_BANDS = insert(story_bands)


def remember(connection: Connection, article_id: int, signed: Signed) -> None:
    """Store the new article's LSH band keys so later copies find it."""
    if signed.band_keys:
        connection.execute(
            _INSERT_BANDS, [{"article_id": article_id, "band_key": key} for key in signed.band_keys]
        )


def find_story(
    connection: Connection, fingerprint: int, signed: Signed, since: datetime, now: datetime, *,
    exclude: int | None = None,
) -> int | None:
    """The story id of the earlier article first seen since ``since`` that this one retells, or None.

    ``exclude``: the new article's own id (already inserted).
    """
    same_text = _same_text(connection, fingerprint, since, exclude)
    if same_text is not None:
        return same_text
    if not signed.telling.text:
        return None
    copy = _edited_copy(connection, signed, since, exclude)
    if copy is not None:
        return copy
    return _same_event(connection, signed, now, exclude)


def _same_text(connection: Connection, fingerprint: int, since: datetime, exclude: int | None) -> int | None:
    # Both columns are NOT NULL by the statement's WHERE: its rows go to the comparison as they come.
    rows = connection.execute(_FINGERPRINTS, {"since": since, "exclude": exclude or 0})
    return nearest_same_text(fingerprint, rows)


def _edited_copy(connection: Connection, signed: Signed, since: datetime, exclude: int | None) -> int | None:
    """LSH candidates (articles sharing a band key), most shared bands first, verified."""
    if not signed.band_keys:
        return None
    shared: dict[int, int] = {}
    for article_id in connection.execute(_SHARING, {"keys": signed.band_keys, "since": since}).scalars():
        if article_id != exclude:
            shared[article_id] = shared.get(article_id, 0) + 1
    if not shared:
        return None
    ranked = sorted(shared, key=lambda article_id: (-shared[article_id], article_id))[:CANDIDATES]
    rows = connection.execute(_TEXTS, {"ids": ranked, "since": since})
    by_id = {article_id: Candidate(story_id, text, title) for article_id, story_id, text, title in rows
             if story_id is not None}
    for article_id in ranked:
        candidate = by_id.get(article_id)
        if candidate is not None and is_edited_copy(signed, candidate):
            return candidate.story_id
    return None


def _same_event(connection: Connection, signed: Signed, now: datetime, exclude: int | None) -> int | None:
    """Earlier articles that matched one of the same rules around this one's date."""
    window = event_window(signed, now)
    if window is None:
        return None
    rows = connection.execute(
        _MATCHED, {"rules": sorted(signed.telling.rule_ids), "since": window[0] - EVENT_WINDOW}
    )
    candidates = {
        article_id: Candidate(story_id, text, title, published_at or first_seen_at)
        for article_id, story_id, text, title, published_at, first_seen_at in rows
        if article_id != exclude and story_id is not None
    }
    return same_event(signed, candidates.values(), now)
