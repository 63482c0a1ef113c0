"""Per-poll accounting: one listing job of one source, from its request to its last article.

A crawl (one-off or the long-lived worker) is a stream of polls. A poll starts with its
listing request and ends when the listing was read (200, 304 or failed) and every request
it led to (sitemap children, article pages) has ended: stored, dropped or failed. Only
then is its result known, and only then may the listing's validators be saved (never
when one of its articles failed, so the next poll reads the listing again).

Requests carry their poll's id in ``meta["vigia_poll"]``; the spider counts what each
listing yields (``add``) and every way a request can end calls ``settle`` once. A poll
that outlives its timeout is reported as such and forgotten: events arriving for it later
are ignored.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from crawler.spec import SourceResult, SourceSpec

if TYPE_CHECKING:
    from crawler.state import CrawlRun

logger = logging.getLogger(__name__)

COUNTS = ("fetched", "new", "matched", "skipped", "alerts_queued")
_ids = itertools.count(1)


@dataclass
class Poll:
    id: str
    source: SourceSpec
    result: SourceResult
    started: float = field(default_factory=time.monotonic)
    pending: int = 1  # the listing request itself
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    failed_articles: int = 0


@dataclass
class PollReport:
    """What one poll did: the message the worker sends back for it."""

    id: str
    source: str
    outcome: str  # ok | not_modified | failed | timeout | stopped
    error: str | None
    items_listed: int
    counts: dict[str, int]
    duration: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "result",
            "id": self.id,
            "source": self.source,
            "outcome": self.outcome,
            "error": self.error,
            "items_listed": self.items_listed,
            "counts": self.counts,
            "duration": round(self.duration, 4),
        }


class PollBook:
    """The open polls of a crawl, and what to do when one ends."""

    def __init__(self, run: CrawlRun, on_report: Callable[[PollReport], None] | None = None) -> None:
        self.run = run
        self.on_report = on_report
        self.polls: dict[str, Poll] = {}

    def __len__(self) -> int:
        return len(self.polls)

    def open(self, source: SourceSpec, poll_id: str | None = None) -> Poll:
        """Start a poll of ``source``; the run's per-source state starts afresh for it."""
        poll = Poll(id=poll_id or f"p{next(_ids)}", source=source, result=SourceResult(name=source.name, ok=True))
        self.run.begin_poll(source, poll.result)
        self.polls[poll.id] = poll
        return poll

    def get(self, poll_id: str | None) -> Poll | None:
        return self.polls.get(poll_id) if poll_id is not None else None

    def adopt(self, poll_id: str | None, spec: dict[str, Any] | None) -> Poll | None:
        """A listing of a poll this process did not open (only a shared book has such polls)."""
        return None

    def release(self, poll_id: str) -> None:
        """The poll's listing request is queued (a shared book forgets its scratch state here)."""

    def listing_read(self, poll_id: str | None) -> None:
        """A listing of the poll has been read (a shared book publishes what it found here)."""

    def forget_article(self, url: str) -> None:
        """An article request failed: a shared dupefilter must let the next poll ask for it again."""

    def storage_failed(self, poll_id: str | None, error: str) -> None:
        """An article of this poll could not be stored (a shared book counts it on the poll).

        Here the run's own result of the source already says so (``CrawlRun.article_failed``).
        """

    def add(self, poll_id: str | None, requests: int = 1) -> None:
        """A listing of this poll yielded more requests to wait for."""
        poll = self.get(poll_id)
        if poll is not None:
            poll.pending += requests

    def settle(self, poll_id: str | None, *, item: Any = None, failed: bool = False) -> None:
        """One request of this poll ended (with the article item it produced, if any)."""
        if failed and item is not None:
            # A pipeline failed on the item. Scrapy tells the spider before the extension that
            # says whether it was a storage error (which fails the source): the poll may end
            # only after both have heard, so its last article is not reported "ok".
            try:
                asyncio.get_running_loop().call_soon(functools.partial(self._settle, poll_id, item=item, failed=failed))
                return
            except RuntimeError:  # no loop running (a test driving the book by hand)
                pass
        self._settle(poll_id, item=item, failed=failed)

    def _settle(self, poll_id: str | None, *, item: Any = None, failed: bool = False) -> None:
        poll = self.get(poll_id)
        if poll is None:
            return
        if item is not None:
            poll.counts["fetched"] += 1
            if getattr(item, "new", False):
                poll.counts["new"] += 1
                poll.counts["matched"] += item.status == "matched"
                poll.counts["skipped"] += item.status == "skipped"
                poll.counts["alerts_queued"] += getattr(item, "alerts_queued", 0)
        poll.failed_articles += failed
        poll.pending -= 1
        if poll.pending <= 0:
            self._finish(poll)

    def expire(self, poll_id: str, timeout: float) -> None:
        """The poll is still open after ``timeout`` seconds: report it and stop waiting for it."""
        poll = self.polls.pop(poll_id, None)
        if poll is not None:
            logger.warning("poll of %s still running after %gs; given up", poll.source.name, timeout)
            self._report(poll, "timeout", f"no result after {timeout:g}s (daemon.crawl_timeout)")

    def close(self, reason: str) -> None:
        """The crawl ends: polls still open are reported stopped, their validators not saved."""
        for poll in list(self.polls.values()):
            del self.polls[poll.id]
            self._report(poll, "stopped", f"the crawl ended ({reason}) before the poll did")

    def _finish(self, poll: Poll) -> None:
        del self.polls[poll.id]
        result = poll.result
        try:
            if poll.failed_articles:  # one of its requests failed or was refused: read the listing again next time
                self.run.held_validators.pop(poll.source.name, None)
            self.run.save_validators(poll.source.name)
        except SQLAlchemyError as exc:  # the listing is read again next time: nothing is lost
            result.ok = False
            result.error = result.error or f"database error while saving the listing's validators: {exc}"
        if not result.ok:
            outcome = "failed"
        elif result.not_modified:
            outcome = "not_modified"
        else:
            outcome = "ok"
        self._report(poll, outcome, result.error)

    def _report(self, poll: Poll, outcome: str, error: str | None) -> None:
        if self.on_report is None:
            return
        report = PollReport(
            id=poll.id,
            source=poll.source.name,
            outcome=outcome,
            error=error,
            items_listed=poll.result.items_listed,
            counts=dict(poll.counts),
            duration=time.monotonic() - poll.started,
        )
        try:
            self.on_report(report)
        except Exception:  # a broken report channel must not stop the crawl
            logger.exception("could not report the poll of %s", poll.source.name)
