"""The contract between vigia/ and the crawler: what to crawl, and what came of it.

vigia/ builds a ``CrawlSpec`` from the config and calls ``crawler.process.run_crawl``;
nothing here imports Scrapy, so the CLI can build specs without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rules import RuleSet


@dataclass
class SourceSpec:
    """One configured source; ``link_patterns`` are regexes for article URLs on section pages."""

    name: str
    type: str  # "rss" | "sitemap" | "page"
    url: str
    outlet: str
    link_patterns: list[str] | None = None  # None: the spider's own article-link heuristics


@dataclass
class CrawlSpec:
    """Everything one crawl needs. Older articles than ``max_age`` are stored but never alerted.

    No field has a default: every value comes from the config (``vigia.crawl_spec`` builds
    the spec from ``vigia.config``, where each default is written once), so the crawler
    holds no second copy of a decision the config makes.
    """

    database_url: str
    sources: list[SourceSpec]
    ruleset: RuleSet
    default_channel: str
    max_age: timedelta | None
    user_agent: str
    download_timeout: float
    max_page_bytes: int
    refetch: bool
    redis_url: str | None
    redis_prefix: str  # the keys of one deployment's jobs, results and shared queue
    obey_robots: bool
    concurrency_per_domain: int
    autothrottle: bool
    workers: int  # extraction processes
    retry_times: int
    retry_after_max: float  # a Retry-After longer than this ends the URL instead of waiting
    crawl_delay_cap: float  # a robots.txt Crawl-delay longer than this is cut to it
    # Bounds on what one poll of a source may cost: a hostile or broken listing is cut
    # here, and the cut is reported (SourceResult.notes), never silent.
    max_articles_per_source: int  # new article requests per source per crawl, newest first
    max_listings_per_source: int  # feed/sitemap/section requests per source per crawl
    max_sitemap_depth: int  # an index inside an index inside an index, no deeper
    max_sitemap_children: int  # children read per sitemap index, newest lastmod first
    allow_private_hosts: list[str]  # host or host:port (crawler.addresses)
    log_level: str
    settings: dict[str, Any]  # raw Scrapy overrides, applied last

    def __deepcopy__(self, memo: dict[int, Any]) -> CrawlSpec:
        # Scrapy deep-copies its settings per crawler; the spec (and its compiled
        # rule set) is read-only, so every component shares this one instance.
        return self


@dataclass
class SourceResult:
    name: str
    ok: bool
    not_modified: bool = False
    error: str | None = None
    items_listed: int = 0
    notes: list[str] = field(default_factory=list)  # bounds that cut a listing short, in words


@dataclass
class CrawlReport:
    """What a crawl did. ``skipped`` counts articles stored as skipped (not Spanish, no text);
    ``already_known`` counts listed articles not fetched because they were stored before."""

    sources: list[SourceResult]
    fetched: int
    new: int
    matched: int
    skipped: int
    alerts_queued: int
    errors: list[tuple[str, str, str]]  # (source, url, error)
    already_known: int = 0
    storage_errors: int = 0  # articles fetched but not stored (a locked or full database)


@dataclass
class CrawlProgress:
    """A snapshot emitted about once a second (and once at the end) for a progress line."""

    fetched: int
    new: int
    matched: int
    errors: int
    pending: int  # requests scheduled or in flight
    alerts_queued: int = 0
    finished: bool = False
