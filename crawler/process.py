"""Run a crawl in this process: once over the spec's sources, or as a long-lived worker.

Both share one spider and one accounting path (``crawler.poll``): ``run_crawl`` opens a
poll per source and ends when the crawl is idle; ``run_worker`` takes polls from a job
feed for hours (one extraction pool, one request queue, one politeness budget per host)
and ends when the feed closes or on SIGTERM. Either is called once per process: a Twisted
reactor cannot be restarted. The spec reaches the spider and pipelines through the
``VIGIA_RUN`` setting, the feed through ``VIGIA_FEED``.

Extraction workers start by ``forkserver``; they do not import the calling script's main
module (``crawler.fork_main``), so they run nothing of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from scrapy.crawler import AsyncCrawlerProcess
from scrapy.settings import Settings
from sqlalchemy import select

from crawler import settings as default_settings
from crawler.spec import CrawlProgress, CrawlReport, CrawlSpec
from crawler.spiders.news import JobFeed, NewsSpider
from crawler.state import CrawlRun, Validators
from storage.db import open_database
from storage.models import Source
from storage.queries import ensure_sources


def run_crawl(spec: CrawlSpec, on_progress: Callable[[CrawlProgress], None] | None = None) -> CrawlReport:
    """Crawl every source of the spec once; store what is new; report what happened."""
    engine, sessions = open_database(spec.database_url)
    try:
        with sessions.begin() as session:
            ensure_sources(session, [(source.name, source.type, source.url) for source in spec.sources])
            validators = {
                row.name: Validators(etag=row.etag, last_modified=row.last_modified)
                for row in session.scalars(select(Source).where(Source.name.in_([s.name for s in spec.sources])))
            }
        run = CrawlRun(spec=spec, sessions=sessions, validators=validators, on_progress=on_progress)
        if spec.sources:
            process = AsyncCrawlerProcess(crawl_settings(spec, run))
            process.crawl(NewsSpider)
            start_quietly(process)
        return run.report()
    finally:
        engine.dispose()


def run_worker(spec: CrawlSpec, feed: JobFeed) -> None:
    """Take polls from ``feed`` until it closes (or SIGTERM); each poll's report goes back to it.

    ``spec.sources`` is ignored: every job names its source, as the config had it when the job was sent.
    """
    engine, sessions = open_database(spec.database_url)
    try:
        run = CrawlRun(spec=_without_sources(spec), sessions=sessions)
        settings = crawl_settings(spec, run)
        settings.set("VIGIA_FEED", feed, priority="cmdline")
        if spec.redis_url:
            settings.setdict(shared_queue_settings(spec.redis_prefix), priority="cmdline")
        process = AsyncCrawlerProcess(settings)
        process.crawl(NewsSpider)
        start_quietly(process)
    finally:
        engine.dispose()


def start_quietly(process: AsyncCrawlerProcess) -> None:
    """``process.start()``, with Scrapy's loggers at the lowest level any handler takes.

    Scrapy sets its loggers to DEBUG, so each page's "Crawled" and each item's "Scraped from"
    became a log record (the caller's frame found, the record built) that every handler then
    dropped at its own level. Below the lowest level of the handlers present (and of the log
    counter Scrapy adds at that crawl's LOG_LEVEL) no record is built at all; a handler without
    a level (NOTSET) keeps everything as before.
    """
    scrapy_logger = logging.getLogger("scrapy")
    levels = [handler.level for handler in (*logging.getLogger().handlers, *scrapy_logger.handlers)]
    counted = process.settings.get("LOG_LEVEL", logging.DEBUG)
    levels.append(counted if isinstance(counted, int) else logging.getLevelName(str(counted).upper()))
    lowest = min(level if isinstance(level, int) else logging.DEBUG for level in levels)  # "Level x": unknown name
    previous = scrapy_logger.level
    scrapy_logger.setLevel(max(logging.DEBUG, lowest))
    try:
        process.start()
    finally:
        scrapy_logger.setLevel(previous)


def _without_sources(spec: CrawlSpec) -> CrawlSpec:
    return replace(spec, sources=[])


def shared_queue_settings(prefix: str) -> dict[str, Any]:
    """Workers share one queue and dupefilter that outlive each of them.

    Not flushed when a worker closes (``SCHEDULER_PERSIST``): the queue holds other
    workers' requests too. Named after the deployment, so two share no keys.
    """
    from crawler.redis_feed import RedisKeys

    keys = RedisKeys(prefix)
    return {
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "DUPEFILTER_CLASS": "crawler.redis_feed.ExpiringDupeFilter",
    }


def crawl_settings(spec: CrawlSpec, run: CrawlRun) -> Settings:
    """crawler.settings with the spec's choices on top."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    overrides: dict[str, Any] = {
        "VIGIA_RUN": run,
        "USER_AGENT": spec.user_agent,
        "DOWNLOAD_TIMEOUT": spec.download_timeout,
        "DOWNLOAD_MAXSIZE": spec.max_page_bytes,
        "DOWNLOAD_WARNSIZE": min(spec.max_page_bytes, default_settings.DOWNLOAD_WARNSIZE),
        "ROBOTSTXT_OBEY": spec.obey_robots,
        "CONCURRENT_REQUESTS_PER_DOMAIN": spec.concurrency_per_domain,
        "AUTOTHROTTLE_ENABLED": spec.autothrottle,
        "RETRY_TIMES": spec.retry_times,
        "VIGIA_RETRY_AFTER_MAX": spec.retry_after_max,
        "VIGIA_CRAWL_DELAY_CAP": spec.crawl_delay_cap,
        "LOG_LEVEL": spec.log_level,
        # The CLI owns logging (format, level, token redaction); no second, unredacted root handler.
        "LOG_INSTALL_ROOT_HANDLER": False,
    }
    overrides.update(redis_settings(spec.redis_url))
    overrides.update(spec.settings)
    settings.setdict(overrides, priority="cmdline")
    return settings


def redis_settings(redis_url: str | None) -> dict[str, Any]:
    """scrapy-redis's shared scheduler and dupefilter, only when a Redis URL is given."""
    if not redis_url:
        return {}
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": False,
        "SCHEDULER_FLUSH_ON_START": False,
        "REDIS_URL": redis_url,
    }
