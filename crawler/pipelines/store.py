"""Store stage: article, matches and owed alerts in one transaction per article.

An article alerts only when it matched and is fresh: published within ``max_age``
(an article without a date counts as published now). Older ones are kept, silent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from crawler.items import ArticleItem
from crawler.state import CrawlRun
from storage.queries import store_article
from storage.records import ArticleRecord


class StorePipeline:
    def __init__(self, run: CrawlRun) -> None:
        self.run = run
        # A Core transaction on the run's engine: an ORM Session per article (its creation,
        # connection bookkeeping and commit) cost more CPU than the article's statements.
        self.engine: Engine = run.sessions.kw["bind"]

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler.settings["VIGIA_RUN"])

    def is_fresh(self, item: ArticleItem, now: datetime) -> bool:
        max_age = self.run.spec.max_age
        return max_age is None or (item.published or now) >= now - max_age

    def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        now = datetime.now(UTC)
        record = ArticleRecord(
            canonical_url=item.canonical_url,
            url=item.url,
            outlet=item.outlet,
            source_name=item.source,
            title=item.title,
            author=item.author,
            published_at=item.published,
            language=item.language,
            summary=item.summary,
            text=item.text or None,
            status=item.status,
            skip_reason=item.skip_reason,
            fingerprint=item.fingerprint,
            signed=item.signed,
        )
        alert = item.status == "matched" and self.is_fresh(item, now)
        with self.engine.begin() as connection:
            stored = store_article(
                connection, record, item.matches, alert=alert, default_channel=self.run.spec.default_channel, now=now
            )
        item.new, item.alerts_queued = stored.new, stored.alerts_queued
        if stored.new:
            self.run.new += 1
            self.run.matched += item.status == "matched"
            self.run.skipped += item.status == "skipped"
            self.run.alerts_queued += stored.alerts_queued
        return item
