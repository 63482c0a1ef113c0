"""Sitemaps and news sitemaps into ``ListedArticle``s, with the ``news:`` tags kept.

Parsed by lxml with entity expansion, network access and huge trees all off, so a
hostile sitemap can neither read local files (XXE) nor blow up memory (billion laughs).
Gzipped sitemaps are inflated here with a size cap; plain-text sitemaps (one URL a
line) are accepted too, as search engines do.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

from crawler.dates import from_iso
from crawler.errors import NotASitemap
from crawler.items import ListedArticle

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Sitemap:
    """A urlset's articles, or an index's child sitemap URLs."""

    kind: str  # "urlset" | "index"
    articles: list[ListedArticle] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # newest first when the index gives lastmod


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )


def inflate(body: bytes, max_size: int) -> bytes:
    """Gunzip a ``.xml.gz`` body, refusing to grow it past ``max_size`` (gzip bombs).

    Servers often send ``.gz`` files already inflated by HTTP compression, so a body
    without the gzip magic is returned as it is.
    """
    if not body.startswith(GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, max_size + 1)
    except zlib.error as exc:
        raise NotASitemap(f"bad gzip data: {exc}") from exc
    if len(data) > max_size:
        raise NotASitemap(f"sitemap larger than {max_size} bytes once decompressed")
    return data


def parse_sitemap(body: bytes, url: str, max_size: int = 50_000_000) -> Sitemap:
    """Read a sitemap body (XML, gzipped XML or plain text)."""
    body = inflate(body, max_size).strip()
    if not body:
        raise NotASitemap("empty body")
    if not body.startswith(b"<"):
        return _text_sitemap(body, url)
    try:
        root = etree.fromstring(body, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise NotASitemap(f"unparseable XML: {exc}") from exc
    if root is None:
        raise NotASitemap("unparseable XML")
    kind = etree.QName(root).localname
    if kind == "sitemapindex":
        return Sitemap("index", sitemaps=_child_sitemaps(root, url))
    if kind != "urlset":
        raise NotASitemap(f"root element <{kind}> is neither urlset nor sitemapindex")
    articles = [article for node in _children(root, "url") if (article := _article(node, url))]
    return Sitemap("urlset", articles=articles)


def _child_sitemaps(root: etree._Element, base: str) -> list[str]:
    """The index's child sitemap URLs, newest ``lastmod`` first (undated ones after, as listed).

    News sites date their children; reading the newest first means a bounded read of a
    huge index still sees today's articles.
    """
    dated: list[tuple[float, int, str]] = []
    for position, node in enumerate(_children(root, "sitemap")):
        loc = _child_text(node, "loc")
        if not loc:
            continue
        modified = from_iso(_child_text(node, "lastmod"))
        dated.append((-modified.timestamp() if modified else float("inf"), position, urljoin(base, loc)))
    return [link for _, _, link in sorted(dated)]


def _article(node: etree._Element, base: str) -> ListedArticle | None:
    loc = _child_text(node, "loc")
    if not loc:
        return None
    link = urljoin(base, loc)
    if not link.startswith(("http://", "https://")):
        return None
    news = next(_children(node, "news"), None)
    title = published = language = None
    if news is not None:
        title = _child_text(news, "title")
        published = from_iso(_child_text(news, "publication_date"))
        publication = next(_children(news, "publication"), None)
        if publication is not None:
            language = _child_text(publication, "language")
    if published is None:
        published = from_iso(_child_text(node, "lastmod"))
    if language:
        language = language.strip().lower().replace("_", "-").split("-")[0]
    return ListedArticle(url=link, title=title, published=published, language=language or None)


def _children(node: etree._Element, name: str):  # type: ignore[no-untyped-def]
    """Children by local name, whatever namespace (or none) the sitemap used."""
    return (child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == name)


def _child_text(node: etree._Element, name: str) -> str | None:
    child = next(_children(node, name), None)
    if child is None or child.text is None:
        return None
    return " ".join(child.text.split()) or None


def _text_sitemap(body: bytes, url: str) -> Sitemap:
    lines = body.decode("utf-8", errors="replace").splitlines()
    links = [line.strip() for line in lines if line.strip().startswith(("http://", "https://"))]
    if not links:
        raise NotASitemap("neither XML nor a list of URLs")
    return Sitemap("urlset", articles=[ListedArticle(url=link) for link in links])
