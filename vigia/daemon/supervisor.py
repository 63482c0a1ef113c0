"""The daemon's one long-lived crawl worker: feed it polls, watch it, replace it.

The worker is ``python -m vigia worker --stdio``: one Scrapy process with one extraction
pool that polls whatever source it is sent (``vigia.daemon.worker_protocol`` has the JSON
lines on its stdin and stdout). A process per poll cost ~2 CPU-s for a few milliseconds of
HTTP; one process for hours costs that once, and shares robots.txt, Crawl-delay,
AutoThrottle and per-host slots across every source of a host.

Crash isolation stays with the process boundary. The supervisor
- restarts the worker when it exits, after a pause if it keeps dying at start-up;
- kills it when it stops answering, and recycles it past ``daemon.worker_max_age`` or
  ``daemon.worker_max_rss`` (its whole process tree), and after a config reload, draining
  its polls first (``vigia.daemon.worker_health`` decides when);
- answers every poll exactly once (``vigia.daemon.poll_book``): the worker's report, or
  ``crashed``, ``stopped`` or ``timeout``.

Starting, signalling and stopping the process is ``vigia.daemon.worker_process``. Every
decision about time reads ``clock`` (``time.monotonic`` unless a test gives its own), so
hang detection, recycling and stop deadlines can be tested step by step.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from vigia.daemon import worker_health, worker_process
from vigia.daemon.poll_book import PollBook
from vigia.daemon.poll_outcome import PollOutcome
from vigia.daemon.procfs import tree_resident_bytes
from vigia.daemon.worker_health import HANG_AFTER, QUICK_DEATH
from vigia.daemon.worker_process import StderrTail, WorkerCommand
from vigia.daemon.worker_protocol import outcome_of, poll_line, read_message

__all__ = ["PollOutcome", "WorkerCommand", "WorkerSupervisor"]

log = logging.getLogger("vigia.daemon.worker")


class WorkerSupervisor:
    def __init__(
        self,
        command: WorkerCommand,
        *,
        timeout: float,
        grace: float,
        max_age: float | None = None,
        max_rss: int | None = None,
        config_path: Callable[[], Path] | None = None,
        hang_after: float = HANG_AFTER,
        clock: Callable[[], float] = time.monotonic,
        check_every: float = 1.0,
    ) -> None:
        """``config_path()``, when given, names the config file each new worker reads.

        ``clock`` tells the time of every decision (deadlines passed to ``stop`` are on it);
        ``check_every`` is how often, in real seconds, the running worker is looked at.
        """
        self.command = command
        self.clock = clock
        self.check_every = check_every
        self.checks = 0  # looks at the running worker so far: a test waits for the next one
        self.hang_after = hang_after
        self.timeout = timeout
        self.grace = grace
        self.max_age = max_age
        self.max_rss = max_rss
        self.config_path = config_path
        self.polls = PollBook()
        self.process: asyncio.subprocess.Process | None = None
        self.stopping = False
        self.started_at = 0.0
        self.ready_at: float | None = None  # its first message: its age counts from there
        self.last_message = 0.0
        self.rss = 0
        self.restarts = 0
        self._drain: str | None = None  # why the running worker is to be replaced
        self._drain_since = 0.0
        self._death: str | None = None  # why the supervisor killed it, if it did
        self._planned = False
        self._stderr = StderrTail()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # The daemon's side ---------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="vigia-worker-supervisor")

    async def poll(self, source: dict[str, Any], probe: bool = False) -> PollOutcome:
        """Poll one source in the worker; never raises for what the worker did."""
        if self.stopping:
            return PollOutcome(source["name"], "stopped", "the daemon is stopping")
        job = self.polls.add(source, probe=probe)
        self._wake.set()
        return await job.future

    def recycle(self, reason: str) -> None:
        """Replace the worker once its polls are done (a config reload, say)."""
        if self.process is not None and self._drain is None:
            self._drain, self._drain_since = reason, self.clock()
            self._wake.set()

    def alive(self) -> tuple[bool, str]:
        if self._task is None or self._task.done():
            return False, "the worker supervisor is not running"
        if self.process is None or self.process.returncode is not None:
            return True, "crawl worker restarting"
        return True, f"crawl worker {self.process.pid} up, {len(self.polls.inflight)} polls in flight"

    async def stop(self, finish_by: float, kill_by: float) -> None:
        """At shutdown: no new polls; those in flight may finish until ``finish_by``; then
        SIGTERM, and SIGKILL at ``kill_by``."""
        self.stopping = True
        self.polls.refuse_waiting("stopped", "the daemon is stopping")
        while self.polls.inflight and self.clock() < finish_by and self._running():
            await asyncio.sleep(0.05)
        if self._running():
            await self._terminate(kill_by, planned=True)
        if self._task is not None:
            done, _ = await asyncio.wait([self._task], timeout=3)
            if not done:
                self._task.cancel()

    # The worker's life ---------------------------------------------------------

    async def _run(self) -> None:
        pause = 0.0
        while not self.stopping:
            if pause:
                await asyncio.sleep(pause)
            lived = await self._one_life()
            if self.stopping:
                return
            self.restarts += 1
            pause = worker_health.restart_pause(pause, lived, planned=self._planned)

    async def _one_life(self) -> float:
        self._drain, self._death, self._planned = None, None, False
        self._stderr.clear()
        config = self.config_path() if self.config_path else None
        try:
            self.process = await worker_process.start_worker(self.command, config)
        except OSError as exc:  # no interpreter, no memory, too many processes: try again later
            self.process = None
            log.error("cannot start the crawl worker: %s", exc)
            self.polls.refuse_waiting("unavailable", f"cannot start the crawl worker: {exc}")
            return 0.0
        self.started_at = self.last_message = self.clock()
        self.ready_at = None
        log.info("crawl worker started", extra={"pid": self.process.pid})
        readers = [
            asyncio.create_task(self._read_reports(self.process)),
            asyncio.create_task(self._stderr.forward(self.process)),
        ]
        try:
            await self._supervise(self.process)
        finally:
            await asyncio.wait(readers, timeout=2)
            for reader in readers:
                reader.cancel()
        self._bury(self.process.returncode)
        return self.clock() - self.started_at

    async def _supervise(self, process: asyncio.subprocess.Process) -> None:
        # process.wait() also waits for the pipes to close, which an orphaned extraction
        # worker holding stderr would delay forever: the return code tells death sooner.
        while process.returncode is None:
            self._send_jobs(process)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self.check_every)
            except TimeoutError:
                pass
            if process.returncode is not None or self.stopping:
                continue
            self.checks += 1
            await self._check(process, self.clock())
        # Whatever it left behind (its extraction pool) goes with it.
        worker_process.kill_group(process)
        await worker_process.wait_for_pipes(process)

    async def _check(self, process: asyncio.subprocess.Process, now: float) -> None:
        """One look at the running worker: overdue polls, a hang, a recycle due."""
        self.polls.give_up_overdue(now, self.timeout)
        hung = worker_health.hang(now, self.last_message, self.hang_after)
        if hung:
            self._death = hung
            log.error(hung, extra={"pid": process.pid})
            worker_process.kill_group(process)
            return
        if not self._drain:
            reason = worker_health.worn(now, self.ready_at, self.rss, max_age=self.max_age, max_rss=self.max_rss)
            if reason:
                self._drain, self._drain_since = reason, now
        if self._drain and (not self.polls.inflight or now - self._drain_since > self.grace):
            log.info("recycling the crawl worker: %s", self._drain, extra={"pid": process.pid})
            await self._terminate(self.clock() + self.grace, planned=True)

    def _send_jobs(self, process: asyncio.subprocess.Process) -> None:
        if self._drain or process.stdin is None or process.returncode is not None:
            return
        lines = [poll_line(job.id, job.source, self.timeout) for job in self.polls.send(self.clock())]
        if lines:
            try:
                process.stdin.write("".join(lines).encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # it is dying; _bury answers these jobs

    async def _read_reports(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            self.last_message = self.clock()
            if self.ready_at is None:
                self.ready_at = self.last_message
            message = read_message(line)
            if message is None:
                continue
            kind = message.get("type")
            if kind == "heartbeat":
                self.rss = tree_resident_bytes(process.pid)
            elif kind == "result" and self.polls.report(str(message.get("id")), partial(outcome_of, result=message)):
                self._wake.set()

    async def _terminate(self, kill_by: float, *, planned: bool) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        self._planned = planned
        await worker_process.terminate(process, kill_by, self.clock)

    def _bury(self, returncode: int | None) -> None:
        """Answer the polls the worker took with it."""
        if self._planned or self.stopping:
            self.polls.stop_inflight()
            return
        reason = self._death or self._stderr.exit_reason(returncode)
        log.error("%s; restarting it", reason, extra={"counts": {"in_flight": len(self.polls.inflight)}})
        crashed = self.polls.crash_inflight(reason, self.clock())
        if not crashed and self.clock() - self.started_at < QUICK_DEATH:
            # It could not even start (the database, the config): the waiting polls say why.
            self.polls.refuse_waiting("unavailable", f"no crawl worker: {reason}")

    def _running(self) -> bool:
        return self.process is not None and self.process.returncode is None

