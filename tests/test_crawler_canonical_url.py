"""crawler.canonical_url: one key per article whatever decorated its link."""

import pytest

from crawler.canonical_url import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://WWW.Example.MX/Nota?b=2&a=1#comentarios", "https://www.example.mx/Nota?a=1&b=2"),
        ("https://example.mx:443/nota", "https://example.mx/nota"),
        ("http://example.mx:80/nota", "http://example.mx/nota"),
        ("http://example.mx:8080/nota", "http://example.mx:8080/nota"),
        ("https://example.mx", "https://example.mx/"),
        (
            "https://example.mx/nota?utm_source=rss&utm_medium=feed&id=7&fbclid=x&gclid=y&mc_cid=z&mc_eid=w",
            "https://example.mx/nota?id=7",
        ),
        ("https://example.mx/nota?UTM_Campaign=x&pk_campaign=y&_ga=1", "https://example.mx/nota"),
        ("https://example.mx/a%c3%b1o", "https://example.mx/a%C3%B1o"),
        ("https://example.mx/año", "https://example.mx/a%C3%B1o"),
        ("https://example.mx/nota?q=", "https://example.mx/nota?q="),
        ("  https://example.mx/nota  ", "https://example.mx/nota"),
    ],
)
def test_canonical_forms(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_same_article_from_two_feeds_is_one_key() -> None:
    from_rss = "https://www.example.mx/2025/09/03/nota?utm_source=rss&utm_medium=feed"
    from_atom = "https://WWW.EXAMPLE.MX:443/2025/09/03/nota#top"
    assert canonical_url(from_rss) == canonical_url(from_atom)


def test_paths_keep_their_case() -> None:
    assert canonical_url("https://example.mx/Nota") != canonical_url("https://example.mx/nota")


@pytest.mark.parametrize("url", ["mailto:a@b.mx", "javascript:void(0)", "/relativa", "ftp://example.mx/x"])
def test_not_http_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(url)
