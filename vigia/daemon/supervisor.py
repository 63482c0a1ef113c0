"""Running one crawl in its own process, and stopping it when it must stop.

Every crawl is ``python -m vigia crawl --source NAME --no-deliver --report-json PATH``:
the same code path as the one-off command, in a fresh process, because a Twisted
reactor cannot be restarted, long-lived crawlers leak, and a native crash in a parser
must take down one crawl, not the daemon. The daemon learns what happened from the
JSON report; a crawl that left no report crashed, hung or was killed, and says so.

Stopping is in two steps: SIGTERM, on which Scrapy closes gracefully (in-flight
articles are stored), then SIGKILL once the grace period is over.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("vigia.daemon.crawl")

# How many crawl processes may run at once; each one is a Scrapy process plus an
# extraction pool, so a small server should not start one per source at the same tick.
MAX_PARALLEL_CRAWLS = 4


@dataclass
class SourceOutcome:
    name: str
    outcome: str  # ok | not_modified | failed | timeout | crashed | stopped
    error: str | None = None
    items_listed: int = 0


@dataclass
class CrawlResult:
    """What one crawl process did, per source, with the report's counts when there is one."""

    sources: list[SourceOutcome]
    duration: float
    returncode: int | None
    report: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CrawlCommand:
    """How to start a crawl process: which config, and how it should log."""

    config_path: Path
    log_format: str = "text"
    log_level: str = "WARNING"
    python: str = sys.executable

    def argv(self, sources: list[str], report_path: Path, config_path: Path | None = None) -> list[str]:
        argv = [self.python, "-m", "vigia", "crawl", "--config", str(config_path or self.config_path)]
        for name in sources:
            argv += ["--source", name]
        argv += ["--no-deliver", "--report-json", str(report_path)]
        argv += ["--log-format", self.log_format, "--log-level", self.log_level]
        return argv


class Supervisor:
    """Starts crawl processes, enforces their timeout, and stops them all at shutdown."""

    def __init__(
        self,
        command: CrawlCommand,
        *,
        timeout: float,
        grace: float,
        parallel: int = MAX_PARALLEL_CRAWLS,
        config_path: Callable[[], Path] | None = None,
    ) -> None:
        """``config_path()``, when given, names the config file each new crawl reads."""
        self.command = command
        self.config_path = config_path
        self.timeout = timeout
        self.grace = grace
        self.running: dict[int, asyncio.subprocess.Process] = {}
        self.stopping = False
        self._slots = asyncio.Semaphore(parallel)

    async def crawl(self, sources: list[str]) -> CrawlResult:
        """Crawl these sources once in a child process; never raises for what the child did."""
        async with self._slots:
            if self.stopping:
                return _everyone(sources, "stopped", "the daemon is stopping", 0.0, None)
            with tempfile.TemporaryDirectory(prefix="vigia-crawl-") as scratch:
                report_path = Path(scratch) / "report.json"
                return await self._run(sources, report_path)

    async def _run(self, sources: list[str], report_path: Path) -> CrawlResult:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *self.command.argv(sources, report_path, self.config_path() if self.config_path else None),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,  # the one-off summary; the report file says more
            # Own process group: Ctrl-C in a terminal reaches the daemon, which decides.
            start_new_session=True,
        )
        self.running[process.pid] = process
        log.debug("crawl started", extra={"source": ", ".join(sources), "pid": process.pid})
        timed_out = False
        try:
            try:
                await asyncio.wait_for(asyncio.shield(process.wait()), self.timeout)
            except TimeoutError:
                timed_out = True
                log.warning(
                    "crawl took longer than daemon.crawl_timeout; stopping it",
                    extra={"source": ", ".join(sources), "timeout": self.timeout},
                )
                await self.stop(process)
        finally:
            self.running.pop(process.pid, None)
        duration = time.monotonic() - started
        return self._result(sources, process.returncode, report_path, duration, timed_out)

    def _result(
        self, sources: list[str], returncode: int | None, report_path: Path, duration: float, timed_out: bool
    ) -> CrawlResult:
        report = _read_report(report_path)
        if report is None:
            if self.stopping:
                return _everyone(sources, "stopped", "stopped at shutdown", duration, returncode)
            if timed_out:
                return _everyone(sources, "timeout", f"no result after {self.timeout:g}s; stopped", duration, returncode)
            return _everyone(sources, "crashed", _describe_exit(returncode), duration, returncode)
        outcomes = []
        for entry in report.get("sources", []):
            if entry.get("ok"):
                outcome = "not_modified" if entry.get("not_modified") else "ok"
            else:
                outcome = "failed"
            outcomes.append(SourceOutcome(entry["name"], outcome, entry.get("error"), int(entry.get("items_listed") or 0)))
        counts = {k: int(report.get(k) or 0) for k in ("fetched", "new", "matched", "skipped", "alerts_queued")}
        return CrawlResult(outcomes, duration, returncode, report, counts)

    async def stop(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM, wait up to the grace period, then SIGKILL."""
        await self._stop(process, time.monotonic() + self.grace)

    async def stop_all(self, deadline: float) -> None:
        """At shutdown: ask every crawl to close now, and kill what is still there at ``deadline``."""
        self.stopping = True
        await asyncio.gather(*(self._stop(p, deadline) for p in list(self.running.values())))

    async def _stop(self, process: asyncio.subprocess.Process, deadline: float) -> None:
        # SIGTERM to the crawl alone: Scrapy then closes its own extraction pool in order.
        _signal(process, signal.SIGTERM, group=False)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            log.warning("crawl did not stop after SIGTERM; killing it", extra={"pid": process.pid})
            _signal(process, signal.SIGKILL, group=True)
            await process.wait()


def _signal(process: asyncio.subprocess.Process, signum: int, *, group: bool) -> None:
    # SIGKILL goes to the whole group so that extraction pool workers do not outlive their parent.
    try:
        if group:
            os.killpg(process.pid, signum)
        elif process.returncode is None:
            process.send_signal(signum)
    except ProcessLookupError:
        pass


def _everyone(sources: list[str], outcome: str, error: str, duration: float, returncode: int | None) -> CrawlResult:
    return CrawlResult([SourceOutcome(name, outcome, error) for name in sources], duration, returncode)


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def _describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "the crawl process did not finish"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the crawl process was killed by {name}"
    if returncode == 2:
        return "the crawl refused the config (exit status 2); run `vigia check`"
    return f"the crawl process exited with status {returncode} without a report"
