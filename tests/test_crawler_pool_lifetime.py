"""A crawl killed with SIGKILL (cron's `timeout -s KILL`, the OOM killer) leaves no extraction
processes behind: its fork server and workers die with it.

The crawl is the real `vigia crawl` in a subprocess, against a loopback site whose articles
answer slowly, so it is killed with its pool up and pages in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.news_site import NewsSite

REPO = Path(__file__).resolve().parents[1]
WORKERS = 2
WAIT = 60.0  # upper bound for the polls below; each ends as soon as its condition holds


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(child) for child in text.split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def descendants(pid: int) -> dict[int, str]:
    """Every process whose parent chain leads to ``pid``, with its start time (so a reused pid
    is not taken for a survivor)."""
    found: dict[int, str] = {}
    pending = children(pid)
    while pending:
        child = pending.pop()
        started = start_time(child)
        if started is not None:
            found[child] = started
            pending += children(child)
    return found


def fork_server_with_workers(pid: int) -> bool:
    return any(len(children(child)) >= WORKERS for child in children(pid))


def start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has exited; only its parent's wait is missing
        return None
    return fields[19]


def alive(processes: dict[int, str]) -> list[int]:
    return [pid for pid, started in processes.items() if start_time(pid) == started]


def poll(condition, timeout: float = WAIT):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_sigkilled_crawl_leaves_no_extraction_processes(tmp_path: Path) -> None:
    with NewsSite() as site:
        links = [site.add_slow(f"/2026/12/01/nota-{i}.html", delay=30) for i in range(4)]
        items = "".join(f"<item><title>Nota {i}</title><link>{link}</link></item>" for i, link in enumerate(links))
        site.add("/rss.xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>Lento</title>{items}</channel></rss>',
                 content_type="application/rss+xml")
        config = tmp_path / "vigia.yaml"
        config.write_text(
            f"database: {{url: 'sqlite:///{tmp_path / 'vigia.db'}'}}\n"
            "slack: {token: xoxb-test, base_url: 'http://127.0.0.1:9/api/'}\n"
            f"sources:\n  - {{name: Lento, type: rss, url: '{site.url('/rss.xml')}'}}\n"
            f"crawler: {{workers: {WORKERS}, obey_robots: false, autothrottle: false}}\n",
            encoding="utf-8",
        )
        crawl = subprocess.Popen([sys.executable, "-m", "vigia", "crawl", "--config", str(config)], cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pool: dict[int, str] = {}
        try:
            # Up and busy: the fork server and its workers exist, the slow pages are being fetched.
            assert poll(lambda: len(site.requests) > 1 and fork_server_with_workers(crawl.pid))
            pool = descendants(crawl.pid)

            crawl.kill()
            crawl.wait(30)

            poll(lambda: not alive(pool))
            survivors = alive(pool)
            assert survivors == [], f"still running after the crawl was killed: {survivors}"
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait(30)
            for pid in alive(pool):  # a failed run must not leave them behind either
                os.kill(pid, signal.SIGKILL)
