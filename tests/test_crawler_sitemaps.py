"""crawler.sitemaps: news sitemaps with news: tags, indexes, gzip, text, and hostile XML."""

import gzip
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.errors import NotASitemap
from crawler.sitemaps import parse_sitemap

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
FIXTURES = Path(__file__).parent / "fixtures" / "crawler"


def test_news_sitemap_keeps_news_tags() -> None:
    sitemap = parse_sitemap((FIXTURES / "news_sitemap.xml").read_bytes(), "https://www.example.mx/news.xml")
    assert sitemap.kind == "urlset"
    first, second = sitemap.articles
    assert first.title == "Guardia Nacional refuerza garitas de Tijuana"
    assert first.published == datetime(2025, 9, 3, 23, 30, tzinfo=UTC)
    assert first.language == "es"
    assert second.title is None and second.published == datetime(2025, 9, 2, tzinfo=UTC)


def test_sitemap_index_lists_children() -> None:
    sitemap = parse_sitemap((FIXTURES / "sitemap_index.xml").read_bytes(), "https://www.example.mx/sitemap.xml")
    assert sitemap.kind == "index"
    assert sitemap.sitemaps == [
        "https://www.example.mx/sitemaps/news-1.xml",
        "https://www.example.mx/sitemaps/news-2.xml.gz",
    ]


def test_gzipped_sitemap() -> None:
    body = gzip.compress((FIXTURES / "news_sitemap.xml").read_bytes())
    assert len(parse_sitemap(body, "https://www.example.mx/news.xml.gz").articles) == 2


def test_gzip_bomb_sitemap_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * 20_000_000)
    with pytest.raises(NotASitemap, match="larger than"):
        parse_sitemap(bomb, "https://www.example.mx/news.xml.gz", max_size=1_000_000)


@pytest.mark.parametrize("name", ["sitemap.xml", "sitemap-hreflang.xml", "sitemap2.xml"])
def test_corpus_sitemaps(name: str) -> None:
    sitemap = parse_sitemap((CORPUS / "sitemaps" / "trafilatura" / name).read_bytes(), "https://www.sitemaps.org/")
    assert sitemap.articles or sitemap.sitemaps
    assert all(entry.url.startswith("http") for entry in sitemap.articles)


def test_text_sitemap() -> None:
    sitemap = parse_sitemap(b"https://e.mx/a\nhttps://e.mx/b\n\n", "https://e.mx/sitemap.txt")
    assert [entry.url for entry in sitemap.articles] == ["https://e.mx/a", "https://e.mx/b"]


def test_billion_laughs_is_not_expanded() -> None:
    """lxml is told not to resolve entities: the one URL is listed and the parse never holds
    20 MB of Python objects (the expanded <lastmod> would be a 3 GB string; tracemalloc sees
    what lxml hands to Python, not libxml2's own buffers)."""
    tracemalloc.start()
    try:
        sitemap = parse_sitemap((FIXTURES / "billion_laughs_sitemap.xml").read_bytes(), "https://www.example.com/")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [entry.url for entry in sitemap.articles] == ["https://www.example.com/2025/09/03/nota-uno"]
    assert peak < 20_000_000


def test_external_entities_are_not_read() -> None:
    sitemap = parse_sitemap((FIXTURES / "xxe_sitemap.xml").read_bytes(), "https://www.example.com/")
    assert all("root:" not in entry.url for entry in sitemap.articles)


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>404</body></html>", b"<rss version='2.0'><channel/></rss>", bytes(range(1, 256)) * 4],
)
def test_what_is_no_sitemap_is_refused(body: bytes) -> None:
    with pytest.raises(NotASitemap):
        parse_sitemap(body, "https://e.mx/sitemap.xml")
