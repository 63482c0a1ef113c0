"""What a listing is allowed to cost, and that nothing it lists is lost to a bound or a database error.

Every bound keeps the newest entries, says in the report that it cut, and keeps the
listing's validators out of the database so the rest cannot hide behind a 304.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from crawler.spec import SourceSpec
from rules import load_rules
from storage.db import open_database
from storage.models import Article, Source
from tests.support.news_site import NewsSite
from tests.test_crawler_run import crawl, make_spec

REPO = Path(__file__).resolve().parents[1]
RULES = load_rules([{"builtin": "mx-us-security"}], Path("."))
PAGE = (
    "<html lang='es'><body><article><h1>{title}</h1><p>"
    + "Texto de la nota en español sobre la vida de la ciudad y sus barrios. " * 20
    + "</p></article></body></html>"
)
DAY = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def site(news_site: NewsSite) -> NewsSite:
    """The session's loopback site, empty for this test (tests/conftest.py)."""
    return news_site


def urlset(site: NewsSite, paths_and_dates: list[tuple[str, datetime]]) -> str:
    entries = "".join(
        f"<url><loc>{site.url(path)}</loc><lastmod>{when.isoformat()}</lastmod></url>" for path, when in paths_and_dates
    )
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'


def index(site: NewsSite, children: list[tuple[str, datetime]]) -> str:
    entries = "".join(
        f"<sitemap><loc>{site.url(path)}</loc><lastmod>{when.isoformat()}</lastmod></sitemap>" for path, when in children
    )
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'


def source_row(database_url: str) -> Source:
    _, sessions = open_database(database_url)
    with sessions() as session:
        return session.scalars(select(Source)).one()


def stored_urls(database_url: str) -> set[str]:
    _, sessions = open_database(database_url)
    with sessions() as session:
        return set(session.scalars(select(Article.url)))


def test_a_capped_listing_keeps_the_newest_entries_says_so_and_reads_the_rest_next_time(site: NewsSite, tmp_path: Path) -> None:
    """A sitemap with more entries than the cap, oldest first (as many CMSs write them)."""
    database_url = f"sqlite:///{tmp_path / 'v.db'}"
    entries = [(f"/2026/11/{i:04d}/nota", DAY + timedelta(minutes=i)) for i in range(12)]  # newest last
    for path, _ in entries:
        site.add(path, PAGE.format(title=f"Nota {path}"))
    site.add("/sitemap.xml", urlset(site, entries), content_type="application/xml")
    spec = make_spec(
        database_url, [SourceSpec("Diario", "sitemap", site.url("/sitemap.xml"), "Diario")], RULES, max_articles_per_source=5
    )

    first = crawl(spec)

    newest = {site.url(path) for path, _ in entries[-5:]}
    assert stored_urls(database_url) == newest
    (result,) = first.sources
    assert result.ok and any("capped" in note and "7 older" in note for note in result.notes), result.notes
    row = source_row(database_url)
    assert row.etag is None and row.last_modified is None  # never a 304 for what was left
    assert "capped" in (row.listing_note or "")

    site.clear_log()
    second = crawl(spec)
    assert [r.header("If-None-Match") for r in site.fetched("/sitemap.xml")] == [None]
    assert stored_urls(database_url) == newest | {site.url(path) for path, _ in entries[2:7]}
    assert second.sources[0].notes

    third = crawl(spec)
    assert stored_urls(database_url) == {site.url(path) for path, _ in entries}
    assert third.sources[0].notes == []
    row = source_row(database_url)
    assert row.etag is not None and row.listing_note is None  # everything read: validators kept
    assert crawl(spec).sources[0].not_modified


def test_a_sitemap_index_that_lists_itself_is_read_once(site: NewsSite, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'v.db'}"
    site.add("/2026/11/20/nota", PAGE.format(title="Nota"))
    site.add("/news.xml", urlset(site, [("/2026/11/20/nota", DAY)]), content_type="application/xml")
    site.add("/index.xml", index(site, [("/index.xml", DAY), ("/news.xml", DAY), ("/other.xml", DAY)]), content_type="application/xml")
    site.add("/other.xml", index(site, [("/index.xml", DAY), ("/news.xml", DAY)]), content_type="application/xml")
    spec = make_spec(database_url, [SourceSpec("Diario", "sitemap", site.url("/index.xml"), "Diario")], RULES)

    report = crawl(spec)

    assert report.sources[0].ok and report.new == 1
    assert [len(site.fetched(p)) for p in ("/index.xml", "/other.xml", "/news.xml")] == [1, 1, 1]


def test_an_index_with_too_many_children_reads_the_newest_and_says_so(site: NewsSite, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'v.db'}"
    children = []
    for i in range(30):
        path = f"/sitemaps/day-{i:02d}.xml"
        site.add(path, urlset(site, []), content_type="application/xml")
        children.append((path, DAY + timedelta(days=i)))
    site.add("/index.xml", index(site, children), content_type="application/xml")
    spec = make_spec(
        database_url, [SourceSpec("Diario", "sitemap", site.url("/index.xml"), "Diario")], RULES, max_sitemap_children=4
    )

    report = crawl(spec)

    fetched = {r.path for r in site.requests if r.path.startswith("/sitemaps/")}
    assert fetched == {path for path, _ in children[-4:]}
    assert any("lists 30 sitemaps; read the newest 4" in note for note in report.sources[0].notes)
    assert source_row(database_url).etag is None


def test_sitemap_indexes_nested_too_deep_are_not_followed(site: NewsSite, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'v.db'}"
    for level in range(6):
        site.add(f"/level-{level}.xml", index(site, [(f"/level-{level + 1}.xml", DAY)]), content_type="application/xml")
    spec = make_spec(
        database_url, [SourceSpec("Diario", "sitemap", site.url("/level-0.xml"), "Diario")], RULES, max_sitemap_depth=2
    )

    report = crawl(spec)

    assert [bool(site.fetched(f"/level-{level}.xml")) for level in range(5)] == [True, True, True, False, False]
    assert any("nested deeper than 2" in note for note in report.sources[0].notes)


def test_a_database_error_while_reading_a_listing_fails_the_source_and_loses_nothing(site: NewsSite, tmp_path: Path) -> None:
    """The store cannot say which articles are known: the feed failed, its ETag is not kept."""
    db_file = tmp_path / "v.db"
    database_url = f"sqlite:///{db_file}"
    open_database(database_url)
    paths = ["/2026/11/20/una", "/2026/11/20/otra"]
    for path in paths:
        site.add(path, PAGE.format(title=path))
    items = "".join(f"<item><link>{site.url(p)}</link></item>" for p in paths)
    site.add("/rss.xml", f'<rss version="2.0"><channel><title>a</title>{items}</channel></rss>', content_type="application/rss+xml")
    spec = make_spec(database_url, [SourceSpec("Diario", "rss", site.url("/rss.xml"), "Diario")], RULES)

    with sqlite3.connect(db_file) as connection:
        connection.execute("ALTER TABLE articles RENAME TO articles_away")
    broken = crawl(spec)
    (result,) = broken.sources
    assert not result.ok and "database error" in (result.error or "")
    with sqlite3.connect(db_file) as connection:
        connection.execute("ALTER TABLE articles_away RENAME TO articles")
        assert connection.execute("SELECT etag FROM sources").fetchone() == (None,)

    site.clear_log()
    mended = crawl(spec)
    assert mended.sources[0].ok and mended.new == 2
    assert stored_urls(database_url) == {site.url(p) for p in paths}


def test_a_crawl_that_cannot_store_its_articles_fails_its_source_and_exits_1(site: NewsSite, tmp_path: Path) -> None:
    """A full disk, simulated by a trigger: the summary says so, one line, no traceback, exit 1."""
    db_file = tmp_path / "v.db"
    database_url = f"sqlite:///{db_file}"
    open_database(database_url)
    with sqlite3.connect(db_file) as connection:
        connection.execute(
            "CREATE TRIGGER disk_full BEFORE INSERT ON articles BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    paths = ["/2026/11/20/una", "/2026/11/20/otra", "/2026/11/20/tres"]
    for path in paths:
        site.add(path, PAGE.format(title=path))
    items = "".join(f"<item><link>{site.url(p)}</link></item>" for p in paths)
    site.add("/rss.xml", f'<rss version="2.0"><channel><title>a</title>{items}</channel></rss>', content_type="application/rss+xml")
    config = tmp_path / "vigia.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": {"url": database_url},
                "slack": {"token": "xoxb-test", "channel": "#c", "base_url": "http://127.0.0.1:9/"},
                "sources": [{"name": "Diario", "type": "rss", "url": site.url("/rss.xml")}],
                "crawler": {"autothrottle": False},
            }
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "vigia", "crawl", "--no-deliver", "--config", str(config)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "sources: 1 (0 ok, 0 unchanged, 1 failed)" in result.stdout
    assert "source Diario: storage error: 3 article(s) could not be stored" in result.stdout
    assert "3 fetched article(s) could not be stored" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    row = source_row(database_url)
    assert row.consecutive_failures == 1 and row.etag is None and "storage error" in (row.last_error or "")

    # The feed answers every time, the disk stays full: the failures add up, so back-off grows.
    again = subprocess.run(
        [sys.executable, "-m", "vigia", "crawl", "--no-deliver", "--config", str(config)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert again.returncode == 1, again.stdout + again.stderr
    assert source_row(database_url).consecutive_failures == 2
