"""RSS 0.9x/1.0/2.0 and Atom feeds, parsed from the response body into ``ListedArticle``s.

feedparser reads the bytes we downloaded (never a URL: all HTTP goes through Scrapy)
with the response headers, which override the XML's own encoding declaration as HTTP
says they should. Malformed ("bozo") feeds still give their entries; a body that is no
feed at all (an HTML error page, nothing, binary) raises ``NotAFeed``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import feedparser
import lxml.html
from lxml.etree import ParserError

from crawler.dates import from_struct_time
from crawler.errors import NotAFeed
from crawler.items import ListedArticle

HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S)


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> list[ListedArticle]:
    """The articles a feed lists, in feed order, with whatever metadata it gives."""
    if not body.strip():
        raise NotAFeed("empty body")
    if HTML_START.match(body[:2048]):
        raise NotAFeed("HTML page served as a feed")
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise NotAFeed(f"not a feed: {reason}" if reason else "not a feed")
    feed_language = _language(parsed.feed.get("language"))
    listed = []
    for entry in parsed.entries:
        link = _entry_link(entry, url)
        if link is None:
            continue
        listed.append(
            ListedArticle(
                url=link,
                title=_text_of(entry.get("title")),
                # dict.get: FeedParserDict.get would alias the two keys with a DeprecationWarning
                published=from_struct_time(dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")),
                author=_clean(entry.get("author")),
                summary=_text_of(entry.get("summary")),
                language=_language(entry.get("language")) or feed_language,
            )
        )
    return listed


def _entry_link(entry: Any, feed_url: str) -> str | None:
    """The article URL: the alternate link, else a permalink guid (RSS ``<guid>`` or Atom ``<id>``)."""
    candidates = [link.get("href") for link in entry.get("links", []) if link.get("rel", "alternate") == "alternate"]
    candidates += [entry.get("link"), entry.get("id")]
    for candidate in candidates:
        if not candidate:
            continue
        absolute = urljoin(feed_url, candidate.strip())
        if absolute.startswith(("http://", "https://")):
            return absolute
    return None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    text = " ".join(value.split())
    return text or None


def _text_of(html: str | None) -> str | None:
    """Feed summaries are (sanitised) HTML; the matcher wants their text."""
    if not html or not html.strip():
        return None
    if "<" not in html:
        return _clean(html)
    try:
        return _clean(lxml.html.fromstring(html).text_content())
    except (ParserError, ValueError):
        return _clean(re.sub(r"<[^>]+>", " ", html))


def _language(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip().lower().replace("_", "-").split("-")[0] or None
