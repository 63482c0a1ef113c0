"""Extract stage: the page pipeline (``crawler.article.read_crawled_article``: trafilatura,
the navigation filter, the listing's fallbacks, the language, the story fingerprints) in a
process pool.

trafilatura is not thread-safe, and extraction is the crawl's real work, so it runs in
``workers`` processes (``forkserver``: children start clean, without the reactor's
threads, sockets or held locks) while the reactor keeps downloading. The pool lives from
spider_opened to spider_closed, and never longer than this process (crawler.pool_lifetime).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy import signals
from scrapy.exceptions import DropItem

from crawler.article import Article
from crawler.dates import from_iso
from crawler.extraction import warm_up
from crawler.fork_main import start_fork_server
from crawler.items import ArticleItem
from crawler.pool_lifetime import watch_owner
from crawler.state import CrawlRun
from crawler.worker_memory import read_and_release

EXTRACTION_TIMEOUT = 120.0


class ExtractPipeline:
    def __init__(self, run: CrawlRun, workers: int) -> None:
        self.run = run
        self.workers = max(1, workers)
        self.pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        run: CrawlRun = crawler.settings["VIGIA_RUN"]
        pipeline = cls(run, run.spec.workers)
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def spider_opened(self, spider: Any = None) -> None:
        self.pool = self._new_pool()

    def spider_closed(self, spider: Any = None) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _new_pool(self) -> ProcessPoolExecutor:
        # The fork server loads and warms trafilatura once and forks warm workers that share
        # it (crawler.fork_server); the command may have started it already (crawler.fork_main).
        context = start_fork_server()
        # Workers die with this process even when it is SIGKILLed (crawler.pool_lifetime):
        # otherwise they, and the fork server waiting on them, run on forever.
        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=watch_owner, initargs=(os.getpid(),))
        for _ in range(self.workers):
            pool.submit(warm_up)  # starts the workers now (warmed in the fork server, this is quick)
        return pool

    async def process_item(self, item: ArticleItem, spider: Any = None) -> ArticleItem:
        assert self.pool is not None, "extract pipeline used before spider_opened"
        page, item.page = item.page or b"", None  # the page is not needed past this stage
        try:
            future = self.pool.submit(read_and_release, page, item.url, content_type=item.content_type, listed=item.listed)
            article: Article = await asyncio.wait_for(asyncio.wrap_future(future), EXTRACTION_TIMEOUT)
        except BrokenProcessPool:
            # A worker died (native crash, OOM kill): this page is lost, the crawl is not.
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            self._fail(item, "extraction worker crashed")
        except TimeoutError:
            self._fail(item, f"extraction took over {EXTRACTION_TIMEOUT:.0f} s")
        except Exception as exc:  # trafilatura/lxml on a hostile page
            self._fail(item, f"extraction failed: {type(exc).__name__}: {exc}")
        apply_article(item, article)
        return item

    def _fail(self, item: ArticleItem, error: str) -> None:
        self.run.article_failed(item.source, item.url, error)
        raise DropItem(error)


def apply_article(item: ArticleItem, article: Article) -> None:
    """Fill the item from the page pipeline (which already preferred the listing's summary and
    took its title, author and language where the page had none)."""
    item.paragraphs = article.paragraphs
    item.title = article.title
    item.author = article.author
    item.summary = article.summary
    item.html_lang = article.html_lang
    item.language = article.language
    item.fingerprint, item.signed = article.fingerprint, article.signed
    # A feed's or news sitemap's date is explicit metadata with the time of day; the
    # page's date is trafilatura's best guess (meta tags, the URL, the text), often just a day.
    item.published = item.listed.published or from_iso(article.date)
