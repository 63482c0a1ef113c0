"""Downloader middlewares for politeness Scrapy does not ship: Crawl-delay and Retry-After."""

from __future__ import annotations

import asyncio
import email.utils
import time
from datetime import datetime, timezone
from typing import Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

CRAWL_DELAY_CAP = 30.0


class CrawlDelayMiddleware:
    """Space requests to a host by its robots.txt ``Crawl-delay`` for our user agent.

    Scrapy's robots.txt middleware parses the directive but does not apply it; this
    one listens for ``robots_parsed`` and holds each request until the host's next
    turn. Must sit after RobotsTxtMiddleware so the delay is known before the first
    page request leaves.
    """

    def __init__(self, user_agent: str, cap: float) -> None:
        self.user_agent = user_agent
        self.cap = cap
        self.delays: dict[str, float] = {}
        self.next_turn: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        middleware = cls(user_agent, crawler.settings.getfloat("VIGIA_CRAWL_DELAY_CAP", CRAWL_DELAY_CAP))
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        return middleware

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        if delay:
            self.delays[urlparse_cached(request).netloc] = min(float(delay), self.cap)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        netloc = urlparse_cached(request).netloc
        delay = self.delays.get(netloc)
        if not delay:
            return
        now = time.monotonic()
        turn = max(now, self.next_turn.get(netloc, now))
        self.next_turn[netloc] = turn + delay
        if turn > now:
            await asyncio.sleep(turn - now)


class RetryAfterMiddleware:
    """Honour ``Retry-After`` on 429 and 503: wait and retry once if the wait is short,
    give the URL up at once if it is long (hammering a server that asked us to wait is
    what gets crawlers blocked). Sits before RetryMiddleware in response order, so the
    stock retry never fires at such a response immediately.
    """

    def __init__(self, max_wait: float) -> None:
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        return cls(crawler.settings.getfloat("VIGIA_RETRY_AFTER_MAX", 30.0))

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if response.status not in (429, 503):
            return response
        header = response.headers.get(b"Retry-After")
        if header is None:
            return response
        wait = retry_after_seconds(header.decode("latin-1"))
        if wait is None:
            return response
        if request.meta.get("vigia_waited") or wait > self.max_wait:
            raise IgnoreRequest(f"HTTP {response.status} (Retry-After: {wait:.0f} s)")
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["vigia_waited"] = True
        return retry


def retry_after_seconds(value: str) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
