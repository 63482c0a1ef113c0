"""Storing one fetched article: its row, its story, its matches and the alerts it owes.

This is the crawl's hottest database path (every fetched article passes here once), so its
statements are built once, with bind parameters, and run as Core SQL on the session's
connection (storage/tables.py): rows in, plain values out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from storage.models import utcnow
from storage.records import ArticleRecord, MatchRecord, StoredArticle
from storage.stories import find_story, remember
from storage.tables import alerts, articles, matches, sources
from storage.upsert import dialect_insert
from stories import STORY_WINDOW, Signed, Telling, sign

# A published date more than this ahead of the clock is a page's mistake (year 9998): stored as unknown,
# so it is never the "newest" or "freshest" article again.
FUTURE_SLACK = timedelta(days=1)

_EXISTING = select(articles.c.id).where(articles.c.canonical_url == bindparam("url"))
_SET_STORY = update(articles).where(articles.c.id == bindparam("article")).values(story_id=bindparam("story"))
_INSERT_MATCHES = insert(matches)
# The story's message in a channel, from whichever copy alerted first.
_STORY_MESSAGE = (
    select(alerts.c.article_id)
    .join(articles, alerts.c.article_id == articles.c.id)
    .where(articles.c.story_id == bindparam("story"), alerts.c.channel == bindparam("channel"), alerts.c.kind == "story")
    .order_by(alerts.c.id)
    .limit(1)
)


@cache
def _insert_article(dialect: str) -> Any:
    """INSERT … ON CONFLICT (canonical_url) DO NOTHING RETURNING id, with the source's id
    found by its name in the same statement."""
    source_id = select(sources.c.id).where(sources.c.name == bindparam("source_name")).scalar_subquery()
    return (
        dialect_insert(dialect, articles)
        .values(source_id=source_id)
        .on_conflict_do_nothing(index_elements=["canonical_url"])
        .returning(articles.c.id)
    )


@cache
def _insert_alert(dialect: str) -> Any:
    """An owed alert, once per (article, channel)."""
    return dialect_insert(dialect, alerts).on_conflict_do_nothing(index_elements=["article_id", "channel"])


def plausible_date(published: datetime | None, now: datetime) -> bool:
    """False for a date more than a day in the future (the article counts as published when first seen)."""
    return published is None or published <= now + FUTURE_SLACK


def store_article(
    session: Session | Connection,
    record: ArticleRecord,
    found: list[MatchRecord],
    *,
    alert: bool,
    default_channel: str,
    now: datetime | None = None,
) -> StoredArticle:
    """Store an article, its matches and its pending alerts in the caller's transaction.

    ``session``: a Session, or a Connection in a transaction (the crawl's store stage: a
    Session's own bookkeeping cost each article more than these statements).

    Repeats are harmless: a canonical URL already stored is left as it is. Alerts are
    owed once per channel; a copy of a story already seen becomes a thread reply.
    """
    now = now or utcnow()
    connection = session if isinstance(session, Connection) else session.connection()
    article_id = connection.execute(_insert_article(connection.dialect.name), _article_row(record, now)).scalar()
    if article_id is None:
        existing = connection.execute(_EXISTING, {"url": record.canonical_url}).scalar()
        return StoredArticle(id=existing or 0, new=False)

    story_id = article_id
    if record.fingerprint is not None and record.status != "skipped":
        telling = Telling(record.text or "", record.title, record.published_at or now,
                          frozenset(match.rule_id for match in found))
        signed = _signed(telling, record.signed)  # once: finding the story and remembering the article share it
        story_id = find_story(connection, record.fingerprint, signed, now - STORY_WINDOW, now,
                              exclude=article_id) or article_id
        remember(connection, article_id, signed)
    connection.execute(_SET_STORY, {"article": article_id, "story": story_id})

    if found:
        connection.execute(_INSERT_MATCHES, [
            {"article_id": article_id, "rule_id": match.rule_id, "rule_name": match.rule_name, "score": match.score,
             "explanation": match.explanation}
            for match in found
        ])
    queued = _queue_alerts(connection, article_id, story_id, found, default_channel) if alert and found else 0
    return StoredArticle(id=article_id, new=True, story_id=story_id, alerts_queued=queued)


def _signed(telling: Telling, precomputed: Signed | None) -> Signed:
    """``sign(telling)``; shingles and band keys depend on the text alone, so the crawler's
    (computed beside the extraction) serve when they are of this very text."""
    if precomputed is not None and precomputed.telling.text == telling.text:
        return replace(precomputed, telling=telling)
    return sign(telling)


def _article_row(record: ArticleRecord, now: datetime) -> dict[str, Any]:
    return {
        "canonical_url": record.canonical_url,
        "url": record.url,
        "source_name": record.source_name,
        "outlet": record.outlet,
        "title": record.title,
        "author": record.author,
        "published_at": record.published_at if plausible_date(record.published_at, now) else None,
        "first_seen_at": now,
        "language": record.language,
        "summary": record.summary,
        "text": record.text,
        "status": record.status,
        "skip_reason": record.skip_reason,
        "fingerprint": record.fingerprint,
    }


def _queue_alerts(
    connection: Connection, article_id: int, story_id: int, found: list[MatchRecord], default_channel: str
) -> int:
    by_channel: dict[str, list[MatchRecord]] = defaultdict(list)
    for match in found:
        by_channel[match.channel or default_channel].append(match)
    for channel, channel_matches in by_channel.items():
        instant = [m for m in channel_matches if m.mode != "digest"]
        story_article: int | None = None
        if instant:
            if story_id != article_id:
                story_article = connection.execute(_STORY_MESSAGE, {"story": story_id, "channel": channel}).scalar()
            kind = "copy" if story_article else "story"
            rules, digest = [m.rule_id for m in instant], None
        else:
            kind, rules, digest = "digest", [m.rule_id for m in channel_matches], channel_matches[0].digest
        connection.execute(_insert_alert(connection.dialect.name), {
            "article_id": article_id,
            # copy: the article whose message it threads under; digest: the cluster
            "story_id": {"copy": story_article, "digest": story_id}.get(kind, article_id),
            "channel": channel,
            "kind": kind,
            "rule_ids": rules,
            "digest": digest,
            "status": "pending",
            "attempts": 0,
            "created_at": utcnow(),
        })
    return len(by_channel)
