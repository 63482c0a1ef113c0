"""`vigia run` as a user runs it: a subprocess against a loopback news site and Slack stand-in.

Each test starts the daemon with a two-second interval, publishes Spanish articles from
the labelled set (relevant ones the built-in watchlist matches) into a feed, and checks
what a user would: the Slack channel, the exit status, the log, /healthz and /metrics.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from rules import Document, load_rules
from tests.support.labelled import LabelledArticle, article_page, feed, load_labelled, stories
from tests.support.news_site import NewsSite, RecordedRequest, Reply
from tests.support.slack_standin import SlackStandIn
from tests.support.waiting import eventually
from vigia.daemon import procfs

REPO = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-2024-daemon-test-token-do-not-log"
GRACE = 6.0


def matching_stories() -> list[LabelledArticle]:
    """One article per story that the built-in watchlist matches, so each is one Slack message."""
    ruleset = load_rules([{"builtin": "mx-us-security"}], REPO)
    firsts = [group[0] for group in stories(load_labelled()).values()]
    return [a for a in firsts if ruleset.match(Document(title=a.title, text="\n\n".join(a.paragraphs)))]


ARTICLES = matching_stories()



class Outlet:
    """A news site with one RSS feed whose articles the test publishes one by one."""

    def __init__(self, site: NewsSite, path: str = "/rss.xml") -> None:
        self.site, self.path = site, path
        self.published: list[LabelledArticle] = []

    @property
    def url(self) -> str:
        return self.site.url(self.path)

    def publish(self, *articles: LabelledArticle, slow: float = 0.0) -> None:
        for article in articles:
            if slow:
                self.site.add_slow(article.path, slow, article_page(article))
            else:
                self.site.add(article.path, article_page(article))
        self.published = [a for a in articles if a not in self.published] + self.published
        content_type, body = feed("rss", "Diario Prueba", self.site.base_url, self.published)
        self.site.add(self.path, body, content_type=content_type)


class Daemon:
    """`python -m vigia run` in a subprocess, its JSON log lines collected as they come."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Daemon:
        self.lines.clear()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vigia", "run", "--config", str(self.config), "--log-format", "json", "--log-level", "INFO"],
            cwd=self.config.parent,
            env={**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": TOKEN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        # A bound, not a measure: on a shared 2-core machine the imports and the migration alone
        # have taken over 20 s.
        line = eventually(lambda: self.find(lambda e: "health and metrics" in e["message"]), 60, "the daemon to listen")
        self.base = line["url"]
        return self

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.raw.append(line)
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                pass

    def find(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        return next((entry for entry in list(self.lines) if predicate(entry)), None)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path.lstrip("/"), timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def scrape(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample of /metrics, as Prometheus would scrape it, by name and labels."""
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(self.get("/metrics")[1])
            for sample in family.samples
        }

    def metric(self, name: str, **labels: str) -> float:
        """One sample from /metrics (0 when absent)."""
        return self.scrape().get((name, frozenset(labels.items())), 0.0)

    def crawls_done(self, *sources: str) -> float:
        """Polls of these sources that finished (ok or unchanged), from one scrape: tests poll this
        every few milliseconds, and the daemon renders /metrics for each request."""
        samples = self.scrape()
        return sum(samples.get(("vigia_crawls_total", frozenset({"source": source, "outcome": outcome}.items())), 0.0)
                   for source in sources for outcome in ("ok", "not_modified"))

    def crawl_children(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self, timeout: float = GRACE + 4) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token=TOKEN) as standin:
        yield standin


@pytest.fixture
def outlet() -> Iterator[Outlet]:
    with NewsSite() as site:
        yield Outlet(site)


def write_config(tmp_path: Path, slack: SlackStandIn, sources: list[tuple[str, str]], grace: float = GRACE) -> Path:
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
daemon:
  every: 2s
  min_every: 1s
  max_every: 2s
  http: 127.0.0.1:0
  grace: {grace:g}s
  crawl_timeout: 60s
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def daemon(tmp_path: Path, slack: SlackStandIn, outlet: Outlet) -> Iterator[Daemon]:
    running = Daemon(write_config(tmp_path, slack, [("Diario Prueba", outlet.url)]))
    yield running
    running.kill()
    print("".join(line for line in running.raw if "vigia" in line or "ERROR" in line or "error" in line))  # shown when a test fails


def titles_in(slack: SlackStandIn) -> list[str]:
    """The stories the channel shows, one entry per top-level message, found by their link."""
    found = []
    for message in slack.messages:
        text = json.dumps(message, ensure_ascii=False)
        found += [a.title for a in ARTICLES if a.path in text]
    return found


def test_the_shared_labelled_set_gives_enough_matching_stories() -> None:
    assert len(ARTICLES) >= 4


def test_articles_published_while_it_runs_reach_slack(daemon: Daemon, slack: SlackStandIn, outlet: Outlet) -> None:
    first, second, third = ARTICLES[:3]
    outlet.publish(first)
    daemon.start()
    eventually(lambda: first.title in titles_in(slack), 30, "the first story in Slack")

    outlet.publish(second, third)
    eventually(lambda: {second.title, third.title} <= set(titles_in(slack)), 30, "the stories published later")
    assert sorted(titles_in(slack)) == sorted([first.title, second.title, third.title])

    status, body = daemon.get("/healthz")
    assert (status, body.split(":")[0]) == (200, "ok")
    # Slack may have the stories before the crawl process has finished and been counted.
    eventually(
        lambda: daemon.metric("vigia_articles_total", source="Diario Prueba", stage="matched") == 3, 15, "the crawls counted"
    )
    assert daemon.metric("vigia_crawls_total", source="Diario Prueba", outcome="ok") >= 2
    assert daemon.metric("vigia_alerts_sent_total", kind="story") == 3
    assert daemon.metric("vigia_source_last_success_timestamp_seconds", source="Diario Prueba") > time.time() - 60
    assert daemon.metric("vigia_source_consecutive_failures", source="Diario Prueba") == 0
    assert daemon.metric("vigia_crawl_duration_seconds_count", type="rss") >= 2
    assert daemon.metric("vigia_source_last_poll_duration_seconds", source="Diario Prueba") > 0
    assert daemon.get("/nowhere")[0] == 404

    assert daemon.stop() == 0
    crawl_lines = [e for e in daemon.lines if e["message"] == "crawl finished"]
    assert crawl_lines and {"source", "url", "counts", "duration"} <= set(crawl_lines[0])
    assert not any(TOKEN in line for line in daemon.raw)


# The crawler keeps a feed's ETag as soon as the feed is read, before its articles are
# stored: a crawl stopped or killed in between loses those articles until the feed changes.
def test_sigterm_mid_crawl_exits_0_in_grace_and_a_restart_neither_loses_nor_repeats(
    daemon: Daemon, slack: SlackStandIn, outlet: Outlet
) -> None:
    quick, slow = ARTICLES[3], ARTICLES[4 % len(ARTICLES)]
    outlet.publish(quick)
    outlet.publish(slow, slow=30)  # its page hangs: the crawl is still running when we stop
    daemon.start()
    eventually(lambda: outlet.site.fetched(slow.path), 30, "the crawl to reach the slow page")
    # Ticks during the long poll start nothing; they are counted, not logged.
    eventually(lambda: daemon.metric("vigia_poll_ticks_skipped_total", source="Diario Prueba") >= 1, 20, "a skipped tick")
    assert not any("maximum number of running instances" in line for line in daemon.raw)

    assert daemon.stop(timeout=GRACE + 5) == 0
    # Within the grace, in order: the stop asked for, the poll in flight cut short and reported
    # (the worker stopped by SIGTERM, or killed at the deadline the grace sets), the daemon stopped.
    messages = [e["message"] for e in daemon.lines]
    asked = messages.index("SIGTERM received: stopping (grace 6s)")
    cut = next(i for i, m in enumerate(messages) if m.startswith("poll stopped with the crawl worker"))
    assert asked < cut < messages.index("stopped") == len(messages) - 1

    outlet.publish(slow)  # the same feed; the page answers now
    daemon.start()
    eventually(lambda: quick.title in titles_in(slack), 20, "the quick story in Slack")
    crawls = daemon.crawls_done("Diario Prueba")
    eventually(lambda: daemon.crawls_done("Diario Prueba") >= crawls + 2, 20, "two more crawls after the restart")
    assert titles_in(slack).count(quick.title) == 1
    assert daemon.stop() == 0
    # The interrupted crawl left no validators behind, so the slow story was not lost.
    assert titles_in(slack).count(slow.title) == 1


def test_a_crawl_killed_with_sigkill_is_reported_and_the_next_tick_runs(
    daemon: Daemon, slack: SlackStandIn, outlet: Outlet
) -> None:
    article = ARTICLES[5 % len(ARTICLES)]
    outlet.publish(article, slow=30)
    daemon.start()
    eventually(lambda: outlet.site.fetched(article.path), 30, "the crawl to reach the slow page")
    [killed] = daemon.crawl_children()
    os.kill(killed, signal.SIGKILL)

    report = eventually(
        lambda: daemon.find(lambda e: e.get("outcome") == "crashed" and e.get("source") == "Diario Prueba"),
        10,
        "the crash logged against its source",
    )
    assert "SIGKILL" in report["message"]
    assert daemon.metric("vigia_crawls_total", source="Diario Prueba", outcome="crashed") == 1
    outlet.publish(article)  # the same feed; the page answers now
    # A new worker took over and polled the source again at once: the page was asked for again.
    eventually(lambda: daemon.crawl_children() and daemon.crawl_children() != [killed], 20, "a new crawl worker")
    eventually(lambda: len(outlet.site.fetched(article.path)) >= 2, 30, "the source polled again")
    eventually(lambda: daemon.crawls_done("Diario Prueba") >= 1, 20, "the next tick to crawl")
    eventually(
        lambda: daemon.metric("vigia_source_consecutive_failures", source="Diario Prueba") == 0, 10, "the source to recover"
    )
    assert daemon.get("/healthz")[0] == 200
    crawls = daemon.crawls_done("Diario Prueba")
    eventually(lambda: daemon.crawls_done("Diario Prueba") > crawls, 20, "one more crawl")
    assert daemon.stop() == 0
    assert titles_in(slack).count(article.title) == 1


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_the_worker_and_its_pool_exit_when_the_daemon_is_killed(daemon: Daemon, slack: SlackStandIn, outlet: Outlet) -> None:
    article = ARTICLES[2]
    outlet.publish(article, slow=30)  # the worker has a poll in flight when the daemon dies
    daemon.start()
    eventually(lambda: outlet.site.fetched(article.path), 30, "the crawl to reach the slow page")
    [worker] = daemon.crawl_children()

    def with_its_pool() -> list[int] | None:  # the worker, its extraction pool
        tree = procfs.tree(worker)  # the worker and its descendants, whichever thread started them
        return tree if len(tree) >= 3 else None

    tree = eventually(with_its_pool, 30, "the worker's extraction pool to start")
    assert len(tree) >= 3
    daemon.kill()  # SIGKILL: no cleanup of its own
    eventually(lambda: all(gone(pid) for pid in tree), 30, "the worker and its pool to exit")


def test_sighup_takes_a_valid_config_and_refuses_an_invalid_one(
    tmp_path: Path, daemon: Daemon, slack: SlackStandIn, outlet: Outlet
) -> None:
    first, second = ARTICLES[0], ARTICLES[1]
    outlet.publish(first)
    daemon.start()
    eventually(lambda: first.title in titles_in(slack), 30, "the first story in Slack")
    assert daemon.process is not None

    good_config = daemon.config.read_text(encoding="utf-8")
    daemon.config.write_text(good_config.replace("sources:", "sorces:"), encoding="utf-8")
    daemon.process.send_signal(signal.SIGHUP)
    refusal = eventually(lambda: daemon.find(lambda e: "reload refused" in e["message"]), 10, "the reload refused")
    assert "sorces" in refusal["message"] and str(daemon.config) in refusal["message"]
    assert daemon.get("/healthz")[0] == 200
    crawls = daemon.crawls_done("Diario Prueba")
    eventually(lambda: daemon.crawls_done("Diario Prueba") > crawls, 20, "a poll with the previous config")
    # A worker started now (after a crash, say) reads the accepted copy, not the broken file.
    for pid in daemon.crawl_children():
        os.kill(pid, signal.SIGKILL)
    eventually(
        lambda: daemon.find(lambda e: "crawls keep the accepted version" in e["message"]), 30, "a worker on the accepted copy"
    )
    crawls = daemon.crawls_done("Diario Prueba")
    eventually(lambda: daemon.crawls_done("Diario Prueba") > crawls, 30, "a poll by the restarted worker")
    assert daemon.metric("vigia_crawls_total", source="Diario Prueba", outcome="unavailable") == 0

    with NewsSite() as other_site:
        other = Outlet(other_site)
        other.publish(second)
        write_config(tmp_path, slack, [("Diario Prueba", outlet.url), ("Otro Diario", other.url)])
        daemon.process.send_signal(signal.SIGHUP)
        eventually(lambda: daemon.find(lambda e: e["message"] == "config reloaded"), 10, "the reload accepted")
        eventually(lambda: second.title in titles_in(slack), 30, "the new source's story in Slack")
        assert daemon.stop() == 0


def test_a_source_in_flight_at_three_worker_deaths_is_quarantined(
    tmp_path: Path, slack: SlackStandIn, outlet: Outlet
) -> None:
    poison = ARTICLES[6 % len(ARTICLES)]
    healthy = ARTICLES[7 % len(ARTICLES)]
    with NewsSite() as other_site:
        bad = Outlet(other_site)
        bad.publish(poison, slow=60)  # its page hangs: the worker is killed while it waits
        outlet.publish(healthy)
        config = write_config(tmp_path, slack, [("Diario Prueba", outlet.url), ("Diario Veneno", bad.url)])
        # The healthy source polls slowly, so that it is seldom in flight when the worker dies.
        config.write_text(
            config.read_text(encoding="utf-8")
            .replace('url: "' + outlet.url + '"}', 'url: "' + outlet.url + '", every: 8s}')
            .replace("max_every: 2s", "max_every: 8s"),
            encoding="utf-8",
        )
        daemon = Daemon(config).start()
        eventually(lambda: healthy.title in titles_in(slack), 40, "the healthy source's story in Slack")
        try:
            for death in range(1, 4):
                eventually(lambda d=death: len(bad.site.fetched(poison.path)) >= d, 40, f"the poison page, time {death}")
                for pid in daemon.crawl_children():
                    os.kill(pid, signal.SIGKILL)
            line = eventually(lambda: daemon.find(lambda e: "quarantined" in e["message"]), 20, "the quarantine logged")
            assert line["source"] == "Diario Veneno"
            shown = subprocess.run(
                [sys.executable, "-m", "vigia", "sources", "--config", str(config)],
                env={**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": TOKEN},
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            health = {row.split()[1]: row.split()[3] for row in shown.splitlines() if row.startswith("Diario ")}
            assert health["Veneno"] == "quarantined"
            fetched = len(bad.site.fetched(poison.path))
            polls = daemon.crawls_done("Diario Prueba")
            eventually(lambda: daemon.crawls_done("Diario Prueba") >= polls + 2, 40, "the healthy source polled on")
            assert len(bad.site.fetched(poison.path)) == fetched  # the quarantined one is not
            assert daemon.stop() == 0
        finally:
            daemon.kill()


class SlowFeed:
    """A feed that takes a few seconds to answer, and tells whether a poll of it is under way."""

    def __init__(self, outlet: Outlet, delay: float) -> None:
        self.outlet, self.delay, self.busy = outlet, delay, 0
        self.lock = threading.Lock()
        self.route = outlet.site.routes[outlet.path]
        outlet.site.add(outlet.path, self.answer)

    def answer(self, request: RecordedRequest) -> Reply:
        with self.lock:
            self.busy += 1
        try:
            time.sleep(self.delay)
            assert self.route.reply is not None
            return self.route.reply
        finally:
            with self.lock:
                self.busy -= 1


def test_a_healthy_source_in_flight_at_each_worker_death_is_not_quarantined(
    tmp_path: Path, slack: SlackStandIn, outlet: Outlet
) -> None:
    poison = ARTICLES[6 % len(ARTICLES)]
    healthy = ARTICLES[7 % len(ARTICLES)]
    with NewsSite() as other_site:
        bad = Outlet(other_site)
        bad.publish(poison, slow=60)  # its page hangs: the worker is killed while it waits
        outlet.publish(healthy)
        slow_feed = SlowFeed(outlet, delay=3)  # a poll of the healthy source is in flight for 3 s
        config = write_config(tmp_path, slack, [("Diario Prueba", outlet.url), ("Diario Veneno", bad.url)])
        daemon = Daemon(config).start()
        try:
            eventually(lambda: healthy.title in titles_in(slack), 40, "the healthy source's story in Slack")
            def quarantined() -> dict[str, Any] | None:
                return daemon.find(lambda e: "quarantined" in e["message"])

            deaths, together = 0, 0
            while True:
                eventually(
                    lambda d=deaths: quarantined() or len(bad.site.fetched(poison.path)) > d, 40, f"the poison page, time {deaths + 1}"
                )
                if quarantined():
                    break
                assert deaths < 8, "the poison source was never quarantined"
                # The first death has both sources in flight; later ones too whenever the healthy one is being polled.
                if deaths == 0:
                    eventually(lambda: slow_feed.busy, 20, "the healthy source in flight with the poison one")
                together += bool(slow_feed.busy)
                for pid in daemon.crawl_children():
                    os.kill(pid, signal.SIGKILL)
                deaths += 1
            assert together >= 1
            quarantines = [e for e in daemon.lines if "quarantined" in e["message"]]
            assert [e["source"] for e in quarantines] == ["Diario Veneno"]
            shown = subprocess.run(
                [sys.executable, "-m", "vigia", "sources", "--config", str(config)],
                env={**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": TOKEN},
                capture_output=True,
                check=False,
                text=True,
                timeout=30,
            ).stdout
            health = {row.split()[1]: row.split()[3] for row in shown.splitlines() if row.startswith("Diario ")}
            assert health["Veneno"] == "quarantined"
            assert health["Prueba"] != "quarantined"
            polls = daemon.crawls_done("Diario Prueba")
            eventually(lambda: daemon.crawls_done("Diario Prueba") >= polls + 2, 40, "the healthy source polled on")
            assert daemon.stop() == 0
        finally:
            daemon.kill()


def test_a_new_story_in_one_of_200_feeds_reaches_slack(tmp_path: Path, slack: SlackStandIn) -> None:
    story = ARTICLES[1]
    # 200 feeds on 10 hosts (127.0.1.x are all loopback), 20 each, polled every 5 s.
    sites = [NewsSite(host=f"127.0.1.{h}").start() for h in range(1, 11)]
    try:
        feeds = [(sites[i % 10], f"/feed-{i}.xml") for i in range(200)]
        for site, path in feeds:
            empty_type, empty = feed("rss", "Diario", site.base_url, [])
            site.add(path, empty, content_type=empty_type)
        config = write_config(tmp_path, slack, [(f"Diario {i}", site.url(path)) for i, (site, path) in enumerate(feeds)])
        config.write_text(config.read_text(encoding="utf-8").replace(": 2s", ": 5s"), encoding="utf-8")
        daemon = Daemon(config)
        try:
            daemon.start()
            eventually(lambda: all(site.fetched(path) for site, path in feeds), 60, "every feed polled")
            site, path = feeds[137]
            site.add(story.path, article_page(story))
            content_type, body = feed("rss", "Diario 137", site.base_url, [story])
            site.add(path, body, content_type=content_type)
            eventually(lambda: story.title in titles_in(slack), 40, "the story in Slack")
            assert daemon.stop() == 0
            assert titles_in(slack) == [story.title]
        finally:
            daemon.kill()
    finally:
        for site in sites:
            site.stop()


def test_the_worker_is_recycled_past_its_age_without_losing_a_poll(
    tmp_path: Path, daemon: Daemon, slack: SlackStandIn, outlet: Outlet
) -> None:
    daemon.config.write_text(
        daemon.config.read_text(encoding="utf-8").replace("  grace:", "  worker_max_age: 3s\n  grace:"), encoding="utf-8"
    )
    first, second = ARTICLES[2], ARTICLES[3]
    outlet.publish(first)
    daemon.start()
    eventually(lambda: first.title in titles_in(slack), 30, "the first story in Slack")
    eventually(lambda: daemon.find(lambda e: "recycling the crawl worker" in e["message"]), 30, "a recycle")
    started = [e for e in daemon.lines if e["message"] == "crawl worker started"]
    eventually(lambda: len([e for e in daemon.lines if e["message"] == "crawl worker started"]) > len(started), 30, "a new worker")
    outlet.publish(second)
    eventually(lambda: second.title in titles_in(slack), 30, "a story polled by the new worker")
    assert daemon.metric("vigia_crawls_total", source="Diario Prueba", outcome="crashed") == 0
    assert daemon.stop() == 0
    assert sorted(titles_in(slack)) == sorted([first.title, second.title])
