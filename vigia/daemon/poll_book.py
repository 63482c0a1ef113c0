"""The polls the supervisor holds, waiting or in flight in the worker: each answered exactly once.

A poll waits in ``queue`` (in due order) until the worker has room (``MAX_IN_FLIGHT``),
then is in flight until its report comes. Whatever else happens it still gets one
answer: ``timeout`` as a backstop should its report never come, ``stopped`` when a
planned stop cut it short, ``crashed`` (with the reason) when the worker died with it,
charged to it only when ``vigia.daemon.blame`` can tell it was the one.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigia.daemon.blame import charged
from vigia.daemon.poll_outcome import REPORT_SLACK, PollOutcome

# Polls handed to the worker at once; the rest wait here, in due order.
MAX_IN_FLIGHT = 200
_ids = itertools.count(1)


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


def answer(job: Job, outcome: PollOutcome) -> None:
    """Answer the poll, unless it already was; an outcome without a name takes the job's."""
    if not outcome.name:
        outcome.name = job.name
    if not job.future.done():
        job.future.set_result(outcome)


class PollBook:
    def __init__(self) -> None:
        self.queue: collections.deque[Job] = collections.deque()
        self.inflight: dict[str, Job] = {}

    def add(self, source: dict[str, Any], probe: bool = False) -> Job:
        """A new poll of ``source``, waiting for the worker; await its ``future``."""
        job = Job(f"j{next(_ids)}", source, asyncio.get_running_loop().create_future(), probe=probe)
        self.queue.append(job)
        return job

    def send(self, now: float) -> list[Job]:
        """The waiting polls the worker has room for, now in flight (sent at ``now``)."""
        sent = []
        while self.queue and len(self.inflight) < MAX_IN_FLIGHT:
            job = self.queue.popleft()
            if job.future.done():
                continue
            job.sent_at = now
            self.inflight[job.id] = job
            sent.append(job)
        return sent

    def report(self, job_id: str, outcome_of: Callable[[str], PollOutcome]) -> bool:
        """The worker's report on poll ``job_id``: answered with ``outcome_of(name)``; False if
        it is not in flight (given up already, or not ours)."""
        job = self.inflight.pop(job_id, None)
        if job is None:
            return False
        answer(job, outcome_of(job.name))
        return True

    def give_up_overdue(self, now: float, timeout: float) -> None:
        """Answer as ``timeout`` the polls in flight longer than ``timeout`` and a margin."""
        for job in list(self.inflight.values()):
            if now - job.sent_at > timeout + REPORT_SLACK:
                del self.inflight[job.id]
                answer(job, PollOutcome(job.name, "timeout", f"no result after {timeout:g}s; given up"))

    def refuse_waiting(self, outcome: str, error: str) -> None:
        """Answer every waiting poll at once (the daemon is stopping, no worker can start)."""
        while self.queue:
            job = self.queue.popleft()
            answer(job, PollOutcome(job.name, outcome, error))

    def stop_inflight(self) -> None:
        """A planned stop: the polls in flight are answered ``stopped`` (and polled again)."""
        jobs = list(self.inflight.values())
        self.inflight.clear()
        for job in jobs:
            answer(job, PollOutcome(job.name, "stopped", "the crawl worker was stopped before the poll ended"))

    def crash_inflight(self, reason: str, now: float) -> int:
        """The worker died: the polls in flight are answered ``crashed`` with the reason, one of
        them charged with the death if blame can tell which; returns how many there were."""
        jobs = list(self.inflight.values())
        self.inflight.clear()
        culprit = charged(jobs)
        for job in jobs:
            answer(job, PollOutcome(job.name, "crashed", reason, duration=now - job.sent_at, blamed=job is culprit))
        return len(jobs)
