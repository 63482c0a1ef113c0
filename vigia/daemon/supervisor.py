"""The daemon's one long-lived crawl worker: feed it polls, watch it, replace it.

The worker is ``python -m vigia worker --stdio``: one Scrapy process with one extraction
pool that polls whatever source it is sent (``crawler.worker`` describes the JSON lines
on its stdin and stdout). A process per poll cost ~2 CPU-s for a few milliseconds of
HTTP; one process for hours costs that once, and shares robots.txt, Crawl-delay,
AutoThrottle and per-host slots across every source of a host.

Crash isolation stays with the process boundary. The supervisor
- restarts the worker when it exits, after a pause if it keeps dying at start-up;
- kills it when it stops answering (no heartbeat for ``HANG_AFTER`` seconds: a parser or a
  regex stuck in the reactor's thread);
- recycles it past ``daemon.worker_max_age`` or ``daemon.worker_max_rss`` (its whole
  process tree), and after a config reload, draining its polls first;
- answers every poll exactly once: the worker's report, or ``crashed`` (with the reason)
  for the polls in flight when it died, ``stopped`` for those a planned stop cut short,
  ``timeout`` as a backstop should a report never come; a crash is charged to one poll
  only when ``vigia.daemon.blame`` can tell which one it was.

Every decision about time reads ``clock`` (``time.monotonic`` unless a test gives its own),
so hang detection, recycling and stop deadlines can be tested step by step.

Stopping is in two steps: SIGTERM, on which Scrapy closes gracefully (items in the
pipelines are stored, open polls reported ``stopped``), then SIGKILL to the whole process
group at the deadline, so extraction workers do not outlive it.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigia.daemon.blame import charged
from vigia.daemon.procfs import tree_resident_bytes

log = logging.getLogger("vigia.daemon.worker")

# Polls handed to the worker at once; the rest wait here, in due order.
MAX_IN_FLIGHT = 200
# No heartbeat (sent every 2 s) for this long: the worker is stuck.
HANG_AFTER = 30.0
# A worker that dies sooner than this after starting is restarted after a growing pause.
QUICK_DEATH = 20.0
MAX_RESTART_PAUSE = 30.0
# Past the poll's own timeout (which the worker enforces), how long before the daemon stops waiting.
REPORT_SLACK = 30.0
STDERR_TAIL = 20
_ids = itertools.count(1)


@dataclass
class PollOutcome:
    """What came of one poll of one source."""

    name: str
    outcome: str  # ok | not_modified | failed | timeout | crashed | stopped | unavailable
    error: str | None = None
    items_listed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    duration: float = 0.0
    blamed: bool = False  # a crash charged to this source (see vigia.daemon.blame)

    @property
    def recorded(self) -> bool:
        """Whether the worker wrote the poll's outcome on the source row itself."""
        return self.outcome in ("ok", "not_modified", "failed")


@dataclass(frozen=True)
class WorkerCommand:
    """How to start the worker: which config, and how it should log."""

    config_path: Path
    log_format: str = "text"
    log_level: str = "WARNING"
    python: str = sys.executable

    def argv(self, config_path: Path | None = None) -> list[str]:
        return [
            self.python, "-m", "vigia", "worker", "--stdio",
            "--config", str(config_path or self.config_path),
            "--log-format", self.log_format, "--log-level", self.log_level,
        ]  # fmt: skip


@dataclass
class Job:
    id: str
    source: dict[str, Any]
    future: asyncio.Future[PollOutcome]
    probe: bool = False  # a suspect's poll: at most one is in flight (vigia.daemon.blame)
    sent_at: float = 0.0

    @property
    def name(self) -> str:
        return str(self.source["name"])


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
        self.queue: collections.deque[Job] = collections.deque()
        self.inflight: dict[str, Job] = {}
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
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # The daemon's side ---------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="vigia-worker-supervisor")

    async def poll(self, source: dict[str, Any], probe: bool = False) -> PollOutcome:
        """Poll one source in the worker; never raises for what the worker did."""
        if self.stopping:
            return PollOutcome(source["name"], "stopped", "the daemon is stopping")
        job = Job(f"j{next(_ids)}", source, asyncio.get_running_loop().create_future(), probe=probe)
        self.queue.append(job)
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
        return True, f"crawl worker {self.process.pid} up, {len(self.inflight)} polls in flight"

    async def stop(self, finish_by: float, kill_by: float) -> None:
        """At shutdown: no new polls; those in flight may finish until ``finish_by``; then
        SIGTERM, and SIGKILL at ``kill_by``."""
        self.stopping = True
        while self.queue:
            self._answer(self.queue.popleft(), PollOutcome("", "stopped", "the daemon is stopping"))
        while self.inflight and self.clock() < finish_by and self._running():
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
            # A worker that keeps dying at start-up (the database is down, say) is not
            # restarted in a tight loop: 1, 2, 4 … up to 30 s between attempts.
            if lived > QUICK_DEATH or self._planned:
                pause = 0.0
            else:
                pause = min(MAX_RESTART_PAUSE, 2 * pause if pause else 1.0)

    async def _one_life(self) -> float:
        self._drain, self._death, self._planned = None, None, False
        self._stderr_tail.clear()
        config = self.config_path() if self.config_path else None
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command.argv(config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # Ctrl-C in a terminal reaches the daemon, which decides
                limit=1 << 20,
            )
        except OSError as exc:  # no interpreter, no memory, too many processes: try again later
            self.process = None
            log.error("cannot start the crawl worker: %s", exc)
            while self.queue:
                job = self.queue.popleft()
                self._answer(job, PollOutcome(job.name, "unavailable", f"cannot start the crawl worker: {exc}"))
            return 0.0
        self.started_at = self.last_message = self.clock()
        self.ready_at = None
        log.info("crawl worker started", extra={"pid": self.process.pid})
        readers = [
            asyncio.create_task(self._read_reports(self.process)),
            asyncio.create_task(self._forward_stderr(self.process)),
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
            now = self.clock()
            self._give_up_overdue(now)
            if now - self.last_message > self.hang_after:
                self._death = f"the crawl worker stopped answering (no heartbeat for {now - self.last_message:.0f}s); killed it"
                log.error(self._death, extra={"pid": process.pid})
                _signal(process, signal.SIGKILL, group=True)
                continue
            self._check_recycle(now)
            if self._drain and (not self.inflight or now - self._drain_since > self.grace):
                log.info("recycling the crawl worker: %s", self._drain, extra={"pid": process.pid})
                await self._terminate(self.clock() + self.grace, planned=True)
        # Whatever it left behind (its extraction pool) goes with it.
        _signal(process, signal.SIGKILL, group=True)
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), 5)
        except TimeoutError:
            log.warning("the crawl worker's pipes stayed open after it exited", extra={"pid": process.pid})

    def _check_recycle(self, now: float) -> None:
        if self._drain:
            return
        reason = None
        # Aged from its first message, not its start: a worker that takes longer than
        # max_age to start up (a loaded machine) must still get polls before it is replaced.
        if self.max_age and self.ready_at is not None and now - self.ready_at > self.max_age:
            reason = f"older than daemon.worker_max_age ({self.max_age:g}s)"
        elif self.max_rss and self.rss > self.max_rss:
            reason = f"resident size {self.rss / 1e6:.0f} MB over daemon.worker_max_rss ({self.max_rss / 1e6:.0f} MB)"
        if reason:
            self._drain, self._drain_since = reason, now

    def _send_jobs(self, process: asyncio.subprocess.Process) -> None:
        if self._drain or process.stdin is None or process.returncode is not None:
            return
        lines = []
        while self.queue and len(self.inflight) < MAX_IN_FLIGHT:
            job = self.queue.popleft()
            if job.future.done():
                continue
            job.sent_at = self.clock()
            self.inflight[job.id] = job
            lines.append(json.dumps({"type": "poll", "id": job.id, "source": job.source, "timeout": self.timeout}) + "\n")
        if lines:
            try:
                process.stdin.write("".join(lines).encode())
            except (BrokenPipeError, ConnectionResetError):
                pass  # it is dying; _bury answers these jobs

    def _give_up_overdue(self, now: float) -> None:
        for job in list(self.inflight.values()):
            if now - job.sent_at > self.timeout + REPORT_SLACK:
                del self.inflight[job.id]
                self._answer(job, PollOutcome(job.name, "timeout", f"no result after {self.timeout:g}s; given up"))

    async def _read_reports(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            self.last_message = self.clock()
            if self.ready_at is None:
                self.ready_at = self.last_message
            try:
                message = json.loads(line)
            except ValueError:
                continue
            kind = message.get("type")
            if kind == "heartbeat":
                self.rss = tree_resident_bytes(process.pid)
            elif kind == "result":
                job = self.inflight.pop(str(message.get("id")), None)
                if job is not None:
                    self._answer(job, _outcome(job.name, message))
                    self._wake.set()

    async def _forward_stderr(self, process: asyncio.subprocess.Process) -> None:
        """The worker's log lines go out as the daemon's own; the last few explain a death."""
        assert process.stderr is not None
        while line := await process.stderr.readline():
            text = line.decode("utf-8", "replace")
            self._stderr_tail.append(text.rstrip("\n"))
            sys.stderr.write(text)
        sys.stderr.flush()

    async def _terminate(self, kill_by: float, *, planned: bool) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        self._planned = planned
        _signal(process, signal.SIGTERM, group=False)  # Scrapy then closes its own pool in order
        while process.returncode is None and self.clock() < kill_by:
            await asyncio.sleep(0.05)
        if process.returncode is None:
            log.warning("the crawl worker did not stop after SIGTERM; killing it", extra={"pid": process.pid})
        # Its extraction workers go with it, whatever it managed to close.
        _signal(process, signal.SIGKILL, group=True)
        while process.returncode is None:
            await asyncio.sleep(0.05)

    def _bury(self, returncode: int | None) -> None:
        """Answer the polls the worker took with it."""
        jobs = list(self.inflight.values())
        self.inflight.clear()
        if self._planned or self.stopping:
            for job in jobs:
                self._answer(job, PollOutcome(job.name, "stopped", "the crawl worker was stopped before the poll ended"))
            return
        reason = self._death or self._describe_exit(returncode)
        log.error("%s; restarting it", reason, extra={"counts": {"in_flight": len(jobs)}})
        culprit = charged(jobs)
        for job in jobs:
            outcome = PollOutcome(job.name, "crashed", reason, duration=self.clock() - job.sent_at, blamed=job is culprit)
            self._answer(job, outcome)
        if not jobs and self.clock() - self.started_at < QUICK_DEATH:
            # It could not even start (the database, the config): the waiting polls say why.
            while self.queue:
                job = self.queue.popleft()
                self._answer(job, PollOutcome(job.name, "unavailable", f"no crawl worker: {reason}"))

    def _describe_exit(self, returncode: int | None) -> str:
        if returncode is not None and returncode < 0:
            try:
                name = signal.Signals(-returncode).name
            except ValueError:
                name = f"signal {-returncode}"
            return f"the crawl worker was killed by {name}"
        last = next((line for line in reversed(self._stderr_tail) if line.strip()), "")
        cause = _message_of(last)
        return f"the crawl worker exited with status {returncode}" + (f": {cause}" if cause else "")

    def _answer(self, job: Job, outcome: PollOutcome) -> None:
        if not outcome.name:
            outcome.name = job.name
        if not job.future.done():
            job.future.set_result(outcome)

    def _running(self) -> bool:
        return self.process is not None and self.process.returncode is None


def _outcome(name: str, message: dict[str, Any]) -> PollOutcome:
    counts = message.get("counts") or {}
    return PollOutcome(
        name=name,
        outcome=str(message.get("outcome") or "failed"),
        error=message.get("error"),
        items_listed=int(message.get("items_listed") or 0),
        counts={k: int(v or 0) for k, v in counts.items()},
        duration=float(message.get("duration") or 0.0),
    )


def _message_of(line: str) -> str:
    """A log line's message (JSON lines carry it under "message"), cut to a readable length."""
    try:
        entry = json.loads(line)
        if isinstance(entry, dict) and entry.get("message"):
            line = str(entry["message"])
    except ValueError:
        pass
    return line.strip()[:500]


def _signal(process: asyncio.subprocess.Process, signum: int, *, group: bool) -> None:
    # SIGKILL goes to the whole group so that extraction pool workers do not outlive their parent.
    try:
        if group:
            os.killpg(process.pid, signum)
        elif process.returncode is None:
            process.send_signal(signum)
    except (ProcessLookupError, PermissionError):
        pass
