"""`vigia crawl` end to end, as a user runs it: outlets on loopback, Slack stand-in, a real DB.

The outlets are made from ../shared/labelled/dev.jsonl (RSS 2.0, Atom and news-sitemap
listings, pages with menus and "lo más leído" boxes) plus real pages from the shared corpus.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from storage.db import open_database
from storage.models import Alert, Article
from tests.support.labelled import FORMATS, article_page, feed, load_labelled, outlets, stories
from tests.support.news_site import NewsSite
from tests.support.slack_standin import QUICK_PACE, SlackStandIn

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "articles"
CORPUS_PAGES = ["fundus/es_ElPais_2024_10_15.html", "fundus/es_ABC_2025_01_13.html", "fundus/de_DW_2023_04_28.html",
                "fundus/fr_LeMonde_2023_09_01.html", "article-extraction-benchmark/foxnews.com_7dfc3e359d7c.html"]
TOKEN = "xoxb-test-token"


def build_web(site: NewsSite) -> list[dict]:
    """Serve every labelled outlet and a corpus outlet; return the config's sources."""
    articles = load_labelled()
    sources = []
    for index, (outlet, own) in enumerate(sorted(outlets(articles).items())):
        kind = FORMATS[index % 3]
        for article in own:
            site.add(article.path, article_page(article))
        content_type, body = feed(kind, outlet, site.base_url, own)
        path = f"/feeds/{index}.xml"
        site.add(path, body, content_type=content_type)
        sources.append({"name": outlet, "type": "sitemap" if kind == "sitemap" else "rss", "url": site.url(path)})
    items = []
    for name in CORPUS_PAGES:
        path = "/corpus/" + name.replace("/", "-")
        site.add(path, (CORPUS / name).read_bytes(), content_type="text/html")
        items.append(f"<item><title>{Path(name).stem}</title><link>{site.url(path)}</link></item>")
    corpus_feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Corpus</title>{"".join(items)}</channel></rss>'
    site.add("/feeds/corpus.xml", corpus_feed, content_type="application/rss+xml")
    sources.append({"name": "Corpus", "type": "rss", "url": site.url("/feeds/corpus.xml")})
    return sources


def write_config(folder: Path, db_url: str, slack_url: str, sources: list[dict]) -> Path:
    config = {
        "database": {"url": db_url},
        "slack": {"token": "${SLACK_BOT_TOKEN}", "channel": "#monitoreo-seguridad", "base_url": slack_url,
                  "pace": QUICK_PACE},
        "sources": sources,
        "crawler": {"autothrottle": False, "concurrency_per_domain": 8},
    }
    path = folder / "vigia.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def vigia(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin", "HOME": str(REPO)}
    return subprocess.run([sys.executable, "-m", "vigia", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


@pytest.fixture
def web():  # type: ignore[no-untyped-def]
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        yield site, slack, build_web(site)


def test_crawl_alerts_each_relevant_story_once_and_nothing_twice(web, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site, slack, sources = web
    config = write_config(tmp_path, db_url, slack.url, sources)

    first = vigia("crawl", "--config", str(config))
    assert first.returncode == 0, first.stderr + first.stdout
    assert "sources: 41" in first.stdout

    articles = load_labelled()
    by_path = {site.url(a.path): a for a in articles}
    top_level = slack.messages
    alerted = [by_path[_link(m)] for m in top_level]
    # Every top-level message links to a labelled article; none to the site's chrome or a corpus page.
    assert all(a is not None for a in alerted)
    # One message per story: syndicated copies never post a second top-level message.
    story_keys = [a.group or a.id for a in alerted]
    assert len(story_keys) == len(set(story_keys)), story_keys
    # No foreign-language copy, ever.
    assert not [a.id for a in alerted if a.language != "es"]
    # The watchlist is judged by the labels: nearly every relevant story, nearly no distractor.
    expected = stories(articles)
    caught = set(story_keys) & set(expected)
    false_alarms = [a.id for a in alerted if not a.relevant]
    assert len(caught) >= 0.9 * len(expected), sorted(set(expected) - caught)
    assert len(false_alarms) <= 1, false_alarms
    # Copies of an alerted story are in its thread, naming their outlet.
    for message in top_level:
        story = by_path[_link(message)]
        if story.group:
            copies = [a for a in expected[story.group] if a is not story]
            replies = slack.replies(message["ts"])
            assert len(replies) == len(copies), (story.group, replies)
    # Each top-level message says outlet and title, escaped, as Slack shows it.
    for message in top_level:
        story = by_path[_link(message)]
        assert story.outlet in message["text"]
        assert story.title[:40].replace("&", "&amp;") in message["text"] or story.title[:40] in message["text"]

    _, sessions = open_database(db_url)
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Article))
        skipped = dict(session.execute(select(Article.canonical_url, Article.skip_reason).where(Article.status == "skipped")).all())
        pending = session.scalar(select(func.count()).select_from(Alert).where(Alert.status != "sent"))
    assert stored == len(articles) + len(CORPUS_PAGES)
    for url, reason in skipped.items():
        assert "language" in (reason or "") or "text" in (reason or ""), (url, reason)
    assert {site.url(a.path) for a in articles if a.language != "es"} <= set(skipped)
    assert any("de_DW" in url for url in skipped) and any("fr_LeMonde" in url for url in skipped)
    assert pending == 0

    # The same command again: unchanged sources, nothing fetched again, nothing posted.
    posts_before = len(slack.calls_to("chat.postMessage"))
    site.clear_log()
    second = vigia("crawl", "--config", str(config))
    assert second.returncode == 0, second.stderr + second.stdout
    assert len(slack.calls_to("chat.postMessage")) == posts_before
    page_paths = {a.path for a in articles} | {p for p in site.routes if p.startswith("/corpus/")}
    assert not [r.path for r in site.requests if r.path.split("?")[0] in page_paths]
    feed_requests = [r for r in site.requests if r.path.startswith("/feeds/")]
    assert feed_requests and all(r.header("If-None-Match") for r in feed_requests)


def _link(message: dict) -> str:
    """The article link of a message, from its plain-text fallback."""
    found = re.search(r"https?://[^\s|>]+", message["text"])
    assert found, message["text"]
    return found.group(0).split("?")[0]


def test_broken_sources_are_named_and_the_good_one_still_alerts(db_url: str, tmp_path: Path) -> None:
    """A dead host, a feed answering 500 and a good feed: exit 0, errors named, alerts delivered."""
    from tests.support.news_site import dead_url

    articles = [a for a in load_labelled() if a.relevant and a.language == "es" and not a.group][:3]
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        for article in articles:
            site.add(article.path, article_page(article))
        content_type, body = feed("rss", "Bueno", site.base_url, articles)
        site.add("/good.xml", body, content_type=content_type)
        site.add_status("/broken.xml", 500)
        sources = [
            {"name": "Muerto", "type": "rss", "url": dead_url()},
            {"name": "Roto", "type": "rss", "url": site.url("/broken.xml")},
            {"name": "Bueno", "type": "rss", "url": site.url("/good.xml")},
        ]
        config = write_config(tmp_path, db_url, slack.url, sources)
        result = vigia("crawl", "--config", str(config))
        assert result.returncode == 0, result.stderr + result.stdout
        assert "sources: 3 (1 ok, 0 unchanged, 2 failed)" in result.stdout
        assert re.search(r"source Muerto: .*(refused|Connection)", result.stdout, re.I)
        assert re.search(r"source Roto: .*500", result.stdout)
        assert sorted(_link(m) for m in slack.messages) == sorted(site.url(a.path) for a in articles)

        health = vigia("sources", "--config", str(config))
        assert re.search(r"Muerto\s+rss\s+failing", health.stdout)
        assert re.search(r"Bueno\s+rss\s+ok", health.stdout)


def test_slack_down_keeps_alerts_pending_until_the_next_run(db_url: str, tmp_path: Path) -> None:
    """Slack unreachable: the crawl stores everything, `vigia alerts` shows the backlog, the next run delivers once."""
    articles = [a for a in load_labelled() if a.relevant and a.language == "es" and not a.group][:4]
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        for article in articles:
            site.add(article.path, article_page(article))
        content_type, body = feed("atom", "Diario", site.base_url, articles)
        site.add("/atom.xml", body, content_type=content_type)
        config = write_config(tmp_path, db_url, slack.url, [{"name": "Diario", "type": "rss", "url": site.url("/atom.xml")}])

        slack.down(refuse=True)
        outage = vigia("crawl", "--config", str(config))
        assert outage.returncode == 1, outage.stderr + outage.stdout  # something could not be done
        assert "4 matched" in outage.stdout and "4 pending" in outage.stdout

        backlog = vigia("alerts", "--config", str(config))
        assert backlog.returncode == 0
        assert backlog.stdout.count("pending") >= 4
        for article in articles:
            assert article.title[:30] in backlog.stdout

        slack.up()
        # The retry back-off is measured in seconds; the next run after it delivers everything.
        _age_backoff(db_url)
        recovery = vigia("crawl", "--config", str(config))
        assert recovery.returncode == 0, recovery.stderr + recovery.stdout
        assert sorted(_link(m) for m in slack.messages) == sorted(site.url(a.path) for a in articles)
        assert len(slack.calls_to("chat.postMessage")) == len(articles)


def _age_backoff(db_url: str) -> None:
    """Make every back-off due now, as if the cron interval had passed."""
    from sqlalchemy import update

    _, sessions = open_database(db_url)
    with sessions.begin() as session:
        session.execute(update(Alert).values(next_attempt_at=None))
