"""Dry runs: `vigia crawl --dry-run` and `vigia run --dry-run` print alerts instead of posting.

The config has no slack section at all, as a newcomer's has before they create a Slack app.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.labelled import LabelledArticle, article_page, feed, load_labelled
from tests.support.news_site import NewsSite
from tests.test_cli import REPO, run_cli

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def vigia(*argv: str) -> tuple[int, str, str]:
    """The CLI in a subprocess: a crawl runs Twisted's reactor, which starts once per process."""
    result = subprocess.run([sys.executable, "-m", "vigia", *argv], capture_output=True, text=True, cwd=REPO, env=ENV,
                            timeout=120)
    return result.returncode, result.stdout, result.stderr


def relevant_article() -> LabelledArticle:
    return next(a for a in load_labelled() if a.relevant and a.language == "es" and a.category == "relevant-clear")


@pytest.fixture
def outlet() -> Iterator[tuple[NewsSite, LabelledArticle]]:
    article = relevant_article()
    with NewsSite() as site:
        site.add(article.path, article_page(article))
        content_type, body = feed("rss", "Diario Prueba", site.base_url, [article])
        site.add("/rss.xml", body, content_type=content_type)
        yield site, article


def write_config(tmp_path: Path, feed_url: str) -> Path:
    path = tmp_path / "vigia.yaml"
    path.write_text(
        f"""database:
  url: sqlite:///{tmp_path / 'v.db'}
sources:
  - {{name: Diario Prueba, type: rss, url: "{feed_url}"}}
crawler:
  autothrottle: false
daemon:
  every: 2s
  min_every: 1s
  max_every: 2s
  http: 127.0.0.1:0
  grace: 5s
""",
        encoding="utf-8",
    )
    return path


def test_crawl_dry_run_prints_the_alert_without_a_slack_section(tmp_path: Path, outlet) -> None:  # type: ignore[no-untyped-def]
    site, article = outlet
    config = write_config(tmp_path, site.url("/rss.xml"))
    code, out, err = vigia("crawl", "--dry-run", "--config", str(config))
    assert code == 0, err
    assert "[dry run: not posted] #monitoreo-seguridad" in out
    assert article.title in out
    assert "1 printed (dry run: nothing posted)" in out
    # Printed once: a second dry run finds nothing new and prints nothing again.
    code, again, _ = vigia("crawl", "--dry-run", "--config", str(config))
    assert code == 0 and article.title not in again


def test_a_dry_run_prints_every_alert_at_once_whatever_slacks_pace(tmp_path: Path) -> None:
    """Nothing reaches Slack, so its pace does not apply: six stories for one channel, at a pace
    of one message an hour, are all printed by the one crawl."""
    articles = [a for a in load_labelled() if a.relevant and a.language == "es" and a.category == "relevant-clear"][:6]
    with NewsSite() as site:
        for article in articles:
            site.add(article.path, article_page(article))
        content_type, body = feed("rss", "Diario Prueba", site.base_url, articles)
        site.add("/rss.xml", body, content_type=content_type)
        config = write_config(tmp_path, site.url("/rss.xml"))
        config.write_text(config.read_text(encoding="utf-8") + "slack:\n  pace: 1h\n", encoding="utf-8")
        code, out, err = vigia("crawl", "--dry-run", "--config", str(config))  # would wait hours, paced
    assert code == 0, err
    assert out.count("[dry run: not posted] #monitoreo-seguridad") == len(articles) == 6, out
    assert f"{len(articles)} printed (dry run: nothing posted)" in out


def test_crawl_without_dry_run_still_needs_slack(tmp_path: Path, outlet) -> None:  # type: ignore[no-untyped-def]
    site, _ = outlet
    code, _, err = run_cli("crawl", "--config", str(write_config(tmp_path, site.url("/rss.xml"))))
    assert code == 2
    assert "slack: token is missing" in err and "--dry-run" in err
    assert not site.fetched("/rss.xml")  # refused before crawling anything


def test_run_dry_run_prints_alerts_as_they_come(tmp_path: Path, outlet) -> None:  # type: ignore[no-untyped-def]
    site, article = outlet
    config = write_config(tmp_path, site.url("/rss.xml"))
    process = subprocess.Popen(
        [sys.executable, "-m", "vigia", "run", "--dry-run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=ENV,
    )
    printed: list[str] = []
    logged: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(iter(process.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    log_reader = threading.Thread(target=lambda: logged.extend(iter(process.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
    log_reader.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(article.title in line for line in printed):
            if process.poll() is not None:
                break
            time.sleep(0.2)
        # A reload of the same slack-less config is taken, as the start was.
        process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("reload" in line for line in logged):
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(timeout=5)
        log_reader.join(timeout=5)
    stderr = "".join(logged)
    out = "".join(printed)
    assert any(article.title in line for line in printed), f"stdout:\n{out}\nstderr:\n{stderr}"
    assert "[dry run: not posted]" in out
    assert "config reloaded" in stderr and "refused" not in stderr, stderr
    assert code == 0, stderr
