"""Draining the outbox continuously, so alerts reach Slack seconds after they are stored.

Crawl processes only store alerts (``--no-deliver``); this loop is the daemon's one
dispatcher. It delivers every ``PERIOD`` seconds (alerts waiting for a retry, Slack
back from an outage) and at once when a crawl finishes (``poke``). Each delivery runs
in a daemon thread because slack_sdk and SQLAlchemy block; a daemon thread, not an
executor, so that a Slack call hanging at shutdown cannot hold the process open.

At shutdown the running delivery goes on until the grace deadline nears; then no new
post starts (``alerts.dispatcher.SHUTDOWN``) and the one in flight is given what time is
left. A post still unanswered when the process exits leaves its alert claimed by this
process; the next start sees the process is gone and looks for the message in Slack's
history before posting it, so the alert is neither lost nor doubled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from alerts.dispatcher import SHUTDOWN
from vigia.daemon.metrics import DaemonMetrics

log = logging.getLogger("vigia.daemon.delivery")

PERIOD = 2.0
# Share of the flush time the running delivery may go on posting before it is told to stop.
POSTING_SHARE = 0.6
# A delivery (hundreds of alerts under Slack's rate limits) may take minutes, not hours.
STUCK_AFTER = 600.0

T = TypeVar("T")

IN_FLIGHT = ("a Slack post was still unanswered at shutdown; its alert stays claimed by this process and "
             "the next start checks Slack's history before posting it (nothing lost, nothing doubled)")


class DeliveryReport(Protocol):
    sent: int
    threaded: int
    updated: int
    digests: int
    pending: int
    failed: int
    errors: list[Any]


class DeliveryLoop:
    def __init__(self, deliver: Callable[[], DeliveryReport], metrics: DaemonMetrics, period: float = PERIOD) -> None:
        self.deliver = deliver
        self.metrics = metrics
        self.period = period
        self.task: asyncio.Task[None] | None = None
        self.last_beat = time.monotonic()
        self._wake = asyncio.Event()
        self._stopping = False
        self._failed = 0  # failed alerts in the outbox at the last delivery (a state, not a delta)

    def start(self) -> None:
        SHUTDOWN.clear()
        self.task = asyncio.create_task(self._run(), name="vigia-delivery")

    def poke(self) -> None:
        """A crawl stored something: deliver now rather than at the next period."""
        self._wake.set()

    def alive(self) -> tuple[bool, str]:
        if self.task is None or self.task.done():
            return False, "the dispatcher is not running"
        age = time.monotonic() - self.last_beat
        if age > STUCK_AFTER:
            return False, f"the dispatcher has been stuck for {age:.0f}s"
        return True, "dispatcher running"

    async def stop(self, flush_timeout: float) -> None:
        """Stop the loop, then deliver what is pending one last time, within ``flush_timeout``."""
        self._stopping = True
        self._wake.set()
        deadline = time.monotonic() + flush_timeout
        if self.task is not None and not await self._finish(self.task, flush_timeout * POSTING_SHARE):
            SHUTDOWN.set()  # no new post; the one in flight gets the time left
            if not await self._finish(self.task, deadline - time.monotonic()):
                log.warning(IN_FLIGHT)
                return
        if SHUTDOWN.is_set():
            return
        last = asyncio.ensure_future(self.deliver_once())
        if not await self._finish(last, (deadline - time.monotonic()) * POSTING_SHARE):
            SHUTDOWN.set()
            if not await self._finish(last, deadline - time.monotonic()):
                log.warning(IN_FLIGHT)

    @staticmethod
    async def _finish(task: asyncio.Future[None], timeout: float) -> bool:
        """Wait for ``task`` up to ``timeout`` without cancelling it; True if it is done."""
        done, _ = await asyncio.wait([task], timeout=max(0.0, timeout))
        return bool(done)

    async def _run(self) -> None:
        while not self._stopping:
            self.last_beat = time.monotonic()
            await self.deliver_once()
            try:
                await asyncio.wait_for(self._wake.wait(), self.period)
            except TimeoutError:
                pass
            self._wake.clear()

    async def deliver_once(self) -> None:
        started = time.monotonic()
        try:
            report = await in_daemon_thread(self.deliver)
        except Exception:
            log.exception("delivery failed; alerts stay pending and are retried")
            return
        self._count(report)
        failed_before, self._failed = self._failed, report.failed
        delivered = report.sent + report.threaded + report.updated + report.digests
        # The dispatcher logs each Slack error itself, once; here only what was delivered.
        if delivered or getattr(report, "recovered", 0) or report.failed != failed_before:
            log.info(
                "delivered alerts to Slack" if delivered else "nothing delivered to Slack",
                extra={
                    "counts": {
                        "sent": report.sent,
                        "threaded": report.threaded,
                        "updated": report.updated,
                        "digests": report.digests,
                        "pending": report.pending,
                        "failed": report.failed,
                        # posts found in Slack's history after a crash, instead of posted again
                        "adopted": getattr(report, "adopted", 0),
                    },
                    "duration": time.monotonic() - started,
                },
            )

    def _count(self, report: DeliveryReport) -> None:
        for kind, value in (("story", report.sent), ("thread", report.threaded), ("update", report.updated), ("digest", report.digests)):
            if value:
                self.metrics.alerts_sent.labels(kind).inc(value)
        self.metrics.alerts_failed.set(report.failed)
        self.metrics.alerts_pending.set(report.pending)


async def in_daemon_thread(function: Callable[[], T]) -> T:
    """Run a blocking call in a daemon thread and await its result."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            outcome: tuple[T | None, BaseException | None] = (function(), None)
        except BaseException as exc:
            outcome = (None, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
            pass

    threading.Thread(target=work, name="vigia-delivery", daemon=True).start()
    return await future
