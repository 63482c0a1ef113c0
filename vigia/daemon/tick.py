"""What one scheduled tick of a source does: poll it in the worker, account for it, adapt the pace.

The order matters: alerts are handed to the dispatcher (``poke``) before anything else so
that they reach Slack seconds after the worker stored them; bookkeeping in the database
and the metrics comes after. A poll the worker died with is recorded as failed with the
reason and polled again at once, as a probe (one suspect at a time, ``vigia.daemon.blame``);
only a death charged to the source counts towards its quarantine. A poll a planned worker
restart cut short is polled again too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from vigia.config import Config, SourceConfig
from vigia.crawl_spec import source_spec
from vigia.daemon.delivery_loop import DeliveryLoop, in_daemon_thread
from vigia.daemon.metrics import DaemonMetrics
from vigia.daemon.poll_outcome import PollOutcome
from vigia.daemon.polling import PollingBounds, next_interval, publishing_interval
from vigia.daemon.source_state import (
    SourceState,
    clear_worker_deaths,
    read_state,
    record_crawl_failure,
    record_worker_death,
    save_poll_interval,
)
from vigia.durations import format_duration

log = logging.getLogger("vigia.daemon.crawl")

# How long an unchanged source's state read from the database stays good for adapting its pace.
STATE_REFRESH = 600.0


class Poller(Protocol):
    """The local worker's supervisor, or the Redis job queue shared by `vigia worker` processes."""

    stopping: bool

    async def poll(self, source: dict[str, Any], probe: bool = False) -> PollOutcome: ...


class CrawlJob:
    def __init__(
        self,
        config: Callable[[], Config],
        sessions: sessionmaker[Session],
        poller: Poller,
        delivery: DeliveryLoop,
        metrics: DaemonMetrics,
        reschedule: Callable[[str, float], None],
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.poller = poller
        self.delivery = delivery
        self.metrics = metrics
        self.reschedule = reschedule
        self.active: set[asyncio.Task[object]] = set()
        self.quarantined: set[str] = set()
        self._struck: set[str] = set()  # sources with a worker death on their row
        # In flight at a worker death and not polled cleanly since: polled one at a time.
        self.suspects: set[str] = set()
        self._probing = asyncio.Lock()
        self._steady: dict[str, float] = {}  # when a healthy state was last read: a 304 changes nothing

    async def run(self, name: str) -> None:
        """The scheduler's job for one source; never raises, so one bad tick stops nothing."""
        task = asyncio.current_task()
        if task is not None:
            self.active.add(task)
        try:
            source = self._source(name)
            if source is None or name in self.quarantined:  # removed by a reload, or quarantined
                return
            outcome = await self._poll(source)
            if outcome.outcome in ("crashed", "stopped") and not self.poller.stopping:
                await self._account(source, outcome, adapt=False)
                if name in self.quarantined:
                    return
                outcome = await self._poll(source)
            if outcome.counts.get("alerts_queued"):
                self.delivery.poke()
            await self._account(source, outcome)
        except Exception:
            log.exception("crawl job failed", extra={"source": name})
        finally:
            if task is not None:
                self.active.discard(task)

    async def _poll(self, source: SourceConfig) -> PollOutcome:
        spec = dataclasses.asdict(source_spec(source))
        if source.name not in self.suspects:
            return await self.poller.poll(spec)
        # Waiting here, the suspect's next ticks are skipped (max_instances=1): it is not due twice.
        async with self._probing:
            return await self.poller.poll(spec, probe=True)

    async def _account(self, source: SourceConfig, outcome: PollOutcome, adapt: bool = True) -> None:
        self._log(source, outcome)
        self._count(source, outcome)
        if outcome.outcome == "stopped":
            return
        await self._record(source, outcome)
        if adapt:
            await self._adapt_after(source, outcome)

    def _count(self, source: SourceConfig, outcome: PollOutcome) -> None:
        self.metrics.crawls.labels(source.name, outcome.outcome).inc()
        self.metrics.crawl_duration.labels(source.type).observe(outcome.duration)
        self.metrics.last_duration.labels(source.name).set(outcome.duration)
        for stage in ("fetched", "new", "matched"):
            if outcome.counts.get(stage):
                self.metrics.articles.labels(source.name, stage).inc(outcome.counts[stage])

    async def _record(self, source: SourceConfig, outcome: PollOutcome) -> None:
        """A worker death, a failure the worker could not record, or a clean poll that clears suspicion."""
        if outcome.outcome == "crashed":
            self.suspects.add(source.name)
            if outcome.blamed:
                await self._strike(source, outcome.error or "the crawl worker died")
            else:
                error = f"{outcome.error or 'the crawl worker died'} (with other polls in flight; polled again alone)"
                await in_daemon_thread(lambda: record_crawl_failure(self.sessions, source.name, error))
        elif not outcome.recorded:
            await in_daemon_thread(lambda: record_crawl_failure(self.sessions, source.name, outcome.error or outcome.outcome))
        else:
            self.suspects.discard(source.name)
            if source.name in self._struck:
                self._struck.discard(source.name)
                await in_daemon_thread(lambda: clear_worker_deaths(self.sessions, source.name))

    async def _adapt_after(self, source: SourceConfig, outcome: PollOutcome) -> None:
        read_at = self._steady.get(source.name)
        if outcome.outcome == "not_modified" and read_at is not None and time.monotonic() - read_at < STATE_REFRESH:
            # Nothing the pace depends on changed (no new article, no failure): skip the
            # database, which is most of the daemon's cost of an unchanged poll. The state is
            # still read now and then, as the week of articles the pace is measured on slides.
            self.metrics.last_success.labels(source.name).set(time.time())
            return
        state = await in_daemon_thread(lambda: read_state(self.sessions, source.name))
        if state is not None:
            interval = self.adapt(source, state)
            self.reschedule(source.name, interval)
            if state.consecutive_failures == 0 and state.rate is not None:
                self._steady[source.name] = time.monotonic()
            else:
                self._steady.pop(source.name, None)

    async def _strike(self, source: SourceConfig, error: str) -> None:
        self._struck.add(source.name)
        if await in_daemon_thread(lambda: record_worker_death(self.sessions, source.name, error)):
            self.quarantined.add(source.name)
            log.error(
                "source quarantined: the crawl worker died several times in a row while it was the "
                "one suspect in flight; it is not polled until the config is reloaded (SIGHUP) or the daemon restarts",
                extra={"source": source.name, "url": source.url, "error": error},
            )

    def adapt(self, source: SourceConfig, state: SourceState) -> float:
        """Work out, store and publish the source's next interval; report a source that keeps failing."""
        config = self.config()
        bounds = PollingBounds(
            every=config.source_interval(source).total_seconds(),
            min_every=config.daemon.min_every.total_seconds(),
            max_every=config.daemon.max_every.total_seconds(),
        )
        interval = next_interval(bounds, state.rate, state.consecutive_failures)
        if state.poll_interval is None or abs(state.poll_interval - interval) > 0.01:
            save_poll_interval(self.sessions, source.name, interval)
            _log_pace_change(source, bounds, state, interval)
        self.metrics.poll_interval.labels(source.name).set(interval)
        self.metrics.consecutive_failures.labels(source.name).set(state.consecutive_failures)
        if state.last_success_at is not None:
            self.metrics.last_success.labels(source.name).set(state.last_success_at.timestamp())
        if state.consecutive_failures:
            log.warning(
                "source keeps failing; backing off",
                extra={
                    "source": source.name,
                    "url": source.url,
                    "consecutive_failures": state.consecutive_failures,
                    "next_in": round(interval, 1),
                },
            )
        return interval

    def _source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.config().sources if s.name == name), None)

    def _log(self, source: SourceConfig, outcome: PollOutcome) -> None:
        extra = {"source": source.name, "url": source.url, "outcome": outcome.outcome, "duration": outcome.duration}
        if outcome.outcome in ("ok", "not_modified"):
            counts = {k: outcome.counts.get(k, 0) for k in ("fetched", "new", "matched", "alerts_queued")}
            log.info("crawl finished", extra={**extra, "counts": {"listed": outcome.items_listed, **counts}})
        elif outcome.outcome == "stopped":
            log.info("poll stopped with the crawl worker: %s", outcome.error, extra=extra)
        else:
            log.error("crawl %s: %s", outcome.outcome, outcome.error, extra={**extra, "error": outcome.error})


def _log_pace_change(source: SourceConfig, bounds: PollingBounds, state: SourceState, interval: float) -> None:
    """One info line when a source's interval changes (or first differs from its ``every:``), with why."""
    before = state.poll_interval if state.poll_interval is not None else bounds.every
    if abs(before - interval) <= 0.01:
        return
    log.info(
        "polling %s every %s (was %s): %s", source.name, _seconds(interval), _seconds(before),
        _pace_reason(bounds, state, interval),
        extra={"source": source.name, "interval": round(interval, 1), "previous": round(before, 1)},
    )


def _pace_reason(bounds: PollingBounds, state: SourceState, interval: float) -> str:
    if state.consecutive_failures:
        return f"{state.consecutive_failures} failure(s) in a row, backing off (at most daemon.max_every)"
    pace = publishing_interval(bounds, state.rate)
    gap = state.rate.gap if state.rate is not None else None
    if state.rate is not None and gap is None:
        why = "nothing published in the last week, so the slowest pace (4 × every)"
    elif gap is not None:
        why = f"it publishes about every {_seconds(gap)}"
    else:
        why = "no history yet, so the configured every"
    if pace == bounds.min_every and (gap or bounds.every) < bounds.min_every:
        return why + f"; daemon.min_every ({_seconds(bounds.min_every)}) is the floor"
    if pace == bounds.max_every and (gap or bounds.every) > bounds.max_every:
        return why + f"; daemon.max_every ({_seconds(bounds.max_every)}) is the ceiling"
    if gap is not None and pace == bounds.fastest and gap < pace:
        return why + "; a quarter of every is the fastest"
    if gap is not None and pace == bounds.slowest and gap > pace:
        return why + "; four times every is the slowest"
    return why


def _seconds(value: float) -> str:
    return format_duration(timedelta(seconds=round(value)))
