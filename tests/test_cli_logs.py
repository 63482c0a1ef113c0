"""What a failing run prints: one line per failure at the default level, tracebacks only at debug."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.labelled import article_page, feed
from tests.support.news_site import NewsSite, dead_url
from tests.support.slack_standin import SlackStandIn
from tests.test_cli import REPO
from tests.test_cli_dry_run import relevant_article, vigia

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Path, NewsSite, SlackStandIn]]:
    """One good outlet, one answering 500, one where nothing listens; Slack refuses the token."""
    article = relevant_article()
    with NewsSite() as site, SlackStandIn(token="xoxb-the-right-one") as slack:
        site.add(article.path, article_page(article))
        content_type, body = feed("rss", "Diario Bueno", site.base_url, [article])
        site.add("/rss.xml", body, content_type=content_type)
        site.add_status("/broken.xml", 500)
        config = tmp_path / "vigia.yaml"
        config.write_text(
            f"""database:
  url: sqlite:///{tmp_path / 'v.db'}
slack:
  token: xoxb-a-wrong-token-0000
  base_url: {slack.url}
sources:
  - {{name: Diario Bueno, type: rss, url: "{site.url('/rss.xml')}"}}
  - {{name: Diario Roto, type: rss, url: "{site.url('/broken.xml')}"}}
  - {{name: Diario Muerto, type: rss, url: "{dead_url()}"}}
crawler:
  autothrottle: false
  timeout: 5s
daemon:
  every: 2s
  min_every: 1s
  max_every: 2s
  http: 127.0.0.1:0
  grace: 5s
""",
            encoding="utf-8",
        )
        yield config, site, slack


def test_a_failing_crawl_says_each_failure_once_without_tracebacks(world) -> None:  # type: ignore[no-untyped-def]
    config, site, _ = world
    code, out, err = vigia("crawl", "--config", str(config))
    assert code == 1  # the alert could not be delivered
    assert "Traceback" not in err
    # One log line per failing source, naming the source, the URL and the reason.
    assert len([line for line in err.splitlines() if "Diario Roto" in line]) == 1, err
    assert re.search(r"Diario Roto.*" + re.escape(site.url("/broken.xml")) + r".*500", err), err
    assert len([line for line in err.splitlines() if "Diario Muerto" in line]) == 1, err
    assert "Gave up retrying" not in err
    # The summary names each source error once.
    assert out.count("Diario Roto") == 1 and out.count("Diario Muerto") == 1, out
    # Slack's refusal is said once, on stderr; the summary points at it.
    assert (out + err).count("invalid_auth") == 1, out + err
    assert "xoxb-a-wrong-token-0000" not in out + err


def test_debug_shows_the_library_detail(world) -> None:  # type: ignore[no-untyped-def]
    config, _, _ = world
    _, _, err = vigia("crawl", "--no-deliver", "--log-level", "debug", "--source", "Diario Muerto", "--config", str(config))
    assert re.search(r"DEBUG scrapy", err) and "Traceback" in err


def test_info_is_not_flooded_by_library_internals(world) -> None:  # type: ignore[no-untyped-def]
    config, _, _ = world
    _, _, err = vigia("crawl", "--no-deliver", "--log-level", "info", "--config", str(config))
    chatter = [line for line in err.splitlines() if re.search(r" INFO (alembic|scrapy|twisted|apscheduler)", line)]
    assert not chatter, "\n".join(chatter)
    assert re.search(r" INFO crawler\.state: article failed|WARNING crawler\.state: source Diario Roto failed", err)


def test_a_crawl_where_nothing_fails_warns_of_nothing_and_sends_no_referer(world) -> None:  # type: ignore[no-untyped-def]
    config, site, _ = world
    code, _, err = vigia("crawl", "--no-deliver", "--source", "Diario Bueno", "--config", str(config))
    assert code == 0, err
    assert not [line for line in err.splitlines() if " WARNING " in line or " ERROR " in line], err
    article = relevant_article()
    [fetched] = site.fetched(article.path)
    assert fetched.header("Referer") is None  # the outlet is not told which feed led to it


def test_the_daemon_does_not_claim_a_delivery_that_sent_nothing(world) -> None:  # type: ignore[no-untyped-def]
    config, _, slack = world
    process = subprocess.Popen(
        [sys.executable, "-m", "vigia", "run", "--log-format", "json", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=ENV,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not slack.calls_to("chat.postMessage") and process.poll() is None:
            time.sleep(0.2)
        time.sleep(1.5)  # a delivery round or two after the refusal
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    messages = [json.loads(line)["message"] for line in stderr.splitlines() if line.startswith("{")]
    assert slack.calls_to("chat.postMessage"), stderr
    assert "delivered alerts to Slack" not in messages
    assert len([m for m in messages if "invalid_auth" in m]) == 1, "\n".join(messages)
