"""Article links on an outlet's section page.

An outlet can say what its article URLs look like (``link_patterns``, regexes searched
in the absolute URL). Without them, a link is taken for an article when it stays on the
section's site and its path carries a date (``/2025/09/03/``, ``20250903``) or ends in a
long slug (``/gobernadora-inaugura-torre-medica-en-mexicali``) — which leaves out
section, tag, author and pagination links.

The patterns are the operator's, but the URLs they run over come from the web: they are
compiled with RE2 (``rules.linear_regex``), so a pattern that would backtrack cannot be
turned into a hang by a hostile page full of long links.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.etree import ParserError

from crawler.items import ListedArticle
from rules.linear_regex import compile_linear

DATE_IN_PATH = re.compile(r"/(19|20)\d\d[/-](0?[1-9]|1[0-2])([/-]|$)|(?<!\d)(19|20)\d\d(0[1-9]|1[0-2])([0-2]\d|3[01])(?!\d)")
SLUG_WORD = re.compile(r"[^\W_]+", re.UNICODE)
NOT_ARTICLES = re.compile(r"/(tag|tags|etiqueta|etiquetas|autor|author|autores|seccion|category|categoria|page|pagina)/", re.I)


def site_of(host: str) -> str:
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def is_article_url(url: str, section_url: str, patterns: list[Any] | None = None) -> bool:
    """Does this absolute URL look like an article of the section's outlet?

    ``patterns`` are compiled with :func:`rules.linear_regex.compile_linear` (RE2)."""
    if patterns:
        return any(pattern.search(url) for pattern in patterns)
    parts, section = urlsplit(url), urlsplit(section_url)
    if parts.scheme not in ("http", "https") or site_of(parts.hostname or "") != site_of(section.hostname or ""):
        return False
    path = parts.path
    if NOT_ARTICLES.search(path):
        return False
    if DATE_IN_PATH.search(path):
        return True
    last = path.rstrip("/").rsplit("/", 1)[-1]
    last = re.sub(r"\.(s?html?|php|aspx?)$", "", last, flags=re.I)
    words = SLUG_WORD.findall(last.replace("_", "-"))
    return len(words) >= 4 and len(last) >= 25


def article_links(html: str | bytes, page_url: str, patterns: list[str] | None = None) -> list[ListedArticle]:
    """Distinct article links of a section page, in page order, with their anchor text as title."""
    compiled = [compile_linear(pattern) for pattern in patterns] if patterns else None
    try:
        document = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return []
    seen: set[str] = set()
    links = []
    for anchor in document.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(page_url, href).split("#", 1)[0]
        if url in seen or url.rstrip("/") == page_url.rstrip("/") or not is_article_url(url, page_url, compiled):
            continue
        seen.add(url)
        title = " ".join(anchor.text_content().split()) or None
        links.append(ListedArticle(url=url, title=title))
    return links
