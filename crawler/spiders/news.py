"""The one spider of a crawl: every configured source, whatever its type.

It routes; parsing lives in network-free modules (``crawler.feeds``,
``crawler.sitemaps``, ``crawler.links``). Listings are fetched with conditional-GET
validators; their new articles become page requests, once per canonical URL per run
and never for an article already stored (unless the spec says refetch).
One spider for all sources keeps one process pool, one request queue and one
politeness budget per domain for the whole crawl.

Every listing request starts a poll (``crawler.poll``): a one-off crawl opens one per
configured source in ``start`` and closes when idle; the long-lived worker opens them as
jobs arrive from its feed (``take``) and stays open on ``spider_idle`` (raising
``DontCloseSpider``, as scrapy-redis's RedisSpider does) until the feed closes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Protocol

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from sqlalchemy.exc import SQLAlchemyError
from twisted.python.failure import Failure

from crawler.article_selection import new_articles
from crawler.errors import ListingError
from crawler.failures import describe_failure
from crawler.feeds import parse_feed
from crawler.items import ArticleItem, ListedArticle
from crawler.links import article_links
from crawler.poll import PollReport
from crawler.responses import (
    content_type,
    first_url,
    not_an_article,
    text_headers,
    validators,
)
from crawler.sitemaps import parse_sitemap
from crawler.spec import SourceSpec
from crawler.state import CrawlRun

logger = logging.getLogger(__name__)


class JobFeed(Protocol):
    """Where a long-lived crawl's listing jobs come from and its poll reports go (crawler.worker)."""

    open: bool

    def attach(self, spider: NewsSpider) -> None: ...

    def report(self, report: PollReport) -> None: ...

    def close(self) -> None: ...


class NewsSpider(scrapy.Spider):
    name = "news"

    run: CrawlRun
    feed: JobFeed | None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.run = crawler.settings["VIGIA_RUN"]
        spider.feed = crawler.settings.get("VIGIA_FEED")
        for handler, signal in (
            (spider.on_opened, signals.spider_opened),
            (spider.on_idle, signals.spider_idle),
            (spider.on_item_scraped, signals.item_scraped),
            (spider.on_item_failed, signals.item_dropped),
            (spider.on_item_failed, signals.item_error),
            (spider.on_request_dropped, signals.request_dropped),
        ):
            crawler.signals.connect(handler, signal=signal)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for source in self.run.spec.sources:
            poll = self.run.polls.open(source)
            yield self._main_listing(source, poll.id)

    # Jobs of the long-lived worker --------------------------------------------

    def on_opened(self, spider: Any = None) -> None:
        if self.feed is not None:
            self.run.polls.on_report = self.feed.report
            self.feed.attach(self)

    def on_idle(self, spider: Any = None) -> None:
        if self.feed is not None and self.feed.open:
            raise DontCloseSpider

    def take(self, poll_id: str, source: SourceSpec, timeout: float | None = None) -> None:
        """Poll ``source`` now: read its validators, queue its listing, bound it by ``timeout``."""
        poll = self.run.polls.open(source, poll_id)
        try:
            self.run.load_validators(source)
        except SQLAlchemyError as exc:
            self._fail_listing(source.name, source.url, f"database error: {type(exc).__name__}: {exc}")
            self.run.polls.listing_read(poll.id)
            self.run.polls.settle(poll.id)
            return
        self.run.polls.release(poll.id)
        self.crawler.engine.crawl(self._main_listing(source, poll.id))
        if timeout:
            asyncio.get_running_loop().call_later(timeout, self.run.polls.expire, poll.id, timeout)

    def closed(self, reason: str) -> None:
        self.run.finish(reason)
        if self.feed is not None:
            self.feed.close()

    def _main_listing(self, source: SourceSpec, poll_id: str) -> scrapy.Request:
        # A poll starts with a fresh budget, so its own listing is never refused by a bound.
        request = self.listing_request(source.name, source.url, source.type, conditional=True, poll=poll_id)
        assert request is not None
        return request

    # Listings -----------------------------------------------------------------

    def listing_request(
        self, name: str, url: str, kind: str, *, conditional: bool, poll: str | None = None, depth: int = 0
    ) -> scrapy.Request | None:
        """The request for one of a source's listings, or None when its bounds say stop.

        A listing already read in this poll is not read again (a sitemap index that lists
        itself, or two indexes listing each other), and each poll of a source has a budget
        of listing requests.
        """
        budget = self.run.budget(name)
        if url in budget.listing_urls:
            return None
        if budget.listings_left <= 0:
            self.run.note(name, f"more than {self.run.spec.max_listings_per_source} listings; the rest not read")
            return None
        budget.listing_urls.add(url)
        budget.listings_left -= 1
        headers = {}
        if conditional:
            validators = self.run.validators.get(name)
            if validators and validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators and validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        return scrapy.Request(
            url,
            callback=self.on_listing,
            errback=self.listing_error,
            headers=headers,
            meta={
                "vigia_source": name,
                "vigia_kind": kind,
                "vigia_poll": poll,
                "vigia_spec": dataclasses.asdict(self.run.source(name)),  # for a worker that did not take the job
                "vigia_conditional": conditional,
                "vigia_depth": depth,
                "handle_httpstatus_list": [304],
            },
            dont_filter=True,
            priority=10,  # listings first: they feed everything else
        )

    def on_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """Read a listing for its poll, counting the requests it leads to, which the poll then awaits."""
        meta = response.meta
        poll_id = meta.get("vigia_poll")
        if self.run.polls.get(poll_id) is None and self.run.polls.adopt(poll_id, meta.get("vigia_spec")) is None:
            return  # its poll timed out meanwhile; a newer poll owns the source's state now
        parse = {"rss": self.parse_feed, "sitemap": self.parse_sitemap, "page": self.parse_section}[meta["vigia_kind"]]
        try:
            for request in parse(response):
                request.meta["vigia_poll"] = poll_id
                self.run.polls.add(poll_id)
                yield request
        except SQLAlchemyError as exc:  # the source failed, the crawl goes on; the listing is read again next time
            self._fail_listing(meta["vigia_source"], response.url, f"database error: {type(exc).__name__}: {exc}")
        except Exception as exc:  # a parser bug, say
            logger.exception("reading the listing of %s failed", meta["vigia_source"])
            self._fail_listing(meta["vigia_source"], response.url, f"{type(exc).__name__}: {exc}")
        finally:
            self.run.polls.listing_read(poll_id)
            self.run.polls.settle(poll_id)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self.read_listing(response, lambda: parse_feed(response.body, response.url, text_headers(response)))

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        def read() -> list[ListedArticle]:
            sitemap = parse_sitemap(response.body, response.url, self.settings.getint("DOWNLOAD_MAXSIZE"))
            children.extend(self.child_sitemaps(response, sitemap.sitemaps))
            return sitemap.articles

        children: list[scrapy.Request] = []
        yield from self.read_listing(response, read)
        yield from children

    def child_sitemaps(self, response: Response, urls: list[str]) -> Iterator[scrapy.Request]:
        """Requests for an index's children, within the depth and per-index bounds."""
        name, depth = response.meta["vigia_source"], response.meta.get("vigia_depth", 0)
        spec = self.run.spec
        if urls and depth >= spec.max_sitemap_depth:
            self.run.note(name, f"sitemap indexes nested deeper than {spec.max_sitemap_depth}; {response.url} not followed")
            return
        if len(urls) > spec.max_sitemap_children:
            self.run.note(
                name,
                f"sitemap index {response.url} lists {len(urls)} sitemaps; read the newest {spec.max_sitemap_children}",
            )
        for url in urls[: spec.max_sitemap_children]:
            request = self.listing_request(name, url, "sitemap", conditional=False, depth=depth + 1)
            if request is not None:
                yield request

    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        source = self.run.source(response.meta["vigia_source"])

        def read() -> list[ListedArticle]:
            if not isinstance(response, TextResponse):
                raise ListingError("section page is not HTML")
            return article_links(response.text, response.url, source.link_patterns)

        yield from self.read_listing(response, read)

    def read_listing(self, response: Response, read: Any) -> Iterator[scrapy.Request]:
        name = response.meta["vigia_source"]
        if response.status == 304:
            self.run.listing_not_modified(name)
            return
        try:
            listed = read()
        except ListingError as exc:
            self.run.listing_failed(name, response.url, str(exc))
            return
        try:
            # Worked out before the listing counts as read: if the database cannot say which
            # articles are known, the listing failed and its validators are not kept.
            requests = list(self.article_requests(name, listed))
        except SQLAlchemyError as exc:
            self.run.listing_failed(name, response.url, f"database error while reading the listing: {exc}")
            return
        if response.meta.get("vigia_conditional"):
            etag, last_modified = validators(response)
            self.run.listing_ok(name, etag=etag, last_modified=last_modified, listed=len(listed))
        else:
            self.run.results[name].items_listed += len(listed)
        yield from requests

    def listing_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        poll_id = request.meta.get("vigia_poll")
        if self.run.polls.get(poll_id) is None and self.run.polls.adopt(poll_id, request.meta.get("vigia_spec")) is None:
            return
        self._fail_listing(request.meta["vigia_source"], first_url(request), describe_failure(failure))
        self.run.polls.listing_read(poll_id)
        self.run.polls.settle(poll_id)

    def _fail_listing(self, name: str, url: str, error: str) -> None:
        """The source failed; with the database down too, the poll's report still says so."""
        try:
            self.run.listing_failed(name, url, error)
        except SQLAlchemyError as exc:
            result = self.run.results[name]
            result.ok = False
            result.error = result.error or error
            logger.error("could not record the failure of %s: %s", name, exc)

    # Articles -----------------------------------------------------------------

    def article_requests(self, name: str, listed: Iterable[ListedArticle]) -> Iterator[scrapy.Request]:
        """Requests for the listed articles not yet seen in this run nor stored before (crawler.article_selection)."""
        outlet = self.run.source(name).outlet
        for key, entry in new_articles(self.run, name, listed):
            yield self.article_request(name, outlet, key, entry)

    def article_request(self, name: str, outlet: str, key: str, entry: ListedArticle) -> scrapy.Request:
        return scrapy.Request(
            key,
            callback=self.on_article,
            errback=self.article_error,
            meta={
                "vigia_source": name,
                # Another worker may fetch it (a shared queue): the address guard needs the source's URL.
                "vigia_source_url": self.run.source(name).url,
                "vigia_outlet": outlet,
                "vigia_key": key,
                "vigia_listed": entry,
            },
        )

    def on_article(self, response: Response) -> Iterator[ArticleItem]:
        """An article page; it ends here unless it became an item (whose end the item signals tell)."""
        became_item = False
        try:
            for item in self.parse_article(response):
                became_item = True
                yield item
        except Exception as exc:
            logger.exception("reading the article %s failed", response.url)
            self.run.article_failed(response.meta["vigia_source"], response.url, f"{type(exc).__name__}: {exc}")
        finally:
            if not became_item:
                self._article_ended(response.meta, failed=True)

    def on_item_scraped(self, item: Any, response: Response, spider: Any = None) -> None:
        self._article_ended(response.meta, item=item)

    def on_item_failed(self, item: Any, response: Response, spider: Any = None, **_: Any) -> None:
        self._article_ended(response.meta, item=item, failed=True)

    def on_request_dropped(self, request: scrapy.Request, spider: Any = None) -> None:
        # The scheduler refused it (the shared dupefilter: another worker has it). Not stored
        # by this poll, so the poll keeps its old validators and its listing is read again.
        key = request.meta.get("vigia_key")
        self.run.scheduled.discard(key)
        self.run.polls.settle(request.meta.get("vigia_poll"), failed=key is not None)

    def _article_ended(self, meta: dict[str, Any], *, item: Any = None, failed: bool = False) -> None:
        key = meta.get("vigia_key")
        self.run.scheduled.discard(key)
        if failed and key:
            self.run.polls.forget_article(key)
        self.run.polls.settle(meta.get("vigia_poll"), item=item, failed=failed)

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        meta = response.meta
        problem = not_an_article(response)
        if problem:
            self.run.article_failed(meta["vigia_source"], response.url, problem)
            return
        self.run.fetched += 1
        yield ArticleItem(
            source=meta["vigia_source"],
            outlet=meta["vigia_outlet"],
            url=response.url,
            canonical_url=meta["vigia_key"],
            page=response.body,  # bytes, not decoded here: the worker decodes it (crawler.article)
            content_type=content_type(response),
            listed=meta["vigia_listed"],
        )

    def article_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self.run.article_failed(request.meta["vigia_source"], first_url(request), describe_failure(failure))
        self._article_ended(request.meta, failed=True)
