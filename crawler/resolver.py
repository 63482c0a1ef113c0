"""The crawl's DNS resolver: Scrapy's caching resolver, with every answer vetted.

Installed through ``TWISTED_DNS_RESOLVER``, so it answers for every connection the
downloader makes. A name resolving to an internal address (``crawler.addresses``) is
refused unless the admin wrote that name down (a configured source's host or an entry of
``crawler.allow_private_hosts``): the address Scrapy connects to is the address that was
checked, so a name cannot look public to the middleware's check and then rebind to
127.0.0.1 for the connection. The per-source, per-port rule is
``crawler.middlewares.AddressGuardMiddleware``'s, which sees each request.

Without a crawl run in the settings (``vigia match`` fetching the one URL a user typed)
it behaves exactly like Scrapy's ``CachingThreadedResolver``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from crawler.addresses import AddressPolicy, endpoint, is_internal

logger = logging.getLogger(__name__)


class InternalAddressAnswer(DNSLookupError):
    """Raised (as the lookup's failure) by ``GuardedResolver`` when a name not written in the
    config resolves to an internal address; the middleware turns it into a refusal."""

    def __init__(self, name: str, address: str) -> None:
        super().__init__(f"{name} resolves to a private address {address}")
        self.name = name
        self.address = address


class GuardedResolver(CachingThreadedResolver):
    def __init__(self, reactor: Any, cache_size: int, timeout: float, settings: Any = None) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.settings = settings
        self.refused: dict[str, str] = {}  # name -> the internal address it was refused for

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        resolver = super().from_crawler(crawler, reactor)
        resolver.settings = crawler.settings
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        lookup = super().getHostByName(name, timeout)
        lookup.addCallback(self._vet, name)
        return lookup

    def _vet(self, address: str, name: str) -> str:
        if is_internal(address) and not self._may_resolve_internal(name):
            logger.warning("refused DNS answer: %s resolves to a private address %s", name, address)
            self.refused[name.lower().rstrip(".")] = address
            raise InternalAddressAnswer(name, address)
        return address

    def _may_resolve_internal(self, name: str) -> bool:
        run = self.settings.get("VIGIA_RUN") if self.settings is not None else None
        if run is None:
            return True
        spec = run.spec
        # run.source_urls: every source this process fetches for (the worker learns them job by job).
        own_hosts = [target[0] for target in (endpoint(url) for url in run.source_urls().values()) if target]
        return AddressPolicy.from_config(spec.allow_private_hosts).may_resolve_internal(name, own_hosts)
