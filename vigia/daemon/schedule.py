"""One APScheduler job per source, on the source's adapted interval.

A job's tick starts the source's poll as its own task and returns at once; a tick that
finds the previous poll still running (a slow outlet) starts nothing and is counted
(``on_skip``, the ``vigia_poll_ticks_skipped_total`` metric): the poll is simply not due
twice. Left to APScheduler's ``max_instances=1`` it logged a warning per such tick, which
at a thousand sources is noise. Jobs are ``coalesce=True`` with no misfire
limit (ticks missed while the machine slept run once, late, rather than several times
or never). Jitter spreads sources that share an interval so they do not all start a
Scrapy process in the same second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from storage.models import utcnow

log = logging.getLogger("vigia.daemon.schedule")

# Without a configured jitter: a tenth of the interval, at most half a minute.
DEFAULT_JITTER_SHARE = 0.1
DEFAULT_JITTER_MAX = 30.0


def jitter_for(interval: float, configured: timedelta | None) -> float:
    if configured is not None:
        return configured.total_seconds()
    return min(interval * DEFAULT_JITTER_SHARE, DEFAULT_JITTER_MAX)


class SourceSchedule:
    """The scheduler's jobs, kept in step with the configured sources and their intervals."""

    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        crawl: Callable[[str], Coroutine[Any, Any, None]],
        on_skip: Callable[[str], None] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.crawl = crawl
        self.on_skip = on_skip
        self.intervals: dict[str, float] = {}
        self.running: dict[str, asyncio.Task[None]] = {}

    def names(self) -> set[str]:
        return set(self.intervals)

    def put(self, name: str, interval: float, jitter: timedelta | None, first_run: datetime | None = None) -> None:
        """Add the source's job, or move it to a new interval (counted from now)."""
        trigger = IntervalTrigger(seconds=interval, jitter=jitter_for(interval, jitter) or None)
        if name in self.intervals:
            if abs(self.intervals[name] - interval) < 0.01 * interval:
                return
            self.scheduler.reschedule_job(name, trigger=trigger)
        else:
            self.scheduler.add_job(
                self._tick,
                trigger,
                args=[name],
                id=name,
                name=f"crawl {name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=first_run or utcnow(),
            )
        self.intervals[name] = interval

    async def _tick(self, name: str) -> None:
        if name in self.running:
            if self.on_skip is not None:
                self.on_skip(name)
            return
        task = asyncio.get_running_loop().create_task(self.crawl(name), name=f"poll {name}")
        self.running[name] = task
        task.add_done_callback(lambda _: self.running.pop(name, None))

    def remove(self, name: str) -> None:
        if self.intervals.pop(name, None) is not None:
            self.scheduler.remove_job(name)

    def next_run(self, name: str) -> datetime | None:
        job = self.scheduler.get_job(name)
        return job.next_run_time if job else None
