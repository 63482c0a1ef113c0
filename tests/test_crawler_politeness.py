"""Our downloader middlewares: the Crawl-delay and Retry-After bounds (the config's limits
reach them, and only from there), and meta refresh read from a page's head."""

from __future__ import annotations

from pathlib import Path

import pytest
from protego import Protego
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from sqlalchemy.orm import sessionmaker

from crawler.middlewares import CrawlDelayMiddleware, HeadMetaRefreshMiddleware, RetryAfterMiddleware
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


def refresh_middleware(max_delay: int = 100) -> HeadMetaRefreshMiddleware:
    return HeadMetaRefreshMiddleware.from_crawler(get_crawler(settings_dict={"METAREFRESH_MAXDELAY": max_delay}))


def long_page(head: str) -> HtmlResponse:
    body = f"<html><head>{head}</head><body>{'<p>Texto de la nota, párrafo tras párrafo.</p>' * 2000}</body></html>"
    return HtmlResponse("https://diario.example/nota.html", body=body.encode("utf-8"), headers={"Content-Type": "text/html"})


def test_a_meta_refresh_in_the_head_of_a_long_page_is_followed_without_decoding_the_page() -> None:
    page = long_page('<meta http-equiv="refresh" content="0;url=https://diario.example/real.html">')
    followed = refresh_middleware().process_response(Request(page.url), page)
    assert isinstance(followed, Request)
    assert followed.url == "https://diario.example/real.html"
    assert page._cached_ubody is None  # the page itself was never decoded here


def test_a_long_page_without_one_goes_on_whole() -> None:
    page = long_page("<title>Nota</title>")
    assert refresh_middleware().process_response(Request(page.url), page) is page
    assert len(page.body) > 16 * 4096
    assert page._cached_ubody is None


def test_with_the_crawl_s_settings_an_instant_refresh_is_followed_and_a_reload_timer_is_not() -> None:
    from crawler import settings

    middleware = refresh_middleware(settings.METAREFRESH_MAXDELAY)
    instant = long_page('<meta http-equiv="refresh" content="0;url=https://diario.example/real.html">')
    reload_timer = long_page('<meta http-equiv="refresh" content="300">')
    followed = middleware.process_response(Request(instant.url), instant)
    assert isinstance(followed, Request) and followed.url == "https://diario.example/real.html"
    assert middleware.process_response(Request(reload_timer.url), reload_timer) is reload_timer


def test_a_short_page_and_an_upper_case_refresh_are_followed_too() -> None:
    body = b'<html><head><META HTTP-EQUIV="Refresh" CONTENT="0;URL=https://diario.example/real.html"></head></html>'
    page = HtmlResponse("https://diario.example/nota.html", body=body, headers={"Content-Type": "text/html"})
    followed = refresh_middleware().process_response(Request(page.url), page)
    assert isinstance(followed, Request) and followed.url == "https://diario.example/real.html"


def test_a_refresh_in_utf_16_whose_bytes_do_not_spell_it_is_followed() -> None:
    html = '<html><head><meta http-equiv="refresh" content="0;url=https://diario.example/real.html"></head></html>'
    page = HtmlResponse("https://diario.example/nota.html", body=html.encode("utf-16"),
                        headers={"Content-Type": "text/html; charset=utf-16"})
    assert b"refresh" not in page.body
    followed = refresh_middleware().process_response(Request(page.url), page)
    assert isinstance(followed, Request) and followed.url == "https://diario.example/real.html"
