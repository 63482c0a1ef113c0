"""A TLS failure ends its source with a readable error while the other sources go on."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.spec import SourceSpec
from rules import load_rules
from tests.support.news_site import NewsSite
from tests.test_crawler_run import crawl, make_spec

PAGE = "<html lang='es'><body><article><h1>Nota</h1><p>" + "Texto de la nota en español sobre la ciudad. " * 30 + "</p></article></body></html>"


@pytest.fixture
def site(news_site: NewsSite) -> NewsSite:
    """The session's loopback site, empty for this test (tests/conftest.py)."""
    return news_site


def test_a_tls_handshake_failure_is_recorded_against_its_source(site: NewsSite, tmp_path: Path) -> None:
    site.add("/2026/11/25/nota", PAGE)
    site.add("/rss.xml", f'<rss version="2.0"><channel><title>a</title><item><link>{site.url("/2026/11/25/nota")}</link></item></channel></rss>',
             content_type="application/rss+xml")
    # https:// to a plain-HTTP port: the TLS handshake cannot succeed.
    broken = site.url("/rss.xml").replace("http://", "https://")
    spec = make_spec(
        f"sqlite:///{tmp_path / 'v.db'}",
        [SourceSpec("TLS", "rss", broken, "TLS"), SourceSpec("Sana", "rss", site.url("/rss.xml"), "Sana")],
        load_rules([{"builtin": "mx-us-security"}], Path(".")),
    )
    report = crawl(spec)
    results = {result.name: result for result in report.sources}
    assert results["Sana"].ok and report.new == 1
    assert not results["TLS"].ok
    assert any(word in results["TLS"].error.lower() for word in ("tls", "ssl", "handshake")), results["TLS"].error
