"""crawler.feeds on the corpus feeds (RSS 0.9x-2.0, RSS 1.0, Atom, CDF, bozo and encoding cases)."""

import json
import tracemalloc
from pathlib import Path

import pytest

from crawler.errors import NotAFeed
from crawler.feeds import parse_feed

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
FIXTURES = Path(__file__).parent / "fixtures" / "crawler"


def corpus_feeds() -> list[str]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    return [record["file"] for record in manifest if record["kind"] == "feed"]


def headers_for(path: Path) -> dict[str, str]:
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        return json.loads(sidecar.read_text()).get("http_headers") or {}
    return {}


@pytest.mark.parametrize("name", corpus_feeds())
def test_every_corpus_feed_parses_or_is_refused_cleanly(name: str) -> None:
    path = CORPUS / name
    try:
        listed = parse_feed(path.read_bytes(), "https://example.com/feed.xml", headers_for(path))
    except NotAFeed:
        return
    for entry in listed:
        assert entry.url.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo is not None


@pytest.mark.parametrize(
    ("name", "count", "first_title"),
    [
        ("feeds/node-feedparser/rss2sample.xml", 4, "Star City"),
        ("feeds/rss-parser/rss-1_rss.xml", 69, "Food for fungi"),  # RSS 1.0 (RDF)
        ("feeds/rss-parser/heise_atom.xml", 15, "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"),
        ("feeds/trafilatura/feed1_atom.xml", 1, "Atom-Powered Robots Run Amok"),  # Atom 0.3
        ("feeds/node-feedparser/saxerror.xml", 3, "Good Item"),  # bozo: malformed XML, entries kept
        ("feeds/node-feedparser/iconv.xml", 10, "В Бузулуке главные стройплощадки – детсад и Ледовый дворец"),
        ("feeds/rss-parser/encoding_rss.xml", 40, "Mãe de utente é a nova presidente da Raríssimas"),
    ],
)
def test_known_feeds(name: str, count: int, first_title: str) -> None:
    path = CORPUS / name
    listed = parse_feed(path.read_bytes(), "https://example.com/feed.xml", headers_for(path))
    assert len(listed) == count
    assert listed[0].title == first_title


def test_entry_metadata_travels() -> None:
    listed = parse_feed((CORPUS / "feeds/rss-parser/guardian_rss.xml").read_bytes(), "https://www.theguardian.com/")
    first = listed[0]
    assert first.published is not None and first.published.year == 2018
    assert first.summary and "<" not in first.summary
    assert first.language == "en"


def test_titles_lose_their_markup() -> None:
    listed = parse_feed((CORPUS / "feeds/rss-parser/craigslist_rss.xml").read_bytes(), "http://sfbay.craigslist.org/")
    assert all("<" not in (entry.title or "") for entry in listed)


def test_relative_links_resolve_against_the_feed() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>Uno</title><link>/2025/09/03/nota-uno</link></item>
    <item><title>Sin enlace</title></item>
    <item><title>Guid</title><guid>https://www.example.mx/2025/09/03/nota-guid</guid></item>
    </channel></rss>"""
    listed = parse_feed(body, "https://www.example.mx/rss.xml")
    assert [entry.url for entry in listed] == [
        "https://www.example.mx/2025/09/03/nota-uno",
        "https://www.example.mx/2025/09/03/nota-guid",
    ]


def test_http_charset_header_overrides_the_xml_declaration() -> None:
    body = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>' \
           "<item><title>Año de elecciones en Michoacán</title><link>https://e.mx/a</link></item></channel></rss>"
    listed = parse_feed(body.encode("cp1252"), "https://e.mx/rss", {"Content-Type": "application/rss+xml; charset=windows-1252"})
    assert listed[0].title == "Año de elecciones en Michoacán"


def test_undeclared_latin1_feed_still_gives_entries() -> None:
    body = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>' \
           "<item><title>Año nuevo</title><link>https://e.mx/a</link></item></channel></rss>"
    listed = parse_feed(body.encode("latin-1"), "https://e.mx/rss", {"Content-Type": "application/rss+xml"})
    assert [entry.url for entry in listed] == ["https://e.mx/a"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>", "HTML"),
        (b"<html><body><h1>Error</h1></body></html>", "HTML"),
        (bytes(range(256)) * 8, "not a feed"),
    ],
)
def test_what_is_no_feed_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(NotAFeed, match=reason):
        parse_feed(body, "https://e.mx/rss")


def test_truncated_feed_is_a_bozo_feed_without_entries() -> None:
    assert parse_feed(b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>", "https://e.mx/rss") == []


def test_billion_laughs_feed_is_not_expanded() -> None:
    """The entity would expand to 3 GB of "lol" in the title: the item is listed by its link,
    its title stays the unexpanded reference, and the parse never holds 20 MB."""
    tracemalloc.start()
    try:
        listed = parse_feed((FIXTURES / "billion_laughs_feed.xml").read_bytes(), "https://e.mx/rss")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [entry.url for entry in listed] == ["https://www.example.com/2025/09/03/nota-uno"]
    assert "lollol" not in (listed[0].title or "") and len(listed[0].title or "") < 100
    assert peak < 20_000_000
