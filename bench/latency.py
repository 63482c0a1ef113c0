"""How long after an article appears in a feed does its Slack message arrive under `vigia run`?

Runs the daemon (a subprocess, as deployed) against a loopback news site and the Slack
stand-in, with a short poll interval; publishes matching Spanish stories into the feed at
random moments; and records when each one's message reaches the stand-in. The figure that
matters is the delay *beyond* the poll interval: the crawl (a Scrapy process start, the
feed, the page, extraction, matching, storing) plus delivery. Prints figures; asserts nothing.

    python bench/latency.py [--every 2] [--articles 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rules import Document, load_rules
from tests.support.labelled import LabelledArticle, article_page, feed, load_labelled, stories
from tests.support.news_site import NewsSite
from tests.support.slack_standin import SlackStandIn


def matching_stories() -> list[LabelledArticle]:
    """One article per story the built-in watchlist matches: each should be one Slack message."""
    ruleset = load_rules([{"builtin": "mx-us-security"}], REPO)
    firsts = [group[0] for group in stories(load_labelled()).values()]
    return [a for a in firsts if ruleset.match(Document(title=a.title, text="\n\n".join(a.paragraphs)))]


def write_config(directory: Path, feed_url: str, slack_url: str, every: float) -> Path:
    config = directory / "vigia.yaml"
    config.write_text(
        f"""database:
  url: sqlite:///{directory / 'vigia.db'}
slack:
  token: xoxb-bench-token
  base_url: {slack_url}
sources:
  - {{name: Diario Bench, type: rss, url: "{feed_url}"}}
daemon:
  every: {every:g}s
  min_every: {every:g}s
  max_every: {every:g}s
  http: 127.0.0.1:0
""",
        encoding="utf-8",
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, default=2.0, help="poll interval in seconds (default 2)")
    parser.add_argument("--articles", type=int, default=8, help="stories to publish (default 8)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    candidates = matching_stories()
    articles = candidates[: args.articles]
    if len(articles) < args.articles:
        print(f"only {len(articles)} distinct matching stories in the labelled set; publishing those")

    with tempfile.TemporaryDirectory(prefix="vigia-bench-") as scratch, NewsSite() as site, SlackStandIn() as slack:
        published: list[LabelledArticle] = []

        def publish(article: LabelledArticle | None) -> None:
            if article is not None:
                site.add(article.path, article_page(article))
                published.insert(0, article)
            content_type, body = feed("rss", "Diario Bench", site.base_url, published)
            site.add("/rss.xml", body, content_type=content_type)

        publish(None)
        config = write_config(Path(scratch), site.url("/rss.xml"), slack.url, args.every)
        daemon = subprocess.Popen(
            [sys.executable, "-m", "vigia", "run", "--config", str(config), "--log-format", "json"],
            cwd=scratch,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(args.every + 3)  # let the first (empty) crawl pass
            published_at: dict[str, float] = {}
            seen_at: dict[str, float] = {}
            next_publish = time.monotonic()
            queue = list(articles)
            deadline = None
            while len(seen_at) < len(articles):
                now = time.monotonic()
                if queue and now >= next_publish:
                    article = queue.pop(0)
                    publish(article)
                    published_at[article.path] = now
                    next_publish = now + rng.uniform(0.5, 3 * args.every)
                    if not queue:
                        deadline = now + 60
                text = json.dumps(slack.messages, ensure_ascii=False)
                for path in published_at:
                    if path not in seen_at and path in text:
                        seen_at[path] = now
                if deadline and now > deadline:
                    break
                time.sleep(0.05)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(60)

    delays = [seen_at[p] - published_at[p] for p in seen_at]
    beyond = [d - args.every for d in delays]
    print(f"vigia run, every {args.every:g}s, {len(published_at)} stories published at random times, {len(seen_at)} reached Slack")
    if delays:
        print(f"publication -> Slack: median {statistics.median(delays):.1f}s, max {max(delays):.1f}s")
        # Negative: the story was published just before a poll and arrived within one interval.
        print(f"beyond the poll interval: median {statistics.median(beyond):.1f}s, max {max(beyond):.1f}s")
    missing = len(published_at) - len(seen_at)
    if missing:
        print(f"{missing} stories did not reach Slack within 60s of the last publication")
    print(f"daemon exit status after SIGTERM: {code}")


if __name__ == "__main__":
    main()
