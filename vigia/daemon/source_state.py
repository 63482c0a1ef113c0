"""What the daemon reads and writes about a source between crawls.

The crawl subprocess records its own successes and errors on the source row; the
daemon adds what only it can know (a crawl that crashed or timed out never wrote
anything), reads back the failure count and the publishing rate, and stores the next
poll interval so that a restart resumes at the adapted pace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Article, Source, utcnow
from storage.queries import ensure_sources, record_source_error
from vigia.config import Config
from vigia.daemon.polling import RATE_WINDOW, PublishingRate


@dataclass(frozen=True)
class SourceState:
    name: str
    consecutive_failures: int
    last_success_at: datetime | None
    last_crawled_at: datetime | None
    poll_interval: float | None
    rate: PublishingRate | None  # None until the source has been crawled successfully once
    quarantined: bool = False


# Worker deaths in a row with a source in flight before the source is quarantined.
QUARANTINE_AFTER = 3


def register_sources(sessions: sessionmaker[Session], config: Config) -> None:
    """Give every configured source a row, so its state can be kept before its first crawl.

    Called at start and on every accepted reload, which also lifts quarantines: the
    operator who fixed or removed a poison source says so by reloading.
    """
    with sessions.begin() as session:
        ensure_sources(session, [(s.name, s.type, s.url) for s in config.sources])
        session.execute(
            update(Source).where(Source.quarantined_at.is_not(None)).values(quarantined_at=None, worker_deaths=0)
        )


def quarantined_sources(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(select(Source.name).where(Source.quarantined_at.is_not(None))))


def record_worker_death(sessions: sessionmaker[Session], name: str, error: str) -> bool:
    """The worker died with this source in flight: count it as a failure; True once it is quarantined."""
    with sessions.begin() as session:
        record_source_error(session, name, error)
        session.execute(update(Source).where(Source.name == name).values(worker_deaths=Source.worker_deaths + 1))
        deaths = session.scalar(select(Source.worker_deaths).where(Source.name == name)) or 0
        if deaths >= QUARANTINE_AFTER:
            session.execute(update(Source).where(Source.name == name).values(quarantined_at=utcnow()))
            return True
    return False


def clear_worker_deaths(sessions: sessionmaker[Session], name: str) -> None:
    with sessions.begin() as session:
        session.execute(update(Source).where(Source.name == name).values(worker_deaths=0))


def read_state(sessions: sessionmaker[Session], name: str, now: datetime | None = None) -> SourceState | None:
    now = now or utcnow()
    with sessions() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:
            return None
        rate = None
        if source.last_success_at is not None:
            published = func.coalesce(Article.published_at, Article.first_seen_at)
            count, oldest = session.execute(
                select(func.count(Article.id), func.min(published)).where(
                    Article.source_id == source.id, published >= now - RATE_WINDOW, published <= now
                )
            ).one()
            span = (now - _aware(oldest)) if oldest is not None else RATE_WINDOW
            rate = PublishingRate(articles=int(count), span=span)
        return SourceState(
            name=source.name,
            consecutive_failures=source.consecutive_failures or 0,
            last_success_at=source.last_success_at,
            last_crawled_at=source.last_crawled_at,
            poll_interval=source.poll_interval,
            rate=rate,
            quarantined=source.quarantined_at is not None,
        )


def save_poll_interval(sessions: sessionmaker[Session], name: str, seconds: float) -> None:
    with sessions.begin() as session:
        session.execute(update(Source).where(Source.name == name).values(poll_interval=seconds))


def record_crawl_failure(sessions: sessionmaker[Session], name: str, error: str) -> None:
    """Count a failure the crawl could not record itself (it crashed, hung or was killed)."""
    with sessions.begin() as session:
        record_source_error(session, name, error)


def _aware(value: datetime | str) -> datetime:
    # func.min() over a coalesce may come back as text on SQLite.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
