"""SQLAlchemy 2.x typed models: what Vigía remembers between runs.

Four things are stored: the sources we poll (with their crawl state), the articles we
fetched (one row per canonical URL), the rule matches of an article, and the alert
outbox that the dispatcher drains into Slack.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Named constraints let Alembic drop what it created, on SQLite's batch mode too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy's documented class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Source(Base):
    """An outlet's feed, news sitemap or section page, and how polling it went."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    # Conditional GET validators from the last 200 response.
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_crawled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    # Why the last poll read less than its listing offered (a bound), or None.
    listing_note: Mapped[str | None] = mapped_column(Text)
    # Adaptive polling: the interval the scheduler uses next, in seconds.
    poll_interval: Mapped[float | None]
    last_new_article_at: Mapped[datetime | None]
    # Crash isolation: how many crawl-worker deaths in a row this source was in flight for,
    # and when that made the daemon stop polling it (None: not quarantined).
    worker_deaths: Mapped[int] = mapped_column(default=0, server_default="0")
    quarantined_at: Mapped[datetime | None]


class Article(Base):
    """One article page, stored once per canonical URL whatever feed listed it."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(Text)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    outlet: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    language: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    # matched | unmatched | skipped (not Spanish, too old, no text) | error
    status: Mapped[str] = mapped_column(String(20))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    # 64-bit SimHash of the cleaned text, stored signed so it fits a BIGINT.
    fingerprint: Mapped[int | None] = mapped_column(BigInteger)
    # The first article of the syndication cluster this one belongs to (itself if first).
    story_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))

    matches: Mapped[list[Match]] = relationship(back_populates="article", cascade="all, delete-orphan")

    __table_args__ = (Index("ix_articles_first_seen_at", "first_seen_at"),)


class StoryBand(Base):
    """One LSH band key of an article's MinHash (stories.minhash; written and read by
    storage/stories.py): articles sharing a key are candidate copies of one text, found
    through the index on ``band_key``."""

    __tablename__ = "story_bands"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (Index("ix_story_bands_band_key", "band_key"),)


class Match(Base):
    """A rule that an article matched, with its score and why."""

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("article_id", "rule_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(200))
    rule_name: Mapped[str] = mapped_column(String(200))
    score: Mapped[float]
    # RuleMatch.to_dict(): terms, entities, hits, snippet, explanation.
    explanation: Mapped[dict[str, Any]]

    article: Mapped[Article] = relationship(back_populates="matches")


class Alert(Base):
    """An outbox row: one Slack message owed for an article in a channel.

    Written in the same transaction as the article so that a crash can never lose an
    alert; the dispatcher claims it, posts it and records Slack's ``ts`` at once.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("article_id", "channel"),
        Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    # The story's first article: copies are threaded under that article's alert.
    story_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    channel: Mapped[str] = mapped_column(String(200))
    # story (top-level message) | copy (thread reply under the story) | digest (waits for its digest)
    kind: Mapped[str] = mapped_column(String(20))
    rule_ids: Mapped[list[str]]
    digest: Mapped[dict[str, Any] | None]
    # pending | sending | sent | failed
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # When a post of this row may first have reached Slack unconfirmed (no ts recorded):
    # before posting again the dispatcher looks for it in the channel's history.
    unconfirmed_since: Mapped[datetime | None]
    slack_channel_id: Mapped[str | None] = mapped_column(String(64))
    slack_ts: Mapped[str | None] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    article: Mapped[Article] = relationship(foreign_keys=[article_id])


class SlackChannel(Base):
    """Per-channel delivery state: a permanent Slack error blocks just that channel."""

    __tablename__ = "slack_channels"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    blocked_error: Mapped[str | None] = mapped_column(String(200))
    blocked_at: Mapped[datetime | None]
