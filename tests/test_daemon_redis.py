"""`vigia run` with `crawler.redis_url`: the scheduler alone, two `vigia worker` processes doing the polls.

Against the machine's real Redis (keys named after the test's own database, removed
afterwards), a loopback news site with several feeds that share stories, and the Slack
stand-in.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import redis
from sqlalchemy import select

from storage.db import open_database
from storage.models import Source
from tests.support.labelled import article_page, feed
from tests.support.news_site import NewsSite
from tests.support.slack_standin import SlackStandIn
from tests.test_daemon_run import ARTICLES, REPO, TOKEN, Daemon, eventually, titles_in
from vigia.config import load_config
from vigia.crawl_spec import redis_prefix

REDIS_URL = "redis://127.0.0.1:6379/0"
FEEDS = 8


class Worker:
    """`python -m vigia worker` in a subprocess, its log kept."""

    def __init__(self, config: Path) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vigia", "worker", "--config", str(config), "--log-format", "json", "--log-level", "INFO"],
            cwd=config.parent,
            env={**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": TOKEN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def polls_taken(self) -> int:
        for line in self.lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "crawl worker stopped":
                return int(entry["counts"]["polls_taken"])
        return -1

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def tear_down(workers: list[Worker], daemon: Daemon, redis_client: redis.Redis, prefix: str) -> None:
    """Kill what a test started (a no-op for what already stopped) and clear its Redis keys."""
    for worker in workers:
        worker.kill()
    daemon.kill()
    for key in redis_client.scan_iter(f"{prefix}:*"):
        redis_client.delete(key)


def write_config(tmp_path: Path, slack: SlackStandIn, sources: list[tuple[str, str]], crawl_timeout: int = 60) -> Path:
    listed = "\n".join(f'  - {{name: "{name}", type: rss, url: "{url}"}}' for name, url in sources)
    config = tmp_path / "vigia.yaml"
    config.write_text(
        f"""database:
  url: sqlite:///{tmp_path / 'vigia.db'}
slack:
  token: ${{SLACK_BOT_TOKEN}}
  base_url: {slack.url}
sources:
{listed}
crawler:
  autothrottle: false
  redis_url: {REDIS_URL}
daemon:
  every: 1s
  min_every: 1s
  max_every: 1s
  http: 127.0.0.1:0
  grace: 5s
  crawl_timeout: {crawl_timeout}s
""",
        encoding="utf-8",
    )
    return config


def test_two_workers_and_the_scheduler_share_the_polls_with_no_duplicate(tmp_path: Path, redis_client) -> None:  # type: ignore[no-untyped-def]
    stories = ARTICLES[:4]
    late = ARTICLES[4]  # its page fails at first: the shared dupefilter must not keep it out later
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        for article in stories:
            site.add(article.path, article_page(article))
        site.add_status(late.path, 404)
        # Every story is listed by two feeds: stored once, alerted once, whichever worker fetches it.
        for i in range(FEEDS):
            listed = [stories[i % len(stories)], stories[(i + 1) % len(stories)]] + ([late] if i == 0 else [])
            content_type, body = feed("rss", f"Diario {i}", site.base_url, listed)
            site.add(f"/feed-{i}.xml", body, content_type=content_type)
        config = write_config(tmp_path, slack, [(f"Diario {i}", site.url(f"/feed-{i}.xml")) for i in range(FEEDS)])
        prefix = redis_prefix(load_config(config, environ={"SLACK_BOT_TOKEN": TOKEN}))
        daemon = Daemon(config)
        workers: list[Worker] = []
        try:
            daemon.start()
            workers = [Worker(config), Worker(config)]
            eventually(lambda: len(titles_in(slack)) >= len(stories), 60, "every story in Slack")
            # A few more rounds of polls: the unchanged feeds answer 304 and nothing is posted again.
            feeds = [f"Diario {i}" for i in range(FEEDS)]
            polled = daemon.crawls_done(*feeds)
            eventually(lambda: daemon.crawls_done(*feeds) >= polled + 3 * FEEDS, 30, "more polls")
            assert sorted(titles_in(slack)) == sorted(a.title for a in stories)
            site.add(late.path, article_page(late))  # the page is back
            eventually(lambda: late.title in titles_in(slack), 30, "the once-failed story in Slack")
            assert sorted(titles_in(slack)) == sorted(a.title for a in [*stories, late])
            assert daemon.metric("vigia_crawls_total", source="Diario 0", outcome="timeout") == 0
            assert [w.stop() for w in workers] == [0, 0]
            assert daemon.stop() == 0
            errors = [line for w in workers for line in w.lines if '"level": "error"' in line]
            assert not errors, errors[:3]
            taken = [w.polls_taken() for w in workers]
            assert all(n > 0 for n in taken), f"polls taken by each worker: {taken}"
            # Each article page was fetched once, by one of the two workers.
            for article in stories:
                assert len([r for r in site.requests if r.path == article.path]) == 1
        finally:
            tear_down(workers, daemon, redis_client, prefix)


def test_a_worker_killed_mid_poll_loses_nothing_while_the_other_carries_on(tmp_path: Path, redis_client) -> None:  # type: ignore[no-untyped-def]
    story = ARTICLES[5]
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        site.add_slow(story.path, 60, article_page(story))  # hangs: the poll is in flight when its worker dies
        content_type, body = feed("rss", "Diario", site.base_url, [story])
        site.add("/feed.xml", body, content_type=content_type)
        # The dead worker's request stays in the shared dupefilter for crawl_timeout: keep it short.
        config = write_config(tmp_path, slack, [("Diario", site.url("/feed.xml"))], crawl_timeout=8)
        prefix = redis_prefix(load_config(config, environ={"SLACK_BOT_TOKEN": TOKEN}))
        daemon = Daemon(config)
        workers: list[Worker] = []
        try:
            daemon.start()
            workers = [Worker(config), Worker(config)]
            eventually(lambda: site.fetched(story.path), 60, "a worker to reach the slow page")
            owners = {redis_client.hget(key, "owner") for key in redis_client.scan_iter(f"{prefix}:poll:*")} - {None}
            [owner] = owners
            pid = int(owner.decode().rsplit(":", 1)[1])
            [victim] = [w for w in workers if w.process.pid == pid]
            victim.process.kill()
            victim.process.wait()
            site.add(story.path, article_page(story))  # the page answers now
            crash = eventually(lambda: daemon.find(lambda e: e.get("outcome") == "crashed"), 60, "the lost poll given up")
            assert owner.decode() in crash["message"]
            eventually(lambda: story.title in titles_in(slack), 30, "the story in Slack, through the other worker")
            [survivor] = [w for w in workers if w is not victim]
            polls = daemon.crawls_done("Diario")
            eventually(lambda: daemon.crawls_done("Diario") >= polls + 2, 30, "the survivor polling on")
            assert survivor.stop() == 0
            assert daemon.stop() == 0
            assert titles_in(slack) == [story.title]
            assert survivor.polls_taken() > 0
        finally:
            tear_down(workers, daemon, redis_client, prefix)


def test_an_article_a_worker_cannot_store_fails_its_source_as_in_the_local_mode(tmp_path: Path, redis_client) -> None:  # type: ignore[no-untyped-def]
    stories = ARTICLES[:3]
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        for article in stories:
            site.add(article.path, article_page(article))
        content_type, body = feed("rss", "Diario", site.base_url, stories)
        site.add("/feed.xml", body, content_type=content_type)
        config = write_config(tmp_path, slack, [("Diario", site.url("/feed.xml"))])
        database_url = f"sqlite:///{tmp_path / 'vigia.db'}"
        open_database(database_url)
        with sqlite3.connect(tmp_path / "vigia.db") as connection:  # the disk is full for articles
            connection.execute(
                "CREATE TRIGGER disk_full BEFORE INSERT ON articles BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        prefix = redis_prefix(load_config(config, environ={"SLACK_BOT_TOKEN": TOKEN}))
        daemon = Daemon(config)
        workers: list[Worker] = []
        try:
            daemon.start()
            workers = [Worker(config), Worker(config)]  # whichever fetches an article, or ends the poll
            failed = eventually(
                lambda: daemon.find(lambda e: e.get("outcome") == "failed" and e.get("source") == "Diario"), 60, "a failed poll"
            )
            assert "storage error: 3 article(s) could not be stored" in failed["error"]
            assert "database or disk is full" in failed["error"]
            assert daemon.metric("vigia_crawls_total", source="Diario", outcome="ok") == 0
            _, sessions = open_database(database_url)
            with sessions() as session:
                row = session.scalars(select(Source).where(Source.name == "Diario")).one()
            assert row.consecutive_failures >= 1 and row.etag is None and "storage error" in (row.last_error or "")
            assert [w.stop() for w in workers] == [0, 0]
            assert daemon.stop() == 0
            assert titles_in(slack) == []
        finally:
            tear_down(workers, daemon, redis_client, prefix)


def test_a_running_worker_polls_the_sources_a_reload_adds_or_changes(tmp_path: Path, redis_client) -> None:  # type: ignore[no-untyped-def]
    first, moved, added = ARTICLES[0], ARTICLES[1], ARTICLES[2]
    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        for article in (first, moved, added):
            site.add(article.path, article_page(article))
        for path, article in (("/feed.xml", first), ("/moved.xml", moved), ("/added.xml", added)):
            content_type, body = feed("rss", "Diario", site.base_url, [article])
            site.add(path, body, content_type=content_type)
        config = write_config(tmp_path, slack, [("Diario", site.url("/feed.xml"))])
        prefix = redis_prefix(load_config(config, environ={"SLACK_BOT_TOKEN": TOKEN}))
        daemon = Daemon(config)
        workers: list[Worker] = []
        try:
            daemon.start()
            workers = [Worker(config)]
            eventually(lambda: first.title in titles_in(slack), 60, "the first story in Slack")
            # The source moves to another feed and a new one is added; the worker is not restarted.
            write_config(tmp_path, slack, [("Diario", site.url("/moved.xml")), ("Otro", site.url("/added.xml"))])
            assert daemon.process is not None
            daemon.process.send_signal(signal.SIGHUP)
            eventually(lambda: daemon.find(lambda e: e["message"] == "config reloaded"), 10, "the reload accepted")
            eventually(lambda: {moved.title, added.title} <= set(titles_in(slack)), 60, "the stories of the changed sources")
            assert workers[0].process.poll() is None
            assert sorted(titles_in(slack)) == sorted([first.title, moved.title, added.title])
            assert workers[0].stop() == 0
            assert daemon.stop() == 0
        finally:
            tear_down(workers, daemon, redis_client, prefix)


def test_a_bound_a_worker_meets_is_noted_on_the_source_as_in_the_local_mode(tmp_path: Path, redis_client) -> None:  # type: ignore[no-untyped-def]
    """Sitemap indexes nested deeper than the crawl follows (3): `vigia sources` says so, and the index keeps no
    validators (the next poll reads it again), whichever worker read the listing that was cut."""
    from tests.test_crawler_listing_bounds import DAY, index

    with NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        for level in range(6):
            site.add(f"/level-{level}.xml", index(site, [(f"/level-{level + 1}.xml", DAY)]), content_type="application/xml")
        config = write_config(tmp_path, slack, [("Diario", site.url("/level-0.xml"))])
        config.write_text(config.read_text(encoding="utf-8").replace("type: rss", "type: sitemap"), encoding="utf-8")
        prefix = redis_prefix(load_config(config, environ={"SLACK_BOT_TOKEN": TOKEN}))
        daemon = Daemon(config)
        workers: list[Worker] = []
        try:
            daemon.start()
            workers = [Worker(config), Worker(config)]
            eventually(lambda: daemon.crawls_done("Diario") >= 2, 60, "two polls of the sitemap")
            _, sessions = open_database(f"sqlite:///{tmp_path / 'vigia.db'}")
            with sessions() as session:
                row = session.scalars(select(Source).where(Source.name == "Diario")).one()
            assert "nested deeper than 3" in (row.listing_note or ""), row.listing_note
            assert row.etag is None and row.last_modified is None
            assert [len(site.fetched(f"/level-{level}.xml")) >= 2 for level in range(6)] == [True] * 4 + [False] * 2
            shown = subprocess.run(
                [sys.executable, "-m", "vigia", "sources", "--config", str(config)],
                env={**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": TOKEN},
                capture_output=True, text=True, timeout=30, check=False,
            ).stdout
            assert "nested deeper than 3" in shown, shown
            assert [w.stop() for w in workers] == [0, 0]
            assert daemon.stop() == 0
        finally:
            tear_down(workers, daemon, redis_client, prefix)
