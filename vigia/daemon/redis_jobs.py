"""With ``crawler.redis_url``: the daemon's polls go to `vigia worker` processes through Redis.

The scheduler still decides when each source is due; each due poll becomes a job on the
deployment's job list, which any worker takes (``crawler.redis_feed`` is the other end),
and its report comes back on the results list, read here by one blocking loop. The daemon
runs no crawl worker of its own in this mode. A poll taken by a worker whose heartbeat
key expired (killed, crashed) is answered as crashed and polled again; one whose report
never comes otherwise is given up after ``daemon.crawl_timeout`` and a margin, and counted
as a timeout. A dead worker's crash is charged as ``vigia.daemon.blame`` says, among the
polls that worker had taken. Either way its next poll reads the listing again, since its validators
were not saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis

from crawler.redis_keys import RedisKeys
from vigia.daemon.blame import charged
from vigia.daemon.poll_outcome import REPORT_SLACK, PollOutcome

log = logging.getLogger("vigia.daemon.redis")

WORKERS_CHECK_EVERY = 3.0
# A poll in flight this long is checked against its worker's heartbeat.
ORPHAN_AFTER = 5.0


@dataclass
class Waiting:
    """A poll pushed to Redis whose report has not come back."""

    future: asyncio.Future[PollOutcome]
    name: str
    sent: float
    probe: bool = False


class RedisPoller:
    def __init__(self, redis_url: str, prefix: str, *, timeout: float, grace: float) -> None:
        self.redis_url = redis_url
        self.keys = RedisKeys(prefix)
        self.timeout = timeout
        self.grace = grace
        self.stopping = False
        self.waiting: dict[str, Waiting] = {}
        self.client: aioredis.Redis | None = None
        self.workers_seen = 0
        self._workers_checked = 0.0
        self._error: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        # Polls fall due in bursts (a thousand at start-up): they queue for a few pooled
        # connections rather than open one each. The results reader blocks on its own.
        pool = aioredis.BlockingConnectionPool.from_url(self.redis_url, max_connections=8, timeout=30)
        self.client = aioredis.Redis(connection_pool=pool)
        self._task = asyncio.create_task(self._read_results(), name="vigia-redis-results")

    def recycle(self, reason: str) -> None:
        """A source travels in its job with its settings, so added, moved or changed sources reach
        running workers at once; rules and crawler settings are read by a worker at its start."""
        log.info("%s; sources change at once; restart `vigia worker` processes for crawler or rule changes", reason)

    async def poll(self, source: dict[str, Any], probe: bool = False) -> PollOutcome:
        if self.stopping or self.client is None:
            return PollOutcome(source["name"], "stopped", "the daemon is stopping")
        job_id = uuid.uuid4().hex
        future: asyncio.Future[PollOutcome] = asyncio.get_running_loop().create_future()
        self.waiting[job_id] = Waiting(future, source["name"], time.monotonic(), probe)
        job = {"type": "poll", "id": job_id, "source": source, "timeout": self.timeout}
        try:
            await self.client.rpush(self.keys.jobs, json.dumps(job))
        except redis.RedisError as exc:
            self.waiting.pop(job_id, None)
            return PollOutcome(source["name"], "unavailable", f"cannot queue the poll in Redis: {exc}")
        return await future

    def alive(self) -> tuple[bool, str]:
        if self._task is None or self._task.done():
            return False, "the Redis results reader is not running"
        if self._error:
            return False, f"Redis unreachable: {self._error}"
        return True, f"{self.workers_seen} crawl workers seen in Redis, {len(self.waiting)} polls in flight"

    async def stop(self, finish_by: float, kill_by: float) -> None:
        """No new jobs; wait for the polls in flight until ``finish_by``, then stop waiting."""
        self.stopping = True
        while self.waiting and time.monotonic() < finish_by:
            await asyncio.sleep(0.05)
        for waiting in list(self.waiting.values()):
            if not waiting.future.done():
                waiting.future.set_result(PollOutcome(waiting.name, "stopped", "the daemon stopped before the poll's report came"))
        self.waiting.clear()
        if self._task is not None:
            self._task.cancel()
        if self.client is not None:
            await self.client.aclose()

    async def _read_results(self) -> None:
        reader = aioredis.Redis.from_url(self.redis_url)
        try:
            await self._read_with(reader)
        finally:
            await reader.aclose()

    async def _read_with(self, reader: aioredis.Redis) -> None:
        while True:
            try:
                found = await reader.blpop([self.keys.results], timeout=1)
                self._error = None
            except redis.RedisError as exc:
                if self._error is None:
                    log.error("cannot read poll results from Redis: %s", exc)
                self._error = str(exc)
                await asyncio.sleep(2)
                continue
            if found is not None:
                self._settle(found[1])
            await self._housekeeping()

    def _settle(self, raw: bytes | str) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            return
        waiting = self.waiting.pop(str(message.get("id")), None)
        if waiting is None:
            return  # a report for a poll given up, or from an earlier daemon
        future, name = waiting.future, waiting.name
        counts = message.get("counts") or {}
        if not future.done():
            future.set_result(
                PollOutcome(
                    name=name,
                    outcome=str(message.get("outcome") or "failed"),
                    error=message.get("error"),
                    items_listed=int(message.get("items_listed") or 0),
                    counts={k: int(v or 0) for k, v in counts.items()},
                    duration=float(message.get("duration") or 0.0),
                )
            )

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        for job_id, waiting in list(self.waiting.items()):
            if now - waiting.sent > self.timeout + REPORT_SLACK:
                del self.waiting[job_id]
                if not waiting.future.done():
                    error = f"no report from any crawl worker after {self.timeout:g}s"
                    waiting.future.set_result(PollOutcome(waiting.name, "timeout", error))
        if now - self._workers_checked > WORKERS_CHECK_EVERY and self.client is not None:
            self._workers_checked = now
            try:
                prefix = self.keys.worker("")
                alive = {key.decode().removeprefix(prefix) async for key in self.client.scan_iter(prefix + "*")}
                await self._give_up_orphans(alive, now)
            except redis.RedisError:
                return
            self.workers_seen = len(alive)
            if not alive and self.waiting:
                log.warning("no `vigia worker` is taking jobs from Redis; %d polls wait", len(self.waiting))

    async def _give_up_orphans(self, alive: set[str], now: float) -> None:
        """Polls taken by a worker whose heartbeat stopped (killed, crashed): answer them as crashed."""
        assert self.client is not None
        candidates = [job_id for job_id, waiting in self.waiting.items() if now - waiting.sent > ORPHAN_AFTER]
        if not candidates:
            return
        owners = await self._owners(candidates)
        dead = {owner for owner in owners.values() if owner is not None and owner not in alive}
        if not dead:
            return  # not taken yet, or their workers are alive
        # The dead worker's younger polls too: the crash is charged among all it had taken.
        owners.update(await self._owners([job_id for job_id in self.waiting if job_id not in owners]))
        orphans: dict[str, list[str]] = defaultdict(list)
        for job_id, owner in owners.items():
            if owner in dead:
                orphans[owner].append(job_id)
        for owner, job_ids in orphans.items():
            lost = [self.waiting.pop(job_id) for job_id in job_ids]
            for job_id in job_ids:
                await self.client.delete(self.keys.poll(job_id))  # late reports of its requests are ignored
            culprit = charged(lost)
            for waiting in lost:
                if not waiting.future.done():
                    error = f"the crawl worker {owner} stopped during the poll"
                    waiting.future.set_result(PollOutcome(waiting.name, "crashed", error, blamed=waiting is culprit))

    async def _owners(self, job_ids: list[str]) -> dict[str, str | None]:
        """The worker that took each poll (None: not taken yet, or already given up)."""
        assert self.client is not None
        pipe = self.client.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hget(self.keys.poll(job_id), "owner")
        found = await pipe.execute()
        return {job_id: owner.decode() if owner is not None else None for job_id, owner in zip(job_ids, found)}
