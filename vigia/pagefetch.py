"""Fetching one page for ``vigia match URL``, through Scrapy like every other request.

Going through Scrapy keeps robots.txt, the User-Agent, timeouts and size limits the same
as in a crawl; a one-request spider is all it takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigia.errors import VigiaError


class FetchError(VigiaError):
    """Raised when ``vigia match`` cannot fetch the page it was given."""


@dataclass
class FetchedPage:
    url: str
    status: int
    html: str


def fetch_page(url: str, user_agent: str, timeout: float, obey_robots: bool = True) -> FetchedPage:
    import scrapy
    from scrapy.crawler import AsyncCrawlerProcess
    from scrapy.settings import Settings

    from crawler import settings as crawler_settings

    results: list[FetchedPage] = []
    failures: list[str] = []

    class OnePage(scrapy.Spider):
        name = "vigia-match"

        async def start(self):  # type: ignore[no-untyped-def]
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

        def parse(self, response):  # type: ignore[no-untyped-def]
            text = response.text if hasattr(response, "text") else ""
            results.append(FetchedPage(url=response.url, status=response.status, html=text))

        def failed(self, failure):  # type: ignore[no-untyped-def]
            failures.append(f"{failure.type.__name__}: {failure.value}")

    # crawler.settings, not whatever scrapy.cfg the working directory has: the telnet console
    # and remote control stay off, and the politeness settings are the crawl's own.
    settings = Settings()
    settings.setmodule(crawler_settings, priority="project")
    settings.setdict(
        {
            "USER_AGENT": user_agent,
            "DOWNLOAD_TIMEOUT": timeout,
            "ROBOTSTXT_OBEY": obey_robots,
            "LOG_INSTALL_ROOT_HANDLER": False,
            "ITEM_PIPELINES": {},
            "EXTENSIONS": {},
            "RETRY_TIMES": 1,
        },
        priority="cmdline",
    )
    process = AsyncCrawlerProcess(settings)
    process.crawl(OnePage)
    process.start()
    if results:
        return results[0]
    raise FetchError(f"cannot fetch {url}: {failures[0] if failures else 'no response (robots.txt may forbid it)'}")
