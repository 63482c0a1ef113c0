"""Many workers, one crawl: jobs, requests and per-poll accounting in Redis.

With ``crawler.redis_url`` the daemon's scheduler pushes each due listing as a JSON job
onto ``<prefix>:jobs``; every ``vigia worker`` takes jobs from it with a blocking pop (an
idle worker waits in BLPOP, it does not spin), as scrapy-redis's RedisSpider reads its
start URLs. The requests a poll leads to go through scrapy-redis's shared scheduler, so
any worker may fetch any article: a poll's accounting therefore lives in Redis too, one
hash per poll (``<prefix>:poll:<id>``) that every worker updates atomically (one Lua
script) as requests of that poll end. Whichever worker ends the last one saves the
listing's validators (only when nothing failed) and pushes the report onto
``<prefix>:results``, which the daemon reads.

Listing requests bypass the shared dupefilter (``dont_filter``: a feed is polled again
and again). Article requests go through it, but scrapy-redis's own filter lasts forever:
an article whose worker died mid-fetch would be refused for good. ``ExpiringDupeFilter``
remembers a request for ``daemon.crawl_timeout`` only, and forgets one that failed at
once; a poll whose article was refused (another worker has it) keeps its old validators,
so its listing is read again until the article is stored. Articles already stored are
not requested at all (``known_urls``).

Every worker keeps a heartbeat key (``<prefix>:worker:<host>:<pid>``, a few seconds'
expiry). A worker killed mid-poll loses the requests it had popped: the daemon sees its
key gone and answers the polls it took as crashed, and polls those sources again (their
validators were not saved, so their listings are read again and nothing is lost).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from typing import Any

import redis
import redis.asyncio as aioredis
import scrapy
from scrapy_redis.dupefilter import RFPDupeFilter
from sqlalchemy.exc import SQLAlchemyError

from crawler.poll import COUNTS, Poll, PollBook, PollReport
from crawler.redis_keys import RedisKeys
from crawler.spec import SourceResult, SourceSpec
from storage.queries import record_source_error, record_source_success

logger = logging.getLogger(__name__)

MAX_POLLS_PER_WORKER = 100  # open polls a worker takes on before it leaves jobs to the others
HEARTBEAT_EVERY = 2.0
# A worker's heartbeat key outlives a few missed beats: a long synchronous parse (a 100k-item
# feed takes ~10 s) must not make the daemon give its polls up.
WORKER_TTL = 20
POLL_TTL = 6 * 3600  # a poll hash nobody finishes (every worker died) does not stay forever

# KEYS[1] the poll hash. ARGV[1] the change to "pending", then triples (op, field, value):
# i = HINCRBY, s = HSET, n = HSETNX, a = append as a new line. Returns -1 when the poll is gone (finished or given
# up), the poll's fields (and deletes it) when pending reached 0, else the pending count.
APPLY = """
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return -1 end
for i = 2, #ARGV, 3 do
  local op, f, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if op == 'i' then redis.call('HINCRBY', key, f, v)
  elseif op == 's' then redis.call('HSET', key, f, v)
  elseif op == 'a' then
    local old = redis.call('HGET', key, f)
    if old then redis.call('HSET', key, f, old .. '\\n' .. v) else redis.call('HSET', key, f, v) end
  else redis.call('HSETNX', key, f, v) end
end
local pending = redis.call('HINCRBY', key, 'pending', ARGV[1])
if pending <= 0 then
  local all = redis.call('HGETALL', key)
  redis.call('DEL', key)
  return all
end
return pending
"""


class ExpiringDupeFilter(RFPDupeFilter):
    """scrapy-redis's request filter, with one expiring key per request instead of one
    everlasting set: a request is "seen" for ``VIGIA_DUPEFILTER_TTL`` seconds."""

    def __init__(self, server: redis.Redis, key: str, debug: bool = False, ttl: float = 600.0) -> None:
        super().__init__(server, key, debug)
        self.ttl = max(1, int(ttl))

    @classmethod
    def from_spider(cls, spider: Any) -> ExpiringDupeFilter:
        base = super().from_spider(spider)
        return cls(base.server, base.key, base.debug, spider.settings.getfloat("VIGIA_DUPEFILTER_TTL", 600.0))

    def request_seen(self, request: scrapy.Request) -> bool:
        return not self.server.set(self.entry(self.request_fingerprint(request)), 1, nx=True, ex=self.ttl)

    def forget(self, url: str) -> None:
        self.server.delete(self.entry(self.request_fingerprint(scrapy.Request(url))))

    def entry(self, fingerprint: str) -> str:
        return f"{self.key}:{fingerprint}"

    def clear(self) -> None:
        for entry in self.server.scan_iter(f"{self.key}:*"):
            self.server.delete(entry)


class RedisPollBook(PollBook):
    """Polls whose state is a Redis hash shared by every worker; local ``Poll`` objects are
    only scratch space while this worker reads one of their listings."""

    def __init__(self, run: Any, client: redis.Redis, keys: RedisKeys, owner: str, on_report: Any = None) -> None:
        super().__init__(run, on_report)
        self.owner = owner  # this worker's name: the daemon gives up the polls of a worker gone silent
        self.client = client
        self.keys = keys
        self.apply = client.register_script(APPLY)
        self.dupefilter = ExpiringDupeFilter(client, keys.dupefilter % {"spider": "news"})

    def open(self, source: SourceSpec, poll_id: str | None = None) -> Poll:
        poll = super().open(source, poll_id)
        key = self.keys.poll(poll.id)
        fields: dict[str, str | int | float] = {"pending": 1, "source": source.name, "started": time.time(), "ok": 1, "owner": self.owner}
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=fields)  # type: ignore[arg-type]  # redis-py types the mapping invariantly
        pipe.expire(key, POLL_TTL)
        pipe.execute()
        return poll

    def adopt(self, poll_id: str | None, spec: dict[str, Any] | None) -> Poll | None:
        """A listing of a poll another worker took: reading it needs the run's per-source state here."""
        if poll_id is None or spec is None or not self.client.exists(self.keys.poll(poll_id)):
            return None
        poll = Poll(id=poll_id, source=SourceSpec(**spec), result=SourceResult(name=spec["name"], ok=True))
        self.run.begin_poll(poll.source, poll.result)
        self.polls[poll_id] = poll
        return poll

    def forget_article(self, url: str) -> None:
        self.dupefilter.forget(url)  # the next poll of its listing may ask for it again

    def release(self, poll_id: str) -> None:
        self.polls.pop(poll_id, None)

    def add(self, poll_id: str | None, requests: int = 1) -> None:
        if poll_id is not None:
            self._apply(poll_id, requests, [])

    def listing_read(self, poll_id: str | None) -> None:
        """This worker read a listing of the poll: share what it found, forget the scratch state."""
        poll = self.polls.pop(poll_id, None) if poll_id is not None else None
        if poll is None:
            return
        name, result = poll.source.name, poll.result
        changes: list[Any] = ["i", "items_listed", result.items_listed]
        if not result.ok:
            changes += ["s", "ok", 0, "n", "error", result.error or "failed"]
        if result.not_modified:
            changes += ["s", "not_modified", 1]
        held = self.run.held_validators.pop(name, None)
        if held is not None:
            changes += ["s", "held", 1, "s", "etag", held.etag or "", "s", "last_modified", held.last_modified or ""]
        failed = self.run.failed_articles.pop(name, 0)
        if failed:
            changes += ["i", "failed", failed]
        for note in result.notes:  # a bound that cut this listing short, for vigia sources
            changes += ["a", "notes", note]
        if self.run.budget(name).capped:  # entries left for the next poll: it must not get a 304
            changes += ["s", "capped", 1]
        self._apply(poll_id, 0, changes)  # type: ignore[arg-type]

    def storage_failed(self, poll_id: str | None, error: str) -> None:
        """Counted on the shared poll: whichever worker ends the poll fails its source with it."""
        if poll_id is not None:
            self._apply(poll_id, 0, ["i", "storage_failed", 1, "s", "storage_error", error])

    def _settle(self, poll_id: str | None, *, item: Any = None, failed: bool = False) -> None:
        if poll_id is None:
            return
        changes: list[Any] = []
        if item is not None:
            changes += ["i", "fetched", 1]
            if getattr(item, "new", False):
                changes += ["i", "new", 1, "i", "alerts_queued", getattr(item, "alerts_queued", 0)]
                if item.status in ("matched", "skipped"):
                    changes += ["i", item.status, 1]
        if failed:
            changes += ["i", "failed", 1]
        self._apply(poll_id, -1, changes)

    def expire(self, poll_id: str, timeout: float) -> None:
        fields = self.client.hgetall(self.keys.poll(poll_id))
        if fields and self.client.delete(self.keys.poll(poll_id)):
            logger.warning("poll %s still running after %gs; given up", poll_id, timeout)
            self._send(poll_id, _text(fields), "timeout", f"no result after {timeout:g}s (daemon.crawl_timeout)")

    def close(self, reason: str) -> None:
        # Polls live on in Redis: other workers finish them (or the daemon gives them up).
        self.polls.clear()

    def _apply(self, poll_id: str, pending: int, changes: list[Any]) -> None:
        answer = self.apply(keys=[self.keys.poll(poll_id)], args=[pending, *changes])
        if isinstance(answer, list):
            fields = _text(dict(zip(answer[::2], answer[1::2])))
            self._finish_shared(poll_id, fields)

    def _finish_shared(self, poll_id: str, fields: dict[str, str]) -> None:
        name = fields.get("source", "")
        ok = fields.get("ok") == "1"
        stored_not = int(fields.get("storage_failed") or 0)
        if stored_not:  # as CrawlRun.save_validators does for a poll of its own
            ok = False
            error = f"storage error: {stored_not} article(s) could not be stored ({fields.get('storage_error')})"
            fields["error"] = fields.get("error") or error
            try:
                with self.run.sessions.begin() as session:
                    record_source_error(session, name, fields["error"])
            except SQLAlchemyError as exc:
                logger.warning("source %s: could not record its health: %s", name, exc)
        if ok and fields.get("not_modified") != "1":  # as CrawlRun.save_validators: healthy, validators if whole
            whole = fields.get("held") == "1" and not int(fields.get("failed") or 0)
            try:
                with self.run.sessions.begin() as session:
                    if whole:
                        etag, last_modified = fields.get("etag") or None, fields.get("last_modified") or None
                        if fields.get("capped") == "1":  # a sitemap child was cut after its index was read
                            etag = last_modified = None
                        notes = dict.fromkeys(fields.get("notes", "").splitlines())  # once each, in order
                        record_source_success(session, name, etag=etag, last_modified=last_modified,
                                              listing_note="; ".join(notes) or None)
                    else:
                        record_source_success(session, name, not_modified=True)
            except SQLAlchemyError as exc:  # the listing is read again next time: nothing is lost
                ok, fields["error"] = False, f"database error while saving the listing's validators: {exc}"
        outcome = "failed" if not ok else "not_modified" if fields.get("not_modified") == "1" else "ok"
        self._send(poll_id, fields, outcome, fields.get("error"))

    def _send(self, poll_id: str, fields: dict[str, str], outcome: str, error: str | None) -> None:
        report = PollReport(
            id=poll_id,
            source=fields.get("source", ""),
            outcome=outcome,
            error=error,
            items_listed=int(fields.get("items_listed") or 0),
            counts={k: int(fields.get(k) or 0) for k in COUNTS},
            duration=max(0.0, time.time() - float(fields.get("started") or time.time())),
        )
        self.client.rpush(self.keys.results, json.dumps(report.to_dict()))


class RedisFeed:
    """The job feed of a ``vigia worker``: BLPOP on the shared job list, reports to the results list."""

    def __init__(self, redis_url: str, prefix: str, max_polls: int = MAX_POLLS_PER_WORKER) -> None:
        self.redis_url = redis_url
        self.keys = RedisKeys(prefix)
        self.max_polls = max_polls
        self.open = True
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.client = redis.Redis.from_url(redis_url)
        self.taken = 0
        self.spider: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> RedisFeed:
        return self

    def attach(self, spider: Any) -> None:
        self.spider = spider
        spider.run.polls = RedisPollBook(spider.run, self.client, self.keys, self.name)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._take_jobs()), loop.create_task(self._beat())]
        logger.info("taking jobs from %s", self.keys.jobs)

    def report(self, report: PollReport) -> None:
        self.client.rpush(self.keys.results, json.dumps(report.to_dict()))

    def close(self) -> None:
        self.open = False
        for task in self._tasks:
            task.cancel()
        try:
            self.client.delete(self.keys.worker(self.name))
        except redis.RedisError:
            pass
        logger.info("crawl worker stopped", extra={"counts": {"polls_taken": self.taken}})

    async def _take_jobs(self) -> None:
        client = aioredis.Redis.from_url(self.redis_url)
        try:
            while self.open:
                if self._busy():
                    await asyncio.sleep(0.2)
                    continue
                try:
                    found = await client.blpop([self.keys.jobs], timeout=1)
                except redis.RedisError as exc:
                    logger.error("cannot take jobs from Redis: %s", exc)
                    await asyncio.sleep(2)
                    continue
                if found is not None:
                    try:
                        self._take(found[1])
                    except Exception:  # one job gone wrong (the database, say) must not stop the feed
                        logger.exception("a job could not be started")
        finally:
            await client.aclose()

    def _busy(self) -> bool:
        try:
            queued = len(self.spider.crawler.engine._slot.scheduler)
        except (AttributeError, TypeError):
            queued = 0
        return queued > self.max_polls * 4 or len(self.spider.crawler.engine.downloader.active) >= self.max_polls

    def _take(self, raw: bytes | str) -> None:
        try:
            job = json.loads(raw)
            source = SourceSpec(**job["source"])
            poll_id, timeout = str(job["id"]), job.get("timeout")
        except (ValueError, TypeError, KeyError) as exc:
            logger.error("a job the worker cannot read was ignored: %s", exc)
            return
        self.taken += 1
        self.spider.take(poll_id, source, float(timeout) if timeout else None)

    async def _beat(self) -> None:
        while self.open:
            try:
                self.client.setex(self.keys.worker(self.name), WORKER_TTL, json.dumps({"pid": os.getpid()}))
            except redis.RedisError as exc:
                logger.warning("cannot reach Redis: %s", exc)
            await asyncio.sleep(HEARTBEAT_EVERY)


def _text(fields: dict[Any, Any]) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else str(k)): (v.decode() if isinstance(v, bytes) else str(v))
        for k, v in fields.items()
    }
