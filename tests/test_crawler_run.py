"""run_crawl end to end against a loopback news site, into a temporary SQLite database.

Each crawl runs in a forked child: a Twisted reactor runs once per process, as in
production (the daemon starts a subprocess per crawl).
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crawler.spec import CrawlReport, CrawlSpec, SourceSpec
from rules import RuleSet, load_rules
from storage.models import Alert, Article, Source
from tests.support.labelled import article_page, feed, load_labelled, outlets, slugify
from tests.support.news_site import DNS_FAILURE_URL, NewsSite, dead_url

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"


def crawl(spec: CrawlSpec) -> CrawlReport:
    """run_crawl in a forked child; its report comes back through a queue."""
    report: CrawlReport = in_forked_child(run_crawl_here, spec)
    return report


def in_forked_child(work: Callable[..., Any], *args: Any) -> Any:
    """``work(*args)`` in a forked child (a crawl runs Twisted's reactor, which starts once per
    process); its result comes back through a queue, its exception fails the test."""
    context = multiprocessing.get_context("fork")
    queue: Any = context.Queue()
    child = context.Process(target=_child, args=(work, args, queue))
    child.start()
    try:
        outcome = queue.get(timeout=150)
    finally:
        child.join(30)
    if isinstance(outcome, _Raised):
        pytest.fail(f"run_crawl raised in the child:\n{outcome.traceback}")
    return outcome


class _Raised:
    def __init__(self, traceback: str) -> None:
        self.traceback = traceback


def _child(work: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    try:
        queue.put(work(*args))
    except BaseException:
        queue.put(_Raised(traceback.format_exc()))


def run_crawl_here(spec: CrawlSpec) -> CrawlReport:
    from crawler.process import run_crawl

    return run_crawl(spec)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules([{"builtin": "mx-us-security"}], Path("."))


@pytest.fixture
def site(news_site: NewsSite) -> NewsSite:
    """The session's loopback site, empty for this test (tests/conftest.py)."""
    return news_site


def make_spec(database_url: str, sources: list[SourceSpec], ruleset: RuleSet, **options: Any) -> CrawlSpec:
    """The spec `vigia crawl` builds from a config naming only the database, with a test's choices on top."""
    from vigia.config import Config
    from vigia.crawl_spec import crawl_spec

    config = Config.model_validate(
        {"database": {"url": database_url}, "slack": {"channel": "#vigia"}}, context={"require_slack": False}
    )
    defaults: dict[str, Any] = dict(download_timeout=3, retry_times=0, autothrottle=False, workers=2)
    defaults.update(options)
    return replace(crawl_spec(config, [], ruleset), sources=sources, **defaults)


def serve_labelled(site: NewsSite) -> tuple[list[SourceSpec], list[Any]]:
    """Every labelled outlet as RSS, Atom or news sitemap, its articles as pages with chrome."""
    articles = load_labelled()
    sources = []
    for index, (outlet, items) in enumerate(outlets(articles).items()):
        kind = ("rss", "atom", "sitemap")[index % 3]
        content_type, body = feed(kind, outlet, site.base_url, items)
        path = f"/{slugify(outlet)}/{kind}.xml"
        site.add(path, body, content_type=content_type)
        for article in items:
            site.add(article.path, article_page(article))
        sources.append(SourceSpec(outlet, "sitemap" if kind == "sitemap" else "rss", site.url(path), outlet))
    return sources, articles


def serve_corpus_feed(site: NewsSite, languages: dict[str, int]) -> tuple[SourceSpec, dict[str, str]]:
    """A feed of real corpus pages: ``languages`` says how many of each ("es": 3, "other": 5)."""
    import json

    manifest = json.loads((CORPUS / "manifest.json").read_text())
    chosen: dict[str, str] = {}
    wanted = dict(languages)
    for record in manifest:
        if record["kind"] != "article_html":
            continue
        bucket = "es" if record["language"] == "es" else "other"
        if wanted.get(bucket, 0) <= 0:
            continue
        wanted[bucket] -= 1
        path = f"/corpus/{len(chosen)}/{Path(record['file']).stem}.html"
        # As stored: original bytes, no charset in the header (pages declare theirs, or not).
        site.add(path, (CORPUS / record["file"]).read_bytes(), content_type="text/html")
        chosen[site.url(path)] = record["language"]
    items = "".join(f"<item><title>Nota {i}</title><link>{url}</link></item>" for i, url in enumerate(chosen))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Corpus</title>{items}</channel></rss>'
    site.add("/corpus/rss.xml", body, content_type="application/rss+xml")
    return SourceSpec("Corpus", "rss", site.url("/corpus/rss.xml"), "Corpus"), chosen


def articles_in(database_url: str) -> list[Article]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(Article)))
    engine.dispose()
    return rows


def test_feeds_and_sitemaps_end_to_end_then_nothing_new(site: NewsSite, ruleset: RuleSet, tmp_path: Path) -> None:
    sources, labelled = serve_labelled(site)
    corpus_source, corpus = serve_corpus_feed(site, {"es": 4, "other": 8})
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    spec = make_spec(database_url, [*sources, corpus_source], ruleset)

    report = crawl(spec)

    assert report.errors == []
    assert all(result.ok and not result.not_modified for result in report.sources)
    total = len(labelled) + len(corpus)
    assert (report.fetched, report.new) == (total, total)
    stored = {article.url: article for article in articles_in(database_url)}
    assert len(stored) == total
    # Tracking parameters and fragments from the feeds are gone from the stored URLs.
    assert not any("utm_" in url or "#" in url for url in stored)
    # Labelled articles: every relevant Spanish one matched, the English ones skipped.
    by_path = {article.path: article for article in labelled}
    for url, row in stored.items():
        path = url.replace(site.base_url, "")
        if path in by_path:
            expected = by_path[path]
            if expected.language != "es":
                assert (row.status, row.skip_reason) == ("skipped", f"language: {expected.language}")
            elif expected.relevant:
                assert row.status == "matched", row.title
            assert row.title == expected.title
            assert row.published_at is not None
    # Corpus pages: non-Spanish ones skipped as such, never alerted.
    for url, language in corpus.items():
        row = stored[url]
        if language == "es":
            assert row.status in ("matched", "unmatched")
        else:
            assert row.status == "skipped" and row.skip_reason.startswith("language: ")
    assert report.skipped == sum(1 for row in stored.values() if row.status == "skipped")
    assert report.matched == sum(1 for row in stored.values() if row.status == "matched")
    assert report.alerts_queued > 0

    # Second run: validators sent, 304s, not one article page fetched again.
    site.clear_log()
    again = crawl(spec)
    assert (again.fetched, again.new, again.alerts_queued, again.errors) == (0, 0, 0, [])
    assert all(result.not_modified for result in again.sources)
    listing_requests = [r for r in site.requests if r.path.endswith(".xml")]
    assert len(listing_requests) == len(spec.sources)
    assert all(r.header("If-None-Match") and r.header("If-Modified-Since") for r in listing_requests)
    assert {r.path for r in site.requests} <= {r.path for r in listing_requests} | {"/robots.txt"}


def test_an_article_in_two_feeds_is_fetched_once_and_known_articles_are_skipped(
    site: NewsSite, ruleset: RuleSet, tmp_path: Path
) -> None:
    page = "<html lang='es'><body><article><h1>Nota</h1><p>" + "Texto de la nota en español. " * 30 + "</p></article></body></html>"
    site.add("/2025/09/03/nota-compartida", page)
    site.add("/2025/09/03/nota-vieja", page.replace("Nota", "Vieja"))
    rss = '<rss version="2.0"><channel><title>a</title>' \
          f'<item><link>{site.url("/2025/09/03/nota-compartida?utm_source=rss")}</link></item>' \
          f'<item><link>{site.url("/2025/09/03/nota-vieja")}</link></item></channel></rss>'
    atom = '<feed xmlns="http://www.w3.org/2005/Atom"><title>b</title>' \
           f'<entry><title>x</title><link href="{site.url("/2025/09/03/nota-compartida#comentarios")}"/></entry></feed>'
    site.add("/a.xml", rss, content_type="application/rss+xml")
    site.add("/b.xml", atom, content_type="application/atom+xml")
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    first = crawl(make_spec(database_url, [SourceSpec("A", "rss", site.url("/a.xml"), "A")], ruleset))
    assert first.new == 2

    site.clear_log()
    second = crawl(
        make_spec(
            database_url,
            [SourceSpec("A", "rss", site.url("/a.xml"), "A"), SourceSpec("B", "rss", site.url("/b.xml"), "B")],
            ruleset,
        )
    )
    assert site.fetched("/2025/09/03/nota-compartida") == []
    assert (second.fetched, second.new) == (0, 0)


def test_refetch_fetches_known_articles_again(site: NewsSite, ruleset: RuleSet, tmp_path: Path) -> None:
    page = "<html lang='es'><body><article><p>" + "Texto de la nota en español. " * 30 + "</p></article></body></html>"
    site.add("/2025/09/03/nota", page)
    site.add("/rss.xml", f'<rss version="2.0"><channel><title>a</title><item><link>{site.url("/2025/09/03/nota")}</link></item></channel></rss>',
             content_type="application/rss+xml", conditional=False)
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    sources = [SourceSpec("A", "rss", site.url("/rss.xml"), "A")]
    crawl(make_spec(database_url, sources, ruleset))
    report = crawl(make_spec(database_url, sources, ruleset, refetch=True))
    assert report.fetched == 1 and report.new == 0
    assert len(site.fetched("/2025/09/03/nota")) == 2


def test_section_pages(site: NewsSite, ruleset: RuleSet, tmp_path: Path) -> None:
    page = "<html lang='es'><body><article><p>" + "Texto de la nota en español. " * 30 + "</p></article></body></html>"
    site.add("/seguridad/2025/09/03/guardia-nacional-refuerza-garitas", page)
    site.add("/seguridad/", '<html><body><a href="/">Inicio</a><a href="/tag/armas/">Armas</a>'
             '<a href="/seguridad/2025/09/03/guardia-nacional-refuerza-garitas">Nota</a></body></html>')
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    report = crawl(make_spec(database_url, [SourceSpec("S", "page", site.url("/seguridad/"), "S")], ruleset))
    assert (report.fetched, report.new, report.errors) == (1, 1, [])
    assert site.fetched("/tag/armas/") == []


def test_old_articles_are_stored_but_not_alerted(site: NewsSite, ruleset: RuleSet, tmp_path: Path) -> None:
    articles = [a for a in load_labelled() if a.relevant and a.language == "es"][:2]
    for article in articles:
        article.published = datetime(2024, 1, 1, 10, tzinfo=UTC)
        site.add(article.path, article_page(article))
    items = "".join(
        f"<item><title>{a.title}</title><link>{site.url(a.path)}</link><pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate></item>"
        for a in articles
    )
    site.add("/rss.xml", f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>', content_type="application/rss+xml")
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    report = crawl(make_spec(database_url, [SourceSpec("A", "rss", site.url("/rss.xml"), "A")], ruleset))
    assert report.matched == 2 and report.alerts_queued == 0
    engine = create_engine(database_url)
    with Session(engine) as session:
        assert session.scalars(select(Alert)).all() == []
    engine.dispose()


GOOD_PAGE = "<html lang='es'><head><meta charset='utf-8'></head><body><article><h1>{title}</h1><p>" + \
            "La Guardia Nacional informó que el operativo continúa en la región, según las autoridades. " * 8 + \
            "</p></article></body></html>"


def test_half_hostile_web(site: NewsSite, ruleset: RuleSet, tmp_path: Path) -> None:
    """Healthy sources and articles all stored; one recorded error per broken URL; the run goes on."""
    healthy = [f"/2025/09/03/nota-sana-numero-{n}" for n in range(4)]
    for n, path in enumerate(healthy):
        site.add(path, GOOD_PAGE.format(title=f"Nota sana {n}"))
    # A Windows-1252 page without any charset is healthy too: it must decode right.
    latin = GOOD_PAGE.replace("<meta charset='utf-8'>", "").format(title="Año de operativos en Michoacán")
    site.add_wrong_charset("/2025/09/03/nota-sin-charset", latin)
    broken = {
        "/2025/09/03/lenta": site.add_slow("/2025/09/03/lenta", 6),
        "/2025/09/03/bomba": site.add_gzip_bomb("/2025/09/03/bomba", 60_000_000),
        "/2025/09/03/enorme": site.add_huge("/2025/09/03/enorme", 8_000_000),
        "/2025/09/03/bucle": site.add_redirect_loop("/2025/09/03/bucle"),
        "/2025/09/03/binaria": site.add_binary("/2025/09/03/binaria"),
        "/2025/09/03/vacia": site.add_empty("/2025/09/03/vacia"),
        "/2025/09/03/limitada": site.add_status("/2025/09/03/limitada", 429, retry_after=3600),
        "/2025/09/03/prohibida": site.add_status("/2025/09/03/prohibida", 403),
        "/2025/09/03/caida": site.add_status("/2025/09/03/caida", 503),
        "/2025/09/03/no-existe": site.add_not_found_page("/2025/09/03/no-existe"),
        "/2025/09/03/cortada": site.add_drop("/2025/09/03/cortada"),
    }
    links = [*healthy, "/2025/09/03/nota-sin-charset", *broken]
    items = "".join(f"<item><title>n</title><link>{site.url(p)}</link></item>" for p in links)
    # A bozo feed (undeclared entity, bare ampersand) that still lists its entries.
    site.add("/sana.xml", f'<rss version="2.0"><channel><title>Sana &nbsp; & cia</title>{items}</channel></rss>',
             content_type="application/rss+xml")
    site.add_status("/error.xml", 500)
    site.add("/html.xml", "<!DOCTYPE html><html><body><h1>Bienvenido</h1></body></html>")
    site.add_not_found_page("/movido.xml")
    site.add_empty("/vacio.xml", content_type="application/rss+xml")
    site.add_binary("/binario.xml")
    site.add("/mapa.xml", b"\x1f\x8b" + b"not really gzip", content_type="application/x-gzip")
    sources = [
        SourceSpec("Sana", "rss", site.url("/sana.xml"), "Sana"),
        SourceSpec("Error", "rss", site.url("/error.xml"), "Error"),
        SourceSpec("HTML", "rss", site.url("/html.xml"), "HTML"),
        SourceSpec("Movido", "rss", site.url("/movido.xml"), "Movido"),
        SourceSpec("Vacio", "rss", site.url("/vacio.xml"), "Vacio"),
        SourceSpec("Binario", "rss", site.url("/binario.xml"), "Binario"),
        SourceSpec("Mapa", "sitemap", site.url("/mapa.xml"), "Mapa"),
        SourceSpec("Muerto", "rss", dead_url(), "Muerto"),
        SourceSpec("DNS", "sitemap", DNS_FAILURE_URL, "DNS"),
    ]
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    spec = make_spec(database_url, sources, ruleset, download_timeout=2, max_page_bytes=2_000_000, retry_after_max=2)

    report = crawl(spec)

    stored = {row.url.replace(site.base_url, ""): row for row in articles_in(database_url)}
    assert set(stored) == {*healthy, "/2025/09/03/nota-sin-charset"}
    assert stored["/2025/09/03/nota-sin-charset"].title == "Año de operativos en Michoacán"
    errors_by_url = {}
    for source, url, error in report.errors:
        assert url not in errors_by_url, f"two errors for {url}"
        errors_by_url[url] = (source, error)
    broken_urls = {url for url in errors_by_url if url.startswith(site.url("/2025/"))}
    assert broken_urls == {site.url(path) for path in broken}
    results = {result.name: result for result in report.sources}
    assert results["Sana"].ok and results["Sana"].items_listed == len(links)
    for name in ["Error", "HTML", "Movido", "Vacio", "Binario", "Mapa", "Muerto", "DNS"]:
        assert not results[name].ok and results[name].error, name
    assert len(report.errors) == len(broken) + 8
    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = {row.name: row for row in session.scalars(select(Source))}
    engine.dispose()
    assert rows["Sana"].consecutive_failures == 0 and rows["Sana"].last_success_at is not None
    for name in ["Error", "HTML", "Muerto", "DNS"]:
        assert rows[name].consecutive_failures == 1 and rows[name].last_error
