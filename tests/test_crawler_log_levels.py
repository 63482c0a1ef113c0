"""A crawl builds no Scrapy log record that no handler would take, and keeps every one some handler takes.

Each crawl runs in a forked child (one reactor per process) whose root logger has only the
handler the test gives it, as the CLI's process has only its own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from crawler.spec import CrawlSpec
from rules import load_rules
from tests.support.news_site import NewsSite
from tests.test_crawler_run import in_forked_child, make_spec, serve_corpus_feed


class Kept(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def crawl_logging(spec: CrawlSpec, handler_level: int) -> dict[str, Any]:
    outcome: dict[str, Any] = in_forked_child(_logged_crawl, spec, handler_level)
    return outcome


def _logged_crawl(spec: CrawlSpec, handler_level: int) -> dict[str, Any]:
    from crawler.process import run_crawl

    root = logging.getLogger()
    for old in list(root.handlers):  # pytest's capture handlers, inherited by the fork
        root.removeHandler(old)
    kept = Kept(handler_level)
    root.addHandler(kept)
    built: list[str] = []
    make_record = logging.getLogRecordFactory()

    def counting(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if record.name.startswith("scrapy") and record.levelno < logging.INFO:
            built.append(f"{record.name}: {record.getMessage()}")
        return record

    logging.setLogRecordFactory(counting)
    report = run_crawl(spec)
    return {"fetched": report.fetched, "debug_built": built, "messages": kept.messages}


def test_scrapy_builds_no_debug_record_for_a_handler_at_warning(news_site: NewsSite, tmp_path: Path) -> None:
    source, _ = serve_corpus_feed(news_site, {"es": 2, "other": 1})
    spec = make_spec(f"sqlite:///{tmp_path}/db.sqlite", [source], load_rules([{"builtin": "mx-us-security"}], Path(".")))
    outcome = crawl_logging(spec, logging.WARNING)
    assert outcome["fetched"] == 3
    # Only the process's own start-up line ("Using AsyncCrawlerProcess", logged before the
    # crawl starts) may be built: none a page, none an item.
    assert [m for m in outcome["debug_built"] if "Crawled" in m or "Scraped" in m] == []
    assert len(outcome["debug_built"]) <= 1


def test_a_handler_at_debug_still_gets_scrapy_s_debug_lines(news_site: NewsSite, tmp_path: Path) -> None:
    source, pages = serve_corpus_feed(news_site, {"es": 2, "other": 1})
    spec = make_spec(f"sqlite:///{tmp_path}/db.sqlite", [source], load_rules([{"builtin": "mx-us-security"}], Path(".")))
    outcome = crawl_logging(spec, logging.DEBUG)
    assert outcome["fetched"] == 3
    crawled = [m for m in outcome["messages"] if m.startswith("DEBUG scrapy") and "Crawled (200)" in m]
    assert {url for url in pages if any(url in m for m in crawled)} == set(pages)
