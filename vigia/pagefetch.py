"""Fetching one page for ``vigia match URL``, through Scrapy with the crawl's own settings.

The settings are the crawl's (``crawler.process.crawl_settings`` on the spec built from
the config): robots.txt, the User-Agent, timeouts, the page-size limit and the address
guard are those of a crawl. The URL is untrusted like any link a crawl follows: it is not
a configured source, so a loopback or private address is refused unless the config lists
its host in ``crawler.allow_private_hosts``.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.spec import CrawlSpec
from vigia.errors import VigiaError

ALLOW_HINT = "list the host in crawler.allow_private_hosts to fetch it"


class FetchError(VigiaError):
    """Raised when ``vigia match`` cannot fetch the page it was given."""


@dataclass
class FetchedPage:
    url: str
    status: int
    body: bytes
    content_type: str | None


def fetch_page(url: str, spec: CrawlSpec) -> FetchedPage:
    import scrapy
    from scrapy.crawler import AsyncCrawlerProcess
    from sqlalchemy.orm import sessionmaker

    from crawler.middlewares import PrivateAddressRefused
    from crawler.process import crawl_settings
    from crawler.resolver import InternalAddressAnswer
    from crawler.state import CrawlRun

    results: list[FetchedPage] = []
    failures: list[str] = []

    class OnePage(scrapy.Spider):
        name = "vigia-match"

        async def start(self):  # type: ignore[no-untyped-def]
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

        def parse(self, response):  # type: ignore[no-untyped-def]
            content_type = response.headers.get(b"Content-Type")
            results.append(FetchedPage(url=response.url, status=response.status, body=response.body,
                                       content_type=content_type.decode("latin-1") if content_type else None))

        def failed(self, failure):  # type: ignore[no-untyped-def]
            if failure.check(PrivateAddressRefused, InternalAddressAnswer):
                failures.append(f"{failure.value} ({ALLOW_HINT})")
            else:
                failures.append(f"{failure.type.__name__}: {failure.value}")

    # A run with no sources and no database: the address guard and the resolver read their
    # policy from it (no source's host is trusted), and no pipeline or extension is started.
    run = CrawlRun(spec=spec, sessions=sessionmaker())
    settings = crawl_settings(spec, run)
    settings.setdict({"ITEM_PIPELINES": {}, "EXTENSIONS": {}}, priority="cmdline")
    process = AsyncCrawlerProcess(settings)
    process.crawl(OnePage)
    process.start()
    if results:
        return results[0]
    raise FetchError(f"cannot fetch {url}: {failures[0] if failures else 'no response (robots.txt may forbid it)'}")
