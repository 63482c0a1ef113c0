"""Crawl-delay and Retry-After bounds: the config's limits reach the middlewares, and only from there."""

from __future__ import annotations

from pathlib import Path

import pytest
from protego import Protego
from scrapy import Request
from scrapy.utils.test import get_crawler
from sqlalchemy.orm import sessionmaker

from crawler.middlewares import CrawlDelayMiddleware, RetryAfterMiddleware
from crawler.process import crawl_settings
from crawler.state import CrawlRun
from rules import load_rules
from vigia.config import CRAWL_LIMITS, Config
from vigia.crawl_spec import crawl_spec

ROBOTS = "User-agent: *\nCrawl-delay: {delay}\n"


def crawl_crawler(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = Config.model_validate({"database": {"url": "sqlite://"}, "slack": {"channel": "#v"}}, context={"require_slack": False})
    spec = crawl_spec(config, [], load_rules([{"builtin": "mx-us-security"}], tmp_path))
    settings = crawl_settings(spec, CrawlRun(spec=spec, sessions=sessionmaker()))
    # Only the settings these middlewares read (the whole set would want the crawl's reactor installed).
    names = ("ROBOTSTXT_OBEY", "USER_AGENT", "VIGIA_CRAWL_DELAY_CAP", "VIGIA_RETRY_AFTER_MAX")
    return get_crawler(settings_dict={name: settings[name] for name in names})


def delay_for(middleware: CrawlDelayMiddleware, delay: float) -> float:
    middleware.robots_parsed(Protego.parse(ROBOTS.format(delay=delay)), Request("https://diario.example/a.html"))
    return middleware.delays["diario.example"]


def test_a_long_crawl_delay_is_cut_to_the_config_s_cap(tmp_path: Path) -> None:
    middleware = CrawlDelayMiddleware.from_crawler(crawl_crawler(tmp_path))
    cap = CRAWL_LIMITS.crawl_delay_cap.total_seconds()
    assert delay_for(middleware, 3) == 3
    assert delay_for(middleware, 10 * cap) == cap


def test_the_retry_after_bound_is_the_config_s(tmp_path: Path) -> None:
    middleware = RetryAfterMiddleware.from_crawler(crawl_crawler(tmp_path))
    assert middleware.max_wait == CRAWL_LIMITS.retry_after_max.total_seconds()


def test_without_the_crawl_s_settings_the_middlewares_refuse_to_guess() -> None:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    with pytest.raises(ValueError, match="VIGIA_CRAWL_DELAY_CAP is not set"):
        CrawlDelayMiddleware.from_crawler(crawler)
    with pytest.raises(ValueError, match="VIGIA_RETRY_AFTER_MAX is not set"):
        RetryAfterMiddleware.from_crawler(crawler)
