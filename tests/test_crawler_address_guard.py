"""Untrusted links stay outside: feeds and redirects cannot send the crawler to an internal address.

A loopback news site is the configured source (so its own host and port are allowed); a second
loopback server plays an internal admin service that a hostile feed points at. Every crawl runs
in a forked child, as in tests/test_crawler_run.py.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import scrapy
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crawler.middlewares import AddressGuardMiddleware, PrivateAddressRefused
from crawler.spec import CrawlReport, SourceSpec
from crawler.state import CrawlRun
from rules import RuleSet, load_rules
from storage.db import open_database
from storage.models import Alert, Article
from tests.support.labelled import article_page, load_labelled
from tests.support.news_site import NewsSite, Reply
from tests.support.slack_standin import SlackStandIn
from tests.test_crawler_run import crawl, make_spec

REFUSED = "refused: resolves to a private address 127.0.0.1"
REPO = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-test-token"


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_rules([{"builtin": "mx-us-security"}], Path("."))


@pytest.fixture
def relevant() -> list[Any]:
    return [a for a in load_labelled() if a.relevant and a.language == "es" and a.group is None]


@pytest.fixture
def site(news_site: NewsSite) -> NewsSite:
    """The session's loopback site, empty for this test (tests/conftest.py)."""
    return news_site


@pytest.fixture
def admin(other_news_site: NewsSite, relevant: list[Any]) -> NewsSite:
    """The "internal admin" service on another loopback port: a page that would match and be
    posted if the crawler ever fetched it."""
    secret = relevant[-1]
    secret.title = "INTERNAL-ADMIN panel token=hunter2 " + secret.title
    other_news_site.add("/admin", article_page(secret))
    return other_news_site


def rss(links: list[str]) -> str:
    now = email.utils.format_datetime(datetime.now(UTC))  # fresh, so a match is alerted
    items = "".join(f"<item><title>Nota {i}</title><link>{link}</link><pubDate>{now}</pubDate></item>"
                    for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Diario</title>{items}</channel></rss>'


def serve_feed(site: NewsSite, links: list[str]) -> SourceSpec:
    site.add("/rss.xml", rss(links), content_type="application/rss+xml")
    return SourceSpec("Diario", "rss", site.url("/rss.xml"), "Diario")


def stored(database_url: str) -> tuple[list[Article], list[Alert]]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(Article))), list(session.scalars(select(Alert)))
    engine.dispose()
    return rows


def errors_for(report: CrawlReport, url: str) -> list[str]:
    return [error for _, failed_url, error in report.errors if failed_url == url]


def test_feed_links_to_internal_addresses_are_refused_and_the_run_goes_on(
    site: NewsSite, admin: NewsSite, relevant: list[Any], ruleset: RuleSet, tmp_path: Path
) -> None:
    own = relevant[0]
    site.add(own.path, article_page(own))
    hostile = {
        admin.url("/admin"): REFUSED,  # another loopback port
        f"http://[::1]:{admin.port}/admin": "refused: resolves to a private address ::1",
        "http://169.254.169.254/latest/meta-data/": "refused: resolves to a private address 169.254.169.254",
        f"http://[::ffff:127.0.0.1]:{admin.port}/admin": "refused: resolves to a private address ::ffff:127.0.0.1",
        "http://10.1.2.3/intranet": "refused: resolves to a private address 10.1.2.3",
    }
    source = serve_feed(site, [site.url(own.path), *hostile])
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"

    report = crawl(make_spec(database_url, [source], ruleset))

    assert admin.requests == []  # never asked, not even for robots.txt
    for url, error in hostile.items():
        assert errors_for(report, url) == [error]
    articles, alerts = stored(database_url)
    # The source's own article still works; nothing of the admin page is stored or queued.
    assert [(a.url, a.status) for a in articles] == [(site.url(own.path), "matched")]
    assert [alert.article_id for alert in alerts] == [articles[0].id]
    assert report.fetched == 1


def test_a_redirect_to_another_host_or_port_is_refused(
    site: NewsSite, admin: NewsSite, relevant: list[Any], ruleset: RuleSet, tmp_path: Path
) -> None:
    own, moved = relevant[0], relevant[1]
    site.add(own.path, article_page(own))
    site.add(moved.path, lambda request: Reply(302, headers={"Location": admin.url("/admin")}))
    source = serve_feed(site, [site.url(own.path), site.url(moved.path)])
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"

    report = crawl(make_spec(database_url, [source], ruleset))

    assert admin.requests == []
    assert site.fetched(moved.path)  # the redirect itself came from the source's own host
    assert errors_for(report, site.url(moved.path)) == [REFUSED]
    articles, _ = stored(database_url)
    assert [a.url for a in articles] == [site.url(own.path)]


@pytest.mark.parametrize("allowed", [[], ["localhost"], ["localhost:{port}"]])
def test_a_name_resolving_to_loopback_is_refused_unless_allowed(
    site: NewsSite, admin: NewsSite, ruleset: RuleSet, tmp_path: Path, allowed: list[str]
) -> None:
    sneaky = f"http://localhost:{admin.port}/admin"
    source = serve_feed(site, [sneaky])
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    allow = [entry.format(port=admin.port) for entry in allowed]

    report = crawl(make_spec(database_url, [source], ruleset, allow_private_hosts=allow))

    if allow:
        assert admin.fetched("/admin") and errors_for(report, sneaky) == []
        assert [a.url for a in stored(database_url)[0]] == [sneaky]
    else:
        assert admin.requests == []
        assert errors_for(report, sneaky) == [REFUSED]


def test_an_allowed_host_port_allows_that_port_only(site: NewsSite, admin: NewsSite, ruleset: RuleSet, tmp_path: Path) -> None:
    other_port = f"http://localhost:{site.port}/elsewhere"
    source = serve_feed(site, [other_port])
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"

    report = crawl(make_spec(database_url, [source], ruleset, allow_private_hosts=[f"localhost:{admin.port}"]))

    # localhost is not the source's own host (127.0.0.1), and only the admin port is allowed.
    assert errors_for(report, other_port) == [REFUSED]
    assert site.fetched("/elsewhere") == []


def test_the_resolver_alone_refuses_internal_answers(site: NewsSite, admin: NewsSite, ruleset: RuleSet, tmp_path: Path) -> None:
    """With the middleware switched off, DNS still cannot hand out an internal address for a name
    the config never wrote down: the address connected to is the address checked."""
    sneaky = f"http://localhost:{admin.port}/admin"
    source = serve_feed(site, [sneaky])
    database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
    no_guard = {"DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.AddressGuardMiddleware": None}}

    report = crawl(make_spec(database_url, [source], ruleset, settings=no_guard))

    assert admin.requests == []
    assert len(errors_for(report, sneaky)) == 1


def test_vigia_crawl_posts_nothing_from_the_admin_port(
    site: NewsSite, admin: NewsSite, relevant: list[Any], tmp_path: Path
) -> None:
    """The reported attack, as a user runs it: the admin page never reaches Slack, the summary says why."""
    own = relevant[0]
    site.add(own.path, article_page(own))
    site.add("/rss.xml", rss([site.url(own.path), admin.url("/admin")]), content_type="application/rss+xml")
    with SlackStandIn(token=TOKEN) as slack:
        config = tmp_path / "vigia.yaml"
        config.write_text(yaml.safe_dump({
            "database": {"url": f"sqlite:///{tmp_path / 'vigia.db'}"},
            "slack": {"token": TOKEN, "channel": "#seguridad", "base_url": slack.url},
            "sources": [{"name": "Diario", "type": "rss", "url": site.url("/rss.xml")}],
            "crawler": {"autothrottle": False},
        }), encoding="utf-8")

        result = subprocess.run([sys.executable, "-m", "vigia", "crawl", "--config", str(config)],
                                capture_output=True, text=True, cwd=REPO, timeout=300)

        posted = json.dumps(slack.messages, ensure_ascii=False)
    assert admin.requests == []
    assert len(slack.messages) == 1 and own.path in posted
    assert "hunter2" not in posted and "INTERNAL-ADMIN" not in posted
    assert REFUSED in result.stdout + result.stderr


def test_a_worker_allows_the_host_of_a_source_it_did_not_poll_for_that_sources_articles(
    site: NewsSite, admin: NewsSite, ruleset: RuleSet, tmp_path: Path
) -> None:
    """With a shared queue (Redis) any worker may fetch an article of a poll another took; the
    article's request names its source's URL, so the guard allows that host there as well."""
    _, sessions = open_database(f"sqlite:///{tmp_path / 'vigia.db'}")
    run = CrawlRun(make_spec(f"sqlite:///{tmp_path / 'vigia.db'}", [], ruleset), sessions)  # has polled nothing
    guard = AddressGuardMiddleware(run)
    source = {"vigia_source": "Diario", "vigia_source_url": site.url("/rss.xml")}

    asyncio.run(guard.process_request(scrapy.Request(site.url("/nota"), meta=dict(source))))  # not refused

    with pytest.raises(PrivateAddressRefused):  # the source's own host only, not another port
        asyncio.run(guard.process_request(scrapy.Request(admin.url("/admin"), meta=dict(source))))
    unnamed = AddressGuardMiddleware(CrawlRun(run.spec, sessions))
    with pytest.raises(PrivateAddressRefused):  # a request that does not name the URL is refused
        asyncio.run(unnamed.process_request(scrapy.Request(site.url("/nota"), meta={"vigia_source": "Diario"})))
