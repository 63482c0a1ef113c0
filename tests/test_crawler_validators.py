"""Conditional-GET validators are kept only when every listed article was dealt with."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.spec import SourceSpec
from rules import load_rules
from storage.db import open_database
from storage.models import Article, Source
from tests.support.news_site import NewsSite
from tests.test_crawler_run import crawl, make_spec

PAGE = "<html lang='es'><body><article><h1>Nota</h1><p>" + "Texto de la nota en español sobre la ciudad. " * 30 + "</p></article></body></html>"


@pytest.fixture
def site(news_site: NewsSite) -> NewsSite:
    """The session's loopback site, empty for this test (tests/conftest.py)."""
    return news_site


def test_a_failed_article_is_retried_because_its_feed_is_read_again(site: NewsSite, tmp_path: Path) -> None:
    ruleset = load_rules([{"builtin": "mx-us-security"}], Path("."))
    database_url = f"sqlite:///{tmp_path / 'v.db'}"
    site.add("/2026/11/25/nota-buena", PAGE)
    site.add_status("/2026/11/25/nota-rota", 500)
    items = "".join(f"<item><link>{site.url(p)}</link></item>" for p in ("/2026/11/25/nota-buena", "/2026/11/25/nota-rota"))
    site.add("/rss.xml", f'<rss version="2.0"><channel><title>a</title>{items}</channel></rss>', content_type="application/rss+xml")
    spec = make_spec(database_url, [SourceSpec("Diario", "rss", site.url("/rss.xml"), "Diario")], ruleset)

    first = crawl(spec)
    assert first.new == 1 and len(first.errors) == 1
    _, sessions = open_database(database_url)
    with sessions() as session:
        source = session.scalars(select(Source)).one()
        # Healthy (the feed answered), but no validators: the next crawl must read the feed again.
        assert (source.consecutive_failures, source.etag) == (0, None)

    site.add("/2026/11/25/nota-rota", PAGE.replace("Nota", "Nota arreglada"))
    site.clear_log()
    second = crawl(spec)
    assert second.new == 1 and not second.errors
    assert not site.fetched("/2026/11/25/nota-buena")  # stored already: not fetched again
    assert site.fetched("/2026/11/25/nota-rota")
    with sessions() as session:
        assert len(session.scalars(select(Article)).all()) == 2
        assert session.scalars(select(Source)).one().etag is not None  # now every article is in

    site.clear_log()
    third = crawl(spec)
    assert third.sources[0].not_modified
    assert [r.header("If-None-Match") for r in site.fetched("/rss.xml")] != [None]


def test_an_article_the_database_refuses_is_an_error_and_is_retried(site: NewsSite, migrated_postgres_url: str) -> None:
    """A storage failure mid-crawl (here a PostgreSQL trigger) is counted, and the next crawl stores it."""
    import psycopg

    ruleset = load_rules([{"builtin": "mx-us-security"}], Path("."))
    postgres_url = migrated_postgres_url
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            """CREATE FUNCTION refuse_poison() RETURNS trigger AS $$
               BEGIN IF NEW.canonical_url LIKE '%veneno%' THEN RAISE EXCEPTION 'disk full (simulated)'; END IF;
               RETURN NEW; END $$ LANGUAGE plpgsql;
               CREATE TRIGGER refuse_poison BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_poison();"""
        )
    site.add("/2026/11/25/nota-buena", PAGE)
    site.add("/2026/11/25/nota-veneno", PAGE.replace("Nota", "Otra nota"))
    items = "".join(f"<item><link>{site.url(p)}</link></item>" for p in ("/2026/11/25/nota-buena", "/2026/11/25/nota-veneno"))
    site.add("/rss.xml", f'<rss version="2.0"><channel><title>a</title>{items}</channel></rss>', content_type="application/rss+xml")
    spec = make_spec(postgres_url, [SourceSpec("Diario", "rss", site.url("/rss.xml"), "Diario")], ruleset)

    first = crawl(spec)
    assert first.new == 1
    assert [(source, url) for source, url, _ in first.errors] == [("Diario", site.url("/2026/11/25/nota-veneno"))]
    assert "disk full (simulated)" in first.errors[0][2]

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("DROP TRIGGER refuse_poison ON articles")
    second = crawl(spec)
    assert second.new == 1 and not second.errors
