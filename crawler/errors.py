"""Exceptions raised by crawler/: one root, one subclass per decision the crawl makes."""

from __future__ import annotations


class CrawlError(Exception):
    """Root of every crawler failure; vigia/ maps it to an exit code."""


class ListingError(CrawlError):
    """Raised by the feed, sitemap and section-page parsers when a listing cannot be read.

    The spider records it against the source (``record_source_error``) and goes on
    with the other sources.
    """


class NotAFeed(ListingError):
    """Raised by ``crawler.feeds.parse_feed`` when the body is no feed at all (HTML, empty, binary)."""


class NotASitemap(ListingError):
    """Raised by ``crawler.sitemaps.parse_sitemap`` when the body is neither a urlset nor an index."""
