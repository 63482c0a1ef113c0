"""The crawl supervisor: a crawl that hangs is stopped, one that ignores SIGTERM is killed.

The crawl here is a stand-in script, not Scrapy: what is under test is how the daemon
treats a child process that misbehaves, which a real crawl does only by accident.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from vigia.daemon.supervisor import CrawlCommand, Supervisor

STAND_IN = """#!{python}
import json, signal, sys, time
argv = sys.argv
report, source = argv[argv.index("--report-json") + 1], argv[argv.index("--source") + 1]
if source == "deaf":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if source in ("deaf", "hangs"):
    time.sleep(60)
if source == "broken":
    sys.exit(3)
json.dump({{"sources": [{{"name": source, "ok": source != "down", "not_modified": False,
            "error": "HTTP 500" if source == "down" else None, "items_listed": 4}}],
           "fetched": 4, "new": 2, "matched": 1, "skipped": 0, "alerts_queued": 1, "errors": []}}, open(report, "w"))
"""


def crawl(tmp_path: Path, source: str, timeout: float = 30, grace: float = 1) -> tuple[object, float]:
    script = tmp_path / "crawl-stand-in"
    script.write_text(STAND_IN.format(python=sys.executable))
    script.chmod(0o755)
    supervisor = Supervisor(CrawlCommand(tmp_path / "vigia.yaml", python=str(script)), timeout=timeout, grace=grace)
    started = time.monotonic()
    result = asyncio.run(supervisor.crawl([source]))
    return result, time.monotonic() - started


def test_a_crawl_report_gives_outcome_and_counts(tmp_path: Path) -> None:
    result, _ = crawl(tmp_path, "El Universal")
    assert [(s.name, s.outcome, s.items_listed) for s in result.sources] == [("El Universal", "ok", 4)]
    assert result.counts == {"fetched": 4, "new": 2, "matched": 1, "skipped": 0, "alerts_queued": 1}


def test_a_failed_source_is_a_failure_with_its_error(tmp_path: Path) -> None:
    result, _ = crawl(tmp_path, "down")
    assert [(s.outcome, s.error) for s in result.sources] == [("failed", "HTTP 500")]


def test_a_crawl_without_a_report_crashed(tmp_path: Path) -> None:
    result, _ = crawl(tmp_path, "broken")
    [outcome] = result.sources
    assert outcome.outcome == "crashed" and "status 3" in (outcome.error or "")


def test_a_hanging_crawl_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    result, took = crawl(tmp_path, "hangs", timeout=0.5)
    assert [s.outcome for s in result.sources] == ["timeout"]
    assert took < 10


def test_a_crawl_deaf_to_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    result, took = crawl(tmp_path, "deaf", timeout=0.5, grace=0.5)
    assert [s.outcome for s in result.sources] == ["timeout"]
    assert result.returncode == -9
    assert took < 10
