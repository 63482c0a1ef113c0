"""Downloader middlewares Scrapy does not ship: politeness (Crawl-delay, Retry-After) and the
address guard that keeps untrusted links away from internal addresses."""

from __future__ import annotations

import asyncio
import email.utils
import functools
import time
from datetime import UTC, datetime
from typing import Any

from scrapy import exceptions as scrapy_errors
from scrapy import signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError
from twisted.internet.error import TimeoutError as LookupTimeout

from crawler.addresses import (
    AddressPolicy,
    Endpoint,
    endpoint,
    is_internal,
    is_ip_literal,
)
from crawler.resolver import InternalAddressAnswer

# Scrapy 2.19 wraps Twisted's DNSLookupError in its own CannotResolveHostError.
LOOKUP_ERRORS: tuple[type[Exception], ...] = tuple(
    kind for kind in (getattr(scrapy_errors, "CannotResolveHostError", None), DNSLookupError) if kind
)


def spec_setting(settings: Any, name: str) -> float:
    """A number ``crawl_settings`` takes from the spec; its default lives in vigia.config only."""
    value = settings.get(name)
    if value is None:
        raise ValueError(f"{name} is not set: crawler.process.crawl_settings sets it from the crawl's spec")
    return float(value)


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
        middleware = cls(user_agent, spec_setting(crawler.settings, "VIGIA_CRAWL_DELAY_CAP"))
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
        return cls(spec_setting(crawler.settings, "VIGIA_RETRY_AFTER_MAX"))

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
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# Scrapy reads a meta refresh in the first 4,096 characters of the page: at most 4 bytes each.
HEAD_BYTES = 4 * 4096


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, read from the head of the page only.

    Scrapy's own looks at the first 4,096 characters of ``response.text``, which decodes the
    whole page and keeps that text on the response for as long as the page waits for, and
    goes through, extraction (the extraction workers decode the page themselves). The first
    ``HEAD_BYTES`` bytes, decoded on their own, hold those characters in any encoding.
    """

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if isinstance(response, HtmlResponse) and cannot_refresh(response.body[:HEAD_BYTES]):
            return response
        if not isinstance(response, HtmlResponse) or len(response.body) <= HEAD_BYTES:
            return super().process_response(request, response)
        # Built anew, not by response.replace(), which would read response.encoding: for a page
        # that declares none, that decodes the whole body to guess it.
        head = HtmlResponse(response.url, status=response.status, headers=response.headers,
                            body=response.body[:HEAD_BYTES], request=request)
        followed = super().process_response(request, head)
        return response if followed is head else followed


def cannot_refresh(head: bytes) -> bool:
    """Whether a page's first ``HEAD_BYTES`` hold no meta refresh, told from the bytes alone.

    Most pages have none, and finding that out as Scrapy does (decoding the head, finding its
    base URL, scanning its tags) was most of this middleware's cost a page. A refresh tag spells
    ``<`` and ``refresh`` in ASCII; in an encoding that writes ASCII as ASCII bytes, a head with
    a ``<`` and without those letters has none. UTF-16 and UTF-32 write ASCII with NUL bytes,
    EBCDIC writes ``<`` as another byte: such a head goes the whole way.
    """
    return b"<" in head and b"\x00" not in head and b"refresh" not in head.lower()


# The same few configured entries and source URLs are read for every request: parsed once each.
@functools.lru_cache(maxsize=64)
def _policy(allow_private_hosts: tuple[str, ...]) -> AddressPolicy:
    return AddressPolicy.from_config(allow_private_hosts)


@functools.lru_cache(maxsize=4096)
def _source_endpoint(url: str) -> Endpoint | None:
    return endpoint(url)


class PrivateAddressRefused(IgnoreRequest):
    """Raised by ``AddressGuardMiddleware`` for a request that would reach an internal address
    it may not; the request's errback records it against its source and the crawl goes on."""

    def __init__(self, address: str) -> None:
        super().__init__(f"refused: resolves to a private address {address}")
        self.address = address


class AddressGuardMiddleware:
    """Refuse every request, redirects included, whose host resolves to an internal address,
    unless its host and port are those of its own source's configured URL or are listed in
    ``crawler.allow_private_hosts`` (``crawler.addresses`` has the whole rule).

    A redirect is a new request through the whole chain, so it is checked here like any
    other. The name is resolved through the reactor's resolver (``GuardedResolver``, whose
    cache the download then uses), so the address checked is the address connected to.
    Sits first, before RobotsTxtMiddleware: nothing is asked of an internal host, not even
    its robots.txt.
    """

    def __init__(self, run: Any) -> None:
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuardMiddleware:
        run = crawler.settings.get("VIGIA_RUN")
        if run is None:  # `vigia match URL`: the one URL the user typed, no sources to guard
            raise NotConfigured
        return cls(run)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        target = endpoint(request.url)
        if target is None:  # not HTTP(S): Scrapy's own handlers refuse or serve it
            return
        self._learn_source(request)
        policy = _policy(tuple(self.run.spec.allow_private_hosts))
        if policy.allows(target, self._own_endpoints(request)):
            return
        address = await self._address(target[0])
        if address is not None and is_internal(address):
            raise PrivateAddressRefused(address)

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        # The resolver refused an answer at connect time (the name changed its answer since
        # the check above): say so, instead of Scrapy's bare "DNS lookup failed".
        # Imported here, not at import time: Scrapy installs the reactor first.
        from twisted.internet import reactor

        refused = getattr(reactor.resolver, "refused", None)
        target = endpoint(request.url)
        lookup_failed = isinstance(exception, LOOKUP_ERRORS)
        if lookup_failed and refused and target and target[0] in refused:
            raise PrivateAddressRefused(refused[target[0]]) from None

    def _learn_source(self, request: Request) -> None:
        """An article of a poll another worker took (a shared queue) names its source's URL:
        this worker's guard and resolver then allow that source's own host like the taker's."""
        name, url = request.meta.get("vigia_source"), request.meta.get("vigia_source_url")
        if name and url and name not in self.run.sources:
            self.run.other_source_urls[name] = url

    def _own_endpoints(self, request: Request) -> list[Endpoint]:
        """The configured endpoint of the request's source; every source's for a request
        that belongs to none (robots.txt, asked for a host one of them already passed)."""
        # run.source_urls, not spec.sources: the long-lived worker learns its sources job by job.
        urls = self.run.source_urls()
        name = request.meta.get("vigia_source")
        own = [urls[name]] if name in urls else list(urls.values())
        return [target for target in (_source_endpoint(url) for url in own) if target]

    async def _address(self, host: str) -> str | None:
        """The address the download will connect to; None when the name does not resolve
        (the download then fails with Scrapy's own DNS error)."""
        if is_ip_literal(host):
            return host
        # Imported here, not at import time: Scrapy installs the reactor first.
        from twisted.internet import reactor

        try:
            # Twisted declares reactor methods on zope Interfaces, without ``self``: mypy (no
            # mypy-zope plugin) reads ``host`` as the ``timeout`` argument.
            address: str = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[arg-type]
        except InternalAddressAnswer as refused:
            return refused.address
        except (DNSLookupError, LookupTimeout):
            return None
        return address
