"""The config turned into the crawler's ``CrawlSpec``: every value of a spec comes from here.

The defaults are ``vigia.config``'s (its models, and ``CRAWL_LIMITS`` for the bounds no
config key sets); the crawler has no defaults of its own to drift from these, and
``crawler.process.crawl_settings`` derives the Scrapy settings from the spec. Light on
purpose: building a spec loads neither Scrapy nor the database layer.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from crawler.spec import CrawlSpec, SourceSpec
from rules import RuleSet
from vigia.config import CRAWL_LIMITS, Config, SourceConfig


def redis_prefix(config: Config) -> str:
    """The Redis keys of one deployment: the daemon and its workers share a database, so its URL names them."""
    return "vigia:" + hashlib.sha1(config.database.url.encode()).hexdigest()[:12]


def source_spec(source: SourceConfig) -> SourceSpec:
    return SourceSpec(
        name=source.name, type=source.type, url=source.url, outlet=source.outlet or source.name, link_patterns=source.link_patterns
    )


def crawl_spec(config: Config, sources: list[SourceConfig], ruleset: RuleSet, *, refetch: bool = False) -> CrawlSpec:
    crawler, limits = config.crawler, CRAWL_LIMITS
    return CrawlSpec(
        database_url=config.database.url,
        sources=[source_spec(s) for s in sources],
        ruleset=ruleset,
        default_channel=config.slack.channel,
        max_age=config.alerts.max_age,
        user_agent=crawler.user_agent,
        download_timeout=crawler.timeout.total_seconds(),
        max_page_bytes=crawler.max_page_size,
        refetch=refetch,
        redis_url=crawler.redis_url,
        redis_prefix=redis_prefix(config),
        obey_robots=crawler.obey_robots,
        concurrency_per_domain=crawler.concurrency_per_domain,
        autothrottle=crawler.autothrottle,
        workers=crawler.workers,
        retry_times=limits.retry_times,
        retry_after_max=limits.retry_after_max.total_seconds(),
        crawl_delay_cap=limits.crawl_delay_cap.total_seconds(),
        max_articles_per_source=limits.max_articles_per_source,
        max_listings_per_source=limits.max_listings_per_source,
        max_sitemap_depth=limits.max_sitemap_depth,
        max_sitemap_children=limits.max_sitemap_children,
        allow_private_hosts=list(crawler.allow_private_hosts),
        log_level=limits.log_level,
        settings={},
    )


def page_spec(config: Config, ruleset: RuleSet) -> CrawlSpec:
    """The spec for fetching one page a user typed (``vigia match URL``): the crawl's settings,
    no sources (so no host is trusted for being one) and no shared Redis queue."""
    return replace(crawl_spec(config, [], ruleset), redis_url=None)
