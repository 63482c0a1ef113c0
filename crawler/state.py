"""One crawl's shared state: the spec, the database, what was seen, and the tally.

The spider and every pipeline stage reach it through the ``VIGIA_RUN`` setting. It is
shared rather than copied (Scrapy deep-copies settings per crawler) and lives exactly
as long as one ``run_crawl`` call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crawler.poll import PollBook
from crawler.spec import CrawlProgress, CrawlReport, CrawlSpec, SourceResult, SourceSpec
from storage.models import Source
from storage.queries import ensure_sources, record_source_error, record_source_success

logger = logging.getLogger(__name__)


@dataclass
class Validators:
    """Conditional-GET validators of a source, from its row."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class SourceBudget:
    """What one source may still cost in this crawl, and which of its listings were read."""

    articles_left: int
    listings_left: int
    listing_urls: set[str] = field(default_factory=set)
    capped: bool = False  # a bound cut a listing short: the rest must not hide behind a 304


@dataclass
class CrawlRun:
    spec: CrawlSpec
    sessions: sessionmaker[Session]
    validators: dict[str, Validators] = field(default_factory=dict)
    on_progress: Callable[[CrawlProgress], None] | None = None
    results: dict[str, SourceResult] = field(default_factory=dict)
    scheduled: set[str] = field(default_factory=set)  # canonical URLs requested and not yet ended
    fetched: int = 0
    new: int = 0
    matched: int = 0
    skipped: int = 0
    alerts_queued: int = 0
    already_known: int = 0
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    # Validators of listings read in this run, written only when the crawl finishes cleanly.
    held_validators: dict[str, Validators] = field(default_factory=dict)
    failed_articles: dict[str, int] = field(default_factory=dict)
    storage_failures: dict[str, int] = field(default_factory=dict)
    budgets: dict[str, SourceBudget] = field(default_factory=dict)
    # With a shared queue this worker fetches articles of polls other workers took: the
    # configured URLs of their sources, learnt from the requests (``source_urls``).
    other_source_urls: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources = {source.name: source for source in self.spec.sources}
        for source in self.spec.sources:
            self.results.setdefault(source.name, SourceResult(name=source.name, ok=True))
            self.budgets.setdefault(source.name, self._new_budget())
        self.polls = PollBook(self)

    def budget(self, name: str) -> SourceBudget:
        """What a poll of ``name`` may still cost (a worker meets sources its spec did not list)."""
        if name not in self.budgets:
            self.budgets[name] = self._new_budget()
        return self.budgets[name]

    def _new_budget(self) -> SourceBudget:
        return SourceBudget(articles_left=self.spec.max_articles_per_source, listings_left=self.spec.max_listings_per_source)

    def begin_poll(self, source: SourceSpec, result: SourceResult) -> None:
        """A poll of ``source`` starts (one at a time per source): its per-source state starts afresh."""
        self.sources[source.name] = source
        self.results[source.name] = result
        self.held_validators.pop(source.name, None)
        self.failed_articles.pop(source.name, None)
        self.storage_failures.pop(source.name, None)
        self.budgets[source.name] = self._new_budget()

    def load_validators(self, source: SourceSpec) -> None:
        """Read the source's validators from its row (giving it one if it has none yet) before a poll."""
        columns = (Source.type, Source.url, Source.etag, Source.last_modified)
        with self.sessions.begin() as session:
            row = session.execute(select(*columns).where(Source.name == source.name)).first()
            if row is None or (row.type, row.url) != (source.type, source.url):
                ensure_sources(session, [(source.name, source.type, source.url)])
                row = session.execute(select(*columns).where(Source.name == source.name)).one()
        self.validators[source.name] = Validators(etag=row.etag, last_modified=row.last_modified)

    def __deepcopy__(self, memo: dict[int, Any]) -> CrawlRun:
        return self

    def source(self, name: str) -> SourceSpec:
        return self.sources[name]

    def source_urls(self) -> dict[str, str]:
        """The configured URL of every source whose requests this process handles, by name."""
        return {**self.other_source_urls, **{name: source.url for name, source in self.sources.items()}}

    def listing_ok(self, name: str, *, etag: str | None, last_modified: str | None, listed: int) -> None:
        """A feed or sitemap answered 200 and parsed: the source is healthy.

        Its validators, and its health, are held back until the poll ends (``save_validators``):
        saved now, a poll stopped before its articles are stored (SIGTERM, a timeout, a crash)
        would leave the next one a 304, and those articles would never be seen again; and a
        source whose articles cannot be stored would count as healthy at every listing, its
        failures never adding up. A listing cut short by a bound holds empty validators, so the
        next poll reads it again for the rest.
        """
        self.results[name].items_listed += listed
        if self.budget(name).capped:
            etag = last_modified = None
        self.held_validators[name] = Validators(etag=etag, last_modified=last_modified)

    def listing_not_modified(self, name: str) -> None:
        self.results[name].not_modified = True
        self._record(name, lambda session: record_source_success(session, name, not_modified=True))

    def listing_failed(self, name: str, url: str, error: str) -> None:
        """The source's feed or sitemap could not be fetched or read: the source failed."""
        result = self.results[name]
        result.ok = False
        result.error = error if result.error is None else result.error
        self.errors.append((name, url, error))
        logger.warning("source %s failed: %s: %s", name, url, error)
        self._record(name, lambda session: record_source_error(session, name, f"{url}: {error}"))

    def article_failed(self, name: str, url: str, error: str, *, storage: bool = False) -> None:
        """One article URL failed; its source is still healthy unless we could not store it.

        A page that 404s is the outlet's business; an article we fetched and could not
        write down (a locked or full database) is ours, and the source's poll did not
        do its job: it fails, so the summary, the exit status and back-off say so.
        """
        self.errors.append((name, url, error))
        self.failed_articles[name] = self.failed_articles.get(name, 0) + 1
        logger.info("article failed (%s): %s: %s", name, url, error)
        if storage and name in self.results:
            count = self.storage_failures[name] = self.storage_failures.get(name, 0) + 1
            result = self.results[name]
            result.ok = False
            if result.error is None or result.error.startswith("storage error"):
                result.error = f"storage error: {count} article(s) could not be stored ({error})"

    def note(self, name: str, text: str, *, capped: bool = True) -> None:
        """A bound cut this source's listing short: say so once in its result."""
        if capped:
            self.budget(name).capped = True
        notes = self.results[name].notes
        if text not in notes:
            notes.append(text)
            logger.warning("source %s: %s", name, text)

    def _record(self, name: str, write: Callable[[Session], None]) -> None:
        """Write a source's health; a database error here is logged, not allowed to stop the poll.

        The poll's outcome is kept in memory (``results``) either way; what matters is that
        the listing's articles are still requested and stored, or the failure reported.
        """
        try:
            with self.sessions.begin() as session:
                write(session)
        except SQLAlchemyError as exc:
            logger.warning("source %s: could not record its health: %s", name, exc)

    def finish(self, reason: str) -> None:
        """The crawl ends: polls still open (a shutdown, a timeout) keep their old validators."""
        if reason != "finished":
            logger.info("crawl ended early (%s): listings will be read again next time", reason)
        self.polls.close(reason)

    def save_validators(self, name: str) -> None:
        """A poll of ``name`` ended: keep its listing's validators if every article was dealt with.

        A source with a failed article keeps its old validators so the next poll reads its
        listing and retries; it is healthy all the same (a page that 404s is the outlet's
        business), unless an article could not be stored.
        """
        validators = self.held_validators.pop(name, None)
        result = self.results[name]
        stored_not = self.storage_failures.get(name)
        if stored_not:
            error = result.error or f"{stored_not} article(s) could not be stored"
            self._record(name, lambda session: record_source_error(session, name, error))
        if not result.ok or result.not_modified:  # the failure, or the 304, is recorded already
            return
        if validators is None or self.failed_articles.get(name):
            self._record(name, lambda session: record_source_success(session, name, not_modified=True))
            return
        if self.budget(name).capped:  # a sitemap child was cut after the listing was read
            # Entries were left for the next poll: no validators, so it gets a 200, not a 304.
            validators = Validators()
        note = "; ".join(self.results[name].notes) or None
        self._record(
            name,
            lambda session: record_source_success(
                session, name, etag=validators.etag, last_modified=validators.last_modified, listing_note=note
            ),
        )

    def progress(self, pending: int, finished: bool = False) -> CrawlProgress:
        return CrawlProgress(
            fetched=self.fetched,
            new=self.new,
            matched=self.matched,
            errors=len(self.errors),
            pending=pending,
            alerts_queued=self.alerts_queued,
            finished=finished,
        )

    def report(self) -> CrawlReport:
        return CrawlReport(
            sources=[self.results[source.name] for source in self.spec.sources],
            fetched=self.fetched,
            new=self.new,
            matched=self.matched,
            skipped=self.skipped,
            alerts_queued=self.alerts_queued,
            errors=list(self.errors),
            already_known=self.already_known,
            storage_errors=sum(self.storage_failures.values()),
        )
