"""The few queries the crawler, the dispatcher and the CLI share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from stories import STORY_WINDOW, Telling, sign
from storage.models import Alert, Article, Match, Source, utcnow
from storage.records import ArticleRecord, MatchRecord, StoredArticle
from storage.stories import find_story, remember

# A published date more than this ahead of the clock is a page's mistake (year 9998): stored as unknown,
# so it is never the "newest" or "freshest" article again.
FUTURE_SLACK = timedelta(days=1)


def insert_for(session: Session, table: type) -> postgresql.Insert | sqlite.Insert:
    """A dialect-specific INSERT so repeats can be ``on_conflict_do_nothing``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def ensure_sources(session: Session, sources: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """Make sure each (name, type, url) has a row; return name -> id. Type and URL follow the config."""
    ids: dict[str, int] = {}
    for name, type_, url in sources:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:
            source = Source(name=name, type=type_, url=url)
            session.add(source)
            session.flush()
        elif (source.type, source.url) != (type_, url):
            # A new URL is a new feed: its validators are not ours any more.
            source.type, source.url, source.etag, source.last_modified = type_, url, None, None
        ids[name] = source.id
    return ids


def known_urls(session: Session, canonical_urls: Iterable[str]) -> set[str]:
    """Which of these canonical URLs are already stored (so they are not fetched again)."""
    urls = list(canonical_urls)
    found: set[str] = set()
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        found.update(session.scalars(select(Article.canonical_url).where(Article.canonical_url.in_(chunk))))
    return found


def plausible_date(published: datetime | None, now: datetime) -> bool:
    """False for a date more than a day in the future (the article counts as published when first seen)."""
    return published is None or published <= now + FUTURE_SLACK


def store_article(
    session: Session,
    record: ArticleRecord,
    matches: list[MatchRecord],
    *,
    alert: bool,
    default_channel: str,
    now: datetime | None = None,
) -> StoredArticle:
    """Store an article, its matches and its pending alerts in the caller's transaction.

    Repeats are harmless: a canonical URL already stored is left as it is. Alerts are
    owed once per channel; a copy of a story already seen becomes a thread reply.
    """
    now = now or utcnow()
    values: dict[str, Any] = dict(
        canonical_url=record.canonical_url,
        url=record.url,
        # A subquery rather than a query of its own: one round trip fewer per article.
        source_id=select(Source.id).where(Source.name == record.source_name).scalar_subquery()
        if record.source_name else None,
        outlet=record.outlet,
        title=record.title,
        author=record.author,
        published_at=record.published_at if plausible_date(record.published_at, now) else None,
        first_seen_at=now,
        language=record.language,
        summary=record.summary,
        text=record.text,
        status=record.status,
        skip_reason=record.skip_reason,
        fingerprint=record.fingerprint,
    )
    statement = insert_for(session, Article).values(**values).on_conflict_do_nothing(index_elements=["canonical_url"])
    article_id = session.execute(statement.returning(Article.id)).scalar()
    if article_id is None:
        existing = session.scalar(select(Article.id).where(Article.canonical_url == record.canonical_url))
        return StoredArticle(id=existing or 0, new=False)

    story_id = article_id
    if record.fingerprint is not None and record.status != "skipped":
        telling = Telling(record.text or "", record.title, record.published_at or now,
                          frozenset(match.rule_id for match in matches))
        signed = sign(telling)  # once: finding the story and remembering the article share it
        story_id = find_story(session, record.fingerprint, signed, now - STORY_WINDOW, now,
                              exclude=article_id) or article_id
        remember(session, article_id, signed)
    session.execute(update(Article).where(Article.id == article_id).values(story_id=story_id))

    if matches:
        session.execute(
            insert(Match),
            [
                dict(article_id=article_id, rule_id=match.rule_id, rule_name=match.rule_name, score=match.score,
                     explanation=match.explanation)
                for match in matches
            ],
        )
    queued = _queue_alerts(session, article_id, story_id, matches, default_channel) if alert and matches else 0
    return StoredArticle(id=article_id, new=True, story_id=story_id, alerts_queued=queued)


def _queue_alerts(
    session: Session, article_id: int, story_id: int, matches: list[MatchRecord], default_channel: str
) -> int:
    by_channel: dict[str, list[MatchRecord]] = defaultdict(list)
    for match in matches:
        by_channel[match.channel or default_channel].append(match)
    for channel, channel_matches in by_channel.items():
        instant = [m for m in channel_matches if m.mode != "digest"]
        story_article: int | None = None
        if instant:
            # The story's message in this channel, from whichever copy alerted first.
            if story_id != article_id:
                story_article = session.scalar(
                    select(Alert.article_id)
                    .join(Article, Alert.article_id == Article.id)
                    .where(Article.story_id == story_id, Alert.channel == channel, Alert.kind == "story")
                    .order_by(Alert.id)
                    .limit(1)
                )
            kind = "copy" if story_article else "story"
            rules, digest = [m.rule_id for m in instant], None
        else:
            kind, rules, digest = "digest", [m.rule_id for m in channel_matches], channel_matches[0].digest
        statement = (
            insert_for(session, Alert)
            .values(
                article_id=article_id,
                # copy: the article whose message it threads under; digest: the cluster
                story_id={"copy": story_article, "digest": story_id}.get(kind, article_id),
                channel=channel,
                kind=kind,
                rule_ids=rules,
                digest=digest,
                status="pending",
                attempts=0,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["article_id", "channel"])
        )
        session.execute(statement)
    return len(by_channel)


def record_source_success(
    session: Session,
    name: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    not_modified: bool = False,
    listing_note: str | None = None,
) -> None:
    """A source answered: reset its failure count and keep new conditional-GET validators.

    With new validators (a listing read to the end), ``listing_note`` replaces the last
    one: None once a poll read everything its listing offered.
    """
    now = utcnow()
    values: dict[str, object] = dict(last_crawled_at=now, last_success_at=now, consecutive_failures=0)
    if not not_modified:
        values.update(etag=etag, last_modified=last_modified, listing_note=listing_note)
    session.execute(update(Source).where(Source.name == name).values(**values))


def record_source_error(session: Session, name: str, error: str) -> None:
    """A source failed: remember why and count it, so health and back-off can see it."""
    now = utcnow()
    session.execute(
        update(Source)
        .where(Source.name == name)
        .values(
            last_crawled_at=now,
            last_error=error[:2000],
            last_error_at=now,
            consecutive_failures=Source.consecutive_failures + 1,
        )
    )
