"""Extensions: the progress feed for the CLI's progress line, pipeline errors, AutoThrottle for 304s."""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import task

from crawler.state import CrawlRun


class ProgressReporter:
    """Calls the run's ``on_progress`` about once a second, and once when the crawl ends."""

    def __init__(self, crawler: Any, run: CrawlRun, interval: float) -> None:
        self.crawler = crawler
        self.run = run
        self.interval = interval
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressReporter:
        run: CrawlRun | None = crawler.settings.get("VIGIA_RUN")
        if run is None or run.on_progress is None:
            raise NotConfigured
        reporter = cls(crawler, run, crawler.settings.getfloat("VIGIA_PROGRESS_INTERVAL", 1.0))
        crawler.signals.connect(reporter.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def spider_opened(self, spider: Any = None) -> None:
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any = None) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.tick(finished=True)

    def pending(self) -> int:
        stats = self.crawler.stats
        queued = (stats.get_value("scheduler/enqueued") or 0) - (stats.get_value("scheduler/dequeued") or 0)
        try:
            active = len(self.crawler.engine.downloader.active)
        except AttributeError:
            active = 0
        return max(0, queued) + active

    def tick(self, finished: bool = False) -> None:
        assert self.run.on_progress is not None
        try:
            self.run.on_progress(self.run.progress(0 if finished else self.pending(), finished=finished))
        except Exception:  # a broken progress printer must not stop the crawl
            self.run.on_progress = None
            if self.loop is not None and self.loop.running:
                self.loop.stop()


class PipelineErrorRecorder:
    """Counts an article that a pipeline stage failed on as a failed URL of its source.

    Without it, an exception in a stage (a database error while storing, say) would only be
    logged by Scrapy, the crawl report would say 0 errors and the article would be gone. As
    a failed article, it also keeps its source's old validators, so the next crawl retries it.
    """

    def __init__(self, run: CrawlRun) -> None:
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Any) -> PipelineErrorRecorder:
        run: CrawlRun | None = crawler.settings.get("VIGIA_RUN")
        if run is None:
            raise NotConfigured
        recorder = cls(run)
        crawler.signals.connect(recorder.item_error, signal=signals.item_error)
        return recorder

    def item_error(self, item: Any, response: Any, spider: Any, failure: Any) -> None:
        error = f"{failure.type.__name__} in a pipeline stage: {failure.getErrorMessage()}"
        storage = failure.check(SQLAlchemyError, OSError) is not None
        self.run.article_failed(getattr(item, "source", "?"), getattr(item, "url", response.url), error, storage=storage)
        if storage:  # with a shared queue the poll may be another worker's: it is told through the book
            self.run.polls.storage_failed(response.meta.get("vigia_poll"), error)


class PoliteAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, except that a 304 counts like a 200.

    The stock extension never lowers a host's delay on a non-200 answer (error pages are
    small and fast, and would make it speed up against a failing server). A 304 is the
    answer a healthy, unchanged feed gives every poll; treated as an error page it holds
    the delay where the first 200 left it, and 53 unchanged feeds of one outlet took 35 s.
    """

    def _adjust_delay(self, slot: Any, latency: float, response: Response) -> None:
        if response.status == 304:
            response = response.replace(status=200)
        super()._adjust_delay(slot, latency, response)
