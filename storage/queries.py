"""The few queries the crawler, the dispatcher and the CLI share.

Storing an article (``store_article``) lives in storage/articles.py and is importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.articles import FUTURE_SLACK, plausible_date, store_article
from storage.models import Article, Source, utcnow

__all__ = [
    "FUTURE_SLACK",
    "ensure_sources",
    "known_urls",
    "plausible_date",
    "record_source_error",
    "record_source_success",
    "store_article",
]


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
