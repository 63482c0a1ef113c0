"""Resident size of each process of a small `vigia run`: daemon, worker, extraction pool.

Serves a handful of loopback feeds with real Spanish articles (the labelled set), runs
``python -m vigia run`` on them for a while (articles extracted, matched, alerted to the
Slack stand-in, then unchanged polls), and prints VmRSS of every process in the daemon's
tree and their sum. What a process imports shows here; the hour-long figure at 1,400 feeds
is bench/scale.py's ``--memory-every``. Prints figures; asserts nothing.

    .venv/bin/python bench/daemon_memory.py [--feeds 5] [--seconds 45]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.labelled import article_page, feed, load_labelled
from tests.support.news_site import NewsSite
from tests.support.slack_standin import SlackStandIn
from vigia.daemon import procfs

TOKEN = "xoxb-bench-daemon-memory"


def resident_mb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def children(pid: int) -> list[int]:
    return procfs.children(pid)  # of every thread, whichever started them


def describe(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    if "run" in argv:
        return "daemon (vigia run)"
    if "worker" in argv:
        return "crawl worker"
    joined = " ".join(argv)
    if "resource_tracker" in joined:
        return "multiprocessing resource tracker"
    return "extraction pool (fork server or worker)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=45.0)
    args = parser.parse_args()
    articles = [a for a in load_labelled() if a.language == "es"][: 4 * args.feeds]
    with tempfile.TemporaryDirectory() as tmp, NewsSite() as site, SlackStandIn(token=TOKEN) as slack:
        for article in articles:
            site.add(article.path, article_page(article))
        for i in range(args.feeds):
            content_type, body = feed("rss", f"D{i}", site.base_url, articles[i * 4 : (i + 1) * 4])
            site.add(f"/f{i}.xml", body, content_type=content_type)
        sources = "\n".join(f'  - {{name: "D{i}", type: rss, url: "{site.url(f"/f{i}.xml")}"}}' for i in range(args.feeds))
        config = Path(tmp) / "vigia.yaml"
        config.write_text(
            f"database:\n  url: sqlite:///{Path(tmp) / 'vigia.db'}\nslack:\n  token: ${{SLACK_BOT_TOKEN}}\n"
            f"  base_url: {slack.url}\nsources:\n{sources}\ncrawler:\n  autothrottle: false\n"
            "daemon:\n  every: 5s\n  min_every: 5s\n  max_every: 5s\n",
            encoding="utf-8",
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "vigia", "run", "--config", str(config)],
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": TOKEN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(args.seconds)
            total = 0

            def show(pid: int, depth: int = 0) -> None:
                nonlocal total
                size = resident_mb(pid)
                total += size
                print(f"{'  ' * depth}{pid:>7} {size:4d} MB  {describe(pid)}")
                for child in children(pid):
                    show(child, depth + 1)

            show(daemon.pid)
            print(f"total {total} MB over the daemon's tree; {len(slack.messages)} Slack messages")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)


if __name__ == "__main__":
    main()
