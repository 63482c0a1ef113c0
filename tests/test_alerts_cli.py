"""`vigia crawl` and `vigia alerts` when Slack's setup is wrong (issue 10, items 8 and 14).

A user misconfigures ``slack.base_url`` or the webhook URL, or a proxy echoes the token:
the crawl says so and exits 1, `vigia alerts` lists the failed alerts, and the token or
webhook URL shows up nowhere — not in the summary, the listing, the log, nor a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.labelled import LabelledArticle, article_page, feed, load_labelled
from tests.support.news_site import NewsSite
from tests.support.slack_standin import SlackStandIn

REPO = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-4242-cli-secret-token-value"
HOOK = "htps://hooks.slack.com/services/T0001/B0001/mistyped-secret-hook"


@pytest.fixture
def site() -> Iterator[tuple[NewsSite, list[LabelledArticle]]]:
    articles = [a for a in load_labelled() if a.relevant and a.language == "es" and not a.group][:2]
    with NewsSite() as news:
        for article in articles:
            news.add(article.path, article_page(article))
        content_type, body = feed("rss", "Diario", news.base_url, articles)
        news.add("/rss.xml", body, content_type=content_type)
        yield news, articles


def config(tmp_path: Path, news: NewsSite, slack: dict) -> Path:
    path = tmp_path / "vigia.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": f"sqlite:///{tmp_path / 'vigia.db'}"},
        "slack": {"channel": "#monitoreo", **slack},
        "sources": [{"name": "Diario", "type": "rss", "url": news.url("/rss.xml")}],
        "crawler": {"autothrottle": False},
    }), encoding="utf-8")
    return path


def vigia(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": TOKEN, "SLACK_HOOK": HOOK}
    return subprocess.run([sys.executable, "-m", "vigia", *args], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120)


def test_tls_to_a_plain_http_port_fails_the_alerts_and_the_crawl_exits_1(tmp_path: Path, site) -> None:
    news, articles = site
    with SlackStandIn(token=TOKEN) as slack:
        wrong = slack.url.replace("http://", "https://")
        path = config(tmp_path, news, {"token": "${SLACK_BOT_TOKEN}", "base_url": wrong})
        crawl = vigia("crawl", "--config", str(path))
        assert crawl.returncode == 1, crawl.stdout + crawl.stderr
        assert f"{len(articles)} failed" in crawl.stdout and "0 pending" in crawl.stdout
        # The summary counts the failure; the reason is the one log line on stderr (said once).
        assert "TLS" in crawl.stderr and f"slack.base_url {wrong}" in crawl.stderr
        backlog = vigia("alerts", "--config", str(path))
        assert f"{len(articles)} failed" in backlog.stdout and "(every channel: the token)" in backlog.stdout
        assert not slack.calls_to("chat.postMessage")


def test_a_token_echoed_back_never_reaches_the_summary_the_listing_or_the_log(tmp_path: Path, site) -> None:
    news, _ = site
    with SlackStandIn(token=TOKEN) as slack:
        path = config(tmp_path, news, {"token": "${SLACK_BOT_TOKEN}", "base_url": slack.url})
        slack.fail_next_with_body(f"<html>proxy: bad Authorization: Bearer {TOKEN}</html>", n=5)
        crawl = vigia("crawl", "--config", str(path), "--log-level", "DEBUG")
        assert crawl.returncode == 1 and "unreadable answer" in crawl.stderr
        backlog = vigia("alerts", "--config", str(path))
        assert "unreadable answer" in backlog.stdout
        for text in (crawl.stdout, crawl.stderr, backlog.stdout):
            assert TOKEN not in text and TOKEN[:12] not in text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_mistyped_webhook_url_is_a_recorded_error_not_a_traceback(tmp_path: Path, site, log_format: str) -> None:
    news, articles = site
    path = config(tmp_path, news, {"webhook_url": "${SLACK_HOOK}"})
    crawl = vigia("crawl", "--config", str(path), "--log-format", log_format)
    assert crawl.returncode == 1
    assert "Traceback" not in crawl.stderr and "SlackRequestError" not in crawl.stderr
    assert "slack.webhook_url is not a usable URL" in crawl.stderr
    backlog = vigia("alerts", "--config", str(path))
    assert f"{len(articles)} failed" in backlog.stdout
    for text in (crawl.stdout, crawl.stderr, backlog.stdout):
        assert "mistyped-secret-hook" not in text and "hooks.slack.com/services" not in text
